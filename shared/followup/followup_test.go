package followup_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/timer"
)

// clock is a hand-moved clock shared by the services under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// zones is every owner's time zone, the organisation's (UTC) by default.
type zones map[string]*time.Location

func (z zones) Zone(_ context.Context, sub string) (*time.Location, error) {
	if loc, ok := z[sub]; ok {
		return loc, nil
	}
	return time.UTC, nil
}

type fixture struct {
	svc     *followup.Service
	leads   *crm.LeadService
	sweeper timer.Sweeper
	clock   *clock
	calls   *dynamotest.Counter
	client  *dynamodb.Client
	table   string
	zones   zones
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	calls := &dynamotest.Counter{API: client}
	c := &clock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)} // a Wednesday
	z := zones{}
	return fixture{
		svc: &followup.Service{
			Store: &dynamo.FollowupStore{Client: calls, Table: table}, Zones: z,
			Calendar: calendar.Default(time.UTC), FirstContactWithin: 4 * time.Hour,
			CheckInAfter: 30 * 24 * time.Hour, OverdueAfter: 24 * time.Hour, Now: c.Now,
		},
		leads:   &crm.LeadService{Store: &dynamo.LeadStore{Client: client, Table: table}, Now: c.Now, DuplicateWindow: time.Hour},
		sweeper: timer.Sweeper{Store: &dynamo.TimerStore{Client: client, Table: table}, Now: c.Now},
		clock:   c, calls: calls, client: client, table: table, zones: z,
	}
}

