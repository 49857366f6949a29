package period

import "time"

// date is a civil calendar date with no time zone: the name of a day, not an
// instant. Periods are stored as the date of their first day because calendar
// arithmetic on dates never meets a daylight-saving change.
type date struct {
	year  int
	month time.Month
	day   int
}

// dateOf returns the civil date t shows in its own location.
func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// utc returns the date's midnight in UTC, where every day has 24 hours; it is
// used only for calendar arithmetic and weekday/ISO-week questions.
func (d date) utc() time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC)
}

// addDays returns the date n days later (earlier when n is negative).
func (d date) addDays(n int) date {
	return dateOf(d.utc().AddDate(0, 0, n))
}

// addMonths returns the first day of the month n months after d's month.
func (d date) addMonths(n int) date {
	return dateOf(time.Date(d.year, d.month+time.Month(n), 1, 0, 0, 0, 0, time.UTC))
}

// before reports whether d is an earlier day than o.
func (d date) before(o date) bool {
	if d.year != o.year {
		return d.year < o.year
	}
	if d.month != o.month {
		return d.month < o.month
	}
	return d.day < o.day
}

// daysUntil returns the number of days from d to o (o after d).
func (d date) daysUntil(o date) int {
	// Both are UTC midnights, so the difference is a whole number of days.
	return int(o.utc().Sub(d.utc()) / (24 * time.Hour))
}

// start returns the first instant whose civil date in loc is d.
//
// That is local midnight on almost every day, but not all: where clocks jump
// forward at midnight (America/Santiago, America/Havana in spring) the day
// begins at 01:00, and where they fall back across midnight an instant can
// show the same local time twice, in which case the day begins at the first
// occurrence. time.Date does not promise which of two readings it picks, so
// the answer is checked against the zone transitions around it.
func (d date) start(loc *time.Location) time.Time {
	t := time.Date(d.year, d.month, d.day, 0, 0, 0, 0, loc)

	// A skipped midnight may come back as 23:00 of the day before, under
	// the old offset; day d then begins where that offset ends.
	if dateOf(t).before(d) {
		if _, end := t.ZoneBounds(); !end.IsZero() {
			t = end
		}
	}

	// Walk back through earlier offsets while they still show day d, then
	// take the earliest instant of day d under the offset found. A handful
	// of steps covers every real zone; the bound only guards the loop.
	for range 8 {
		zoneStart, _ := t.ZoneBounds()
		if !zoneStart.IsZero() {
			if last := zoneStart.Add(-time.Nanosecond); !dateOf(last).before(d) {
				t = last
				continue
			}
		}
		_, offset := t.Zone()
		midnight := time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.FixedZone("", offset))
		if !zoneStart.IsZero() && midnight.Before(zoneStart) {
			// Midnight did not exist under this offset: the clocks
			// jumped over it, so the day begins at the jump.
			return zoneStart
		}
		return midnight
	}
	return t
}
