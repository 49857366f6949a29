package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ParseError says which of Parse's arguments is wrong and why.
type ParseError struct {
	// Arg is "hours" or "holidays".
	Arg string
	// Reason names the offending part, e.g. `"9-17" is not a span such as
	// 09:00-17:00`.
	Reason string
}

// Error says which argument is wrong and why, e.g. `hours: "9-17" is not a
// span such as 09:00-17:00`.
func (e *ParseError) Error() string { return e.Arg + ": " + e.Reason }

// Parse builds a calendar in loc (nil means UTC) from its working hours and
// holidays.
//
// hours lists days and their spans, groups separated by semicolons:
// "Mon-Fri 09:00-17:00", or "Mon-Thu 09:00-12:30,13:30-17:00; Fri
// 09:00-15:00". Days are Mon…Sun or full English names, in any case, alone,
// in ranges (a range may wrap: Sun-Thu) or in comma lists (Mon,Wed,Fri).
// Times are HH:MM; a span ends after it starts and at 24:00 at the latest,
// so work past midnight is two spans (Mon 22:00-24:00; Tue 00:00-06:00).
// Days not named have no working time. Spans that touch are joined.
//
// holidays is a list of local dates, "2026-12-25,2026-12-26,2027-01-01"
// (commas, semicolons or spaces between them); it may be empty.
//
// A calendar with no working time at all is refused. Errors are a
// *ParseError naming the part at fault.
func Parse(hours, holidays string, loc *time.Location) (Calendar, error) {
	if loc == nil {
		loc = time.UTC
	}
	r := &rules{loc: loc}
	var err error
	if r.week, err = parseHours(hours); err != nil {
		return Calendar{}, &ParseError{Arg: "hours", Reason: err.Error()}
	}
	if r.holidays, err = parseHolidays(holidays); err != nil {
		return Calendar{}, &ParseError{Arg: "holidays", Reason: err.Error()}
	}
	r.dayLen = dayLength(r.week)
	return Calendar{r}, nil
}

// Hours returns the working hours in Parse's form, canonical: days grouped
// into ranges, in week order starting where a group starts, so "Sun-Thu
// 08:00-16:00" comes back as written.
func (c Calendar) Hours() string {
	w := c.rules().week
	// Start at a day whose hours differ from the day before, so that a
	// group running over the week's end (Sun-Thu) stays one range.
	first := time.Monday
	for i := range 7 {
		d := (time.Monday + time.Weekday(i)) % 7
		if !slices.Equal(w[d], w[(d+6)%7]) {
			first = d
			break
		}
	}
	var groups []string
	for i := 0; i < 7; {
		d := (first + time.Weekday(i)) % 7
		j := i + 1
		for j < 7 && slices.Equal(w[(first+time.Weekday(j))%7], w[d]) {
			j++
		}
		if len(w[d]) > 0 {
			days := dayNames[d]
			if j-i > 1 {
				days += "-" + dayNames[(first+time.Weekday(j-1))%7]
			}
			spans := make([]string, len(w[d]))
			for k, sp := range w[d] {
				spans[k] = clock(sp.from) + "-" + clock(sp.to)
			}
			groups = append(groups, days+" "+strings.Join(spans, ","))
		}
		i = j
	}
	return strings.Join(groups, "; ")
}

// Holidays returns the holidays in Parse's form, canonical: dates in order,
// comma-separated, "" for none.
func (c Calendar) Holidays() string {
	hs := c.rules().holidays
	out := make([]string, len(hs))
	for i, n := range hs {
		y, m, d := n.date()
		out[i] = fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	}
	return strings.Join(out, ",")
}

// String describes the calendar for logs and messages, e.g.
// "Mon-Fri 09:00-17:00 Europe/Berlin, holidays 2026-12-25,2026-12-26".
func (c Calendar) String() string {
	s := c.Hours() + " " + c.Location().String()
	if h := c.Holidays(); h != "" {
		s += ", holidays " + h
	}
	return s
}

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// weekday reads a day's name: its first three letters or the whole name.
func weekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, dayNames[d]) || strings.EqualFold(s, d.String()) {
			return d, true
		}
	}
	return 0, false
}

