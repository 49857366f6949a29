package sla

import (
	"flag"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/calendar/calendartest"
)

// The property tests replay random histories on random calendars, from a
// seeded generator, so a failure names a seed and a case that reproduce
// it:
//
//	go test ./shared/sla -run Properties -v -args -seed=7 -cases=2000
var (
	seed  = flag.Uint64("seed", 1, "seed of the property tests' random histories")
	cases = flag.Int("cases", 300, "random histories per calendar and zone in the property tests")
)

// gen is the shared generator with the draws of this test's own.
type gen struct{ *calendartest.Gen }

// target draws a target: a default policy's, whole minutes up to three
// business days, or an odd number of nanoseconds.
func (g *gen) target(cal calendar.Calendar) time.Duration {
	switch g.IntN(4) {
	case 0, 1:
		pol, _ := DefaultPolicies(cal).For(Priorities()[g.IntN(4)])
		return pol.Target([]Kind{FirstResponse, Resolution}[g.IntN(2)])
	case 2:
		return time.Duration(1+g.Int64N(int64(3*cal.DayLength()/time.Minute))) * time.Minute
	default:
		return time.Duration(1 + g.Int64N(int64(2*time.Hour)))
	}
}

// gap draws the real time between two events: none, a moment, minutes,
// hours or days.
func (g *gen) gap() time.Duration {
	switch g.IntN(6) {
	case 0:
		return 0
	case 1:
		return time.Duration(1 + g.Int64N(int64(time.Second)))
	case 2:
		return time.Duration(g.Int64N(int64(time.Hour)))
	case 3:
		return time.Duration(g.Int64N(int64(12 * time.Hour)))
	default:
		return time.Duration(g.Int64N(int64(5 * 24 * time.Hour)))
	}
}

type action uint8

const (
	doStart action = iota
	doPause
	doResume
	doRetarget
	doStop
)

type event struct {
	do     action
	at     time.Time
	target time.Duration
}

func (e event) String() string {
	return fmt.Sprintf("%s %v %v", []string{"start", "pause", "resume", "retarget", "stop"}[e.do], e.at.Format(time.RFC3339Nano), e.target)
}

// history draws a ticket's history: a start, then pauses, resumes and
// retargets in any order (some of them no-ops), sometimes ending in a stop
// (and an event after it, which must change nothing).
func (g *gen) history(cal calendar.Calendar) []event {
	at := g.Instant()
	h := []event{{do: doStart, at: at, target: g.target(cal)}}
	for range g.IntN(8) {
		at = at.Add(g.gap())
		e := event{do: action(1 + g.IntN(3)), at: at}
		if e.do == doRetarget {
			e.target = g.target(cal)
		}
		h = append(h, e)
	}
	if g.IntN(3) == 0 {
		at = at.Add(g.gap())
		h = append(h, event{do: doStop, at: at})
		at = at.Add(g.gap())
		h = append(h, event{do: action(1 + g.IntN(4)), at: at, target: g.target(cal)})
	}
	return h
}

func replay(cal calendar.Calendar, h []event) Clock {
	c := NewClock(cal)
	for _, e := range h {
		apply(&c, e)
	}
	return c
}

func apply(c *Clock, e event) {
	switch e.do {
	case doStart:
		c.Start(e.at, e.target)
	case doPause:
		c.Pause(e.at)
	case doResume:
		c.Resume(e.at)
	case doRetarget:
		c.Retarget(e.at, e.target)
	case doStop:
		c.Stop(e.at)
	}
}

// model is the reference the clock is checked against, read from the
// history by a different road: the real intervals in which the clock ran,
// and the business time in them summed with calendar.Between.
type model struct {
	cal     calendar.Calendar
	start   time.Time
	target  time.Duration
	runs    [][2]time.Time // [from, to); to is zero for the open run
	pauses  [][2]time.Time // the same for the paused intervals
	stopped time.Time      // zero unless stopped
	// stoppedRunning is whether the clock was running when it stopped.
	stoppedRunning bool
	last           time.Time // the latest event that applied
}

