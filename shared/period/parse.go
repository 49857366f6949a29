package period

import (
	"fmt"
	"time"
)

// ParseError says why a period name or kind was refused. Period names come
// from request URLs, so the reason is written for the person who typed one.
type ParseError struct {
	// Input is what was parsed, cut to a readable length.
	Input string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("period %q: %s", e.Input, e.Reason)
}

// maxQuoted bounds how much of a refused input an error repeats, so that a
// megabyte of garbage does not become a megabyte of log line.
const maxQuoted = 32

// expected is appended to errors that cannot point at one field.
const expected = "expected a day (2026-11-22), ISO week (2026-W47), month (2026-11) or quarter (2026-Q4)"

// Parse reads a period name in one of the four forms ID prints —
// "2026-11-22", "2026-W47", "2026-11" or "2026-Q4" — and places it in loc
// (nil means UTC). The year has four digits and every field its fixed
// width, so each period has exactly one name. Errors are *ParseError.
func Parse(s string, loc *time.Location) (Period, error) {
	fail := func(format string, args ...any) (Period, error) {
		in := s
		if len(in) > maxQuoted {
			in = in[:maxQuoted] + "…"
		}
		return Period{}, &ParseError{Input: in, Reason: fmt.Sprintf(format, args...)}
	}
	loc = orUTC(loc)

	if s == "" {
		return fail("empty; %s", expected)
	}
	if len(s) < 6 || s[4] != '-' {
		return fail("%s", expected)
	}
	year, ok := digits(s[:4])
	if !ok {
		return fail("the year must be four digits, such as 2026")
	}
	rest := s[5:]

	switch {
	case rest[0] == 'W' || rest[0] == 'w':
		if rest[0] == 'w' {
			return fail("write the week with a capital W, as in %04d-W%s", year, rest[1:])
		}
		week, ok := digits(rest[1:])
		if !ok || len(rest) != 3 {
			return fail("the week must be two digits, 01 to 53, as in 2026-W07")
		}
		weeks := isoWeeksIn(year)
		if week < 1 || week > weeks {
			return fail("week %02d does not exist: %04d has %d ISO weeks", week, year, weeks)
		}
		return Period{kind: Week, first: isoWeekMonday(year, week), loc: loc}, nil

	case rest[0] == 'Q' || rest[0] == 'q':
		if rest[0] == 'q' {
			return fail("write the quarter with a capital Q, as in %04d-Q%s", year, rest[1:])
		}
		q, ok := digits(rest[1:])
		if !ok || len(rest) != 2 || q < 1 || q > 4 {
			return fail("the quarter must be Q1, Q2, Q3 or Q4")
		}
		return Period{kind: Quarter, first: date{year, time.Month(3*q - 2), 1}, loc: loc}, nil
	}

	if len(rest) < 2 {
		return fail("the month must be two digits, 01 to 12")
	}
	month, ok := digits(rest[:2])
	if !ok {
		return fail("the month must be two digits, 01 to 12")
	}
	if month < 1 || month > 12 {
		return fail("month %02d does not exist; months run from 01 to 12", month)
	}
	if len(rest) == 2 {
		return Period{kind: Month, first: date{year, time.Month(month), 1}, loc: loc}, nil
	}

	if rest[2] != '-' {
		return fail("%s", expected)
	}
	day, ok := digits(rest[3:])
	if !ok || len(rest) != 5 {
		return fail("the day must be two digits, as in 2026-11-02")
	}
	if last := daysInMonth(year, time.Month(month)); day < 1 || day > last {
		return fail("day %02d does not exist: %04d-%02d has %d days", day, year, month, last)
	}
	return Period{kind: Day, first: date{year, time.Month(month), day}, loc: loc}, nil
}

// digits reads a run of ASCII digits (no sign, no spaces) as a number. It
// accepts at most four, which is all any field needs and keeps the result
// far from overflow.
func digits(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysInMonth returns 28–31; day 0 of the next month is this month's last.
func daysInMonth(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// isoWeekMonday returns the Monday of ISO week w of ISO year y. Week 1 is
// the week that holds 4 January.
func isoWeekMonday(y, w int) date {
	jan4 := date{y, time.January, 4}
	week1 := jan4.addDays(-((int(jan4.utc().Weekday()) + 6) % 7))
	return week1.addDays(7 * (w - 1))
}

// isoWeeksIn returns 52 or 53: a year has 53 ISO weeks when 28 December,
// which always lies in the year's last week, is in week 53.
func isoWeeksIn(y int) int {
	_, w := date{y, time.December, 28}.utc().ISOWeek()
	return w
}
