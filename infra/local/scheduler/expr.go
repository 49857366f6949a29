package scheduler

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule tells when an expression fires next.
type Schedule interface {
	// Next returns the first firing strictly after t, or the zero time
	// when the expression never fires again.
	Next(t time.Time) time.Time
}

// Parse reads an EventBridge Scheduler expression:
//
//	rate(1 minute) rate(5 minutes) rate(1 hour) rate(2 hours) rate(1 day) rate(7 days)
//	cron(minutes hours day-of-month month day-of-week year)
//
// Cron fields take numbers, names (JAN–DEC, SUN–SAT, with 1 = Sunday),
// "*", lists "a,b", ranges "a-b" and steps "a/n", "*/n", "a-b/n"; exactly
// one of day-of-month and day-of-week must be "?". The L, W and #
// operators and one-time at() expressions are not supported and are
// refused. Cron fields are read in loc (the schedule's time zone); a rate
// fires every interval after the time Next is first given.
func Parse(expr string, loc *time.Location) (Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return parseRate(expr[len("rate(") : len(expr)-1])
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(expr[len("cron("):len(expr)-1], loc)
	default:
		return nil, fmt.Errorf("schedule %q: only rate(…) and cron(…) expressions are supported", expr)
	}
}

// rate fires every interval.
type rate struct{ every time.Duration }

func (r rate) Next(t time.Time) time.Time { return t.Add(r.every) }

var rateRE = regexp.MustCompile(`^\s*([0-9]+)\s+(minute|minutes|hour|hours|day|days)\s*$`)

// parseRate reads "N unit", where unit is singular exactly when N is 1, as
// EventBridge requires.
func parseRate(body string) (Schedule, error) {
	m := rateRE.FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("rate(%s): want rate(N minute|minutes|hour|hours|day|days)", body)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("rate(%s): the value must be a positive whole number", body)
	}
	unit := m[2]
	if singular := !strings.HasSuffix(unit, "s"); singular != (n == 1) {
		return nil, fmt.Errorf("rate(%s): use the singular unit for 1 and the plural for more", body)
	}
	per := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
	return rate{every: time.Duration(n) * per}, nil
}

// cron is a parsed cron expression; each set says which values fire.
type cron struct {
	minutes, hours, doms, months, dows, years []bool
	anyDOM, anyDOW                            bool // the field is "?"
	loc                                       *time.Location
}

// Field bounds.
const (
	minYear = 1970
	maxYear = 2199
)

type field struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
	question bool     // "?" allowed
}

var (
	fMinutes = field{name: "minutes", min: 0, max: 59}
	fHours   = field{name: "hours", min: 0, max: 23}
	fDOM     = field{name: "day-of-month", min: 1, max: 31, question: true}
	fMonths  = field{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	fDOW     = field{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, question: true}
	fYears   = field{name: "year", min: minYear, max: maxYear}
)

func parseCron(body string, loc *time.Location) (Schedule, error) {
	parts := strings.Fields(body)
	if len(parts) != 6 {
		return nil, fmt.Errorf("cron(%s): want 6 fields (minutes hours day-of-month month day-of-week year), got %d", body, len(parts))
	}
	c := &cron{loc: loc}
	var err error
	sets := []*[]bool{&c.minutes, &c.hours, &c.doms, &c.months, &c.dows, &c.years}
	for i, f := range []field{fMinutes, fHours, fDOM, fMonths, fDOW, fYears} {
		if *sets[i], err = f.parse(parts[i]); err != nil {
			return nil, fmt.Errorf("cron(%s): %w", body, err)
		}
	}
	c.anyDOM, c.anyDOW = parts[2] == "?", parts[4] == "?"
	if c.anyDOM == c.anyDOW {
		return nil, fmt.Errorf("cron(%s): exactly one of day-of-month and day-of-week must be ?", body)
	}
	return c, nil
}

// parse reads one field into the set of values it allows.
func (f field) parse(s string) ([]bool, error) {
	set := make([]bool, f.max+1)
	if s == "?" {
		if !f.question {
			return nil, fmt.Errorf("%s: ? is allowed only in day-of-month and day-of-week", f.name)
		}
		for v := f.min; v <= f.max; v++ {
			set[v] = true
		}
		return set, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		lo, hi, step := f.min, f.max, 1
		rng, stepText, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s %q: the step must be a positive whole number", f.name, item)
			}
			step = n
		}
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return nil, err
			}
			if hi, err = f.value(b); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("%s %q: a range must run from low to high", f.name, item)
			}
		default:
			v, err := f.value(rng)
			if err != nil {
				return nil, err
			}
			lo = v
			if !hasStep {
				hi = v
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
		}
	}
	return set, nil
}

// value reads a number or a name within the field's bounds.
func (f field) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		if strings.ContainsAny(s, "LW#") {
			return 0, fmt.Errorf("%s %q: the L, W and # operators are not supported locally", f.name, s)
		}
		return 0, fmt.Errorf("%s %q is not a value", f.name, s)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("%s %d is outside %d–%d", f.name, v, f.min, f.max)
	}
	return v, nil
}

// Next implements Schedule by walking forward field by field, from the
// year down to the minute, in the schedule's zone.
func (c *cron) Next(after time.Time) time.Time {
	t := after.In(c.loc)
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, c.loc).Add(time.Minute)
	for range 1_000_000 {
		y, mo, d := t.Date()
		h, mi := t.Hour(), t.Minute()
		var next time.Time
		switch {
		case y > maxYear:
			return time.Time{}
		case !c.years[y]:
			next = time.Date(y+1, 1, 1, 0, 0, 0, 0, c.loc)
		case !c.months[mo]:
			next = time.Date(y, mo+1, 1, 0, 0, 0, 0, c.loc)
		case !c.dayMatches(t):
			next = time.Date(y, mo, d+1, 0, 0, 0, 0, c.loc)
		case !c.hours[h]:
			next = time.Date(y, mo, d, h+1, 0, 0, 0, c.loc)
		case !c.minutes[mi]:
			next = time.Date(y, mo, d, h, mi+1, 0, 0, c.loc)
		default:
			return t
		}
		if !next.After(t) { // an hour repeated at a daylight-saving change
			next = t.Add(time.Minute)
		}
		t = next
	}
	return time.Time{}
}

func (c *cron) dayMatches(t time.Time) bool {
	if c.anyDOM {
		return c.dows[int(t.Weekday())+1]
	}
	return c.doms[t.Day()]
}
