package calendar_test

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/calendar/calendartest"
)

// The property tests draw calendars, instants and durations from a seeded
// generator, so a failure names a seed and a case that reproduce it:
//
//	go test ./shared/calendar -run Properties -args -seed=7 -cases=2000
var (
	seed  = flag.Uint64("seed", 1, "seed of the property tests' random cases")
	cases = flag.Int("cases", 150, "random instants per calendar and zone in the property tests")
)

// gen is the shared generator with the draws of this test's own.
type gen struct{ *calendartest.Gen }

// duration draws working time to add: none, a little, hours, or days of
// the calendar's standard length.
func (g *gen) duration(c calendar.Calendar) time.Duration {
	switch g.IntN(6) {
	case 0:
		return 0
	case 1:
		return time.Duration(1 + g.Int64N(int64(time.Minute)))
	case 2:
		return time.Duration(1+g.IntN(8*60)) * time.Minute
	case 3:
		return time.Duration(1+g.IntN(10)) * c.DayLength()
	case 4:
		return time.Duration(g.Int64N(int64(3 * c.DayLength())))
	default:
		return time.Duration(g.Int64N(int64(40 * c.DayLength())))
	}
}

// wallOpen is IsOpen by a different road: read t's wall clock and look its
// minute up in the hours. It agrees with IsOpen wherever no span boundary
// falls in a skipped or repeated hour. week is calendar.WeekSpans(c), read
// once by the caller.
func wallOpen(c calendar.Calendar, week [7][][2]int, holidays map[string]bool, t time.Time) bool {
	l := t.In(c.Location())
	if holidays[l.Format(time.DateOnly)] {
		return false
	}
	min := l.Hour()*60 + l.Minute()
	for _, sp := range week[l.Weekday()] {
		if sp[0] <= min && min < sp[1] {
			return true
		}
	}
	return false
}

// TestProperties checks, over random calendars, instants and durations in
// four zones, that deadlines are exact inverses of Between, monotonic,
// always inside working hours on working days, and that Between adds up.
func TestProperties(t *testing.T) {
	n := *cases
	if testing.Short() {
		n /= 10
	}
	total := 0
	for zi, name := range calendartest.Zones {
		t.Run(name, func(t *testing.T) {
			loc := calendar.Zone(t, name)
			g := &gen{calendartest.New(*seed+uint64(zi), loc)}
			var cals []calendar.Calendar
			for _, name := range slices.Sorted(maps.Keys(calendar.Examples)) {
				cals = append(cals, calendar.MustParse(t, calendar.Examples[name][0], calendar.Examples[name][1], loc.String()))
			}
			for range 12 {
				cals = append(cals, g.Calendar(t, false), g.Calendar(t, true))
			}
			for ci, c := range cals {
				for i := range n {
					total++
					if !checkCase(t, c, g, fmt.Sprintf("seed %d, %s, calendar %d (%s), case %d", *seed, name, ci, c, i)) {
						return
					}
				}
			}
		})
	}
	t.Logf("%d random cases, each checking every property", total)
}

