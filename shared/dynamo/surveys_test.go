package dynamo_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/survey"
	"github.com/rapportcrm/rapport/shared/timer"
)

// surveyFixture is the surveys service over the store, on the leads'
// table and clock, with the real timer store; the directory of ticket
// requesters and customers and the follow-ups are small fakes.
type surveyFixture struct {
	fixture
	surveys *dynamo.SurveyStore
	timers  *dynamo.TimerStore
	svc     *survey.Service
	people  *directory
	loops   *followups
	handled map[string]bool // survey.due events already handed to the service
}

func newSurveyFixture(t testing.TB) surveyFixture {
	t.Helper()
	f := newFixture(t)
	f.clock.Advance(monday.Sub(f.clock.Now()))
	store := &dynamo.SurveyStore{Client: f.calls, Table: f.store.Table}
	timers := &dynamo.TimerStore{Client: f.calls, Table: f.store.Table}
	people := &directory{requesters: map[string]survey.Contact{}, customers: map[string]survey.Contact{}}
	loops := &followups{}
	return surveyFixture{
		fixture: f, surveys: store, timers: timers, people: people, loops: loops, handled: map[string]bool{},
		svc: &survey.Service{Store: store, Policy: survey.Policy{Settings: survey.DefaultSettings()},
			Directory: people, Followups: loops, Timers: timers, Now: f.clock.Now},
	}
}

// directory knows tickets' requesters and customers.
type directory struct {
	mu                    sync.Mutex
	requesters, customers map[string]survey.Contact
}

var _ survey.Directory = (*directory)(nil)

func (d *directory) TicketRequester(_ context.Context, id string) (survey.Contact, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.requesters[id]
	if !ok {
		return c, crm.Errorf(crm.ENOTFOUND, "no ticket %s", id)
	}
	return c, nil
}

func (d *directory) Customer(_ context.Context, id string) (survey.Contact, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.customers[id]
	if !ok {
		return c, crm.Errorf(crm.ENOTFOUND, "no customer %s", id)
	}
	return c, nil
}

// followups records the tasks that close the loop.
type followups struct {
	mu    sync.Mutex
	tasks []survey.FollowUp
}

var _ survey.Followups = (*followups)(nil)

func (l *followups) CloseTheLoop(_ context.Context, f survey.FollowUp) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tasks = append(l.tasks, f)
	return nil
}

// solve publishes ticket.solved, now, for a ticket whose requester has
// that address, and returns when it was solved.
func (f surveyFixture) solve(t *testing.T, ticketID, email string) time.Time {
	t.Helper()
	f.people.mu.Lock()
	f.people.requesters[ticketID] = survey.Contact{Email: email}
	f.people.mu.Unlock()
	at := f.clock.Now()
	err := f.svc.AfterTicketSolved(context.Background(), events.TicketSolved{
		Metadata: events.Metadata{EventID: "solved-" + ticketID + at.String(), OccurredAt: at},
		Ticket:   events.Ticket{TicketID: ticketID, Kind: "request", Priority: "normal", Channel: "web", Owner: "agent-1", Team: "care"},
		SolvedAt: at,
	})
	if err != nil {
		t.Fatalf("after %s solved: %v", ticketID, err)
	}
	return at
}

// invitationAfter returns the invitation of a ticket's solve, and false
// when none was made.
func (f surveyFixture) invitationAfter(t *testing.T, ticketID string, solvedAt time.Time) (survey.Invitation, bool) {
	t.Helper()
	inv, err := f.svc.Invitation(context.Background(), survey.AfterTicketID(ticketID, solvedAt))
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return inv, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return inv, true
}

// sweep fires the timers due now and hands each survey.due they publish
// to the service, as the surveys function's rule does. It returns how
// many it handed over.
func (f surveyFixture) sweep(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	if _, err := (timer.Sweeper{Store: f.timers, Now: f.clock.Now}).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, env := range outbox(t, f.fixture) {
		if env.DetailType != events.SurveyDueType || f.handled[env.ID] {
			continue
		}
		f.handled[env.ID] = true
		var due events.SurveyDue
		if err := json.Unmarshal(env.Detail, &due); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Due(ctx, due); err != nil {
			t.Fatalf("survey.due %s: %v", due.InvitationID, err)
		}
		n++
	}
	return n
}

