package calendar

import (
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// The property tests draw calendars, instants and durations from a seeded
// generator, so a failure names a seed and a case that reproduce it:
//
//	go test ./shared/calendar -run Properties -args -seed=7 -cases=2000
var (
	seed  = flag.Uint64("seed", 1, "seed of the property tests' random cases")
	cases = flag.Int("cases", 150, "random instants per calendar and zone in the property tests")
)

// Zones of the property tests: no daylight saving, Europe's and North
// America's changes (on different dates, at 02:00 local), and Lord Howe's
// half-hour change.
var propertyZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}

var (
	rangeStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rangeEnd   = time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
)

// gen draws the random cases.
type gen struct {
	*rand.Rand
	loc *time.Location
	// specials are instants worth landing near: the zone's clock changes
	// and the year ends, 2024–2028.
	specials []time.Time
}

func newGen(s uint64, loc *time.Location) *gen {
	g := &gen{Rand: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15)), loc: loc}
	for y := 2024; y <= 2028; y++ {
		g.specials = append(g.specials, time.Date(y, 12, 31, 12, 0, 0, 0, loc))
	}
	// Find the clock changes by their offsets, hour by hour.
	_, prev := rangeStart.In(loc).Zone()
	for t := rangeStart; t.Before(rangeEnd); t = t.Add(time.Hour) {
		if _, off := t.In(loc).Zone(); off != prev {
			g.specials = append(g.specials, t)
			prev = off
		}
	}
	return g
}

// calendar draws working hours: each day of the week has no spans (a
// weekend) or one to three, with boundaries on any minute; with night set,
// boundaries may fall where the clocks change (01:00–03:00). Holidays
// cluster around the year ends.
func (g *gen) calendar(t *testing.T, night bool) Calendar {
	var groups []string
	for len(groups) == 0 {
		for d := range 7 {
			if g.IntN(10) < 3 {
				continue
			}
			var bounds []int
			for want := 2 * (1 + g.IntN(3)); len(bounds) < want; {
				b := g.IntN(24*60 + 1)
				switch g.IntN(4) {
				case 0:
					b = []int{0, 24 * 60, 9 * 60, 17 * 60, 12*60 + 30, 13*60 + 30}[g.IntN(6)]
				case 1:
					b = b / 15 * 15
				}
				if !night && b > 60 && b < 180 {
					continue
				}
				if !slices.Contains(bounds, b) {
					bounds = append(bounds, b)
				}
			}
			slices.Sort(bounds)
			var spans []string
			for i := 0; i < len(bounds); i += 2 {
				spans = append(spans, clock(bounds[i])+"-"+clock(bounds[i+1]))
			}
			groups = append(groups, dayNames[d]+" "+strings.Join(spans, ","))
		}
	}
	var holidays []string
	for range g.IntN(30) {
		var day time.Time
		if g.IntN(2) == 0 {
			day = time.Date(2024+g.IntN(5), 12, 20+g.IntN(16), 0, 0, 0, 0, time.UTC) // Dec 20 – Jan 4
		} else {
			day = rangeStart.AddDate(0, 0, g.IntN(5*366))
		}
		holidays = append(holidays, day.Format(time.DateOnly))
	}
	c, err := Parse(strings.Join(groups, "; "), strings.Join(holidays, ","), g.loc)
	if err != nil {
		t.Fatalf("generated calendar does not parse: %v", err)
	}
	return c
}

// instant draws an instant in 2024–2028 with nanoseconds, often near a
// clock change or a year end, sometimes on a whole minute.
func (g *gen) instant() time.Time {
	var t time.Time
	if g.IntN(3) == 0 {
		t = g.specials[g.IntN(len(g.specials))].Add(time.Duration(g.Int64N(int64(96*time.Hour))) - 48*time.Hour)
	} else {
		t = rangeStart.Add(time.Duration(g.Int64N(int64(rangeEnd.Sub(rangeStart)))))
	}
	if g.IntN(4) == 0 {
		t = t.Truncate(time.Minute)
	}
	return t.In(g.loc)
}

// duration draws working time to add: none, a little, hours, or days of
// the calendar's standard length.
func (g *gen) duration(c Calendar) time.Duration {
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
// falls in a skipped or repeated hour.
func wallOpen(c Calendar, holidays map[string]bool, t time.Time) bool {
	l := t.In(c.Location())
	if holidays[l.Format(time.DateOnly)] {
		return false
	}
	min := l.Hour()*60 + l.Minute()
	for _, sp := range c.rules().week[l.Weekday()] {
		if sp.from <= min && min < sp.to {
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
	for zi, name := range propertyZones {
		t.Run(name, func(t *testing.T) {
			loc := zone(t, name)
			g := newGen(*seed+uint64(zi), loc)
			var cals []Calendar
			for _, name := range slices.Sorted(maps.Keys(examples)) {
				cals = append(cals, mustParse(t, examples[name][0], examples[name][1], loc.String()))
			}
			for range 12 {
				cals = append(cals, g.calendar(t, false), g.calendar(t, true))
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
func checkCase(t *testing.T, c Calendar, g *gen, name string) bool {
	t.Helper()
	fail := func(format string, args ...any) bool {
		t.Errorf("%s: "+format, append([]any{name}, args...)...)
		return false
	}
	at := g.instant()
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
	nextDay := At(c.Location(), y, mo, dd+1, 0, 0)
	if m.Before(nextDay) || !c.IsOpen(m) || !c.IsWorkingDay(m) || c.Between(nextDay, m) != 0 {
		return fail("NextWorkingMorning(%v) = %v", at, m)
	}

	// Hours and holidays round-trip.
	if again, err := Parse(c.Hours(), c.Holidays(), c.Location()); err != nil || again.String() != c.String() {
		return fail("%q, %q does not round-trip: %v", c.Hours(), c.Holidays(), err)
	}

	// Where no boundary falls in a clock change, the wall clock agrees.
	if !nightBoundaries(c) {
		holidays := map[string]bool{}
		for _, h := range strings.Split(c.Holidays(), ",") {
			holidays[h] = true
		}
		for _, x := range []time.Time{at, u, open, m, u.Add(-time.Nanosecond)} {
			if c.IsOpen(x) != wallOpen(c, holidays, x) {
				return fail("IsOpen(%v) = %v, but its wall clock says otherwise", x, c.IsOpen(x))
			}
		}
		// Count working minutes one by one over up to three days.
		if g.IntN(10) == 0 {
			a := at.Truncate(time.Minute)
			e := a.Add(time.Duration(g.IntN(3*24*60)) * time.Minute)
			var want time.Duration
			for x := a; x.Before(e); x = x.Add(time.Minute) {
				if wallOpen(c, holidays, x) {
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
func nightBoundaries(c Calendar) bool {
	for _, spans := range c.rules().week {
		for _, sp := range spans {
			if (sp.from > 60 && sp.from < 180) || (sp.to > 60 && sp.to < 180) {
				return true
			}
		}
	}
	return false
}
