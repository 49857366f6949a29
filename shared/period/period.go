// Package period names the calendar periods a scorecard covers — a day, an
// ISO week, a month or a quarter — in an organisation's IANA time zone, and
// turns them into the UTC instants that bound them.
//
// A period is a span of civil days, not of hours: a week in Europe/Berlin
// that contains the autumn clock change lasts 169 hours, and a day in
// America/New_York in March lasts 23. Every period is the half-open interval
// [Start, End), so consecutive periods meet without gap or overlap and an
// instant belongs to exactly one period of each kind.
package period

import (
	"fmt"
	"time"
)

// Kind is the length of a period.
type Kind string

// The kinds of period. Weeks are ISO 8601 weeks: they start on Monday, and
// week 1 is the week holding the year's first Thursday, so a week's year can
// differ from the year of some of its days (2027-01-01 lies in 2026-W53).
const (
	Day     Kind = "day"
	Week    Kind = "week"
	Month   Kind = "month"
	Quarter Kind = "quarter"
)

// Kinds lists every kind, shortest first.
func Kinds() []Kind { return []Kind{Day, Week, Month, Quarter} }

// ParseKind reads a kind as written in a request ("day", "week", "month" or
// "quarter").
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if !k.Valid() {
		return "", &ParseError{Input: s, Reason: `kind must be "day", "week", "month" or "quarter"`}
	}
	return k, nil
}

// Valid reports whether k is one of the four kinds.
func (k Kind) Valid() bool {
	switch k {
	case Day, Week, Month, Quarter:
		return true
	}
	return false
}

// Period is one day, ISO week, month or quarter in a time zone. The zero
// Period is not a period; build one with Parse or Containing.
type Period struct {
	kind  Kind
	first date // the first civil day of the period
	loc   *time.Location
}

// Containing returns the period of the given kind, in loc, that contains the
// instant t. A nil loc means UTC. It panics if kind is not valid; kinds that
// come from outside should pass through ParseKind first.
func Containing(t time.Time, kind Kind, loc *time.Location) Period {
	loc = orUTC(loc)
	d := dateOf(t.In(loc))
	switch kind {
	case Day:
	case Week:
		// Monday is day 0 of an ISO week; time.Weekday counts from Sunday.
		d = d.addDays(-((int(d.utc().Weekday()) + 6) % 7))
	case Month:
		d.day = 1
	case Quarter:
		d = date{d.year, (d.month-1)/3*3 + 1, 1}
	default:
		panic(fmt.Sprintf("period: invalid kind %q", kind))
	}
	return Period{kind: kind, first: d, loc: loc}
}

// Kind returns the period's kind.
func (p Period) Kind() Kind { return p.kind }

// Location returns the time zone the period is reckoned in.
func (p Period) Location() *time.Location { return orUTC(p.loc) }

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.kind == "" }

// ID returns the period's name: "2026-11-22", "2026-W47", "2026-11" or
// "2026-Q4". Parse reads it back.
func (p Period) ID() string {
	d := p.first
	switch p.kind {
	case Day:
		return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
	case Week:
		// The ISO year of a week is the year of its Thursday, which
		// ISOWeek works out from the Monday.
		y, w := d.utc().ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Month:
		return fmt.Sprintf("%04d-%02d", d.year, d.month)
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", d.year, (d.month-1)/3+1)
	}
	return ""
}

// String returns the period's ID.
func (p Period) String() string { return p.ID() }

// Start returns the first instant of the period, in UTC.
func (p Period) Start() time.Time { return p.first.start(p.Location()).UTC() }

// End returns the first instant after the period, in UTC: the Start of Next.
func (p Period) End() time.Time { return p.Next().Start() }

// Contains reports whether the instant t lies in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start()) && t.Before(p.End())
}

// Next returns the period of the same kind that follows p.
func (p Period) Next() Period { return p.shift(1) }

// Previous returns the period of the same kind that precedes p: the one a
// scorecard compares against.
func (p Period) Previous() Period { return p.shift(-1) }

// shift moves p by n periods of its kind.
func (p Period) shift(n int) Period {
	q := p
	switch p.kind {
	case Day:
		q.first = p.first.addDays(n)
	case Week:
		q.first = p.first.addDays(7 * n)
	case Month:
		q.first = p.first.addMonths(n)
	case Quarter:
		q.first = p.first.addMonths(3 * n)
	}
	return q
}

// Days returns the day periods that make up p, in order, in p's time zone:
// the daily rollups a week, month or quarter adds up.
func (p Period) Days() []Period {
	n := p.DayCount()
	days := make([]Period, n)
	for i := range days {
		days[i] = Period{kind: Day, first: p.first.addDays(i), loc: p.loc}
	}
	return days
}

// DayCount returns the number of civil days in p: 1, 7, 28–31 or 90–92.
// Daylight-saving changes alter the hours in a period, never its days.
func (p Period) DayCount() int {
	if p.IsZero() {
		return 0
	}
	return p.first.daysUntil(p.Next().first)
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