// checkCase checks every property at one random instant; it reports false
// after the first failure, so one bug does not print a thousand lines.
func checkCase(t *testing.T, c calendar.Calendar, g *gen, name string) bool {
	t.Helper()
	fail := func(format string, args ...any) bool {
		t.Errorf("%s: "+format, append([]any{name}, args...)...)
		return false
	}
	at := g.Instant()
	d := g.duration(c)
	u := c.Add(at, d)

	// Add and NextOpen.
	open := c.NextOpen(at)
	switch {
	case open.Before(at) || !c.IsOpen(open) || c.Between(at, open) != 0:
		return fail("NextOpen(%v) = %v", at, open)
	case !c.Add(at, 0).Equal(open):
		return fail("Add(%v, 0) = %v, NextOpen = %v", at, c.Add(at, 0), open)
	case d > 0 && !u.After(open):
		return fail("Add(%v, %v) = %v, not after NextOpen %v", at, d, u, open)
	}
	if d > 0 {
		last := u.Add(-time.Nanosecond) // the deadline's own working nanosecond
		switch {
		case c.Between(at, u) != d:
			return fail("Between(t, Add(t, d)) = %v, want d = %v (t %v, deadline %v)", c.Between(at, u), d, at, u)
		case !c.IsOpen(last):
			return fail("Add(%v, %v) = %v, outside working hours", at, d, u)
		case !c.IsWorkingDay(last):
			return fail("Add(%v, %v) = %v, not on a working day", at, d, u)
		case !last.Before(at) && c.Between(at, last) != d-time.Nanosecond:
			return fail("Add(%v, %v) = %v is not the earliest deadline", at, d, u)
		}
	}

	// Monotonic in d and in t.
	d2 := d + g.duration(c)
	if u2 := c.Add(at, d2); u2.Before(u) {
		return fail("Add(t, %v) = %v before Add(t, %v) = %v", d2, u2, d, u)
	}
	next := at.Add(time.Duration(g.Int64N(int64(4 * 24 * time.Hour))))
	if g.IntN(4) == 0 {
		next = at.Add(time.Duration(g.Int64N(int64(time.Minute))))
	}
	if u2 := c.Add(next, d); u2.Before(u) {
		return fail("Add(%v, d) = %v before Add(%v, d) = %v", next, u2, at, u)
	}

	// Deadlines compose: a paused clock resumed at the deadline.
	if d1 := g.duration(c); d > 0 && d1 > 0 {
		if a, b := c.Add(c.Add(at, d), d1), c.Add(at, d+d1); !a.Equal(b) {
			return fail("Add(Add(t, %v), %v) = %v, Add(t, %v) = %v", d, d1, a, d+d1, b)
		}
	}

	// Between adds up, never exceeds real time, and Add inverts it.
	b := next
	cEnd := b.Add(time.Duration(g.Int64N(int64(20 * 24 * time.Hour))))
	ab, bc, ac := c.Between(at, b), c.Between(b, cEnd), c.Between(at, cEnd)
	switch {
	case ab+bc != ac:
		return fail("Between(a, b) + Between(b, c) = %v + %v, Between(a, c) = %v", ab, bc, ac)
	case ab < 0 || ab > b.Sub(at):
		return fail("Between(%v, %v) = %v", at, b, ab)
	case c.Between(b, at) != 0 && b.After(at):
		return fail("Between(b, a) = %v for b after a", c.Between(b, at))
	}
	if ab > 0 {
		back := c.Add(at, ab)
		if back.After(b) || (c.IsOpen(b.Add(-time.Nanosecond)) && !back.Equal(b)) {
			return fail("Add(a, Between(a, b)) = %v for b = %v", back, b)
		}
	}

	// The next working morning.
	m := c.NextWorkingMorning(at)
	y, mo, dd := at.In(c.Location()).Date()
	nextDay := calendar.At(c.Location(), y, mo, dd+1, 0, 0)
	if m.Before(nextDay) || !c.IsOpen(m) || !c.IsWorkingDay(m) || c.Between(nextDay, m) != 0 {
		return fail("NextWorkingMorning(%v) = %v", at, m)
	}

	// Hours and holidays round-trip.
	if again, err := calendar.Parse(c.Hours(), c.Holidays(), c.Location()); err != nil || again.String() != c.String() {
		return fail("%q, %q does not round-trip: %v", c.Hours(), c.Holidays(), err)
	}

	// Where no boundary falls in a clock change, the wall clock agrees.
	if !nightBoundaries(c) {
		week := calendar.WeekSpans(c)
		holidays := map[string]bool{}
		for _, h := range strings.Split(c.Holidays(), ",") {
			holidays[h] = true
		}
		for _, x := range []time.Time{at, u, open, m, u.Add(-time.Nanosecond)} {
			if c.IsOpen(x) != wallOpen(c, week, holidays, x) {
				return fail("IsOpen(%v) = %v, but its wall clock says otherwise", x, c.IsOpen(x))
			}
		}
		// Count working minutes one by one over up to three days.
		if g.IntN(10) == 0 {
			a := at.Truncate(time.Minute)
			e := a.Add(time.Duration(g.IntN(3*24*60)) * time.Minute)
			var want time.Duration
			for x := a; x.Before(e); x = x.Add(time.Minute) {
				if wallOpen(c, week, holidays, x) {
					want += time.Minute
				}
			}
			if got := c.Between(a, e); got != want {
				return fail("Between(%v, %v) = %v, minute by minute %v", a, e, got, want)
			}
		}
	}
	return true
}

// nightBoundaries reports whether a span of c starts or ends between
// 01:00 and 03:00, where clocks change in the zones tested.
func nightBoundaries(c calendar.Calendar) bool {
	for _, spans := range calendar.WeekSpans(c) {
		for _, sp := range spans {
			if (sp[0] > 60 && sp[0] < 180) || (sp[1] > 60 && sp[1] < 180) {
				return true
			}
		}
	}
	return false
}