func newModel(cal calendar.Calendar, h []event) model {
	m := model{cal: cal, start: h[0].at, target: h[0].target}
	running, open := true, h[0].at
	for _, e := range h[1:] {
		if !m.stopped.IsZero() {
			break
		}
		switch {
		case e.do == doPause && running:
			m.runs = append(m.runs, [2]time.Time{open, e.at})
			running, open = false, e.at
		case e.do == doResume && !running:
			m.pauses = append(m.pauses, [2]time.Time{open, e.at})
			running, open = true, e.at
		case e.do == doRetarget:
			m.target = e.target
		case e.do == doStop:
			if running {
				m.runs = append(m.runs, [2]time.Time{open, e.at})
				m.stoppedRunning = true
			} else {
				m.pauses = append(m.pauses, [2]time.Time{open, e.at})
			}
			m.stopped = e.at
			continue
		default:
			continue
		}
		m.last = e.at
	}
	if m.stopped.IsZero() {
		if running {
			m.runs = append(m.runs, [2]time.Time{open, time.Time{}})
		} else {
			m.pauses = append(m.pauses, [2]time.Time{open, time.Time{}})
		}
	}
	return m
}

// sum returns the business time of intervals up to t.
func (m model) sum(intervals [][2]time.Time, t time.Time) time.Duration {
	var s time.Duration
	for _, iv := range intervals {
		end := iv[1]
		if end.IsZero() || end.After(t) {
			end = t
		}
		s += m.cal.Between(iv[0], end)
	}
	return s
}

