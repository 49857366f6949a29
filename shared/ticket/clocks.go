package ticket

import (
	"maps"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Clocks are a ticket's two SLA clocks.
type Clocks struct {
	FirstResponse sla.Clock
	Resolution    sla.Clock
}

// Of returns clock k.
func (c Clocks) Of(k sla.Kind) sla.Clock {
	if k == sla.FirstResponse {
		return c.FirstResponse
	}
	return c.Resolution
}

// Rules are what a ticket's clocks are computed with: the targets per
// priority and the business calendar they run on.
type Rules struct {
	Policies sla.Policies
	Calendar calendar.Calendar
}

// Clocks rebuilds t's clocks from its history. The first-response clock
// stops at the first public reply, or when the ticket is solved or closed
// unanswered; it never pauses. The resolution clock pauses while the
// ticket waits (pending, on hold, solved), resumes when it is open again,
// and stops when it closes. A priority change retargets both.
func (r Rules) Clocks(t Ticket) Clocks {
	c := Clocks{FirstResponse: sla.NewClock(r.Calendar), Resolution: sla.NewClock(r.Calendar)}
	for i, ch := range t.History {
		if ch.Priority != "" {
			pol, ok := r.Policies.For(ch.Priority)
			if !ok {
				continue
			}
			if i == 0 {
				c.FirstResponse.Start(ch.At, pol.FirstResponse)
				c.Resolution.Start(ch.At, pol.Resolution)
			} else {
				c.FirstResponse.Retarget(ch.At, pol.FirstResponse)
				c.Resolution.Retarget(ch.At, pol.Resolution)
			}
		}
		if ch.Replied {
			c.FirstResponse.Stop(ch.At)
		}
		switch {
		case ch.Status == StatusClosed:
			c.FirstResponse.Stop(ch.At)
			c.Resolution.Stop(ch.At)
		case ch.Status == StatusSolved:
			c.FirstResponse.Stop(ch.At)
			c.Resolution.Pause(ch.At)
		case ch.Status.waiting():
			c.Resolution.Pause(ch.At)
		case ch.Status != "":
			c.Resolution.Resume(ch.At)
		}
	}
	return c
}

// Snapshots returns t's clocks as the API shows them at now. A solved
// ticket's resolution clock shows as stopped at the solve (met or
// breached), though it only pauses until the ticket closes or reopens;
// a closed ticket's as stopped at its last solve.
func (r Rules) Snapshots(t Ticket, now time.Time) (first, resolution sla.Snapshot) {
	c := r.Clocks(t)
	res := r.resolutionAsShown(t)
	return c.FirstResponse.Snapshot(now), res.Snapshot(now)
}

// resolutionAsShown is the resolution clock stopped at the last solve for
// a solved or closed ticket, and as it runs otherwise.
func (r Rules) resolutionAsShown(t Ticket) sla.Clock {
	if (t.Status == StatusSolved || t.Status == StatusClosed) && t.SolvedAt != nil {
		solved := t
		solved.History = historyUntil(t.History, *t.SolvedAt)
		c := r.Clocks(solved).Resolution
		c.Stop(*t.SolvedAt)
		return c
	}
	return r.Clocks(t).Resolution
}

// historyUntil returns the changes up to and including the solve at
// solvedAt, so a clock can be stopped there.
func historyUntil(h []Change, solvedAt time.Time) []Change {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Status == StatusSolved && h[i].At.Equal(solvedAt) {
			return slices.Clip(h[:i])
		}
	}
	return h
}

// clockEvent reports a clock's snapshot as events carry it.
func clockEvent(s sla.Snapshot) events.SLAClock {
	out := events.SLAClock{Status: string(s.Status), ElapsedBusinessSeconds: int64(s.Elapsed / time.Second)}
	if !s.TargetAt.IsZero() {
		at := s.TargetAt.UTC()
		out.TargetAt = &at
	}
	if !s.StoppedAt.IsZero() {
		at := s.StoppedAt.UTC()
		out.StoppedAt = &at
	}
	return out
}

// NextDeadline returns the earliest deadline among t's clocks that have
// not stopped, or zero when none runs: what the ticket list sorts by.
func (r Rules) NextDeadline(t Ticket) time.Time { return r.earliest(t, sla.Breach) }

// WarningAt returns the earliest warning instant among t's clocks that
// have not stopped, or zero: a ticket past it and before its deadline is
// at risk.
func (r Rules) WarningAt(t Ticket) time.Time { return r.earliest(t, sla.Warning) }

