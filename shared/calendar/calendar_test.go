package calendar

import (
	"fmt"
	"testing"
	"time"
)

// wall returns the instant loc's wall clock shows s ("2026-11-02 13:00",
// seconds allowed), by At's rules for skipped and repeated wall times.
func wall(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	var y, mo, d, h, mi int
	var sec float64
	if _, err := fmt.Sscanf(s, "%d-%d-%d %d:%d:%g", &y, &mo, &d, &h, &mi, &sec); err != nil {
		if _, err := fmt.Sscanf(s, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi); err != nil {
			t.Fatalf("wall(%q): %v", s, err)
		}
	}
	return At(loc, y, time.Month(mo), d, h, mi).Add(time.Duration(sec * float64(time.Second)))
}

func mustParse(t testing.TB, hours, holidays, zoneName string) Calendar {
	t.Helper()
	c, err := Parse(hours, holidays, zone(t, zoneName))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Calendars of the examples, named in the tables below.
var examples = map[string][3]string{ // hours, holidays, zone
	"berlin":   {DefaultHours, "", "Europe/Berlin"},
	"yearend":  {DefaultHours, "2026-12-24,2026-12-25,2026-12-31,2027-01-01", "Europe/Berlin"},
	"split":    {"Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00", "", "America/New_York"},
	"fridays":  {"Fri 00:00-24:00", "", "Europe/Berlin"},
	"allday":   {"Mon-Sun 00:00-24:00", "", "Europe/Berlin"},
	"nightBER": {"Sun 01:00-03:00", "", "Europe/Berlin"},
	"nightNY":  {"Sun 01:00-03:00", "", "America/New_York"},
	"nightLH":  {"Sun 01:00-03:00", "", "Australia/Lord_Howe"},
	"gapped":   {"Sun 02:00-02:30,09:00-10:00", "", "Europe/Berlin"},
}

func example(t testing.TB, name string) Calendar {
	e, ok := examples[name]
	if !ok {
		t.Fatalf("no example calendar %q", name)
	}
	return mustParse(t, e[0], e[1], e[2])
}

// The boundary rule, weekends, holidays, year ends, split days and DST
// changes, by example. Days: 2026-11-02 is a Monday; 2026-10-25 (Berlin)
// and 2026-11-01 (New York) are the Sundays clocks go back, 2026-03-29
// (Berlin) and 2026-03-08 (New York) those they go forward.
func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		cal, from string
		d         time.Duration
		want      string
	}{
		// The deadline that runs out at closing is the closing instant.
		{"berlin", "2026-11-02 13:00", 4 * time.Hour, "2026-11-02 17:00"},
		{"berlin", "2026-11-02 13:00", 4*time.Hour + time.Minute, "2026-11-03 09:01"},
		{"berlin", "2026-11-02 17:00", time.Hour, "2026-11-03 10:00"},
		{"berlin", "2026-11-02 07:00", 8 * time.Hour, "2026-11-02 17:00"},
		{"berlin", "2026-11-02 08:00", 40 * time.Hour, "2026-11-06 17:00"},
		{"berlin", "2026-11-02 10:00:30", time.Second, "2026-11-02 10:00:31"},
		// No working time: the next opening, or t itself when open.
		{"berlin", "2026-10-24 12:00", 0, "2026-10-26 09:00"},
		{"berlin", "2026-11-02 10:00", 0, "2026-11-02 10:00"},
		{"berlin", "2026-11-02 17:00", -time.Hour, "2026-11-03 09:00"},
		// Weekends, with a clock change in them.
		{"berlin", "2026-10-23 16:00", 2 * time.Hour, "2026-10-26 10:00"},
		{"berlin", "2026-03-27 15:00", 3 * time.Hour, "2026-03-30 10:00"},
		{"split", "2026-10-30 14:00", 2 * time.Hour, "2026-11-02 10:00"},
		// Holidays over the year's end.
		{"yearend", "2026-12-23 15:00", 4 * time.Hour, "2026-12-28 11:00"},
		{"yearend", "2026-12-30 16:00", 2 * time.Hour, "2027-01-04 10:00"},
		{"yearend", "2026-12-24 10:00", 0, "2026-12-28 09:00"},
		// Split days: lunch does not count, and the morning closes at 12:30.
		{"split", "2026-11-02 12:00", time.Hour, "2026-11-02 14:00"},
		{"split", "2026-11-02 11:30", time.Hour, "2026-11-02 12:30"},
		{"split", "2026-11-02 12:30", 0, "2026-11-02 13:30"},
		{"split", "2026-11-05 16:00", 7 * time.Hour, "2026-11-06 15:00"},
		// A span to 24:00 closes at the next midnight.
		{"fridays", "2026-11-06 12:00", 12 * time.Hour, "2026-11-07 00:00"},
		{"fridays", "2026-11-06 12:00", 13 * time.Hour, "2026-11-13 01:00"},
		// Spans are wall clock: the spring-forward day holds 23 real hours.
		{"allday", "2026-03-28 12:00", 24 * time.Hour, "2026-03-29 13:00"},
		{"allday", "2026-10-24 12:00", 24 * time.Hour, "2026-10-25 11:00"},
		{"nightBER", "2026-03-29 00:00", 90 * time.Minute, "2026-04-05 01:30"},
		{"nightBER", "2026-10-25 00:00", 150 * time.Minute, "2026-10-25 02:30"}, // the second 02:30, see below
		{"gapped", "2026-03-29 00:00", 0, "2026-03-29 09:00"},
	} {
		t.Run(fmt.Sprintf("%s/%s+%v", tc.cal, tc.from, tc.d), func(t *testing.T) {
			c := example(t, tc.cal)
			from := wall(t, c.Location(), tc.from)
			want := wall(t, c.Location(), tc.want)
			if tc.cal == "nightBER" && tc.d == 150*time.Minute {
				want = want.Add(time.Hour) // At gives the first 02:30; the clock reaches the second
			}
			got := c.Add(from, tc.d)
			if !got.Equal(want) {
				t.Errorf("Add = %v, want %v", got, want)
			}
			if got.Location() != c.Location() {
				t.Errorf("Add is in %v, want the calendar's zone", got.Location())
			}
			if tc.d > 0 {
				if back := c.Between(from, got); back != tc.d {
					t.Errorf("Between(from, Add) = %v, want %v", back, tc.d)
				}
			}
		})
	}
}

