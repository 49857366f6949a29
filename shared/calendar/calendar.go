package calendar

import (
	"slices"
	"time"
)

// Calendar is a business calendar: for each day of the week, its working
// spans of wall-clock time; a set of holidays (local dates with no working
// time); and the time zone both are read in. It is an immutable value, safe
// for concurrent use; the zero Calendar is Default(time.UTC).
//
// Working time is measured in real elapsed time, span by span. A span is a
// wall-clock interval, so on the day clocks go forward a 01:00–03:00 span
// holds one real hour, and on the day they go back, three. A span boundary
// that falls in the skipped hour is the instant of the jump; one that falls
// in the repeated hour is its first occurrence (see At).
//
// The boundary rule. Spans are half-open: a 09:00–17:00 span is open at
// 09:00 and closed at 17:00. A deadline is the earliest instant by which
// the working time has elapsed, so working time that runs out exactly at
// closing lands on the closing instant: Add(Mon 13:00, 4h) is Mon 17:00, not
// Tue 09:00. Add(t, 0) is NextOpen(t): "within no working time" of an
// instant outside hours means as soon as the organisation opens. Every
// result of Add is therefore inside working hours or at the closing instant
// of a span; for a span that ends at 24:00, that instant is the following
// midnight.
type Calendar struct{ r *rules }

// rules is a Calendar's content, shared by every copy of the value and never
// changed after Parse builds it.
type rules struct {
	loc      *time.Location
	week     [7][]span // indexed by time.Weekday; sorted, neither overlapping nor touching
	holidays []day     // sorted, no duplicates
	dayLen   time.Duration
}

// span is one working span of a day, [from, to) in minutes after midnight
// on the wall clock; to may be 24*60.
type span struct{ from, to int }

// DefaultHours are the working hours of Default.
const DefaultHours = "Mon-Fri 09:00-17:00"

var defaultUTC = Default(time.UTC)

// Default returns the calendar of Monday to Friday, 09:00–17:00 in loc,
// with no holidays. A nil loc means UTC.
func Default(loc *time.Location) Calendar {
	c, err := Parse(DefaultHours, "", loc)
	if err != nil {
		panic("calendar: default hours do not parse: " + err.Error())
	}
	return c
}

func (c Calendar) rules() *rules {
	if c.r == nil {
		return defaultUTC.r
	}
	return c.r
}

// Location returns the time zone the calendar's hours and holidays are in.
func (c Calendar) Location() *time.Location { return c.rules().loc }

// DayLength returns the length of a standard working day, so that targets
// in "business days" can be held as working time: the total of the spans
// shared by most working days of the week, and of those the longest when
// two lengths are equally common. It is 8h for Mon–Fri 09:00–17:00 and for
// Mon–Thu 09:00–17:00 with a short Friday; a day of 09:00–12:30 and
// 13:30–17:00 is 7h.
func (c Calendar) DayLength() time.Duration { return c.rules().dayLen }

// IsOpen reports whether t is inside working hours.
func (c Calendar) IsOpen(t time.Time) bool {
	open := false
	c.rules().walk(t, func(s, _ time.Time) bool {
		open = !s.After(t)
		return false
	})
	return open
}

// IsWorkingDay reports whether t's local date has working hours: a day of
// the week with hours that is not a holiday.
func (c Calendar) IsWorkingDay(t time.Time) bool {
	r := c.rules()
	n := r.dayOf(t)
	return len(r.week[n.weekday()]) > 0 && !r.isHoliday(n)
}

// NextOpen returns t if it is inside working hours, and otherwise the
// instant the next working span opens.
func (c Calendar) NextOpen(t time.Time) time.Time {
	r := c.rules()
	t = t.Round(0)
	var next time.Time
	r.walk(t, func(s, _ time.Time) bool {
		next = later(s, t)
		return false
	})
	return next.In(r.loc)
}

// Add returns the deadline d of working time after t: the earliest instant
// u with Between(t, u) == d. It is never outside working hours, though it
// may be the closing instant of a span (see the boundary rule on Calendar).
// Add(t, 0), and Add with a negative d, return NextOpen(t).
func (c Calendar) Add(t time.Time, d time.Duration) time.Time {
	r := c.rules()
	t = t.Round(0)
	if d <= 0 {
		return c.NextOpen(t)
	}
	var end time.Time
	r.walk(t, func(s, e time.Time) bool {
		s = later(s, t)
		if avail := e.Sub(s); d > avail {
			d -= avail
			return true
		}
		end = s.Add(d)
		return false
	})
	return end.In(r.loc)
}

// Between returns the working time in [a, b): how long a clock that runs
// only in working hours runs from a to b. It is 0 when b is not after a.
// For any d > 0, Between(t, Add(t, d)) == d exactly.
func (c Calendar) Between(a, b time.Time) time.Duration {
	a, b = a.Round(0), b.Round(0)
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	c.rules().walk(a, func(s, e time.Time) bool {
		if !s.Before(b) {
			return false
		}
		sum += earlier(e, b).Sub(later(s, a))
		return e.Before(b)
	})
	return sum
}

// NextWorkingMorning returns the opening of the first working day after t's
// local date: the start of that day's first span. Resolved on Friday
// afternoon, or on Friday before opening, it is Monday's opening.
func (c Calendar) NextWorkingMorning(t time.Time) time.Time {
	r := c.rules()
	for n := r.dayOf(t) + 1; ; n++ {
		var open time.Time
		r.spansOn(n, func(s, _ time.Time) bool {
			open = s
			return false
		})
		if !open.IsZero() {
			return open.In(r.loc)
		}
	}
}

// walk calls fn with the working spans, as instants [s, e), that end after
// from, in order, until fn returns false. The first may have begun before
// from; callers clip it.
func (r *rules) walk(from time.Time, fn func(s, e time.Time) bool) {
	// Start a day early: a span of the previous date can still be running
	// where a clock going back across midnight repeats the date's last hour.
	var last time.Time // end of the last span given, so none overlap even in odd zones
	more := true
	for n := r.dayOf(from) - 1; more; n++ {
		r.spansOn(n, func(s, e time.Time) bool {
			s = later(s, last)
			if !e.After(s) || !e.After(from) {
				return true
			}
			last = e
			more = fn(s, e)
			return more
		})
	}
}

// spansOn calls fn with day n's working spans as instants, in order, until
// fn returns false. A holiday or a day without hours has none; a span a
// clock change swallows whole (02:00–02:30 on the day 02:00 becomes 03:00)
// is empty, and given as such.
func (r *rules) spansOn(n day, fn func(s, e time.Time) bool) {
	spans := r.week[n.weekday()]
	if len(spans) == 0 || r.isHoliday(n) {
		return
	}
	y, m, d := n.date()
	for _, sp := range spans {
		s := At(r.loc, y, m, d, 0, sp.from)
		e := At(r.loc, y, m, d, 0, sp.to)
		if e.After(s) && !fn(s, e) {
			return
		}
	}
}

func (r *rules) isHoliday(n day) bool {
	_, found := slices.BinarySearch(r.holidays, n)
	return found
}

func (r *rules) dayOf(t time.Time) day {
	y, m, d := t.In(r.loc).Date()
	return dayFor(y, m, d)
}

// day is a civil date, counted in days from 1970-01-01.
type day int64

func dayFor(y int, m time.Month, d int) day {
	// A UTC midnight is a whole number of days after the epoch.
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (n day) date() (int, time.Month, int) {
	return time.Unix(int64(n)*86400, 0).UTC().Date()
}

func (n day) weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday(((int64(n)+4)%7 + 7) % 7)
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}
