package sla

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
)

// Priority is a ticket's priority, which chooses its SLA targets.
type Priority string

// The priorities, most pressing first.
const (
	Urgent Priority = "urgent"
	High   Priority = "high"
	Normal Priority = "normal"
	Low    Priority = "low"
)

// priorities lists the priorities in Policies' order, most pressing first.
var priorities = [...]Priority{Urgent, High, Normal, Low}

// Priorities returns every priority, most pressing first.
func Priorities() []Priority { return priorities[:] }

// Valid reports whether p is one of the four priorities.
func (p Priority) Valid() bool { return p.index() >= 0 }

func (p Priority) index() int {
	for i, q := range priorities {
		if p == q {
			return i
		}
	}
	return -1
}

// Kind names one of a ticket's two SLA clocks, for timer ids and event
// details.
type Kind string

// The two clocks: first response stops at the first reply to the
// customer and never pauses; resolution stops when the ticket is resolved
// and pauses while it waits on the customer or a third party.
const (
	FirstResponse Kind = "first_response"
	Resolution    Kind = "resolution"
)

// Policy is the pair of targets of one priority, in business time.
type Policy struct {
	FirstResponse time.Duration
	Resolution    time.Duration
}

// Target returns the target of clock k, or 0 for an unknown kind.
func (p Policy) Target(k Kind) time.Duration {
	switch k {
	case FirstResponse:
		return p.FirstResponse
	case Resolution:
		return p.Resolution
	}
	return 0
}

// maxTargetDays bounds a target, so that a typo such as 5000d cannot make
// a deadline computation walk a decade of calendar: a business year of
// standard days is generous for any resolution target.
const maxTargetDays = 250

// Policies holds the Policy of every priority, and the calendar day length
// its "d" targets were read with. The zero value has no targets; use
// DefaultPolicies or ParsePolicies.
type Policies struct {
	byPriority [len(priorities)]Policy
	day        time.Duration
}

// DefaultPolicies returns the targets of issue 8, where a business day is
// cal's standard working day (cal.DayLength(), 8h for Mon–Fri 09:00–17:00):
// urgent 1h / 4h, high 4h / 1d, normal 8h / 3d, low 1d / 5d (first response
// / resolution).
func DefaultPolicies(cal calendar.Calendar) Policies {
	day := cal.DayLength()
	return Policies{
		byPriority: [...]Policy{
			{time.Hour, 4 * time.Hour},
			{4 * time.Hour, day},
			{8 * time.Hour, 3 * day},
			{day, 5 * day},
		},
		day: day,
	}
}

// DefaultPoliciesString is DefaultPolicies in ParsePolicies' form, for
// settings and documentation.
const DefaultPoliciesString = "urgent=1h/4h,high=4h/1d,normal=8h/3d,low=1d/5d"

// For returns the policy of priority p; ok is false for an unknown
// priority.
func (ps Policies) For(p Priority) (pol Policy, ok bool) {
	i := p.index()
	if i < 0 {
		return Policy{}, false
	}
	return ps.byPriority[i], true
}

// ParseError says which priority's setting is wrong and why.
type ParseError struct {
	// Priority is the priority the entry names, as written, or "" when the
	// entry names none.
	Priority string
	// Reason names the offending part, e.g. `first response "4x" is not a
	// duration such as 30m, 4h or 1d`.
	Reason string
}

func (e *ParseError) Error() string {
	if e.Priority == "" {
		return "sla policies: " + e.Reason
	}
	return "sla policy " + e.Priority + ": " + e.Reason
}