// earliest returns the earliest instant stage falls due among the clocks
// of an active ticket that have not stopped. A clock stopped after its
// warning still has it (Due), but puts the ticket at risk no more.
func (r Rules) earliest(t Ticket, stage sla.Stage) time.Time {
	if !t.Status.Active() {
		return time.Time{}
	}
	c := r.Clocks(t)
	var first time.Time
	for _, k := range []sla.Kind{sla.FirstResponse, sla.Resolution} {
		clock := c.Of(k)
		if !clock.StoppedAt().IsZero() {
			continue
		}
		if d := clock.Due(stage); !d.IsZero() && (first.IsZero() || d.Before(first)) {
			first = d
		}
	}
	return first
}

// Timer ids: one per clock and stage, and the auto-close.
func slaTimerID(ticketID string, k sla.Kind, s sla.Stage) string {
	return "ticket#" + ticketID + "#" + string(k) + "#" + string(s)
}

func closeTimerID(ticketID string) string { return "ticket#" + ticketID + "#close" }

// TimerPlan is what a change does to a ticket's timers.
type TimerPlan struct {
	Arm    []timer.Timer
	Cancel []string
}

// planTimers brings t's timers in line with its clocks at now, recording
// in t.Timers and t.Fired what it arms and what has fallen due. A timer
// whose instant has passed has fired (or fires at the next sweep) and is
// left alone for good; every other stage is armed at its clock's Due, moved
// when that changed or when what its event says of the ticket changed
// since prev, and cancelled when the clock no longer reaches it.
// closeAfter is the auto-close delay of a solved ticket.
func (r Rules) planTimers(t *Ticket, prev events.Ticket, now time.Time, closeAfter time.Duration) (TimerPlan, error) {
	var plan TimerPlan
	if t.Timers == nil {
		t.Timers = map[string]time.Time{}
	}
	for id, due := range t.Timers {
		if !due.Before(now) {
			continue
		}
		delete(t.Timers, id)
		// Only an SLA stage must never fire again; the close timer is
		// armed anew by each solve.
		if id != closeTimerID(t.ID) && !slices.Contains(t.Fired, id) {
			t.Fired = append(t.Fired, id)
		}
	}
	slices.Sort(t.Fired)
	clocks := r.Clocks(*t)
	want := map[string]time.Time{}
	details := map[string]events.Detail{}
	for _, k := range []sla.Kind{sla.FirstResponse, sla.Resolution} {
		c := clocks.Of(k)
		for _, s := range sla.Stages() {
			id := slaTimerID(t.ID, k, s)
			if slices.Contains(t.Fired, id) {
				continue
			}
			if due := c.Due(s); !due.IsZero() {
				want[id] = due
				details[id] = slaDetail(*t, k, s, c)
			}
		}
	}
	if t.Status == StatusSolved && t.SolvedAt != nil && closeAfter > 0 {
		id := closeTimerID(t.ID)
		want[id] = t.SolvedAt.Add(closeAfter)
		details[id] = events.TicketCloseDue{TicketID: t.ID, SolvedAt: *t.SolvedAt}
	}
	same := describe(*t) == prev
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if armed, ok := t.Timers[id]; ok && armed.Equal(want[id]) && same {
			continue
		}
		// Arm when the instant moved, or when what the event says of the
		// ticket (owner, priority, kind) changed.
		tm, err := timer.Arm(id, want[id], details[id])
		if err != nil {
			return TimerPlan{}, err
		}
		plan.Arm = append(plan.Arm, tm)
		t.Timers[id] = want[id]
	}
	for _, id := range slices.Sorted(maps.Keys(t.Timers)) {
		if _, ok := want[id]; !ok {
			plan.Cancel = append(plan.Cancel, id)
			delete(t.Timers, id)
		}
	}
	return plan, nil
}

// slaDetail is the event the timer of clock k's stage s fires.
func slaDetail(t Ticket, k sla.Kind, s sla.Stage, c sla.Clock) events.Detail {
	body := events.TicketSLA{
		Ticket: describe(t), Clock: string(k),
		TargetAt: c.Deadline().UTC(), TargetSeconds: int64(c.Target() / time.Second),
	}
	switch s {
	case sla.Warning:
		return events.TicketSLAWarning{TicketSLA: body}
	case sla.Breach:
		return events.TicketSLABreached{TicketSLA: body}
	}
	return events.TicketSLAEscalated{TicketSLA: body}
}

// describe is what every ticket event says of t.
func describe(t Ticket) events.Ticket {
	return events.Ticket{
		TicketID: t.ID, Kind: string(t.Kind), Priority: string(t.Priority), Channel: string(t.Channel),
		Category: t.Category, CustomerID: t.CustomerID, Owner: t.Owner, Team: t.Team, OpenedAt: t.OpenedAt.UTC(),
	}
}
