package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// ticketFixture is the tickets service over the store, on the same table
// and clock as the leads' fixture (customers come from converted leads).
type ticketFixture struct {
	fixture
	tickets *dynamo.TicketStore
	desk    *ticket.Service
	rules   ticket.Rules
}

// monday is when the ticket fixtures start: Monday 23 November 2026,
// 10:00 UTC, inside the default calendar's working hours (Mon–Fri
// 09:00–17:00 UTC).
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newTicketFixture(t testing.TB) ticketFixture {
	t.Helper()
	f := newFixture(t)
	f.clock.Advance(monday.Sub(f.clock.Now()))
	var cal calendar.Calendar
	rules := ticket.Rules{Policies: sla.DefaultPolicies(cal), Calendar: cal}
	store := &dynamo.TicketStore{Client: f.calls, Table: f.store.Table}
	return ticketFixture{
		fixture: f, tickets: store, rules: rules,
		desk: &ticket.Service{Store: store, Rules: rules, Now: f.clock.Now},
	}
}

func grievance() ticket.Submission {
	return ticket.Submission{Name: "Ada Lovelace", Email: "Ada@Example.com", Subject: "The engine arrived broken",
		Message: "The difference engine arrived with a cracked gear.", Kind: "complaint", Reference: "ORD-1842",
		PageURL: "https://www.example.com/support"}
}

// submit opens a ticket from a form and returns its id.
func (f ticketFixture) submit(t *testing.T, sub ticket.Submission) string {
	t.Helper()
	res, err := f.desk.Submit(context.Background(), sub, "")
	if err != nil || res.Duplicate {
		t.Fatalf("submit: %+v, %v", res, err)
	}
	return res.TicketID
}

