package calendar

// The property tests live in package calendar_test, so that they can draw
// their cases from calendartest, which imports this package; these are the
// internals they read.

// Examples are the example calendars of the tests, by name: hours,
// holidays, zone.
var Examples = examples

// MustParse parses a calendar of the tests, ending the test on an error.
var MustParse = mustParse

// Zone loads a zone by name, ending the test on an error.
var Zone = zone

// WeekSpans returns c's working spans, indexed by time.Weekday, each
// [from, to) in minutes after midnight on the wall clock.
func WeekSpans(c Calendar) [7][][2]int {
	var week [7][][2]int
	for d, spans := range c.rules().week {
		for _, sp := range spans {
			week[d] = append(week[d], [2]int{sp.from, sp.to})
		}
	}
	return week
}
