package ticket

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/sla"
)

// planner replays a ticket's changes through planTimers as Service.settle
// does, and checks after each that planning again at once arms and
// cancels nothing.
type planner struct {
	t     *testing.T
	r     Rules
	close time.Duration
}

// plan plans tk's timers after the change at now from prev, and returns
// the plan as id → due (armed) and ids (cancelled).
func (p planner) plan(tk *Ticket, prev Ticket, now time.Time) (map[string]time.Time, []string) {
	p.t.Helper()
	plan, err := p.r.planTimers(tk, describe(prev), now, p.close)
	if err != nil {
		p.t.Fatal(err)
	}
	armed := map[string]time.Time{}
	for _, tm := range plan.Arm {
		armed[tm.ID] = tm.Due
		if tm.Source != events.SourceTickets || len(tm.Detail) == 0 {
			p.t.Errorf("timer %s: source %q, detail %s", tm.ID, tm.Source, tm.Detail)
		}
	}
	// Nothing changed since: nothing to do, except that a timer just armed
	// at a past instant (it fires at the next sweep) counts as fired.
	timers, fired := maps.Clone(tk.Timers), slices.Clone(tk.Fired)
	for id, due := range timers {
		if due.Before(now) {
			delete(timers, id)
			fired = append(fired, id)
		}
	}
	slices.Sort(fired)
	again, err := p.r.planTimers(tk, describe(*tk), now, p.close)
	if err != nil {
		p.t.Fatal(err)
	}
	if len(again.Arm) > 0 || len(again.Cancel) > 0 || !maps.EqualFunc(timers, tk.Timers, time.Time.Equal) || !slices.Equal(fired, tk.Fired) {
		p.t.Errorf("planning again with nothing changed: arm %v, cancel %v", again.Arm, again.Cancel)
	}
	return armed, plan.Cancel
}

// id is the timer id of clock k's stage s of ticket T1; "close" is its
// auto-close.
func id(k sla.Kind, s sla.Stage) string { return slaTimerID("T1", k, s) }

var (
	frWarn   = id(sla.FirstResponse, sla.Warning)
	frBreach = id(sla.FirstResponse, sla.Breach)
	frEsc    = id(sla.FirstResponse, sla.Escalation)
	resWarn  = id(sla.Resolution, sla.Warning)
	resBrch  = id(sla.Resolution, sla.Breach)
	resEsc   = id(sla.Resolution, sla.Escalation)
	closeID  = closeTimerID("T1")
)

// dues reads "id=instant" pairs in loc.
func dues(t *testing.T, r Rules, pairs ...string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for i := 0; i < len(pairs); i += 2 {
		out[pairs[i]] = at(t, r.Calendar.Location(), pairs[i+1]).UTC()
	}
	return out
}

func sameDues(t *testing.T, what string, got, want map[string]time.Time) {
	t.Helper()
	if !maps.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func sameIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func newPlanner(t *testing.T, zoneName string) planner {
	return planner{t: t, r: rulesIn(zone(t, zoneName)), close: DefaultCloseAfter}
}

// TestPlanOpen: opening a ticket arms its six stages at their instants,
// each with the event it fires.
func TestPlanOpen(t *testing.T) {
	p := newPlanner(t, "Europe/Berlin")
	loc := p.r.Calendar.Location()
	tk := opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High)
	armed, cancelled := p.plan(&tk, Ticket{}, tk.OpenedAt)
	want := dues(t, p.r,
		frWarn, "2026-11-09 11:00", frBreach, "2026-11-09 12:00", frEsc, "2026-11-09 14:00",
		resWarn, "2026-11-09 14:00", resBrch, "2026-11-09 16:00", resEsc, "2026-11-10 12:00")
	sameDues(t, "armed", armed, want)
	sameIDs(t, "cancelled", cancelled)
	sameDues(t, "Timers", tk.Timers, want)
	if len(tk.Fired) > 0 {
		t.Errorf("Fired = %v", tk.Fired)
	}

	// Each timer fires its stage's event, naming the clock's deadline.
	plan, err := p.r.planTimers(&Ticket{ID: "T1", History: tk.History}, events.Ticket{}, tk.OpenedAt, p.close)
	if err != nil {
		t.Fatal(err)
	}
	types := map[sla.Stage]string{sla.Warning: events.TicketSLAWarningType, sla.Breach: events.TicketSLABreachedType, sla.Escalation: events.TicketSLAEscalatedType}
	for _, tm := range plan.Arm {
		for _, k := range []sla.Kind{sla.FirstResponse, sla.Resolution} {
			for s, typ := range types {
				if tm.ID != id(k, s) {
					continue
				}
				var body events.TicketSLA
				if err := json.Unmarshal(tm.Detail, &body); err != nil {
					t.Fatal(err)
				}
				deadline := want[id(k, sla.Breach)]
				if tm.DetailType != typ || body.Clock != string(k) || !body.TargetAt.Equal(deadline) || body.TicketID != "T1" {
					t.Errorf("timer %s fires %s %+v, want %s of %s due %v", tm.ID, tm.DetailType, body, typ, k, deadline)
				}
			}
		}
	}
}