// reach finds the earliest instant by which the clock has run x of
// business time, by bisection over real time to the nanosecond; zero if it
// never does.
func (m model) reach(x time.Duration) time.Time {
	lo := m.start
	var hi time.Time
	if last := m.runs[len(m.runs)-1]; !last[1].IsZero() {
		hi = last[1]
		if m.sum(m.runs, hi) < x {
			return time.Time{}
		}
	} else {
		for step := time.Hour; ; step *= 2 {
			if hi = last[0].Add(step); m.sum(m.runs, hi) >= x {
				break
			}
		}
	}
	// sum(lo) < x <= sum(hi), and x > 0 = sum(start).
	for hi.Sub(lo) > 1 {
		mid := lo.Add(hi.Sub(lo) / 2)
		if m.sum(m.runs, mid) >= x {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// TestProperties replays random histories on random calendars in four
// zones, checking every clock against the model and the properties of
// issue 8: deadlines inside working hours, target = business time less
// pauses, pausing and longer targets never bring a deadline forward,
// warning ≤ breach ≤ escalation, elapsed time monotonic and still while
// paused. It logs the worst deadline error found (it must be zero).
func TestProperties(t *testing.T) {
	n := *cases
	if testing.Short() {
		n /= 10
	}
	var total, dues int
	var worst time.Duration
	for zi, name := range calendartest.Zones {
		t.Run(name, func(t *testing.T) {
			loc := zone(t, name)
			g := &gen{calendartest.New(*seed+uint64(zi), loc)}
			// Histories run on for weeks after their first instant.
			g.Margin = 60 * 24 * time.Hour
			var cals []calendar.Calendar
			for _, e := range []string{"berlin", "yearend", "split"} {
				c, err := calendar.Parse(examples[e][0], examples[e][1], loc)
				if err != nil {
					t.Fatal(err)
				}
				cals = append(cals, c)
			}
			for range 5 {
				cals = append(cals, g.Calendar(t, true))
			}
			for ci, cal := range cals {
				for i := range n {
					total++
					h := g.history(cal)
					name := fmt.Sprintf("seed %d, %s, calendar %d (%s), case %d, history %v", *seed, name, ci, cal, i, h)
					d, err, ok := checkHistory(t, g, cal, h, name)
					dues += d
					worst = max(worst, err)
					if !ok {
						return
					}
				}
			}
		})
	}
	t.Logf("%d random histories, %d stage instants checked against the model, %d with an extra pause, %d retargeted; worst deadline error %v",
		total, dues, pausedChecks, retargetChecks, worst)
	// A line of its own, the same on every run, for reports to quote.
	t.Logf("worst SLA deadline error: %v over %d cases", worst, total)
	if worst != 0 {
		t.Errorf("worst deadline error %v, want 0", worst)
	}
}

// Counts of the property checks that apply to only some histories.
var pausedChecks, retargetChecks int

// checkHistory checks one history; it returns how many stage instants it
// compared, the largest error among them, and false after the first
// failure, so one bug does not print a thousand lines.
func checkHistory(t *testing.T, g *gen, cal calendar.Calendar, h []event, name string) (int, time.Duration, bool) {
	t.Helper()
	fail := func(format string, args ...any) (int, time.Duration, bool) {
		t.Errorf("%s: "+format, append([]any{name}, args...)...)
		return 0, 0, false
	}
	c := replay(cal, h)
	m := newModel(cal, h)
	last := h[len(h)-1].at
	dues := 0
	var worst time.Duration

	// Each stage against the model; inside working hours; in order.
	var prev time.Time
	for i, s := range Stages() {
		got := c.Due(s)
		want := m.reach(s.share(m.target))
		if !m.stopped.IsZero() && !want.Before(m.stopped) {
			want = time.Time{}
		}
		if got.IsZero() != want.IsZero() {
			return fail("Due(%s) = %v, model %v", s, got, want)
		}
		if !got.IsZero() {
			dues++
			worst = max(worst, got.Sub(want).Abs())
			if !got.Equal(want) {
				return fail("Due(%s) = %v, model %v", s, got, want)
			}
			if before := got.Add(-time.Nanosecond); !cal.IsOpen(before) || !cal.IsWorkingDay(before) {
				return fail("Due(%s) = %v is outside working hours", s, got)
			}
			if i > 0 && (prev.IsZero() || got.Before(prev)) {
				return fail("Due(%s) = %v before the previous stage's %v", s, got, prev)
			}
		}
		prev = got
	}

	// The deadline: the target is the business time from the start less
	// the business time paused.
	if d := c.Deadline(); !d.IsZero() {
		if got := cal.Between(m.start, d) - m.sum(m.pauses, d); got != m.target {
			return fail("Between(start, deadline %v) - paused = %v, target %v", d, got, m.target)
		}
		if before := d.Add(-time.Nanosecond); !cal.IsOpen(before) || !cal.IsWorkingDay(before) {
			return fail("Deadline %v is outside working hours", d)
		}
	} else if m.runs[len(m.runs)-1][1].IsZero() || m.stoppedRunning {
		return fail("no deadline for a clock that is running or stopped while running")
	}

	// Elapsed: the model's, monotonic in now, still while paused or
	// stopped.
	now := last.Add(g.gap())
	later := now.Add(g.gap())
	e1, e2 := c.Elapsed(now), c.Elapsed(later)
	switch {
	case e1 != m.sum(m.runs, now):
		return fail("Elapsed(%v) = %v, model %v", now, e1, m.sum(m.runs, now))
	case e2 < e1:
		return fail("Elapsed went back from %v to %v", e1, e2)
	case c.state != running && e1 != e2:
		return fail("Elapsed moved from %v to %v while %v", e1, e2, c.Status(now))
	}

	// Status: the model's.
	breach := m.reach(m.target)
	var want Status
	switch {
	case !m.stopped.IsZero() && !breach.IsZero() && m.stopped.After(breach):
		want = Breached
	case !m.stopped.IsZero():
		want = Met
	case !breach.IsZero() && now.After(breach):
		want = Breached
	case m.runs[len(m.runs)-1][1].IsZero():
		want = Running
	default:
		want = Paused
	}
	if got := c.Status(now); got != want {
		return fail("Status(%v) = %s, model %s", now, got, want)
	}

	// The boundary: at the deadline a clock is in time, a nanosecond later
	// breached; stopping then is met or breached to match, and cancels
	// the breach timer or keeps it.
	if d := c.Deadline(); c.state == running && !d.Before(last) {
		met, late := c, c
		met.Stop(d)
		late.Stop(d.Add(time.Nanosecond))
		switch {
		case c.Status(d) != Running || c.Status(d.Add(time.Nanosecond)) != Breached:
			return fail("Status at the deadline %v: %s, a nanosecond later %s", d, c.Status(d), c.Status(d.Add(time.Nanosecond)))
		case met.Status(later) != Met || !met.Due(Breach).IsZero() || !met.Deadline().Equal(d):
			return fail("stopped at the deadline %v: %s, breach due %v, deadline %v", d, met.Status(later), met.Due(Breach), met.Deadline())
		case late.Status(later) != Breached || !late.Due(Breach).Equal(d) || !late.Due(Escalation).IsZero() && !late.Due(Escalation).Before(d.Add(time.Nanosecond)):
			return fail("stopped after the deadline %v: %s, breach due %v", d, late.Status(later), late.Due(Breach))
		}
	}

	// Idempotent: every event twice is the same clock.
	var twice []event
	for _, e := range h {
		twice = append(twice, e, e)
	}
	if c2 := replay(cal, twice); !reflect.DeepEqual(c2, c) {
		return fail("replaying every event twice gives another clock")
	}

	// Pausing never brings a stage forward, and leaves those already
	// reached where they were.
	if p, q, ok := runningGap(g, h, m); ok {
		c2 := NewClock(cal)
		pausedChecks++
		injected := false
		for _, e := range h {
			if !injected && e.at.After(p) {
				c2.Pause(p)
				c2.Resume(q)
				injected = true
			}
			apply(&c2, e)
		}
		if !injected {
			c2.Pause(p)
			c2.Resume(q)
		}
		for _, s := range Stages() {
			a, b := c.Due(s), c2.Due(s)
			switch {
			case !a.IsZero() && !a.After(p) && !b.Equal(a):
				return fail("a pause [%v, %v) moved %s from %v to %v", p, q, s, a, b)
			case !a.IsZero() && !b.IsZero() && b.Before(a):
				return fail("a pause [%v, %v) brought %s forward from %v to %v", p, q, s, a, b)
			case !a.IsZero() && b.IsZero() && c2.state == running:
				return fail("a pause [%v, %v) cancelled %s of a running clock", p, q, s)
			}
		}
	}

	// A longer target never brings a stage forward; a shorter one never
	// puts it back.
	if c.state == running || c.state == paused {
		retargetChecks++
		for _, longer := range []bool{true, false} {
			nt := c.target + time.Duration(1+g.Int64N(int64(cal.DayLength())))
			if !longer {
				nt = 1 + time.Duration(g.Int64N(int64(c.target)))
			}
			c2 := c
			c2.Retarget(last, nt)
			for _, s := range Stages() {
				a, b := c.Due(s), c2.Due(s)
				if longer && !a.IsZero() && !b.IsZero() && b.Before(a) || !longer && !a.IsZero() && (b.IsZero() || b.After(a)) {
					return fail("Retarget from %v to %v moved %s from %v to %v", c.target, nt, s, a, b)
				}
			}
		}
	}
	return dues, worst, true
}

// runningGap picks an interval [p, q) in which the history's clock runs
// and no event happens, to pause it there; ok is false if it has none.
func runningGap(g *gen, h []event, m model) (p, q time.Time, ok bool) {
	var candidates [][2]time.Time
	for _, r := range m.runs {
		to := r[1]
		if to.IsZero() {
			to = h[len(h)-1].at.Add(3 * 24 * time.Hour)
		}
		// Leave out the instants of events, and keep to one side of them.
		lo := r[0]
		for _, e := range h {
			if e.at.After(lo) && e.at.Before(to) {
				candidates = append(candidates, [2]time.Time{lo, e.at})
				lo = e.at
			}
		}
		candidates = append(candidates, [2]time.Time{lo, to})
	}
	var usable [][2]time.Time
	for _, c := range candidates {
		if c[1].Sub(c[0]) > 2 {
			usable = append(usable, c)
		}
	}
	if len(usable) == 0 {
		return p, q, false
	}
	c := usable[g.IntN(len(usable))]
	span := c[1].Sub(c[0])
	p = c[0].Add(1 + time.Duration(g.Int64N(int64(span-2))))
	q = p.Add(time.Duration(g.Int64N(int64(c[1].Sub(p)))))
	return p, q, true
}
