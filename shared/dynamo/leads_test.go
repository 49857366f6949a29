package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// concurrently runs fn(0..n-1) on n goroutines released together, and
// waits for all of them: the races the store must survive, run for real.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type fixture struct {
	store *dynamo.LeadStore
	svc   *crm.LeadService
	clock *clock
	calls *dynamotest.Counter
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	calls := &dynamotest.Counter{API: client}
	store := &dynamo.LeadStore{Client: calls, Table: table}
	c := newClock()
	return fixture{
		store: store,
		svc:   &crm.LeadService{Store: store, Now: c.Now, DuplicateWindow: 30 * 24 * time.Hour},
		clock: c,
		calls: calls,
	}
}

func ada() crm.Submission {
	return crm.Submission{Name: "Ada Lovelace", Email: "Ada@Example.com", Company: "Analytical Engines",
		Message: "Please call me about the engine.", UTMSource: "newsletter", UTMCampaign: "autumn",
		PageURL: "https://www.example.com/contact", Consent: "on"}
}

func TestCaptureStoresTheLeadWithItsSubmission(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.svc.Capture(ctx, ada(), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || !crm.ValidID(res.LeadID) {
		t.Fatalf("capture = %+v, want a new lead", res)
	}
	d, err := f.svc.LeadDetail(ctx, res.LeadID)
	if err != nil {
		t.Fatal(err)
	}
	l := d.Lead
	if l.Email != "ada@example.com" || l.Status != crm.StatusNew || l.Source != "newsletter" || !l.Consent || l.Version != 1 {
		t.Errorf("lead = %+v", l)
	}
	if !l.CapturedAt.Equal(f.clock.Now()) {
		t.Errorf("captured at %v, want %v", l.CapturedAt, f.clock.Now())
	}
	if len(d.Timeline) != 1 || d.Timeline[0].Kind != crm.EntrySubmission || d.Timeline[0].Message != "Please call me about the engine." {
		t.Errorf("timeline = %+v", d.Timeline)
	}
	if d.Timeline[0].Attribution.UTMCampaign != "autumn" {
		t.Errorf("submission attribution = %+v", d.Timeline[0].Attribution)
	}
}

func TestSecondSubmissionWithinWindowJoinsTheFirstLead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, _ := f.svc.Capture(ctx, ada(), "")
	f.clock.Advance(3 * 24 * time.Hour)
	again := ada()
	again.Email = "  ada@EXAMPLE.com "
	again.Message = "Still interested!"
	second, err := f.svc.Capture(ctx, again, "")
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate || second.LeadID != first.LeadID {
		t.Fatalf("second = %+v, want duplicate of %s", second, first.LeadID)
	}
	d, _ := f.svc.LeadDetail(ctx, first.LeadID)
	if len(d.Timeline) != 2 || d.Timeline[1].Message != "Still interested!" {
		t.Fatalf("timeline = %+v, want both submissions", d.Timeline)
	}
	page, _ := f.svc.Leads(ctx, crm.LeadFilter{})
	if len(page.Items) != 1 {
		t.Fatalf("%d leads listed, want 1", len(page.Items))
	}
}

func TestSubmissionAfterWindowIsANewLead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, _ := f.svc.Capture(ctx, ada(), "")
	f.clock.Advance(31 * 24 * time.Hour)
	second, err := f.svc.Capture(ctx, ada(), "")
	if err != nil {
		t.Fatal(err)
	}
	if second.Duplicate || second.LeadID == first.LeadID {
		t.Fatalf("second = %+v, want a new lead after the window", second)
	}
}

func TestPhoneIdentifiesAPersonWithoutEmail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, _ := f.svc.Capture(ctx, crm.Submission{Name: "Bo", Phone: "+49 (30) 1234-567"}, "")
	second, _ := f.svc.Capture(ctx, crm.Submission{Name: "Bo", Phone: "+4930 1234567"}, "")
	if !second.Duplicate || second.LeadID != first.LeadID {
		t.Fatalf("second = %+v, want duplicate of %s", second, first.LeadID)
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, err := f.svc.Capture(ctx, ada(), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.Capture(ctx, ada(), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatalf("replay = %+v, want %+v", again, first)
	}
	d, _ := f.svc.LeadDetail(ctx, first.LeadID)
	if len(d.Timeline) != 1 {
		t.Fatalf("a replay added to the timeline: %d entries", len(d.Timeline))
	}
	other := ada()
	other.Message = "something else"
	_, err = f.svc.Capture(ctx, other, "key-1")
	if crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("reused key with another body: err = %v, want conflict", err)
	}
}

// The promise: 100 concurrent identical submissions make exactly
// one lead, and every one of them lands on its timeline.
func TestConcurrentIdenticalSubmissionsMakeOneLead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 100
	results := make([]crm.CaptureResult, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		results[i], errs[i] = f.svc.Capture(ctx, ada(), "")
	})
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if !results[i].Duplicate {
			created++
		}
		if results[i].LeadID != results[0].LeadID {
			t.Fatalf("submission %d went to lead %s, others to %s", i, results[i].LeadID, results[0].LeadID)
		}
	}
	if created != 1 {
		t.Fatalf("%d submissions created a lead, want exactly 1", created)
	}
	page, _ := f.svc.Leads(ctx, crm.LeadFilter{Limit: 100})
	if len(page.Items) != 1 {
		t.Fatalf("%d leads stored, want 1", len(page.Items))
	}
	d, _ := f.svc.LeadDetail(ctx, results[0].LeadID)
	if len(d.Timeline) != n {
		t.Fatalf("timeline has %d submissions, want %d", len(d.Timeline), n)
	}
}