// TestPlanFiredStagesStayFired: a stage whose instant has passed has
// fired; it is recorded in Fired, neither armed nor cancelled, and never
// armed again — even when a lower priority moves its instant into the
// future.
func TestPlanFiredStagesStayFired(t *testing.T) {
	p := newPlanner(t, "UTC")
	loc := p.r.Calendar.Location()
	tk := opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High)
	p.plan(&tk, Ticket{}, tk.OpenedAt)

	// Monday 11:30: the first response's warning (11:00) has fired.
	prev := tk
	armed, cancelled := p.plan(&tk, prev, at(t, loc, "2026-11-09 11:30"))
	sameDues(t, "armed when nothing changed", armed, map[string]time.Time{})
	sameIDs(t, "cancelled when nothing changed", cancelled)
	sameIDs(t, "Fired", tk.Fired, frWarn)

	// Made low: first response 8h, warning at 6h (Monday 14:00, still to
	// come) — but it has fired, so it stays fired. The rest move.
	prev = tk
	tk = reprioritised(tk, at(t, loc, "2026-11-09 11:30"), sla.Low)
	armed, cancelled = p.plan(&tk, prev, at(t, loc, "2026-11-09 11:30"))
	if got := p.r.Clocks(tk).FirstResponse.Due(sla.Warning); !got.Equal(at(t, loc, "2026-11-09 14:00")) {
		t.Fatalf("low first-response warning at %v, want Monday 14:00", got)
	}
	want := dues(t, p.r,
		frBreach, "2026-11-09 16:00", frEsc, "2026-11-10 12:00",
		resWarn, "2026-11-12 14:00", resBrch, "2026-11-13 16:00", resEsc, "2026-11-18 12:00")
	sameDues(t, "armed after the priority change", armed, want)
	sameIDs(t, "cancelled after the priority change", cancelled)
	sameDues(t, "Timers", tk.Timers, want)
	sameIDs(t, "Fired", tk.Fired, frWarn)

	// Back to high: the breach (Monday 12:00) has passed meanwhile, so it
	// is armed at once to fire at the next sweep; the warning stays fired.
	prev = tk
	tk = reprioritised(tk, at(t, loc, "2026-11-09 12:30"), sla.High)
	armed, _ = p.plan(&tk, prev, at(t, loc, "2026-11-09 12:30"))
	sameDues(t, "armed back at high", armed, dues(t, p.r,
		frBreach, "2026-11-09 12:00", frEsc, "2026-11-09 14:00",
		resWarn, "2026-11-09 14:00", resBrch, "2026-11-09 16:00", resEsc, "2026-11-10 12:00"))
	// Which the next change records as fired, and never arms again.
	prev = tk
	tk = reprioritised(tk, at(t, loc, "2026-11-09 12:45"), sla.Low)
	armed, _ = p.plan(&tk, prev, at(t, loc, "2026-11-09 12:45"))
	sameIDs(t, "Fired", tk.Fired, frBreach, frWarn)
	if _, ok := armed[frBreach]; ok {
		t.Errorf("a fired breach was armed again")
	}
}

// TestPlanStopCancels: a clock that stops cancels the stages it has not
// reached; those it has reached stay fired.
func TestPlanStopCancels(t *testing.T) {
	p := newPlanner(t, "UTC")
	loc := p.r.Calendar.Location()
	open := opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High)
	p.plan(&open, Ticket{}, open.OpenedAt)

	for _, tc := range []struct {
		reply     string
		cancelled []string
		fired     []string
	}{
		{"2026-11-09 10:00", []string{frBreach, frEsc, frWarn}, nil},
		{"2026-11-09 11:30", []string{frBreach, frEsc}, []string{frWarn}},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			tk := open
			tk.Timers = maps.Clone(open.Timers)
			now := at(t, loc, tc.reply)
			tk = replied(tk, now)
			armed, cancelled := p.plan(&tk, open, now)
			// The resolution clock runs on and its event says the same:
			// its timers stay as they are.
			sameDues(t, "armed", armed, map[string]time.Time{})
			sameIDs(t, "cancelled", cancelled, tc.cancelled...)
			sameIDs(t, "Fired", tk.Fired, tc.fired...)
			sameDues(t, "Timers", tk.Timers, dues(t, p.r, resWarn, "2026-11-09 14:00", resBrch, "2026-11-09 16:00", resEsc, "2026-11-10 12:00"))
		})
	}
}

