package period_test

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"github.com/rapportcrm/rapport/shared/period"
)

// zones are the time zones every invariant is checked in: both hemispheres,
// a half-hour offset with no daylight saving, and zones whose clocks change
// at midnight or skipped a whole day.
var zones = []string{
	"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
	"America/Santiago", "America/Havana", "Australia/Lord_Howe", "Pacific/Apia",
}

func load(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustParse(t testing.TB, id string, loc *time.Location) period.Period {
	t.Helper()
	p, err := period.Parse(id, loc)
	if err != nil {
		t.Fatalf("Parse(%q): %v", id, err)
	}
	return p
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestBounds checks hand-worked UTC bounds, including days of 23 and 25
// hours and days whose clocks change at midnight.
func TestBounds(t *testing.T) {
	tests := []struct {
		zone, id   string
		start, end string
		hours      float64
	}{
		// Berlin: clocks go 02:00→03:00 on 29 March, 03:00→02:00 on 25 October.
		{"Europe/Berlin", "2026-03-29", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23},
		{"Europe/Berlin", "2026-10-25", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25},
		{"Europe/Berlin", "2026-W13", "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z", 167},
		{"Europe/Berlin", "2026-W43", "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z", 169},
		{"Europe/Berlin", "2026-W47", "2026-11-15T23:00:00Z", "2026-11-22T23:00:00Z", 168},
		{"Europe/Berlin", "2026-Q4", "2026-09-30T22:00:00Z", "2026-12-31T23:00:00Z", 92*24 + 1},
		// New York: 8 March and 1 November 2026.
		{"America/New_York", "2026-03-08", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", 23},
		{"America/New_York", "2026-11-01", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", 25},
		{"America/New_York", "2026-12-31", "2026-12-31T05:00:00Z", "2027-01-01T05:00:00Z", 24},
		{"America/New_York", "2026-11", "2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z", 30*24 + 1},
		// Sydney, southern hemisphere: summer time spans the year end.
		{"Australia/Sydney", "2026-04-05", "2026-04-04T13:00:00Z", "2026-04-05T14:00:00Z", 25},
		{"Australia/Sydney", "2026-10-04", "2026-10-03T14:00:00Z", "2026-10-04T13:00:00Z", 23},
		{"Australia/Sydney", "2027-01-01", "2026-12-31T13:00:00Z", "2027-01-01T13:00:00Z", 24},
		{"Australia/Sydney", "2026-Q2", "2026-03-31T13:00:00Z", "2026-06-30T14:00:00Z", 91*24 + 1},
		// Kolkata: +05:30 all year.
		{"Asia/Kolkata", "2026-12-31", "2026-12-30T18:30:00Z", "2026-12-31T18:30:00Z", 24},
		{"Asia/Kolkata", "2026-W53", "2026-12-27T18:30:00Z", "2027-01-03T18:30:00Z", 168},
		// Havana skips from 00:00 to 01:00 on 8 March, so the day begins at
		// 01:00; on 1 November 00:00–01:00 happens twice and the day begins
		// at the first 00:00.
		{"America/Havana", "2026-03-08", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", 23},
		{"America/Havana", "2026-11-01", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", 25},
		// Santiago moves its clocks at 24:00 on Saturday.
		{"America/Santiago", "2026-04-04", "2026-04-04T03:00:00Z", "2026-04-05T04:00:00Z", 25},
		{"America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", 23},
		// Samoa skipped 30 December 2011: the day has no instants at all.
		{"Pacific/Apia", "2011-12-30", "2011-12-30T10:00:00Z", "2011-12-30T10:00:00Z", 0},
		{"Pacific/Apia", "2011-12-29", "2011-12-29T10:00:00Z", "2011-12-30T10:00:00Z", 24},
	}
	for _, tt := range tests {
		t.Run(tt.zone+"/"+tt.id, func(t *testing.T) {
			p := mustParse(t, tt.id, load(t, tt.zone))
			if got := p.Start(); !got.Equal(utc(tt.start)) {
				t.Errorf("Start = %s, want %s", got.Format(time.RFC3339), tt.start)
			}
			if got := p.End(); !got.Equal(utc(tt.end)) {
				t.Errorf("End = %s, want %s", got.Format(time.RFC3339), tt.end)
			}
			if got := p.End().Sub(p.Start()).Hours(); got != tt.hours {
				t.Errorf("length = %vh, want %vh", got, tt.hours)
			}
			if p.Start().Location() != time.UTC {
				t.Errorf("Start is in %v, want UTC", p.Start().Location())
			}
		})
	}
}

// TestYearEnds checks which period of each kind holds instants around New
// Year in several zones, and that ISO weeks cross the year correctly.
func TestYearEnds(t *testing.T) {
	tests := []struct {
		zone, at                  string
		day, week, month, quarter string
	}{
		// 2026 has 53 ISO weeks: 2027-01-01 is in 2026-W53.
		{"Europe/Berlin", "2026-12-31T23:30:00Z", "2027-01-01", "2026-W53", "2027-01", "2027-Q1"},
		{"Europe/Berlin", "2026-12-31T22:59:59Z", "2026-12-31", "2026-W53", "2026-12", "2026-Q4"},
		{"America/New_York", "2027-01-01T04:59:59Z", "2026-12-31", "2026-W53", "2026-12", "2026-Q4"},
		{"America/New_York", "2027-01-01T05:00:00Z", "2027-01-01", "2026-W53", "2027-01", "2027-Q1"},
		{"Australia/Sydney", "2026-12-31T13:30:00Z", "2027-01-01", "2026-W53", "2027-01", "2027-Q1"},
		{"Asia/Kolkata", "2027-01-03T18:30:00Z", "2027-01-04", "2027-W01", "2027-01", "2027-Q1"},
		// 2025-12-29 is the Monday of 2026-W01.
		{"Asia/Kolkata", "2025-12-28T18:30:00Z", "2025-12-29", "2026-W01", "2025-12", "2025-Q4"},
		{"Europe/Berlin", "2025-12-28T22:59:59Z", "2025-12-28", "2025-W52", "2025-12", "2025-Q4"},
		// 2020 has 53 ISO weeks too; 2021-01-03 is its last day.
		{"America/New_York", "2021-01-04T04:59:59Z", "2021-01-03", "2020-W53", "2021-01", "2021-Q1"},
		{"Australia/Sydney", "2021-01-03T13:00:00Z", "2021-01-04", "2021-W01", "2021-01", "2021-Q1"},
	}
	for _, tt := range tests {
		loc := load(t, tt.zone)
		at := utc(tt.at)
		for kind, want := range map[period.Kind]string{
			period.Day: tt.day, period.Week: tt.week, period.Month: tt.month, period.Quarter: tt.quarter,
		} {
			p := period.Containing(at, kind, loc)
			if p.ID() != want {
				t.Errorf("%s %s: %s = %s, want %s", tt.zone, tt.at, kind, p.ID(), want)
			}
			if !p.Contains(at) {
				t.Errorf("%s %s: %s %s does not contain it", tt.zone, tt.at, kind, p.ID())
			}
		}
	}
}

func TestPreviousNext(t *testing.T) {
	tests := []struct{ id, previous, next string }{
		{"2026-01-01", "2025-12-31", "2026-01-02"},
		{"2024-03-01", "2024-02-29", "2024-03-02"},
		{"2026-W01", "2025-W52", "2026-W02"},
		{"2026-W53", "2026-W52", "2027-W01"},
		{"2021-W01", "2020-W53", "2021-W02"},
		{"2026-01", "2025-12", "2026-02"},
		{"2026-12", "2026-11", "2027-01"},
		{"2026-Q1", "2025-Q4", "2026-Q2"},
		{"2026-Q4", "2026-Q3", "2027-Q1"},
	}
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney"} {
		loc := load(t, zone)
		for _, tt := range tests {
			p := mustParse(t, tt.id, loc)
			if got := p.Previous().ID(); got != tt.previous {
				t.Errorf("%s Previous(%s) = %s, want %s", zone, tt.id, got, tt.previous)
			}
			if got := p.Next().ID(); got != tt.next {
				t.Errorf("%s Next(%s) = %s, want %s", zone, tt.id, got, tt.next)
			}
			if !p.Previous().End().Equal(p.Start()) {
				t.Errorf("%s %s: previous period ends %s, but this one starts %s", zone, tt.id, p.Previous().End(), p.Start())
			}
		}
	}
}

func TestDays(t *testing.T) {
	tests := []struct {
		id          string
		count       int
		first, last string
	}{
		{"2026-11-22", 1, "2026-11-22", "2026-11-22"},
		{"2026-W53", 7, "2026-12-28", "2027-01-03"},
		{"2020-W53", 7, "2020-12-28", "2021-01-03"},
		{"2026-W01", 7, "2025-12-29", "2026-01-04"},
		{"2026-02", 28, "2026-02-01", "2026-02-28"},
		{"2024-02", 29, "2024-02-01", "2024-02-29"},
		{"2026-Q1", 90, "2026-01-01", "2026-03-31"},
		{"2024-Q1", 91, "2024-01-01", "2024-03-31"},
		{"2026-Q4", 92, "2026-10-01", "2026-12-31"},
	}
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"} {
		loc := load(t, zone)
		for _, tt := range tests {
			p := mustParse(t, tt.id, loc)
			days := p.Days()
			if len(days) != tt.count || p.DayCount() != tt.count {
				t.Fatalf("%s %s: %d days (DayCount %d), want %d", zone, tt.id, len(days), p.DayCount(), tt.count)
			}
			if days[0].ID() != tt.first || days[len(days)-1].ID() != tt.last {
				t.Errorf("%s %s: days %s…%s, want %s…%s", zone, tt.id, days[0], days[len(days)-1], tt.first, tt.last)
			}
			// The days tile the period exactly.
			if !days[0].Start().Equal(p.Start()) || !days[len(days)-1].End().Equal(p.End()) {
				t.Errorf("%s %s: days span %s–%s, period %s–%s", zone, tt.id,
					days[0].Start(), days[len(days)-1].End(), p.Start(), p.End())
			}
			for i, d := range days {
				if d.Kind() != period.Day || d.Location() != loc {
					t.Errorf("%s %s: day %d is a %s in %v", zone, tt.id, i, d.Kind(), d.Location())
				}
				if i > 0 && !days[i-1].End().Equal(d.Start()) {
					t.Errorf("%s %s: day %s ends %s but %s starts %s", zone, tt.id, days[i-1], days[i-1].End(), d, d.Start())
				}
			}
		}
	}
}

// TestEveryDayBegins checks, for every day from 2010 to 2030 in every zone,
// that Start is the first instant showing that date: the instant before it
// shows an earlier date, and Start itself shows the date (or a later one, on
// the one day Samoa skipped).
func TestEveryDayBegins(t *testing.T) {
	for _, zone := range zones {
		loc := load(t, zone)
		p := period.Containing(utc("2010-01-01T12:00:00Z"), period.Day, time.UTC)
		p = mustParse(t, p.ID(), loc)
		for ; p.Start().Year() < 2031; p = p.Next() {
			start := p.Start()
			shown := start.In(loc).Format(time.DateOnly)
			if shown < p.ID() {
				t.Fatalf("%s %s: Start %s shows %s", zone, p, start, shown)
			}
			if before := start.Add(-time.Nanosecond).In(loc).Format(time.DateOnly); before >= p.ID() {
				t.Fatalf("%s %s: the instant before Start already shows %s", zone, p, before)
			}
			if shown != p.ID() && !(zone == "Pacific/Apia" && p.ID() == "2011-12-30") {
				t.Fatalf("%s %s: Start %s shows %s", zone, p, start, shown)
			}
		}
	}
}

// TestContainingRandom checks on random instants that the containing period
// holds the instant, parses back from its ID, and has its neighbours on
// either side.
func TestContainingRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 47))
	lo, hi := utc("1990-01-01T00:00:00Z").Unix(), utc("2060-01-01T00:00:00Z").Unix()
	for _, zone := range zones {
		loc := load(t, zone)
		for range 2000 {
			at := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9))
			for _, kind := range period.Kinds() {
				p := period.Containing(at, kind, loc)
				if !p.Contains(at) || !p.Start().Before(p.End()) {
					t.Fatalf("%s %s %s: %s [%s, %s) does not hold it", zone, at, kind, p, p.Start(), p.End())
				}
				if q := mustParse(t, p.ID(), loc); q != p {
					t.Fatalf("%s: Parse(%s) = %#v, want %#v", zone, p.ID(), q, p)
				}
				if p.Next().Previous() != p || p.Previous().Next() != p {
					t.Fatalf("%s %s: Next and Previous do not undo each other", zone, p)
				}
				if p.Contains(p.End()) || !p.Next().Contains(p.End()) {
					t.Fatalf("%s %s: End belongs to the next period, not this one", zone, p)
				}
			}
		}
	}
}

func TestNilLocationIsUTC(t *testing.T) {
	p := mustParse(t, "2026-Q4", nil)
	if p.Location() != time.UTC || !p.Start().Equal(utc("2026-10-01T00:00:00Z")) {
		t.Errorf("nil location: %v starting %s", p.Location(), p.Start())
	}
	var zero period.Period
	if !zero.IsZero() || zero.DayCount() != 0 || zero.ID() != "" {
		t.Errorf("zero Period: IsZero %v, DayCount %d, ID %q", zero.IsZero(), zero.DayCount(), zero.ID())
	}
}