// call opens a ticket staff take on the phone and returns its id.
func (f ticketFixture) call(t *testing.T, email, priority, kind, owner string) string {
	t.Helper()
	tk, err := f.desk.OpenFor(context.Background(), "agent-0", ticket.StaffOpening{
		Submission: ticket.Submission{Email: email, Message: "Called about " + kind, Kind: kind},
		Channel:    "phone", Priority: priority, Owner: owner,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

// list walks every page of f's list and returns the tickets' ids.
func (f ticketFixture) list(t *testing.T, flt ticket.Filter) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		page, err := f.desk.List(context.Background(), flt)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range page.Tickets {
			ids = append(ids, tk.ID)
		}
		if page.Next == "" {
			return ids
		}
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		flt.Cursor = page.Next
	}
}

func countType(envs []events.Envelope, detailType string) int {
	n := 0
	for _, e := range envs {
		if e.DetailType == detailType {
			n++
		}
	}
	return n
}

func TestTicketFromAFormReadsBackWithItsMessageAndCustomer(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	lead, err := f.svc.Capture(ctx, ada(), "")
	if err != nil {
		t.Fatal(err)
	}
	cust, err := f.svc.Convert(ctx, "agent-1", lead.LeadID, crm.Conversion{Deal: crm.Money{Minor: 1000, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}

	id := f.submit(t, grievance())
	d, err := f.desk.Detail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	tk := d.Ticket
	if tk.Status != ticket.StatusNew || tk.Kind != ticket.KindComplaint || tk.Priority != sla.Normal ||
		tk.Channel != ticket.ChannelWeb || tk.Reference != "ORD-1842" || tk.Version != 1 ||
		tk.Requester != (ticket.Requester{Name: "Ada Lovelace", Email: "ada@example.com"}) ||
		tk.Custom["page_url"] != "https://www.example.com/support" || !tk.OpenedAt.Equal(monday) {
		t.Errorf("ticket = %+v", tk)
	}
	if tk.CustomerID != cust.ID {
		t.Errorf("ticket's customer = %q, want %s (same email)", tk.CustomerID, cust.ID)
	}
	if len(d.Timeline) != 1 || d.Timeline[0].Kind != ticket.EntryMessage ||
		d.Timeline[0].Body != "The difference engine arrived with a cracked gear." || d.Timeline[0].Author != "" {
		t.Errorf("timeline = %+v", d.Timeline)
	}
	// Normal priority: first response within 8 business hours, so by
	// Tuesday 10:00; the clock runs.
	if want := monday.Add(24 * time.Hour); !d.FirstResponse.TargetAt.Equal(want) || d.FirstResponse.Status != sla.Running {
		t.Errorf("first response = %+v, want running towards %v", d.FirstResponse, want)
	}

	other := f.submit(t, ticket.Submission{Email: "bo@example.com", Message: "Where is my order?"})
	if tk, _ := f.desk.Ticket(ctx, other); tk.CustomerID != "" {
		t.Errorf("a stranger's ticket is linked to customer %q", tk.CustomerID)
	}
	theirs, err := f.desk.OfCustomer(ctx, cust.ID, 10)
	if err != nil || len(theirs) != 1 || theirs[0].ID != id {
		t.Fatalf("customer's tickets = %v, %v; want [%s]", theirs, err, id)
	}

	opened := outbox(t, f.fixture)
	if countType(opened, events.TicketOpenedType) != 2 {
		t.Fatalf("outbox = %s", detailTypes(opened))
	}
	for _, e := range opened {
		for _, private := range []string{"ada@example.com", "Lovelace", "cracked gear", "engine arrived"} {
			if strings.Contains(string(e.Detail), private) {
				t.Errorf("%s carries personal data %q: %s", e.DetailType, private, e.Detail)
			}
		}
	}
}

func TestUnknownTicketIsNotFound(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	missing := crm.NewID(monday)
	if _, err := f.desk.Detail(ctx, missing); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("detail of no ticket: %v", err)
	}
	if _, err := f.desk.Update(ctx, "agent-1", missing, 1, ticket.Patch{Owner: ptr("agent-1")}); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("update of no ticket: %v", err)
	}
}

func TestBadChangesAreRefusedAndChangeNothing(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	id := f.submit(t, grievance())
	f.clock.Advance(time.Minute)
	for _, p := range []ticket.Patch{
		{Status: ptr("bogus")},
		{Priority: ptr("asap"), Owner: ptr("agent-1")},
		{Owner: ptr("two words")},
	} {
		var e *crm.Error
		if _, err := f.desk.Update(ctx, "agent-1", id, 1, p); crm.ErrorCode(err) != crm.EINVALID || !asError(err, &e) || len(e.Fields) == 0 {
			t.Errorf("patch %+v: err = %v, want invalid naming the field", p, err)
		}
	}
	if _, err := f.desk.Update(ctx, "agent-1", id, 1, ticket.Patch{Status: ptr("closed")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.Update(ctx, "agent-1", id, 2, ticket.Patch{Status: ptr("open")}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("reopening a closed ticket: err = %v, want invalid", err)
	}
	if _, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "Hello?", Public: true}); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Errorf("replying on a closed ticket: err = %v, want conflict", err)
	}
	d, _ := f.desk.Detail(ctx, id)
	if d.Ticket.Version != 2 || d.Ticket.Owner != "" || len(d.Timeline) != 2 {
		t.Fatalf("after refused changes: ticket %+v, %d timeline entries", d.Ticket, len(d.Timeline))
	}
	envs := outbox(t, f.fixture)
	if len(envs) != 3 || countType(envs, events.TicketUpdatedType) != 1 || countType(envs, events.TicketClosedType) != 1 {
		t.Fatalf("outbox = %s, want opened, then updated and closed once", detailTypes(envs))
	}
}

