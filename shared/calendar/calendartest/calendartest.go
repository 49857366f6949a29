// Package calendartest draws random business calendars and instants for
// property tests of the calendar and of the packages built on it. It is
// for tests only: nothing outside _test.go files should import it.
//
// A Gen is seeded, so a failing property test names a seed and a case that
// reproduce it. Its draws lean towards the instants where calendar code
// goes wrong: the zone's clock changes, year ends, whole minutes, span
// boundaries in the night hours when clocks change.
package calendartest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
)

// Zones are the zones property tests run in: no daylight saving, Europe's
// and North America's changes (on different dates, at 02:00 local), and
// Lord Howe's half-hour change.
var Zones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}

// Start and End bound the instants drawn, [Start, End): the years
// 2024–2028, so every zone's clock changes of those years are near.
var (
	Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	End   = time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Gen draws random cases in one zone. Its embedded *rand.Rand is there for
// the draws that are a test's own.
type Gen struct {
	*rand.Rand
	// Loc is the zone of the calendars and instants drawn.
	Loc *time.Location
	// Specials are instants worth landing near: the zone's clock changes
	// and the year ends, 2024–2028.
	Specials []time.Time
	// Margin keeps the uniformly drawn instants at least this long before
	// End, for tests that go on from an instant for a while (instants
	// near Specials may still fall after End-Margin).
	Margin time.Duration
}

// New returns a generator for loc whose draws follow from seed alone.
func New(seed uint64, loc *time.Location) *Gen {
	g := &Gen{Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Loc: loc}
	for y := 2024; y <= 2028; y++ {
		g.Specials = append(g.Specials, time.Date(y, 12, 31, 12, 0, 0, 0, loc))
	}
	// Find the clock changes by their offsets, hour by hour.
	_, prev := Start.In(loc).Zone()
	for t := Start; t.Before(End); t = t.Add(time.Hour) {
		if _, off := t.In(loc).Zone(); off != prev {
			g.Specials = append(g.Specials, t)
			prev = off
		}
	}
	return g
}

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// Calendar draws working hours: each day of the week has no spans (a
// weekend) or one to three, with boundaries on any minute, often on a
// quarter hour or a usual time. With night set, boundaries may fall where
// the clocks change (01:00–03:00), among them exactly 02:00 and 02:30;
// without, they never do. Holidays cluster around the year ends. The
// calendar is built by calendar.Parse, and a failure to parse ends the
// test.
func (g *Gen) Calendar(tb testing.TB, night bool) calendar.Calendar {
	tb.Helper()
	usual := []int{0, 24 * 60, 9 * 60, 17 * 60, 12*60 + 30, 13*60 + 30}
	if night {
		usual = append(usual, 2*60, 2*60+30)
	}
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
					b = usual[g.IntN(len(usual))]
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
				spans = append(spans, fmt.Sprintf("%02d:%02d-%02d:%02d", bounds[i]/60, bounds[i]%60, bounds[i+1]/60, bounds[i+1]%60))
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
			day = Start.AddDate(0, 0, g.IntN(5*366))
		}
		holidays = append(holidays, day.Format(time.DateOnly))
	}
	c, err := calendar.Parse(strings.Join(groups, "; "), strings.Join(holidays, ","), g.Loc)
	if err != nil {
		tb.Fatalf("generated calendar does not parse: %v", err)
	}
	return c
}

// Instant draws an instant in 2024–2028 with nanoseconds, in Loc, often
// within two days of a clock change or a year end, sometimes on a whole
// minute.
func (g *Gen) Instant() time.Time {
	var t time.Time
	if g.IntN(3) == 0 {
		t = g.Specials[g.IntN(len(g.Specials))].Add(time.Duration(g.Int64N(int64(96*time.Hour))) - 48*time.Hour)
	} else {
		t = Start.Add(time.Duration(g.Int64N(int64(End.Sub(Start) - g.Margin))))
	}
	if g.IntN(4) == 0 {
		t = t.Truncate(time.Minute)
	}
	return t.In(g.Loc)
}
