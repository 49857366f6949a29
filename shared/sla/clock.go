// Package sla is the arithmetic of ticket SLAs: per-priority targets, and
// clocks that run on the business calendar. It is pure Go over
// shared/calendar — no AWS, no HTTP, no wall clock of its own — so a
// ticket's clocks are rebuilt from its history of changes and come out the
// same every time.
//
// The model, for the engineers wiring tickets to it:
//
//   - Business time. A target ("high: first response within 4h") is
//     business time: it elapses only inside the calendar's working spans
//     (calendar.Between), and a deadline is the earliest instant by which
//     it has elapsed (calendar.Add). So a deadline is always inside working
//     hours or at a span's closing instant — a 4h target started Monday
//     13:00 falls due Monday 17:00, not Tuesday 09:00.
//   - A Clock runs from Start, may Pause and Resume (the resolution clock
//     pauses while a ticket is pending or on hold; first response never
//     does), and ends at Stop. Business time that passes while paused does
//     not count, so a clock paused for two business days falls due two
//     business days later.
//   - Retarget changes the target when the priority changes; the business
//     time already elapsed counts against the new target, which may
//     therefore already be exceeded (the breach is then in the past).
//   - Stages. Each clock has three instants: Warning when 75% of the
//     target has elapsed, Breach at 100% (the deadline) and Escalation at
//     150% (a breached clock still not stopped after another half of its
//     target). Due(stage) is the instant the business time reaches that
//     share over the clock's history — past or future — or zero when it
//     has not and cannot while the clock is paused or stopped. After every
//     change a ticket arms each stage not yet fired at Due (a past instant
//     fires at the next sweep) or cancels it when Due is zero; a stage
//     fires once, so a ticket records the stages it has fired and never
//     arms them again, even when a retarget moves them later.
//   - Status: a clock stopped at or before its deadline is met, one
//     stopped after it breached; an unstopped clock is breached once now is
//     past its deadline, and otherwise running or paused.
//
// Events are applied in order. An event dated before the clock's latest
// one is taken as happening at that latest instant, so time never runs
// backwards inside a clock; events that do not apply (pausing a paused
// clock, resuming a running one, anything after Stop) are no-ops, so
// replaying a history with repeated events gives the same clock. Queries
// that take now (Elapsed, Status) answer for the present: now at or after
// the latest event.
package sla

import (
	"slices"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
)

// Status is the state of a clock as the API shows it. The zero Status is a
// clock not yet started.
type Status string

// The statuses of a started clock.
const (
	Running  Status = "running"
	Paused   Status = "paused"
	Met      Status = "met"
	Breached Status = "breached"
)

// Stage is one of the instants a clock's timers fire at.
type Stage string

// The stages, in the order they fall due.
const (
	// Warning falls due when 75% of the target has elapsed.
	Warning Stage = "warning"
	// Breach falls due when the whole target has elapsed: the deadline.
	Breach Stage = "breach"
	// Escalation falls due when 150% of the target has elapsed.
	Escalation Stage = "escalation"
)

var stages = [...]Stage{Warning, Breach, Escalation}

// Stages returns the stages in the order they fall due.
func Stages() []Stage { return stages[:] }

// share returns the business time by which stage s of a target falls due:
// 75% rounded up (so the warning means at least three quarters), 100%,
// or 150%. It is 0 for an unknown stage.
func (s Stage) share(target time.Duration) time.Duration {
	switch s {
	case Warning:
		return target - target/4
	case Breach:
		return target
	case Escalation:
		return target + target/2
	}
	return 0
}

// Clock is one SLA clock of a ticket, rebuilt from the ticket's history by
// calling Start, Pause, Resume, Retarget and Stop in order. It is a value:
// copies are independent, and queries never change it.
type Clock struct {
	cal    calendar.Calendar
	target time.Duration
	state  state
	// runs are the clock's closed runs, oldest first; accrued is their
	// business time. While running, the open run began at from.
	runs    []run
	accrued time.Duration
	from    time.Time
	// last is the latest event's instant; earlier events are taken at it.
	last time.Time
	// stoppedAt is when Stop was applied; stoppedRunning whether the clock
	// was running then (so its deadline as it stood is known).
	stoppedAt      time.Time
	stoppedRunning bool
}

type state uint8

const (
	idle state = iota
	running
	paused
	stopped
)

// run is a closed stretch of running, [from, to), that began with before
// business time elapsed and added length.
type run struct {
	from, to       time.Time
	before, length time.Duration
}

// NewClock returns a clock, not yet started, on cal. The zero Clock is
// NewClock of the zero calendar (Monday–Friday 09:00–17:00 UTC).
func NewClock(cal calendar.Calendar) Clock { return Clock{cal: cal} }

// at normalises an event's instant: no monotonic reading, and never before
// the clock's latest event.
func (c *Clock) at(t time.Time) time.Time {
	t = t.Round(0)
	if t.Before(c.last) {
		t = c.last
	}
	c.last = t
	return t
}

// Start starts the clock at at with target business time to its deadline.
// Starting a started clock does nothing. It panics if target is not
// positive, as a policy never gives such a target (ParsePolicies refuses
// them).
func (c *Clock) Start(at time.Time, target time.Duration) {
	mustBePositive(target)
	if c.state != idle {
		return
	}
	c.from = c.at(at)
	c.target = target
	c.state = running
}