// TestPlanSolveAndReopen: solving cancels the resolution stages (its
// clock pauses) and arms the auto-close at SolvedAt + closeAfter;
// reopening cancels the auto-close and arms the resolution stages where
// the clock now reaches them; closing cancels everything.
func TestPlanSolveAndReopen(t *testing.T) {
	p := newPlanner(t, "Europe/Berlin")
	loc := p.r.Calendar.Location()
	tk := opened("T1", at(t, loc, "2026-11-02 09:00"), sla.High)
	p.plan(&tk, Ticket{}, tk.OpenedAt)
	prev := tk
	tk = replied(tk, at(t, loc, "2026-11-02 09:30"))
	p.plan(&tk, prev, at(t, loc, "2026-11-02 09:30"))
	sameDues(t, "Timers after the reply", tk.Timers, dues(t, p.r, resWarn, "2026-11-02 15:00", resBrch, "2026-11-02 17:00", resEsc, "2026-11-03 13:00"))

	solve := at(t, loc, "2026-11-02 11:00")
	prev = tk
	tk = moved(tk, solve, StatusSolved)
	armed, cancelled := p.plan(&tk, prev, solve)
	sameDues(t, "armed at the solve", armed, map[string]time.Time{closeID: solve.Add(DefaultCloseAfter)})
	sameIDs(t, "cancelled at the solve", cancelled, resBrch, resEsc, resWarn)
	plan, err := p.r.planTimers(&Ticket{ID: "T1", Status: StatusSolved, SolvedAt: &solve, History: tk.History}, events.Ticket{}, solve, p.close)
	if err != nil {
		t.Fatal(err)
	}
	var due events.TicketCloseDue
	for _, tm := range plan.Arm {
		if tm.ID == closeID {
			if err := json.Unmarshal(tm.Detail, &due); err != nil || tm.DetailType != events.TicketCloseDueType {
				t.Fatalf("close timer %s: %s, %v", tm.DetailType, tm.Detail, err)
			}
		}
	}
	if due.TicketID != "T1" || !due.SolvedAt.Equal(solve) {
		t.Errorf("close timer fires %+v, want ticket T1 solved at %v", due, solve)
	}

	// Reopened the next morning: six business hours left.
	reopen := at(t, loc, "2026-11-03 09:00")
	prev = tk
	tk = moved(tk, reopen, StatusOpen)
	armed, cancelled = p.plan(&tk, prev, reopen)
	sameDues(t, "armed at the reopen", armed, dues(t, p.r, resWarn, "2026-11-03 13:00", resBrch, "2026-11-03 15:00", resEsc, "2026-11-04 11:00"))
	sameIDs(t, "cancelled at the reopen", cancelled, closeID)

	// Solved again and closed by hand before the auto-close.
	prev = tk
	tk = moved(tk, at(t, loc, "2026-11-03 10:00"), StatusSolved)
	armed, _ = p.plan(&tk, prev, at(t, loc, "2026-11-03 10:00"))
	sameDues(t, "armed at the second solve", armed, map[string]time.Time{closeID: at(t, loc, "2026-11-03 10:00").Add(DefaultCloseAfter)})
	prev = tk
	tk = moved(tk, at(t, loc, "2026-11-04 10:00"), StatusClosed)
	armed, cancelled = p.plan(&tk, prev, at(t, loc, "2026-11-04 10:00"))
	sameDues(t, "armed at the close", armed, map[string]time.Time{})
	sameIDs(t, "cancelled at the close", cancelled, closeID)
	if len(tk.Timers) > 0 || len(tk.Fired) > 0 {
		t.Errorf("a closed ticket keeps timers %v, fired %v", tk.Timers, tk.Fired)
	}
}

// TestPlanEventChange: a change to what the events say of the ticket (its
// owner) arms its pending timers again at the same instants, so the
// events they fire name the new owner.
func TestPlanEventChange(t *testing.T) {
	p := newPlanner(t, "UTC")
	loc := p.r.Calendar.Location()
	tk := opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High)
	p.plan(&tk, Ticket{}, tk.OpenedAt)
	before := maps.Clone(tk.Timers)
	prev := tk
	tk.Owner = "agent-7"
	armed, cancelled := p.plan(&tk, prev, at(t, loc, "2026-11-06 16:30"))
	sameDues(t, "armed after a new owner", armed, before)
	sameIDs(t, "cancelled after a new owner", cancelled)
}