func TestTheSameFormTwiceIsOneTicket(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	first := f.submit(t, grievance())
	f.clock.Advance(time.Minute)
	again, err := f.desk.Submit(ctx, grievance(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.TicketID != first {
		t.Fatalf("second submission = %+v, want a duplicate of %s", again, first)
	}
	if ids := f.list(t, ticket.Filter{}); fmt.Sprint(ids) != fmt.Sprint([]string{first}) {
		t.Fatalf("listed %v, want only %s", ids, first)
	}
	// A day later the window has passed: the same words are a new ticket.
	f.clock.Advance(ticket.DefaultDedupeWindow)
	later, err := f.desk.Submit(ctx, grievance(), "")
	if err != nil || later.Duplicate || later.TicketID == first {
		t.Fatalf("after the window: %+v, %v; want a new ticket", later, err)
	}
}

// The promise of the form: submitted by fifty impatient clicks at once,
// it is one ticket, one ticket.opened, and every click is told its id.
func TestConcurrentIdenticalFormsMakeOneTicket(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	const n = 50
	results := make([]ticket.OpenResult, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		results[i], errs[i] = f.desk.Submit(ctx, grievance(), "")
	})
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if !results[i].Duplicate {
			created++
		}
		if results[i].TicketID != results[0].TicketID {
			t.Fatalf("submission %d went to ticket %s, the first to %s", i, results[i].TicketID, results[0].TicketID)
		}
	}
	if created != 1 {
		t.Fatalf("%d submissions opened a ticket, want exactly 1", created)
	}
	if ids := f.list(t, ticket.Filter{Limit: 100}); fmt.Sprint(ids) != fmt.Sprint([]string{results[0].TicketID}) {
		t.Fatalf("active tickets %v, want only %s", ids, results[0].TicketID)
	}
	if got := detailTypes(outbox(t, f.fixture)); got != events.TicketOpenedType {
		t.Fatalf("outbox = %s, want one ticket.opened", got)
	}
}