func parseHours(hours string) ([7][]span, error) {
	var week [7][]span
	var named [7]bool
	for group := range strings.SplitSeq(hours, ";") {
		group = strings.TrimSpace(group)
		if group == "" {
			continue
		}
		// The days come before the first digit, the spans from it on.
		cut := strings.IndexAny(group, "0123456789")
		if cut < 0 {
			return week, fmt.Errorf("%q has no spans such as 09:00-17:00", group)
		}
		daysPart, spansPart := strings.TrimRight(group[:cut], ": \t"), group[cut:]
		if daysPart == "" {
			return week, fmt.Errorf("%q names no days; write e.g. Mon-Fri 09:00-17:00", group)
		}
		days, err := parseDays(daysPart)
		if err != nil {
			return week, err
		}
		spans, err := parseSpans(spansPart)
		if err != nil {
			return week, err
		}
		for _, d := range days {
			if named[d] {
				return week, fmt.Errorf("%s is given hours twice", dayNames[d])
			}
			named[d] = true
			week[d] = spans
		}
	}
	for _, spans := range week {
		if len(spans) > 0 {
			return week, nil
		}
	}
	return week, fmt.Errorf("%q has no working time; write e.g. %s", hours, DefaultHours)
}

// parseDays reads "Mon-Fri", "Sat", "Mon,Wed,Fri" or "Sun-Thu".
func parseDays(s string) ([]time.Weekday, error) {
	var days []time.Weekday
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		from, to, isRange := strings.Cut(item, "-")
		first, ok := weekday(strings.TrimSpace(from))
		if !ok {
			return nil, fmt.Errorf("%q is not a day such as Mon or Mon-Fri", item)
		}
		last := first
		if isRange {
			if last, ok = weekday(strings.TrimSpace(to)); !ok {
				return nil, fmt.Errorf("%q is not a day such as Mon or Mon-Fri", item)
			}
		}
		for d := first; ; d = (d + 1) % 7 {
			days = append(days, d)
			if d == last {
				break
			}
		}
	}
	return days, nil
}

// parseSpans reads "09:00-12:30,13:30-17:00" into sorted spans, joining
// those that touch.
func parseSpans(s string) ([]span, error) {
	var spans []span
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		from, to, ok := strings.Cut(item, "-")
		if !ok {
			return nil, fmt.Errorf("%q is not a span such as 09:00-17:00", item)
		}
		a, okA := minutes(strings.TrimSpace(from))
		b, okB := minutes(strings.TrimSpace(to))
		switch {
		case !okA || !okB || a == 24*60:
			return nil, fmt.Errorf("%q is not a span such as 09:00-17:00 (times 00:00 to 24:00)", item)
		case b <= a:
			return nil, fmt.Errorf("%q does not end after it starts; work past midnight is two spans, e.g. Mon 22:00-24:00; Tue 00:00-06:00", item)
		}
		spans = append(spans, span{a, b})
	}
	slices.SortFunc(spans, func(x, y span) int { return x.from - y.from })
	out := spans[:1]
	for _, sp := range spans[1:] {
		prev := &out[len(out)-1]
		switch {
		case sp.from < prev.to:
			return nil, fmt.Errorf("%s-%s and %s-%s overlap", clock(prev.from), clock(prev.to), clock(sp.from), clock(sp.to))
		case sp.from == prev.to:
			prev.to = sp.to
		default:
			out = append(out, sp)
		}
	}
	return slices.Clip(out), nil
}

// minutes reads "09:00" or "9:00" as minutes after midnight, up to 24:00.
func minutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, okH := digits(h)
	mm, okM := digits(m)
	if !okH || !okM || hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

func digits(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

func parseHolidays(s string) ([]day, error) {
	var out []day
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		t, err := time.Parse(time.DateOnly, f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date such as 2026-12-25", f)
		}
		out = append(out, dayFor(t.Date()))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// dayLength is the total of the spans most working days of the week share,
// the longest of equally common totals.
func dayLength(week [7][]span) time.Duration {
	count := map[int]int{}
	best := 0
	for _, spans := range week {
		total := 0
		for _, sp := range spans {
			total += sp.to - sp.from
		}
		if total == 0 {
			continue
		}
		count[total]++
		if count[total] > count[best] || (count[total] == count[best] && total > best) {
			best = total
		}
	}
	return time.Duration(best) * time.Minute
}
