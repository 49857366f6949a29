package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		hours, holidays string
		wantHours       string // canonical
		wantHolidays    string
	}{
		{"Mon-Fri 09:00-17:00", "", "Mon-Fri 09:00-17:00", ""},
		{"Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00", "",
			"Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00", ""},
		// Spacing, case, full names, one-digit hours, a colon after the days.
		{" monday - FRIDAY:  9:00 - 17:00 ; ", "", "Mon-Fri 09:00-17:00", ""},
		// Ranges wrap the week's end and come back as written.
		{"Sun-Thu 08:00-16:00", "", "Sun-Thu 08:00-16:00", ""},
		{"Sat-Mon 10:00-14:00", "", "Sat-Mon 10:00-14:00", ""},
		// Lists of days; groups come back merged and in week order.
		{"Wed 09:00-17:00; Mon,Tue 09:00-17:00; Fri 09:00-17:00", "", "Mon-Wed 09:00-17:00; Fri 09:00-17:00", ""},
		// Spans are sorted, and those that touch are joined.
		{"Mon 13:00-17:00,09:00-13:00", "", "Mon 09:00-17:00", ""},
		{"Mon-Sun 00:00-24:00", "", "Mon-Sun 00:00-24:00", ""},
		{"Mon 22:00-24:00; Tue 00:00-06:00", "", "Mon 22:00-24:00; Tue 00:00-06:00", ""},
		// Holidays are sorted, deduplicated, and may be split by spaces.
		{DefaultHours, "2027-01-01, 2026-12-25;2026-12-26 2026-12-25", DefaultHours, "2026-12-25,2026-12-26,2027-01-01"},
		{DefaultHours, "  ", DefaultHours, ""},
	} {
		c, err := Parse(tc.hours, tc.holidays, nil)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", tc.hours, tc.holidays, err)
			continue
		}
		if c.Hours() != tc.wantHours || c.Holidays() != tc.wantHolidays {
			t.Errorf("Parse(%q, %q) = %q, %q; want %q, %q", tc.hours, tc.holidays, c.Hours(), c.Holidays(), tc.wantHours, tc.wantHolidays)
		}
		again, err := Parse(c.Hours(), c.Holidays(), nil)
		if err != nil || again.Hours() != c.Hours() || again.Holidays() != c.Holidays() {
			t.Errorf("%q does not round-trip: %v", c.Hours(), err)
		}
	}
}

// Errors name the argument and the part at fault.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		hours, holidays string
		arg, mention    string
	}{
		{"", "", "hours", "no working time"},
		{" ; ", "", "hours", "no working time"},
		{"Mon-Fri", "", "hours", "no spans"},
		{"09:00-17:00", "", "hours", "names no days"},
		{"Mon-Fry 09:00-17:00", "", "hours", `"Mon-Fry"`},
		{"Mo 09:00-17:00", "", "hours", `"Mo"`},
		{"Mon-Fri 9-17", "", "hours", `"9-17"`},
		{"Mon-Fri 09:00-25:00", "", "hours", `"09:00-25:00"`},
		{"Mon-Fri 09:60-17:00", "", "hours", `"09:60-17:00"`},
		{"Mon-Fri 24:00-24:00", "", "hours", `"24:00-24:00"`},
		{"Mon-Fri 24:30", "", "hours", `"24:30"`},
		{"Mon-Fri 17:00-09:00", "", "hours", "past midnight"},
		{"Mon-Fri 09:00-09:00", "", "hours", "does not end after it starts"},
		{"Mon-Fri 09:00-13:00,12:00-17:00", "", "hours", "09:00-13:00 and 12:00-17:00 overlap"},
		{"Mon-Fri 09:00-17:00; Fri 18:00-20:00", "", "hours", "Fri is given hours twice"},
		{"Mon-Fri 09:00-17:00,", "", "hours", `""`},
		{"Mon-Fri ٠٩:00-17:00", "", "hours", "not a day"},
		{DefaultHours, "2026-02-30", "holidays", `"2026-02-30"`},
		{DefaultHours, "2026-12-25,25.12.2026", "holidays", `"25.12.2026"`},
		{DefaultHours, "2026-1-5", "holidays", `"2026-1-5"`},
	} {
		_, err := Parse(tc.hours, tc.holidays, time.UTC)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Arg != tc.arg || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("Parse(%q, %q) = %v; want a %s error mentioning %s", tc.hours, tc.holidays, err, tc.arg, tc.mention)
		}
	}
}

// FuzzParse checks that whatever Parse accepts has working time, comes back
// from Hours and Holidays unchanged, and keeps Add and Between inverse. The
// seed corpus in testdata/fuzz/FuzzParse runs with every go test.
func FuzzParse(f *testing.F) {
	f.Add("Mon-Fri 09:00-17:00", "")
	f.Add("Sun-Thu 08:00-12:00,13:00-16:00", "2026-12-25,2027-01-01")
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, hours, holidays string) {
		c, err := Parse(hours, holidays, loc)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || (pe.Arg != "hours" && pe.Arg != "holidays") {
				t.Fatalf("error %v is not a ParseError naming its argument", err)
			}
			return
		}
		again, err := Parse(c.Hours(), c.Holidays(), loc)
		if err != nil {
			t.Fatalf("canonical form %q, %q does not parse: %v", c.Hours(), c.Holidays(), err)
		}
		if again.Hours() != c.Hours() || again.Holidays() != c.Holidays() {
			t.Fatalf("round trip changed %q, %q into %q, %q", c.Hours(), c.Holidays(), again.Hours(), again.Holidays())
		}
		if c.DayLength() <= 0 || c.DayLength() > 24*time.Hour {
			t.Fatalf("DayLength = %v", c.DayLength())
		}
		// Around the clocks going back, when the holidays end.
		from := time.Date(2026, 10, 24, 13, 7, 0, 0, loc)
		for _, d := range []time.Duration{time.Nanosecond, 90 * time.Minute, c.DayLength(), 3 * c.DayLength()} {
			u := c.Add(from, d)
			if got := c.Between(from, u); got != d {
				t.Fatalf("%s: Between(t, Add(t, %v)) = %v", c, d, got)
			}
			if !c.IsOpen(u.Add(-time.Nanosecond)) {
				t.Fatalf("%s: Add(t, %v) = %v is not in working hours", c, d, u)
			}
		}
	})
}