func TestIdempotencyKeyReusedForAnotherMessageIsAConflict(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	first, err := f.desk.Submit(ctx, grievance(), "key-1")
	if err != nil || first.Duplicate {
		t.Fatalf("first = %+v, %v", first, err)
	}
	retry, err := f.desk.Submit(ctx, grievance(), "key-1")
	if err != nil || retry != (ticket.OpenResult{TicketID: first.TicketID, Duplicate: true}) {
		t.Fatalf("retry = %+v, %v; want the first ticket", retry, err)
	}
	other := grievance()
	other.Message = "Also, the invoice is wrong."
	_, err = f.desk.Submit(ctx, other, "key-1")
	var e *crm.Error
	if crm.ErrorCode(err) != crm.ECONFLICT || !asError(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "Idempotency-Key" {
		t.Fatalf("reused key: err = %v, want a conflict naming Idempotency-Key", err)
	}
	if ids := f.list(t, ticket.Filter{}); len(ids) != 1 {
		t.Fatalf("%d tickets after a reused key, want 1", len(ids))
	}
	if got := detailTypes(outbox(t, f.fixture)); got != events.TicketOpenedType {
		t.Fatalf("outbox = %s, want one ticket.opened", got)
	}
}

// Racing requests with one key and two different messages: the key goes
// to one of them; the others with its message are told its ticket, those
// with the other message that the key is taken. The losers learn the
// winner from the transaction's cancellation, not a later read.
func TestConcurrentReuseOfAKeyOpensOneTicket(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	const n = 12
	results := make([]ticket.OpenResult, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		sub := grievance()
		sub.Message += strings.Repeat(" Please hurry.", i%2)
		results[i], errs[i] = f.desk.Submit(ctx, sub, "shared-key")
	})
	winner := -1
	for i := range n {
		if errs[i] == nil && !results[i].Duplicate {
			if winner >= 0 {
				t.Fatalf("submissions %d and %d both opened a ticket", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no submission opened a ticket")
	}
	for i := range n {
		switch {
		case i == winner:
		case i%2 == winner%2 && (errs[i] != nil || results[i].TicketID != results[winner].TicketID):
			t.Errorf("submission %d with the winner's message: %+v, %v", i, results[i], errs[i])
		case i%2 != winner%2 && crm.ErrorCode(errs[i]) != crm.ECONFLICT:
			t.Errorf("submission %d with another message: %+v, %v; want a conflict", i, results[i], errs[i])
		}
	}
	if got := detailTypes(outbox(t, f.fixture)); got != events.TicketOpenedType {
		t.Fatalf("outbox = %s, want one ticket.opened", got)
	}
}

// Ten agents PATCH one version at once: one change is made, nine are told
// the ticket changed under them.
func TestConcurrentUpdatesOfOneVersionMakeOneChange(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	id := f.submit(t, grievance())
	f.clock.Advance(time.Minute)
	const n = 10
	errs := make([]error, n)
	concurrently(n, func(i int) {
		_, errs[i] = f.desk.Update(ctx, "lead-1", id, 1, ticket.Patch{Owner: ptr(fmt.Sprintf("agent-%d", i))})
	})
	won := -1
	for i, err := range errs {
		switch crm.ErrorCode(err) {
		case "":
			if won >= 0 {
				t.Fatalf("edits %d and %d of version 1 both succeeded", won, i)
			}
			won = i
		case crm.EPRECONDITION:
		default:
			t.Fatalf("edit %d: %v, want success or precondition failed", i, err)
		}
	}
	tk, _ := f.desk.Ticket(ctx, id)
	if won < 0 || tk.Owner != fmt.Sprintf("agent-%d", won) || tk.Version != 2 {
		t.Fatalf("ticket owner %q version %d; the winning edit was %d", tk.Owner, tk.Version, won)
	}
	if n := countType(outbox(t, f.fixture), events.TicketUpdatedType); n != 1 {
		t.Fatalf("%d ticket.updated events, want 1", n)
	}
	d, _ := f.desk.Detail(ctx, id)
	if len(d.Timeline) != 2 || d.Timeline[1].Kind != ticket.EntryChange || d.Timeline[1].ToOwner != tk.Owner {
		t.Fatalf("timeline = %+v", d.Timeline)
	}
}

// The queue a service desk works: by next deadline, most pressing first,
// with tickets no clock presses last.
func TestListByNextDeadlineWithFiltersAndCursor(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	step := func() { f.clock.Advance(time.Minute) }
	normal := f.submit(t, grievance()) // 10:00, first response due Tue 10:00
	step()
	urgent := f.call(t, "u@example.com", "urgent", "incident", "agent-1") // 10:01, due 11:01
	step()
	high := f.call(t, "h@example.com", "high", "complaint", "agent-2") // 10:02, due 14:02
	step()
	low := f.call(t, "l@example.com", "low", "question", "") // 10:03, due Tue 10:03
	step()
	waiting := f.submit(t, ticket.Submission{Email: "w@example.com", Message: "Any news?"}) // 10:04
	// Answered and waiting on the customer: no clock runs towards a deadline.
	if _, _, err := f.desk.Reply(ctx, "agent-3", waiting, ticket.Reply{Body: "Which order?", Public: true, Status: ptr("pending")}); err != nil {
		t.Fatal(err)
	}
	solved := f.submit(t, ticket.Submission{Email: "s@example.com", Message: "Thanks, sorted."})
	if _, err := f.desk.Update(ctx, "agent-3", solved, 1, ticket.Patch{Status: ptr("solved")}); err != nil {
		t.Fatal(err)
	}

	all := []string{urgent, high, normal, low, waiting}
	for _, c := range []struct {
		name string
		f    ticket.Filter
		want []string
	}{
		{"active, by deadline", ticket.Filter{}, all},
		{"in pages of 2", ticket.Filter{Limit: 2}, all},
		{"status pending", ticket.Filter{Status: ticket.StatusPending}, []string{waiting}},
		{"status solved", ticket.Filter{Status: ticket.StatusSolved}, []string{solved}},
		{"status new", ticket.Filter{Status: ticket.StatusNew, Limit: 1}, []string{urgent, high, normal, low}},
		{"priority urgent", ticket.Filter{Priority: sla.Urgent}, []string{urgent}},
		{"priority normal", ticket.Filter{Priority: sla.Normal, Limit: 1}, []string{normal, waiting}},
		{"kind complaint", ticket.Filter{Kind: ticket.KindComplaint}, []string{high, normal}},
		{"owner agent-1", ticket.Filter{Owner: "agent-1", OwnerSet: true}, []string{urgent}},
		{"unassigned", ticket.Filter{OwnerSet: true}, []string{normal, low, waiting}},
		{"new and unassigned", ticket.Filter{Status: ticket.StatusNew, OwnerSet: true}, []string{normal, low}},
		{"pending, assigned to agent-3", ticket.Filter{Status: ticket.StatusPending, Owner: "agent-3", OwnerSet: true}, nil},
		{"nothing breached yet", ticket.Filter{SLA: ticket.Breached}, nil},
	} {
		if got := f.list(t, c.f); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: listed %v, want %v", c.name, got, c.want)
		}
	}

	// 13:30: the urgent ticket's first response (due 11:01) is breached;
	// the high one's (due 14:02, warned at 13:02) is at risk.
	f.clock.Advance(monday.Add(3*time.Hour + 30*time.Minute).Sub(f.clock.Now()))
	if got := f.list(t, ticket.Filter{SLA: ticket.Breached}); fmt.Sprint(got) != fmt.Sprint([]string{urgent}) {
		t.Errorf("breached at 13:30: %v, want [%s]", got, urgent)
	}
	if got := f.list(t, ticket.Filter{SLA: ticket.AtRisk, Limit: 1}); fmt.Sprint(got) != fmt.Sprint([]string{high}) {
		t.Errorf("at risk at 13:30: %v, want [%s]", got, high)
	}
	if got := f.list(t, ticket.Filter{SLA: ticket.Breached, OwnerSet: true, Owner: "agent-2"}); len(got) != 0 {
		t.Errorf("agent-2's breached tickets at 13:30: %v, want none", got)
	}
}

// A page of at-risk tickets read at 13:30 goes on at 14:01, when the
// ticket it ended on has breached: the next page is what is at risk then,
// without repeats.
func TestAtRiskPagesGoOnAfterTheClockMoves(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	first := f.call(t, "a@example.com", "high", "request", "") // due 14:00, warned at 13:00
	f.clock.Advance(3 * time.Minute)
	second := f.call(t, "b@example.com", "high", "request", "") // due 14:03, warned at 13:03
	f.clock.Advance(monday.Add(3*time.Hour + 30*time.Minute).Sub(f.clock.Now()))
	page, err := f.desk.List(ctx, ticket.Filter{SLA: ticket.AtRisk, Limit: 1})
	if err != nil || len(page.Tickets) != 1 || page.Tickets[0].ID != first || page.Next == "" {
		t.Fatalf("at risk at 13:30: %+v, %v; want %s and a cursor", page, err, first)
	}
	f.clock.Advance(31 * time.Minute)
	next, err := f.desk.List(ctx, ticket.Filter{SLA: ticket.AtRisk, Limit: 1, Cursor: page.Next})
	if err != nil || len(next.Tickets) != 1 || next.Tickets[0].ID != second || next.Next != "" {
		t.Fatalf("at risk at 14:01 after the cursor: %+v, %v; want only %s", next, err, second)
	}
}

// A ticket answered after its first-response warning is no longer at
// risk: what stands is its resolution clock, whose warning is days away.
func TestAnsweredTicketIsNotAtRisk(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	id := f.submit(t, grievance()) // first response warned at 16:00, due Tue 10:00
	f.clock.Advance(6*time.Hour + 30*time.Minute)
	if got := f.list(t, ticket.Filter{SLA: ticket.AtRisk}); fmt.Sprint(got) != fmt.Sprint([]string{id}) {
		t.Fatalf("at risk at 16:30 unanswered: %v, want [%s]", got, id)
	}
	if _, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "On it.", Public: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.list(t, ticket.Filter{SLA: ticket.AtRisk}); len(got) != 0 {
		t.Fatalf("at risk at 16:30 answered: %v, want none", got)
	}
}

func TestTicketListRejectsACursorFromOtherFilters(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	for i := range 3 {
		f.submit(t, ticket.Submission{Email: fmt.Sprintf("p%d@example.com", i), Message: "Help"})
	}
	page, err := f.desk.List(ctx, ticket.Filter{Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	for _, bad := range []ticket.Filter{
		{Limit: 1, Cursor: page.Next, Priority: sla.High},
		{Limit: 1, Cursor: page.Next, Status: ticket.StatusNew},
		{Limit: 1, Cursor: page.Next, SLA: ticket.Breached},
		{Limit: 1, Cursor: "not-a-cursor"},
		{Limit: 1, Cursor: page.Next + "x"},
	} {
		_, err := f.desk.List(ctx, bad)
		var e *crm.Error
		if crm.ErrorCode(err) != crm.EINVALID || !asError(err, &e) || e.Fields[0].Field != "cursor" {
			t.Errorf("filter %+v: err = %v, want invalid cursor", bad, err)
		}
	}
}

// armedTimers returns the ticket's armed timers the sweep would fire by
// the far future, by id, with their due instants.
func (f ticketFixture) armedTimers(t *testing.T, id string) map[string]time.Time {
	t.Helper()
	timers := &dynamo.TimerStore{Client: f.calls, Table: f.store.Table}
	due, _, err := timers.Due(context.Background(), f.clock.Now().Add(20*24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for _, tm := range due {
		if strings.HasPrefix(tm.ID, "ticket#"+id+"#") {
			out[strings.TrimPrefix(tm.ID, "ticket#"+id+"#")] = tm.Due
		}
	}
	return out
}

func TestTicketTimersFollowItsClocks(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	id := f.submit(t, grievance())
	tk, _ := f.desk.Ticket(ctx, id)
	clocks := f.rules.Clocks(tk)
	want := map[string]time.Time{}
	for _, k := range []sla.Kind{sla.FirstResponse, sla.Resolution} {
		for _, s := range sla.Stages() {
			want[string(k)+"#"+string(s)] = clocks.Of(k).Due(s)
		}
	}
	got := f.armedTimers(t, id)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("armed after opening:\n got %v\nwant %v", got, want)
	}
	// By the calendar: 8 business hours from Monday 10:00 is Tuesday
	// 10:00; 75% of them is Monday 16:00.
	if !got["first_response#breach"].Equal(monday.Add(24*time.Hour)) || !got["first_response#warning"].Equal(monday.Add(6*time.Hour)) {
		t.Fatalf("first response timers %v", got)
	}

	// The first public reply stops the first-response clock: its timers go.
	f.clock.Advance(time.Hour)
	if _, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "We are on it.", Public: true}); err != nil {
		t.Fatal(err)
	}
	got = f.armedTimers(t, id)
	for k := range want {
		if strings.HasPrefix(k, "first_response#") {
			delete(want, k)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("armed after the reply:\n got %v\nwant %v", got, want)
	}

	// Waiting on the customer pauses the resolution clock: its timers go.
	f.clock.Advance(time.Hour)
	tk, _ = f.desk.Ticket(ctx, id)
	if _, err := f.desk.Update(ctx, "agent-1", id, tk.Version, ticket.Patch{Status: ptr("pending")}); err != nil {
		t.Fatal(err)
	}
	if got := f.armedTimers(t, id); len(got) != 0 {
		t.Fatalf("armed while pending: %v, want none", got)
	}
	tk, _ = f.desk.Ticket(ctx, id)
	if len(tk.Timers) != 0 || !tk.NextDeadline.IsZero() {
		t.Fatalf("pending ticket's timers %v, next deadline %v", tk.Timers, tk.NextDeadline)
	}
	if got := f.list(t, ticket.Filter{SLA: ticket.AtRisk}); len(got) != 0 {
		t.Fatalf("a pending, answered ticket is at risk: %v", got)
	}
}

// A staff reply with a status change is one write: the reply before the
// change on the timeline, and its events.
func TestReplyAndStatusChangeAreOneWrite(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	id := f.submit(t, grievance())
	f.clock.Advance(time.Hour)
	if _, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "Is it the left gear?", Public: true, Status: ptr("pending")}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if _, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "Customer sounds upset."}); err != nil {
		t.Fatal(err)
	}
	d, err := f.desk.Detail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range d.Timeline {
		kinds = append(kinds, string(e.Kind))
	}
	if fmt.Sprint(kinds) != "[message reply change note]" {
		t.Fatalf("timeline kinds %v", kinds)
	}
	if d.Ticket.Status != ticket.StatusPending || d.Ticket.FirstResponseAt == nil || d.Ticket.Version != 2 {
		t.Fatalf("ticket = %+v", d.Ticket)
	}
	envs := outbox(t, f.fixture)
	if countType(envs, events.TicketRepliedType) != 2 || countType(envs, events.TicketUpdatedType) != 1 {
		t.Fatalf("outbox = %s", detailTypes(envs))
	}
	for _, e := range envs {
		if e.DetailType != events.TicketRepliedType {
			continue
		}
		var r events.TicketReplied
		if err := json.Unmarshal(e.Detail, &r); err != nil {
			t.Fatal(err)
		}
		if r.Public && (!r.FirstResponse || r.FirstResponseSLA != string(sla.Met)) {
			t.Errorf("first reply's event = %+v", r)
		}
	}
}