// With one Idempotency-Key, concurrent retries of one request are one
// submission.
func TestConcurrentRetriesWithOneKeyAreOneSubmission(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 20
	results := make([]crm.CaptureResult, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		results[i], errs[i] = f.svc.Capture(ctx, ada(), "retry-key")
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("retry %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("retry %d was answered %+v, the first %+v", i, results[i], results[0])
		}
	}
	if results[0].Duplicate {
		t.Fatalf("the one submission was answered as a duplicate")
	}
	d, _ := f.svc.LeadDetail(ctx, results[0].LeadID)
	if len(d.Timeline) != 1 {
		t.Fatalf("timeline has %d entries for one submission retried %d times", len(d.Timeline), n)
	}
}

func TestHoneypotStoresNothingAndCounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bot := ada()
	bot.Honeypot = "http://spam.example"
	res, err := f.svc.Capture(ctx, bot, "")
	if err != nil || res.LeadID == "" || res.Duplicate {
		t.Fatalf("honeypot answer = %+v, %v; want an ordinary-looking acceptance", res, err)
	}
	if _, err := f.svc.LeadDetail(ctx, res.LeadID); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("the bot's lead exists: %v", err)
	}
	page, _ := f.svc.Leads(ctx, crm.LeadFilter{})
	if len(page.Items) != 0 {
		t.Fatalf("%d leads stored for a bot", len(page.Items))
	}
	n, err := f.store.SpamCount(ctx, f.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("spam count = %d, %v; want 1", n, err)
	}
}

func TestInvalidSubmissionChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Capture(ctx, crm.Submission{Name: "No contact"}, "")
	if crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	page, _ := f.svc.Leads(ctx, crm.LeadFilter{})
	if len(page.Items) != 0 {
		t.Fatalf("%d leads stored from bad input", len(page.Items))
	}
	if f.calls.Requests() != 1 { // the list above
		t.Fatalf("bad input reached DynamoDB: %d requests", f.calls.Requests())
	}
}

func capture(t *testing.T, f fixture, email, source string) string {
	t.Helper()
	res, err := f.svc.Capture(context.Background(), crm.Submission{Email: email, Source: source}, "")
	if err != nil {
		t.Fatal(err)
	}
	return res.LeadID
}

func TestListNewestFirstWithFiltersAndCursor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i := range 7 {
		source := "web"
		if i%2 == 1 {
			source = "partner"
		}
		ids = append(ids, capture(t, f, fmt.Sprintf("p%d@example.com", i), source))
		f.clock.Advance(time.Hour)
	}
	// newest first, in pages of 3
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := f.svc.Leads(ctx, crm.LeadFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range page.Items {
			got = append(got, l.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(reversed(ids)) {
		t.Fatalf("listed %v, want newest first %v", got, reversed(ids))
	}

	page, _ := f.svc.Leads(ctx, crm.LeadFilter{Source: "partner"})
	if len(page.Items) != 3 || page.Items[0].ID != ids[5] {
		t.Fatalf("partner leads = %d, first %s", len(page.Items), page.Items[0].ID)
	}
	from := time.Date(2026, 11, 22, 11, 30, 0, 0, time.UTC) // after the first two
	to := time.Date(2026, 11, 22, 14, 30, 0, 0, time.UTC)   // before the last three
	page, _ = f.svc.Leads(ctx, crm.LeadFilter{From: from, To: to})
	if fmt.Sprint(ids2(page.Items)) != fmt.Sprint([]string{ids[4], ids[3], ids[2]}) {
		t.Fatalf("time window listed %v", ids2(page.Items))
	}
	// status and source together: one filtered by index, one by expression
	page, _ = f.svc.Leads(ctx, crm.LeadFilter{Status: crm.StatusNew, Source: "web", Limit: 2})
	if len(page.Items) != 2 || page.Items[0].ID != ids[6] || page.NextCursor == "" {
		t.Fatalf("new web leads page = %v next %q", ids2(page.Items), page.NextCursor)
	}
	page, err := f.svc.Leads(ctx, crm.LeadFilter{Status: crm.StatusNew, Source: "web", Limit: 2, Cursor: page.NextCursor})
	if err != nil || fmt.Sprint(ids2(page.Items)) != fmt.Sprint([]string{ids[2], ids[0]}) {
		t.Fatalf("second page = %v, %v", ids2(page.Items), err)
	}
}

func TestCursorFromOtherFiltersIsRejected(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 3 {
		capture(t, f, fmt.Sprintf("p%d@example.com", i), "web")
	}
	page, _ := f.svc.Leads(ctx, crm.LeadFilter{Limit: 1})
	for _, bad := range []crm.LeadFilter{
		{Limit: 1, Cursor: page.NextCursor, Source: "web"},
		{Limit: 1, Cursor: "not-a-cursor"},
		{Limit: 1, Cursor: page.NextCursor + "x"},
	} {
		_, err := f.svc.Leads(ctx, bad)
		var e *crm.Error
		if crm.ErrorCode(err) != crm.EINVALID || !asError(err, &e) || e.Fields[0].Field != "cursor" {
			t.Errorf("filter %+v: err = %v, want invalid cursor", bad, err)
		}
	}
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func ids2(ls []crm.Lead) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}

func asError(err error, target **crm.Error) bool {
	e, ok := err.(*crm.Error)
	if ok {
		*target = e
	}
	return ok
}