func TestBetween(t *testing.T) {
	for _, tc := range []struct {
		cal, a, b string
		want      time.Duration
	}{
		{"berlin", "2026-10-23 16:00", "2026-10-26 10:00", 2 * time.Hour},
		{"berlin", "2026-11-02 17:00", "2026-11-03 09:00", 0},
		{"berlin", "2026-11-03 10:00", "2026-11-02 10:00", 0}, // b before a
		{"berlin", "2026-11-02 10:00", "2026-11-02 10:00", 0},
		{"berlin", "2026-11-02 00:00", "2026-11-09 00:00", 40 * time.Hour},
		{"yearend", "2026-12-23 00:00", "2027-01-05 00:00", 40 * time.Hour},
		{"split", "2026-11-02 00:00", "2026-11-09 00:00", 34 * time.Hour},
		{"split", "2026-11-02 12:00", "2026-11-02 14:00", time.Hour},
		// A 01:00–03:00 span holds one real hour when clocks go forward,
		// three when they go back; half an hour either way on Lord Howe.
		{"nightBER", "2026-03-29 00:00", "2026-03-30 00:00", time.Hour},
		{"nightBER", "2026-10-25 00:00", "2026-10-26 00:00", 3 * time.Hour},
		{"nightBER", "2026-11-01 00:00", "2026-11-02 00:00", 2 * time.Hour},
		{"nightNY", "2026-03-08 00:00", "2026-03-09 00:00", time.Hour},
		{"nightNY", "2026-11-01 00:00", "2026-11-02 00:00", 3 * time.Hour},
		{"nightLH", "2026-10-04 00:00", "2026-10-05 00:00", 90 * time.Minute},
		{"nightLH", "2026-04-05 00:00", "2026-04-06 00:00", 150 * time.Minute},
		{"allday", "2026-03-29 00:00", "2026-03-30 00:00", 23 * time.Hour},
		{"allday", "2026-10-25 00:00", "2026-10-26 00:00", 25 * time.Hour},
		{"allday", "2026-01-01 00:00", "2027-01-01 00:00", 365 * 24 * time.Hour},
		// A span the clock change swallows whole holds nothing.
		{"gapped", "2026-03-29 00:00", "2026-03-30 00:00", time.Hour},
	} {
		t.Run(fmt.Sprintf("%s/%s..%s", tc.cal, tc.a, tc.b), func(t *testing.T) {
			c := example(t, tc.cal)
			if got := c.Between(wall(t, c.Location(), tc.a), wall(t, c.Location(), tc.b)); got != tc.want {
				t.Errorf("Between = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOpenAndMornings(t *testing.T) {
	for _, tc := range []struct {
		cal, at               string
		open, workingDay      bool
		nextOpen, nextMorning string
	}{
		{"berlin", "2026-11-02 09:00", true, true, "2026-11-02 09:00", "2026-11-03 09:00"},
		{"berlin", "2026-11-02 08:59:59.5", false, true, "2026-11-02 09:00", "2026-11-03 09:00"},
		{"berlin", "2026-11-02 16:59:59.999", true, true, "2026-11-02 16:59:59.999", "2026-11-03 09:00"},
		{"berlin", "2026-11-02 17:00", false, true, "2026-11-03 09:00", "2026-11-03 09:00"},
		{"berlin", "2026-11-06 08:00", false, true, "2026-11-06 09:00", "2026-11-09 09:00"}, // Friday before opening
		{"berlin", "2026-11-06 20:00", false, true, "2026-11-09 09:00", "2026-11-09 09:00"},
		{"berlin", "2026-11-08 23:00", false, false, "2026-11-09 09:00", "2026-11-09 09:00"}, // Sunday night
		{"yearend", "2026-12-25 10:00", false, false, "2026-12-28 09:00", "2026-12-28 09:00"},
		{"yearend", "2026-12-30 10:00", true, true, "2026-12-30 10:00", "2027-01-04 09:00"},
		{"split", "2026-11-02 12:45", false, true, "2026-11-02 13:30", "2026-11-03 09:00"},
		{"split", "2026-11-05 18:00", false, true, "2026-11-06 09:00", "2026-11-06 09:00"},
		{"fridays", "2026-11-07 00:00", false, false, "2026-11-13 00:00", "2026-11-13 00:00"},
		{"gapped", "2026-03-28 12:00", false, false, "2026-03-29 09:00", "2026-03-29 09:00"},
	} {
		t.Run(tc.cal+"/"+tc.at, func(t *testing.T) {
			c := example(t, tc.cal)
			at := wall(t, c.Location(), tc.at)
			if got := c.IsOpen(at); got != tc.open {
				t.Errorf("IsOpen = %v", got)
			}
			if got := c.IsWorkingDay(at); got != tc.workingDay {
				t.Errorf("IsWorkingDay = %v", got)
			}
			if got, want := c.NextOpen(at), wall(t, c.Location(), tc.nextOpen); !got.Equal(want) {
				t.Errorf("NextOpen = %v, want %v", got, want)
			}
			if got, want := c.NextWorkingMorning(at), wall(t, c.Location(), tc.nextMorning); !got.Equal(want) {
				t.Errorf("NextWorkingMorning = %v, want %v", got, want)
			}
		})
	}
}

func TestDayLength(t *testing.T) {
	for hours, want := range map[string]time.Duration{
		DefaultHours: 8 * time.Hour,
		"Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00": 7 * time.Hour,
		"Mon-Thu 08:00-16:30; Fri 08:00-14:00":             8*time.Hour + 30*time.Minute,
		"Mon-Tue 09:00-17:00; Wed-Fri 09:00-13:00":         4 * time.Hour, // most days are short
		"Mon-Tue 09:00-17:00; Wed-Thu 09:00-13:00":         8 * time.Hour, // a tie: the longer
		"Mon-Sun 00:00-24:00":                              24 * time.Hour,
	} {
		c, err := Parse(hours, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.DayLength(); got != want {
			t.Errorf("%s: DayLength = %v, want %v", hours, got, want)
		}
	}
}

// The zero Calendar is the default calendar in UTC, so a Config built by
// hand in a test still has working hours.
func TestZeroCalendar(t *testing.T) {
	var c Calendar
	if c.Hours() != DefaultHours || c.Holidays() != "" || c.Location() != time.UTC || c.DayLength() != 8*time.Hour {
		t.Fatalf("zero calendar is %s", c)
	}
	mon := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)
	if got := c.Add(mon, 2*time.Hour); !got.Equal(time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("Add = %v", got)
	}
	if s := Default(nil).String(); s != "Mon-Fri 09:00-17:00 UTC" {
		t.Errorf("Default(nil) = %s", s)
	}
}

// Instants carrying a monotonic clock reading (from time.Now) or another
// zone give the same answers; results are in the calendar's zone.
func TestInputsInOtherZones(t *testing.T) {
	c := example(t, "berlin")
	now := time.Now()
	for _, in := range []time.Time{now, now.UTC(), now.In(zone(t, "Asia/Kolkata"))} {
		got := c.Add(in, 3*time.Hour)
		if want := c.Add(now.Round(0), 3*time.Hour); !got.Equal(want) || got.Location() != c.Location() {
			t.Errorf("Add(%v) = %v, want %v in Berlin", in, got, want)
		}
		if c.Between(in, got) != 3*time.Hour {
			t.Errorf("Between(%v, %v) = %v", in, got, c.Between(in, got))
		}
	}
}

// Adding five working days steps span by span, not minute by minute.
func BenchmarkAdd(b *testing.B) {
	c := example(b, "split")
	start := wall(b, c.Location(), "2026-10-28 11:17")
	for _, bc := range []struct {
		name string
		d    time.Duration
	}{{"4h", 4 * time.Hour}, {"5days", 5 * c.DayLength()}, {"60days", 60 * c.DayLength()}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				c.Add(start.Add(time.Duration(i%1000)*time.Hour), bc.d)
			}
		})
	}
}

func BenchmarkBetween(b *testing.B) {
	c := example(b, "split")
	start := wall(b, c.Location(), "2026-10-28 11:17")
	end := start.Add(7 * 24 * time.Hour)
	for i := 0; b.Loop(); i++ {
		d := time.Duration(i%1000) * time.Hour
		c.Between(start.Add(d), end.Add(d))
	}
}