// Pause stops the clock counting from at until Resume. Pausing a clock
// that is not running does nothing.
func (c *Clock) Pause(at time.Time) {
	if c.state != running {
		return
	}
	c.closeRun(c.at(at))
	c.state = paused
}

// Resume starts a paused clock counting again from at. Resuming a clock
// that is not paused does nothing.
func (c *Clock) Resume(at time.Time) {
	if c.state != paused {
		return
	}
	c.from = c.at(at)
	c.state = running
}

// Stop ends the clock at at, running or paused: met if at is not after its
// deadline, breached otherwise. Nothing changes a stopped clock; stopping
// a clock that has not started does nothing.
func (c *Clock) Stop(at time.Time) {
	switch c.state {
	case running:
		at = c.at(at)
		c.closeRun(at)
		c.stoppedRunning = true
	case paused:
		at = c.at(at)
	default:
		return
	}
	c.stoppedAt = at.In(c.cal.Location())
	c.state = stopped
}

// Retarget gives a running or paused clock a new target from at, when the
// ticket's priority changes. The business time elapsed so far counts
// against it, so a shorter target may already be exceeded: the deadline is
// then the past instant the new target was reached. A stopped or unstarted
// clock is left alone. It panics if target is not positive.
func (c *Clock) Retarget(at time.Time, target time.Duration) {
	mustBePositive(target)
	if c.state != running && c.state != paused {
		return
	}
	c.at(at)
	c.target = target
}

func mustBePositive(target time.Duration) {
	if target <= 0 {
		panic("sla: a clock's target must be positive")
	}
}

func (c *Clock) closeRun(at time.Time) {
	length := c.cal.Between(c.from, at)
	// Clip, so that a copy of the clock taken earlier never sees this run.
	c.runs = append(slices.Clip(c.runs), run{from: c.from, to: at, before: c.accrued, length: length})
	c.accrued += length
}

// Target returns the clock's current target, 0 before Start.
func (c Clock) Target() time.Duration { return c.target }

// StoppedAt returns when the clock stopped, or zero if it has not.
func (c Clock) StoppedAt() time.Time { return c.stoppedAt }

// reach returns the instant the clock's business time reached or will
// reach x > 0: in a closed run, by adding to its start what it still
// lacked; in the open run, likewise from the last resume. It is zero when
// the clock has not reached x and is not running.
func (c Clock) reach(x time.Duration) time.Time {
	for _, r := range c.runs {
		if r.before+r.length >= x {
			return c.cal.Add(r.from, x-r.before)
		}
	}
	if c.state == running {
		return c.cal.Add(c.from, x-c.accrued)
	}
	return time.Time{}
}

// Due returns the instant stage s falls due: when the clock's business
// time reaches the stage's share of the target, in the past or the
// future. It is zero when the clock has not reached it and is paused or
// not started, or when it stopped before or at that instant — the stage's timer is then cancelled. An unknown
// stage gives zero.
func (c Clock) Due(s Stage) time.Time {
	x := s.share(c.target)
	if x <= 0 {
		return time.Time{}
	}
	due := c.reach(x)
	if c.state == stopped && !due.Before(c.stoppedAt) {
		// Stopped at the very instant: in time, as Status has it.
		return time.Time{}
	}
	return due
}

// Deadline returns the instant the target is reached (Due(Breach)); for a
// clock met while running, the deadline as it stood when it stopped, which
// the API shows as target_at. It is zero while the clock is paused before
// its deadline (resuming fixes it), for a clock met while paused, and
// before Start.
func (c Clock) Deadline() time.Time {
	if d := c.reach(c.target); !d.IsZero() {
		return d
	}
	if c.state == stopped && c.stoppedRunning {
		r := c.runs[len(c.runs)-1]
		return c.cal.Add(r.from, c.target-r.before)
	}
	return time.Time{}
}

// Elapsed returns the business time the clock has counted by now: nothing
// while paused or after it stopped adds to it.
func (c Clock) Elapsed(now time.Time) time.Duration {
	if c.state == running {
		return c.accrued + c.cal.Between(c.from, now)
	}
	return c.accrued
}

// Status returns the clock's status at now: for a stopped clock, met or
// breached for good; otherwise breached once now is after the deadline
// (even while paused), else running or paused. A clock not started has
// the zero Status.
func (c Clock) Status(now time.Time) Status {
	breach := c.reach(c.target)
	switch c.state {
	case idle:
		return ""
	case stopped:
		if !breach.IsZero() && c.stoppedAt.After(breach) {
			return Breached
		}
		return Met
	}
	if !breach.IsZero() && now.After(breach) {
		return Breached
	}
	if c.state == paused {
		return Paused
	}
	return Running
}

// Snapshot is a clock as GET /tickets/{id} shows it.
type Snapshot struct {
	// TargetAt is Deadline(): zero while paused before the deadline.
	TargetAt time.Time
	Status   Status
	// Elapsed is the business time counted; the API shows whole seconds.
	Elapsed   time.Duration
	StoppedAt time.Time
}

// Snapshot returns the clock as it stands at now.
func (c Clock) Snapshot(now time.Time) Snapshot {
	return Snapshot{TargetAt: c.Deadline(), Status: c.Status(now), Elapsed: c.Elapsed(now), StoppedAt: c.stoppedAt}
}