// ParsePolicies reads SLA targets from a setting such as
// "urgent=1h/4h,high=4h/1d,normal=8h/3d,low=1d/5d": comma-separated
// entries priority=first-response/resolution. Durations are one or more
// terms of a number and a unit, d (business days of cal.DayLength()), h or
// m: "45m", "1.5h", "1d4h". Each target is a whole number of minutes, at
// least one, and at most 250 business days; a first-response target may
// not exceed its resolution target. Priorities not listed keep their
// default targets, so "urgent=30m/2h" changes only urgent; "" is
// DefaultPolicies. Errors are a *ParseError naming the priority.
func ParsePolicies(s string, cal calendar.Calendar) (Policies, error) {
	ps := DefaultPolicies(cal)
	var seen [len(priorities)]bool
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, targets, ok := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return Policies{}, &ParseError{Priority: name, Reason: fmt.Sprintf("%q is not an entry such as high=4h/1d", entry)}
		}
		p := Priority(strings.ToLower(name))
		i := p.index()
		switch {
		case i < 0:
			return Policies{}, &ParseError{Priority: name, Reason: fmt.Sprintf("%q is not a priority (urgent, high, normal or low)", name)}
		case seen[i]:
			return Policies{}, &ParseError{Priority: string(p), Reason: "is given twice"}
		}
		seen[i] = true
		fr, res, ok := strings.Cut(targets, "/")
		if !ok {
			return Policies{}, &ParseError{Priority: string(p), Reason: fmt.Sprintf("%q is not first-response/resolution, e.g. 4h/1d", strings.TrimSpace(targets))}
		}
		var pol Policy
		var err error
		if pol.FirstResponse, err = parseTarget(strings.TrimSpace(fr), ps.day); err != nil {
			return Policies{}, &ParseError{Priority: string(p), Reason: "first response " + err.Error()}
		}
		if pol.Resolution, err = parseTarget(strings.TrimSpace(res), ps.day); err != nil {
			return Policies{}, &ParseError{Priority: string(p), Reason: "resolution " + err.Error()}
		}
		if pol.FirstResponse > pol.Resolution {
			return Policies{}, &ParseError{Priority: string(p), Reason: fmt.Sprintf("first response %s is longer than resolution %s", fr, res)}
		}
		ps.byPriority[i] = pol
	}
	return ps, nil
}

// parseTarget reads "1d4h", "90m" or "1.5d" exactly (big.Rat, so 0.1d is
// not a float's approximation of it).
func parseTarget(s string, day time.Duration) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration such as 30m, 4h or 1d", s)
	if s == "" {
		return 0, bad
	}
	total := new(big.Rat)
	for rest := s; rest != ""; {
		n := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if n <= 0 || n == len(rest) || strings.Count(rest[:n], ".") > 1 || rest[0] == '.' || rest[n-1] == '.' || n > 12 {
			return 0, bad
		}
		num, ok := new(big.Rat).SetString(rest[:n])
		if !ok {
			return 0, bad
		}
		var unit time.Duration
		switch rest[n] {
		case 'd':
			unit = day
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		default:
			return 0, bad
		}
		total.Add(total, num.Mul(num, new(big.Rat).SetInt64(int64(unit))))
		rest = rest[n+1:]
	}
	max := new(big.Rat).SetInt64(int64(maxTargetDays * day))
	switch {
	case total.Sign() <= 0:
		return 0, fmt.Errorf("%q is not positive", s)
	case total.Cmp(max) > 0:
		return 0, fmt.Errorf("%q is longer than %d business days", s, maxTargetDays)
	case !total.IsInt() || new(big.Int).Rem(total.Num(), big.NewInt(int64(time.Minute))).Sign() != 0:
		return 0, fmt.Errorf("%q is not a whole number of minutes", s)
	}
	return time.Duration(total.Num().Int64()), nil
}

// String returns the policies in ParsePolicies' form, canonical: every
// priority, most pressing first, targets in whole days where they are
// ("8h" is "1d" on an 8-hour day). ParsePolicies of it, with a calendar of
// the same day length, gives the same policies.
func (ps Policies) String() string {
	entries := make([]string, len(priorities))
	for i, p := range priorities {
		pol := ps.byPriority[i]
		entries[i] = fmt.Sprintf("%s=%s/%s", p, formatTarget(pol.FirstResponse, ps.day), formatTarget(pol.Resolution, ps.day))
	}
	return strings.Join(entries, ",")
}

func formatTarget(d, day time.Duration) string {
	var b strings.Builder
	if day > 0 && d >= day {
		fmt.Fprintf(&b, "%dd", d/day)
		d %= day
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d %= time.Hour
	}
	if m := d / time.Minute; m > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	return b.String()
}