// invite sends an invitation by hand, now.
func (f surveyFixture) invite(t *testing.T, m survey.ByHand) survey.Invitation {
	t.Helper()
	inv, err := f.svc.Invite(context.Background(), m)
	if err != nil || inv.Status != survey.StatusSent {
		t.Fatalf("invite %+v: %+v, %v", m, inv, err)
	}
	return inv
}

func (f surveyFixture) to(at time.Time) { f.clock.Advance(at.Sub(f.clock.Now())) }

func (f surveyFixture) results(t *testing.T, q survey.Question, p period.Period) survey.Result {
	t.Helper()
	r, err := f.svc.Results(context.Background(), q, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func today(f surveyFixture) period.Period {
	return period.Containing(f.clock.Now(), period.Day, f.svc.Calendar.Location())
}

func TestSurveyGoesOutAnHourAfterATicketIsSolved(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	solved := f.solve(t, "T1", "Ada@Example.com")
	inv, ok := f.invitationAfter(t, "T1", solved)
	if !ok || inv.Status != survey.StatusScheduled || !inv.DueAt.Equal(solved.Add(time.Hour)) ||
		inv.Email != "ada@example.com" || inv.Reason != survey.AfterTicket || inv.Owner != "agent-1" ||
		len(inv.Questions) != 2 || inv.Questions[0] != survey.CSAT || inv.Questions[1] != survey.CES {
		t.Fatalf("invitation = %+v, %v; want CSAT and CES scheduled an hour after the solve", inv, ok)
	}
	due, _, err := f.timers.Due(ctx, solved.Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].ID != "survey#"+inv.ID+"#send" || !due[0].Due.Equal(solved.Add(time.Hour)) {
		t.Fatalf("timers due at +1h = %+v, %v; want the send timer", due, err)
	}

	f.clock.Advance(59 * time.Minute)
	if n := f.sweep(t); n != 0 {
		t.Fatalf("a sweep at +59m handed over %d survey.due", n)
	}
	f.clock.Advance(time.Minute)
	if n := f.sweep(t); n != 1 {
		t.Fatalf("a sweep at +1h handed over %d survey.due, want 1", n)
	}
	sent, _ := f.invitationAfter(t, "T1", solved)
	if sent.Status != survey.StatusSent || !sent.SentAt.Equal(f.clock.Now()) ||
		!sent.ExpiresAt.Equal(f.clock.Now().Add(30*24*time.Hour)) || sent.Version != 2 {
		t.Fatalf("after the timer: %+v", sent)
	}
	// A redelivered survey.due, or a manager reading the day's results.
	if err := f.svc.Due(ctx, events.SurveyDue{InvitationID: inv.ID}); err != nil {
		t.Fatal(err)
	}
	box := outbox(t, f.fixture)
	if n := countType(box, events.SurveyInvitedType); n != 1 {
		t.Fatalf("%d survey.invited in the outbox, want 1", n)
	}
	for _, e := range box {
		if strings.Contains(string(e.Detail), "example.com") {
			t.Fatalf("%s carries the address: %s", e.DetailType, e.Detail)
		}
	}
	if r := f.results(t, survey.CSAT, today(f)); r.Invitations != 1 || r.Responses != 0 || r.Score != nil {
		t.Fatalf("today's CSAT = %+v; want 1 invitation sent, no answers", r)
	}
	h, _, _ := f.surveys.Person(ctx, "ada@example.com")
	if h.LastID != inv.ID || !h.LastAt.Equal(*sent.SentAt) {
		t.Fatalf("person = %+v; want the quiet period held from the sending", h)
	}
}

func TestAReopenBeforeTheHourCancelsAndGivesTheQuietPeriodBack(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	solved := f.solve(t, "T1", "ada@example.com")
	f.clock.Advance(30 * time.Minute)
	err := f.svc.TicketReopened(ctx, events.TicketReopened{
		Ticket: events.Ticket{TicketID: "T1"}, By: "customer", SolvedAt: solved, ReopenedAt: f.clock.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := f.invitationAfter(t, "T1", solved)
	if inv.Status != survey.StatusCancelled || inv.CancelReason != survey.TicketReopened {
		t.Fatalf("after the reopen: %+v", inv)
	}
	f.clock.Advance(31 * time.Minute)
	if n := f.sweep(t); n != 0 {
		t.Fatalf("the cancelled invitation's timer fired (%d)", n)
	}
	if h, _, _ := f.surveys.Person(ctx, "ada@example.com"); h.LastID != "" || !h.LastAt.IsZero() {
		t.Fatalf("person = %+v; want the quiet period given back", h)
	}

	// Solved again: the person may be invited at once.
	again := f.solve(t, "T1", "ada@example.com")
	if inv, ok := f.invitationAfter(t, "T1", again); !ok || inv.Status != survey.StatusScheduled {
		t.Fatalf("after the second solve: %+v, %v", inv, ok)
	}
	f.clock.Advance(time.Hour)
	if n := f.sweep(t); n != 1 {
		t.Fatalf("handed over %d survey.due, want 1", n)
	}
	if n := countType(outbox(t, f.fixture), events.SurveyInvitedType); n != 1 {
		t.Fatalf("%d survey.invited, want 1", n)
	}
}

func TestASecondSolvedTicketWithinThirtyDaysMakesNoInvitation(t *testing.T) {
	f := newSurveyFixture(t)
	first := f.solve(t, "T1", "ada@example.com")
	f.clock.Advance(time.Hour)
	f.sweep(t)
	f.clock.Advance(10 * 24 * time.Hour)
	second := f.solve(t, "T2", "ADA@example.com")
	if inv, ok := f.invitationAfter(t, "T2", second); ok {
		t.Fatalf("a second invitation within 30 days: %+v", inv)
	}
	f.to(first.Add(31 * 24 * time.Hour))
	third := f.solve(t, "T3", "ada@example.com")
	if _, ok := f.invitationAfter(t, "T3", third); !ok {
		t.Fatal("no invitation 31 days later")
	}
}

func TestOptedOutPeopleAreNeverInvited(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	// Bo opts out from a scheduled invitation's link: it is cancelled
	// when it falls due, and nothing is sent.
	solved := f.solve(t, "T1", "bo@example.com")
	inv, _ := f.invitationAfter(t, "T1", solved)
	for range 2 {
		if err := f.svc.OptOut(ctx, inv.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := countType(outbox(t, f.fixture), events.SurveyOptedOutType); n != 1 {
		t.Fatalf("opting out twice wrote %d survey.opted_out, want 1", n)
	}
	f.clock.Advance(time.Hour)
	if n := f.sweep(t); n != 1 {
		t.Fatalf("handed over %d survey.due, want 1", n)
	}
	if inv, _ := f.invitationAfter(t, "T1", solved); inv.Status != survey.StatusCancelled || inv.CancelReason != survey.OptedOut {
		t.Fatalf("due after opting out: %+v", inv)
	}
	if n := countType(outbox(t, f.fixture), events.SurveyInvitedType); n != 0 {
		t.Fatalf("%d survey.invited to a person who opted out", n)
	}
	if r := f.results(t, survey.CSAT, today(f)); r.Invitations != 0 {
		t.Fatalf("counted %d invitations sent", r.Invitations)
	}
	f.clock.Advance(60 * 24 * time.Hour)
	later := f.solve(t, "T2", "bo@example.com")
	if inv, ok := f.invitationAfter(t, "T2", later); ok {
		t.Fatalf("invited a person who opted out: %+v", inv)
	}
	if _, err := f.svc.Invite(ctx, survey.ByHand{Email: "bo@example.com"}); survey.Refused(err) != survey.OptedOut {
		t.Fatalf("a manager's invitation to a person who opted out: %v", err)
	}
}

func TestRelationshipNPSGoesOutThirtyDaysAfterTheFirstConversionThenEveryNinety(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	f.people.customers["C1"] = survey.Contact{Email: "ada@example.com", Owner: "agent-2"}
	converted := f.clock.Now()
	if err := f.svc.CustomerConverted(ctx, events.LeadConverted{CustomerID: "C1", ConvertedAt: converted}); err != nil {
		t.Fatal(err)
	}
	f.to(converted.Add(30*24*time.Hour - time.Minute))
	if n := f.sweep(t); n != 0 {
		t.Fatalf("%d survey.due before the 30 days", n)
	}
	f.to(converted.Add(30 * 24 * time.Hour))
	if n := f.sweep(t); n != 1 {
		t.Fatalf("%d survey.due at 30 days, want 1", n)
	}
	first, err := f.svc.Invitation(ctx, survey.RelationshipID("C1", f.clock.Now()))
	if err != nil || first.Status != survey.StatusSent || first.Reason != survey.Relationship || first.Owner != "agent-2" ||
		len(first.Questions) != 1 || first.Questions[0] != survey.NPS {
		t.Fatalf("first relationship invitation = %+v, %v", first, err)
	}
	f.to(first.SentAt.Add(90 * 24 * time.Hour))
	if n := f.sweep(t); n != 1 {
		t.Fatalf("%d survey.due 90 days later, want 1", n)
	}
	if next, err := f.svc.Invitation(ctx, survey.RelationshipID("C1", f.clock.Now())); err != nil || next.Status != survey.StatusSent {
		t.Fatalf("second relationship invitation = %+v, %v", next, err)
	}
	if n := countType(outbox(t, f.fixture), events.SurveyInvitedType); n != 2 {
		t.Fatalf("%d survey.invited, want 2", n)
	}
}

func TestInvitationsMadeAtOnceForOnePersonMakeOne(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	const n = 10
	at := f.clock.Now()
	for i := range n {
		f.people.requesters["T"+strconv.Itoa(i)] = survey.Contact{Email: "ada@example.com"}
	}
	errs := make([]error, n)
	concurrently(n, func(i int) {
		errs[i] = f.svc.AfterTicketSolved(ctx, events.TicketSolved{
			Metadata: events.Metadata{EventID: "e" + strconv.Itoa(i), OccurredAt: at},
			Ticket:   events.Ticket{TicketID: "T" + strconv.Itoa(i)}, SolvedAt: at,
		})
	})
	made := ""
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ticket %d: %v", i, errs[i])
		}
		if inv, ok := f.invitationAfter(t, "T"+strconv.Itoa(i), at); ok {
			if made != "" {
				t.Fatalf("two invitations: %s and %s", made, inv.ID)
			}
			made = inv.ID
		}
	}
	if made == "" {
		t.Fatal("no invitation")
	}
	if h, _, _ := f.surveys.Person(ctx, "ada@example.com"); h.LastID != made {
		t.Fatalf("person = %+v, want the quiet period held by %s", h, made)
	}
	f.clock.Advance(time.Hour)
	if got := f.sweep(t); got != 1 {
		t.Fatalf("%d send timers fired, want 1", got)
	}
}

func TestARedeliveredSolveMakesOneInvitation(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	f.people.requesters["T1"] = survey.Contact{Email: "ada@example.com"}
	at := f.clock.Now()
	solved := events.TicketSolved{Metadata: events.Metadata{EventID: "e1", OccurredAt: at}, Ticket: events.Ticket{TicketID: "T1"}, SolvedAt: at}
	errs := make([]error, 5)
	concurrently(5, func(i int) { errs[i] = f.svc.AfterTicketSolved(ctx, solved) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	if err := f.svc.AfterTicketSolved(ctx, solved); err != nil {
		t.Fatalf("a later delivery: %v", err)
	}
	inv, ok := f.invitationAfter(t, "T1", at)
	if !ok || inv.Version != 1 {
		t.Fatalf("invitation = %+v, %v", inv, ok)
	}
	f.clock.Advance(time.Hour)
	if n := f.sweep(t); n != 1 {
		t.Fatalf("%d send timers fired, want 1", n)
	}
}

func TestConcurrentAnswersRecordOne(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	inv := f.invite(t, survey.ByHand{Email: "ada@example.com", Questions: []survey.Question{survey.NPS}})
	f.clock.Advance(time.Minute)
	const n = 20
	errs := make([]error, n)
	concurrently(n, func(i int) {
		_, errs[i] = f.svc.Answer(ctx, inv.ID, map[string][]string{"nps": {strconv.Itoa(i % 11)}, "comment": {"Answer " + strconv.Itoa(i)}})
	})
	won, answered := -1, 0
	for i, err := range errs {
		switch {
		case err == nil && won == -1:
			won = i
		case errors.Is(err, survey.ErrAnswered):
			answered++
		default:
			t.Fatalf("answer %d: %v", i, err)
		}
	}
	if won == -1 || answered != n-1 {
		t.Fatalf("%d answers recorded, %d already answered; want 1 and %d", n-answered, answered, n-1)
	}
	a, err := f.surveys.AnswerOf(ctx, inv.ID)
	if err != nil || a.Comment != "Answer "+strconv.Itoa(won) || len(a.Ratings) != 1 || a.Ratings[0].Score != won%11 {
		t.Fatalf("recorded %+v, %v; want answer %d", a, err, won)
	}
	if got, _ := f.svc.Invitation(ctx, inv.ID); got.Status != survey.StatusAnswered || got.AnsweredAt == nil || got.Version != 3 {
		t.Fatalf("invitation = %+v", got)
	}
	r := f.results(t, survey.NPS, today(f))
	if r.Responses != 1 || r.Answers != 1 || r.Invitations != 1 || r.Counts[won%11] != 1 {
		t.Fatalf("results = %+v; want the one answer counted once", r)
	}
	if n := countType(outbox(t, f.fixture), events.SurveyRespondedType); n != 1 {
		t.Fatalf("%d survey.responded, want 1", n)
	}
	if _, err := f.svc.Answer(ctx, inv.ID, map[string][]string{"nps": {"10"}}); !errors.Is(err, survey.ErrAnswered) {
		t.Fatalf("a later answer: %v", err)
	}
}

func TestReadingAnInvitationRecordsNothing(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	inv := f.invite(t, survey.ByHand{Email: "ada@example.com"})
	f.calls.Reset()
	for range 3 { // the page, and the one-click links' GETs
		if got, err := f.svc.Invitation(ctx, inv.ID); err != nil || got.Status != survey.StatusSent {
			t.Fatalf("read %+v, %v", got, err)
		}
	}
	if c := f.calls.Cost(); c.WCU != 0 || c.Total() != c.Requests["GetItem"] {
		t.Fatalf("reading the invitation cost %v requests and %.1f WCU; want reads only", c.Requests, c.WCU)
	}
	if _, err := f.surveys.AnswerOf(ctx, inv.ID); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("answer after reads: %v", err)
	}
	if r := f.results(t, survey.NPS, today(f)); r.Responses != 0 {
		t.Fatalf("results after reads: %+v", r)
	}
}

func TestUnknownSurveyRecordsAreNotFound(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Invitation(ctx, crm.NewID(f.clock.Now())); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("invitation: %v", err)
	}
	if _, err := f.surveys.AnswerOf(ctx, crm.NewID(f.clock.Now())); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("answer: %v", err)
	}
	if h, v, err := f.surveys.Person(ctx, "nobody@example.com"); err != nil || v != 0 || h != (survey.History{Email: "nobody@example.com"}) {
		t.Fatalf("person = %+v, %d, %v", h, v, err)
	}
	inv := f.invite(t, survey.ByHand{Email: "ada@example.com"})
	stale := survey.Settlement{Invitation: inv, Prev: inv.Version - 1}
	if err := f.surveys.Settle(ctx, stale); crm.ErrorCode(err) != crm.EPRECONDITION {
		t.Fatalf("a settlement at an old version: %v", err)
	}
	stale.Invitation.ID = crm.NewID(f.clock.Now())
	if err := f.surveys.Settle(ctx, stale); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("a settlement of no invitation: %v", err)
	}
	if _, _, err := f.surveys.Tally(ctx, "2026-12", "2026-12-31"); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("tally of a bad day: %v", err)
	}
}