// lead captures a lead and returns its id.
func (f fixture) lead(t *testing.T, email string) string {
	t.Helper()
	res, err := f.leads.Capture(context.Background(), crm.Submission{Name: "Ada", Email: email, Source: "website"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return res.LeadID
}

// sweep runs a sweep at the clock's time and returns the follow-up ids
// whose followup.due it published, and those of followup.overdue.
func (f fixture) sweep(t *testing.T) (due, overdue []string) {
	t.Helper()
	before := f.outbox(t)
	if _, err := f.sweeper.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, e := range f.outbox(t)[len(before):] {
		var d events.FollowupDue
		json.Unmarshal(e.Detail, &d)
		switch e.DetailType {
		case events.FollowupDueType:
			due = append(due, d.FollowupID)
		case events.FollowupOverdueType:
			overdue = append(overdue, d.FollowupID)
		}
	}
	return due, overdue
}

// outbox lists the table's outbox events in the order they were written
// (a scan: the test's table is small and no request path scans).
func (f fixture) outbox(t *testing.T) []events.Envelope {
	t.Helper()
	out, err := f.client.Scan(context.Background(), &dynamodb.ScanInput{
		TableName: aws.String(f.table), FilterExpression: aws.String("begins_with(pk, :evt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":evt": &types.AttributeValueMemberS{Value: "EVT#"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var envs []events.Envelope
	for _, it := range out.Items {
		s := func(k string) string { return it[k].(*types.AttributeValueMemberS).Value }
		at, _ := time.Parse("2006-01-02T15:04:05.000Z", s("event_time"))
		envs = append(envs, events.Envelope{ID: s("pk"), DetailType: s("detail_type"), Time: at, Detail: json.RawMessage(s("detail"))})
	}
	slices.SortStableFunc(envs, func(a, b events.Envelope) int { return a.Time.Compare(b.Time) })
	return envs
}

func ptr[T any](v T) *T { return &v }

func code(err error) string { return crm.ErrorCode(err) }

func fields(err error) []string {
	var e *crm.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestTaskFallsDueOnceAndThenOverdue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.lead(t, "ada@example.com")
	task, err := f.svc.Create(ctx, "agent-1", followup.NewTask{Subject: "lead:" + id, Due: followup.Due{At: ptr(f.clock.Now().Add(time.Hour))}, Note: "Call back"})
	if err != nil {
		t.Fatal(err)
	}
	if task.Owner != "agent-1" || task.Status != followup.StatusOpen || task.Version != 1 {
		t.Fatalf("created %+v", task)
	}
	f.clock.Advance(59 * time.Minute)
	if due, _ := f.sweep(t); len(due) != 0 {
		t.Fatalf("fired a minute early: %v", due)
	}
	f.clock.Advance(time.Minute)
	if due, _ := f.sweep(t); !slices.Equal(due, []string{task.ID}) {
		t.Fatalf("at the due instant fired %v", due)
	}
	if due, _ := f.sweep(t); len(due) != 0 {
		t.Fatalf("fired again: %v", due)
	}
	f.clock.Advance(24 * time.Hour)
	if _, overdue := f.sweep(t); !slices.Equal(overdue, []string{task.ID}) {
		t.Fatalf("a day late, overdue fired %v", overdue)
	}
}

func TestDoneBeforeDueFiresNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	task, _ := f.svc.Create(ctx, "agent-1", followup.NewTask{Subject: "lead:" + f.lead(t, "a@example.com"), Due: followup.Due{At: ptr(f.clock.Now().Add(time.Hour))}})
	done, err := f.svc.Update(ctx, "agent-1", task.ID, 1, followup.Change{Status: ptr(followup.StatusDone)})
	if err != nil || done.Status != followup.StatusDone || done.DoneAt == nil {
		t.Fatalf("done: %+v, %v", done, err)
	}
	f.clock.Advance(48 * time.Hour)
	if due, overdue := f.sweep(t); len(due)+len(overdue) != 0 {
		t.Fatalf("a done task fired %v %v", due, overdue)
	}
	var completed events.FollowupCompleted
	for _, e := range f.outbox(t) {
		if e.DetailType == events.FollowupCompletedType {
			json.Unmarshal(e.Detail, &completed)
		}
	}
	if !completed.OnTime || completed.FollowupID != task.ID {
		t.Fatalf("followup.completed: %+v", completed)
	}
}

func TestRescheduledTaskFiresAtTheNewTimeOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	task, _ := f.svc.Create(ctx, "agent-1", followup.NewTask{Subject: "lead:" + f.lead(t, "a@example.com"), Due: followup.Due{At: ptr(now.Add(time.Hour))}})
	if _, err := f.svc.Update(ctx, "agent-1", task.ID, 1, followup.Change{Due: followup.Due{At: ptr(now.Add(3 * time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	if due, _ := f.sweep(t); len(due) != 0 {
		t.Fatalf("fired at the old time: %v", due)
	}
	f.clock.Advance(time.Hour)
	if due, _ := f.sweep(t); !slices.Equal(due, []string{task.ID}) {
		t.Fatalf("at the new time fired %v", due)
	}
}

// A 09:00 task in Europe/Berlin on the Monday after the October DST
// change falls due at 08:00 UTC; a wall time the spring change skips falls
// due at the jump.
func TestDueDatesReadInTheOwnersZone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f.zones["agent-berlin"] = berlin
	f.clock.Set(time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC))
	lead := "lead:" + f.lead(t, "a@example.com")
	task, err := f.svc.Create(ctx, "agent-berlin", followup.NewTask{Subject: lead, Due: followup.Due{Date: "2026-10-26", Time: "09:00"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := task.DueAt.Format(time.RFC3339); got != "2026-10-26T08:00:00Z" {
		t.Fatalf("due %s, want 2026-10-26T08:00:00Z", got)
	}
	f.clock.Set(time.Date(2026, 10, 26, 7, 59, 0, 0, time.UTC))
	if due, _ := f.sweep(t); len(due) != 0 {
		t.Fatalf("fired before 08:00 UTC: %v", due)
	}
	f.clock.Set(time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC))
	if due, _ := f.sweep(t); !slices.Equal(due, []string{task.ID}) {
		t.Fatalf("at 08:00 UTC fired %v", due)
	}

	f.clock.Set(time.Date(2027, 3, 27, 12, 0, 0, 0, time.UTC))
	gap, err := f.svc.Create(ctx, "agent-berlin", followup.NewTask{Subject: lead, Due: followup.Due{Date: "2027-03-28", Time: "02:30"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := gap.DueAt.Format(time.RFC3339); got != "2027-03-28T01:00:00Z" {
		t.Fatalf("02:30 in the spring gap is due %s, want 2027-03-28T01:00:00Z (03:00 CEST)", got)
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	lead := "lead:" + f.lead(t, "a@example.com")
	now := f.clock.Now()
	cases := []struct {
		name     string
		in       followup.NewTask
		field    string
		requests int // a missing subject is found by the write's condition, which writes nothing
	}{
		{"unknown subject", followup.NewTask{Subject: "lead:01KBDVZK3M8Q4R7Y2K5N6P1V0X", Due: followup.Due{At: ptr(now)}}, "subject", 1},
		{"malformed subject", followup.NewTask{Subject: "deal:1", Due: followup.Due{At: ptr(now)}}, "subject", 0},
		{"due more than a day back", followup.NewTask{Subject: lead, Due: followup.Due{At: ptr(now.Add(-25 * time.Hour))}}, "due_at", 0},
		{"no due", followup.NewTask{Subject: lead}, "due_at", 0},
		{"bad zone", followup.NewTask{Subject: lead, Due: followup.Due{Date: "2026-12-03", TimeZone: "Mars/Olympus"}}, "time_zone", 0},
		{"bad date", followup.NewTask{Subject: lead, Due: followup.Due{Date: "03/12/2026"}}, "due_date", 0},
		{"bad time", followup.NewTask{Subject: lead, Due: followup.Due{Date: "2026-12-03", Time: "9am"}}, "due_time", 0},
		{"both forms", followup.NewTask{Subject: lead, Due: followup.Due{At: ptr(now), Date: "2026-12-03"}}, "due_at", 0},
	}
	before := len(f.outbox(t))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.calls.Reset()
			_, err := f.svc.Create(ctx, "agent-1", c.in)
			if code(err) != crm.EINVALID || !slices.Contains(fields(err), c.field) {
				t.Fatalf("got %v (%v), want invalid %s", err, fields(err), c.field)
			}
			if n := f.calls.Requests(); n != c.requests {
				t.Fatalf("made %d requests, want %d", n, c.requests)
			}
		})
	}
	if after := len(f.outbox(t)); after != before {
		t.Fatalf("bad input wrote %d events", after-before)
	}
}

func TestConcurrentEditsOfOneVersionOneWins(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	task, _ := f.svc.Create(ctx, "agent-1", followup.NewTask{Subject: "lead:" + f.lead(t, "a@example.com"), Due: followup.Due{At: ptr(f.clock.Now().Add(time.Hour))}})
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_, err := f.svc.Update(ctx, "agent-1", task.ID, 1, followup.Change{Due: followup.Due{At: ptr(f.clock.Now().Add(time.Duration(i+2) * time.Hour))}})
			mu.Lock()
			codes[code(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[""] != 1 || codes[crm.EPRECONDITION] != 9 {
		t.Fatalf("outcomes %v, want one success and nine precondition failures", codes)
	}
}

// The plan of the day and the week is cut in the owner's zone and ordered
// by due instant.
func TestPlanInTheOwnersZone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ny, _ := time.LoadLocation("America/New_York")
	f.zones["agent-ny"] = ny
	f.clock.Set(time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)) // Wednesday 10:00 in New York
	lead := "lead:" + f.lead(t, "a@example.com")
	mk := func(due time.Time) string {
		task, err := f.svc.Create(ctx, "agent-ny", followup.NewTask{Subject: lead, Due: followup.Due{At: &due}})
		if err != nil {
			t.Fatal(err)
		}
		return task.ID
	}
	overdue := mk(time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC))  // 08:00 today
	later := mk(time.Date(2026, 12, 3, 4, 30, 0, 0, time.UTC))    // 23:30 today in New York, tomorrow in UTC
	thisWeek := mk(time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)) // Sunday 15:00
	nextWeek := mk(time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)) // next Monday
	yesterday := mk(time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC))
	plan := func(w followup.When) []string {
		page, err := f.svc.Plan(ctx, followup.PlanQuery{Owner: "agent-ny", When: w})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, task := range page.Tasks {
			ids = append(ids, task.ID)
		}
		return ids
	}
	for _, c := range []struct {
		when followup.When
		want []string
	}{
		{followup.WhenOverdue, []string{yesterday, overdue}},
		{followup.WhenToday, []string{overdue, later}},
		{followup.WhenWeek, []string{yesterday, overdue, later, thisWeek}},
		{followup.WhenUpcoming, []string{later, thisWeek, nextWeek}},
	} {
		if got := plan(c.when); !slices.Equal(got, c.want) {
			t.Errorf("when=%s: %v, want %v", c.when, got, c.want)
		}
	}
	// A done task leaves the plan.
	task, _ := f.svc.Task(ctx, overdue)
	f.svc.Update(ctx, "agent-ny", overdue, task.Version, followup.Change{Status: ptr(followup.StatusDone)})
	if got := plan(followup.WhenOverdue); !slices.Equal(got, []string{yesterday}) {
		t.Errorf("after done, overdue: %v", got)
	}
}

// A new lead gets one first-contact task however often lead.captured is
// delivered; its first contact completes it.
func TestFirstContactTask(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.clock.Set(time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)) // Friday 15:00
	id := f.lead(t, "a@example.com")
	captured := events.LeadCaptured{LeadID: id, CapturedAt: f.clock.Now()}
	for range 3 {
		if err := f.svc.LeadCaptured(ctx, captured); err != nil {
			t.Fatal(err)
		}
	}
	open, err := f.svc.OpenFor(ctx, followup.Subject{Kind: followup.SubjectLead, ID: id})
	if err != nil || len(open) != 1 {
		t.Fatalf("open tasks: %v, %v; want one", open, err)
	}
	if got := open[0].DueAt.Format(time.RFC3339); got != "2026-12-07T11:00:00Z" {
		t.Fatalf("first contact due %s, want Monday 11:00 (4 working hours after Friday 15:00)", got)
	}
	contact := f.clock.Now().Add(time.Hour)
	if err := f.svc.LeadUpdated(ctx, events.LeadUpdated{LeadID: id, CapturedAt: captured.CapturedAt, Changes: []string{"first_contact", "status"}, FirstContactAt: &contact}); err != nil {
		t.Fatal(err)
	}
	if open, _ := f.svc.OpenFor(ctx, followup.Subject{Kind: followup.SubjectLead, ID: id}); len(open) != 0 {
		t.Fatalf("after first contact, open: %v", open)
	}
	task, _ := f.svc.Task(ctx, open[0].ID)
	if task.Status != followup.StatusDone || !task.DoneAt.Equal(contact) {
		t.Fatalf("task after first contact: %+v", task)
	}
}

// A first contact whose event overtakes lead.captured still leaves one
// done task, and the late lead.captured makes no second one.
func TestFirstContactBeforeCaptureEvent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.lead(t, "a@example.com")
	at := f.clock.Now()
	contact := at.Add(time.Minute)
	if err := f.svc.LeadUpdated(ctx, events.LeadUpdated{LeadID: id, CapturedAt: at, Changes: []string{"first_contact"}, FirstContactAt: &contact}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.LeadCaptured(ctx, events.LeadCaptured{LeadID: id, CapturedAt: at}); err != nil {
		t.Fatal(err)
	}
	if open, _ := f.svc.OpenFor(ctx, followup.Subject{Kind: followup.SubjectLead, ID: id}); len(open) != 0 {
		t.Fatalf("open tasks: %v", open)
	}
	f.clock.Advance(48 * time.Hour)
	if due, overdue := f.sweep(t); len(due)+len(overdue) != 0 {
		t.Fatalf("fired %v %v", due, overdue)
	}
}

// An unhappy survey answer makes one task for the customer however often
// its event is delivered, for the owner the surveys domain names, due when
// it says, and the task falls due like any other.
func TestUnhappyAnswerTask(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	lead := f.lead(t, "ada@example.com")
	customer, err := f.leads.Convert(ctx, "agent-1", lead, crm.Conversion{Deal: crm.Money{Currency: "EUR", Minor: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	u := followup.UnhappyAnswer{ID: crm.NewID(f.clock.Now()), CustomerID: customer.ID, Owner: "agent-1", DueAt: due,
		Note: "Unhappy survey answer: NPS 3/10. Comment: too slow."}
	for range 3 {
		if err := f.svc.UnhappyAnswer(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	open, err := f.svc.OpenFor(ctx, followup.Subject{Kind: followup.SubjectCustomer, ID: customer.ID})
	if err != nil || len(open) != 1 {
		t.Fatalf("open tasks: %v, %v; want one", open, err)
	}
	task := open[0]
	if task.ID != u.ID || task.Kind != followup.KindSurvey || task.Owner != "agent-1" || !task.DueAt.Equal(due) || task.Note != u.Note || task.CreatedBy != "" {
		t.Fatalf("task %+v", task)
	}
	f.clock.Set(due)
	if fired, _ := f.sweep(t); !slices.Equal(fired, []string{u.ID}) {
		t.Fatalf("at its due instant fired %v", fired)
	}

	// A customer that does not exist, or a note too long, writes nothing.
	before := len(f.outbox(t))
	gone := u
	gone.ID, gone.CustomerID = crm.NewID(f.clock.Now()), crm.NewID(f.clock.Now())
	if err := f.svc.UnhappyAnswer(ctx, gone); code(err) != crm.EINVALID || !slices.Equal(fields(err), []string{"subject"}) {
		t.Errorf("unknown customer: %v", err)
	}
	long := u
	long.ID, long.Note = crm.NewID(f.clock.Now()), strings.Repeat("x", followup.MaxNote+1)
	if err := f.svc.UnhappyAnswer(ctx, long); code(err) != crm.EINVALID {
		t.Errorf("long note: %v", err)
	}
	if after := len(f.outbox(t)); after != before {
		t.Errorf("refused tasks wrote %d events", after-before)
	}
}
