package sla

import (
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
)

// The calendars of TestDefaultPolicyDeadlines: hours, holidays, zone.
var deadlineCalendars = map[string][3]string{
	// Monday to Friday 09:00–17:00: a business day is 8h, so the default
	// targets are urgent 1h/4h, high 4h/8h, normal 8h/24h, low 8h/40h.
	"utc":    {calendar.DefaultHours, "", "UTC"},
	"berlin": {calendar.DefaultHours, "", "Europe/Berlin"},
	"ny":     {calendar.DefaultHours, "", "America/New_York"},
	// Friday 1 May 2026 is a holiday.
	"mayday": {calendar.DefaultHours, "2026-05-01", "Europe/Berlin"},
	// Christmas and New Year's Day (a Thursday) are holidays, New Year's
	// Eve and Friday 2 January are not.
	"newyear": {calendar.DefaultHours, "2025-12-25,2025-12-26,2026-01-01", "Europe/Berlin"},
	// A lunch break: 3h + 4h, a 7h business day, so the targets are urgent
	// 1h/4h, high 4h/7h, normal 8h/21h, low 7h/35h.
	"lunch": {"Mon-Fri 09:00-12:00,13:00-17:00", "", "America/New_York"},
	// Round the clock: business time is real time and a business day is
	// 24h, so the targets are urgent 1h/4h, high 4h/24h, normal 8h/72h,
	// low 24h/120h, and the nights the clocks change are 23h or 25h long.
	"ny24":     {"Mon-Sun 00:00-24:00", "", "America/New_York"},
	"berlin24": {"Mon-Sun 00:00-24:00", "", "Europe/Berlin"},
}

// instantLayout is how the table writes instants: the local wall clock and
// its offset, so an instant in an hour that happens twice is unambiguous.
const instantLayout = "2006-01-02 15:04 -07:00"

// instant reads s in instantLayout and checks that its offset is the one
// loc has then, so a row cannot name an instant by the wrong wall clock.
func instant(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	u, err := time.Parse(instantLayout, s)
	if err != nil {
		t.Fatalf("instant %q: %v", s, err)
	}
	u = u.In(loc)
	if got := u.Format(instantLayout); got != s {
		t.Fatalf("instant %q is %q in %s: wrong offset", s, got, loc)
	}
	return u
}

// TestDefaultPolicyDeadlines checks, for every default policy, the
// warning (75%), breach (100%) and escalation (150%) instants of both
// clocks of a ticket that is never paused: across a weekend, a holiday,
// split days, the weeks and the nights of both clock changes in New York
// and Berlin, and a year end. Each block of rows says, by hand, how much
// business time has elapsed at each closing instant after the start; the
// instants follow by counting on from there.
func TestDefaultPolicyDeadlines(t *testing.T) {
	type stages [3]string // warning, breach, escalation
	for _, tc := range []struct {
		name, cal string
		start     string
		p         Priority
		fr, res   stages
	}{
		// A weekend, UTC. From Friday 6 November 2026 15:00: Fri 17:00 2h;
		// Mon 9 17:00 10h; Tue 18h; Wed 26h; Thu 34h; Fri 13 42h; Mon 16
		// 50h; Tue 58h. So Monday 09:00 + (x − 2h), Tuesday 09:00 + (x −
		// 10h), and so on. Normal's resolution warning (18h) lands exactly
		// on Tuesday's closing instant, not Wednesday's opening.
		{"weekend", "utc", "2026-11-06 15:00 +00:00", Urgent,
			stages{"2026-11-06 15:45 +00:00", "2026-11-06 16:00 +00:00", "2026-11-06 16:30 +00:00"},
			stages{"2026-11-09 10:00 +00:00", "2026-11-09 11:00 +00:00", "2026-11-09 13:00 +00:00"}},
		{"weekend", "utc", "2026-11-06 15:00 +00:00", High,
			stages{"2026-11-09 10:00 +00:00", "2026-11-09 11:00 +00:00", "2026-11-09 13:00 +00:00"},
			stages{"2026-11-09 13:00 +00:00", "2026-11-09 15:00 +00:00", "2026-11-10 11:00 +00:00"}},
		{"weekend", "utc", "2026-11-06 15:00 +00:00", Normal,
			stages{"2026-11-09 13:00 +00:00", "2026-11-09 15:00 +00:00", "2026-11-10 11:00 +00:00"},
			stages{"2026-11-10 17:00 +00:00", "2026-11-11 15:00 +00:00", "2026-11-13 11:00 +00:00"}},
		{"weekend", "utc", "2026-11-06 15:00 +00:00", Low,
			stages{"2026-11-09 13:00 +00:00", "2026-11-09 15:00 +00:00", "2026-11-10 11:00 +00:00"},
			stages{"2026-11-12 13:00 +00:00", "2026-11-13 15:00 +00:00", "2026-11-18 11:00 +00:00"}},

		// A holiday, Berlin (CEST). From Thursday 30 April 2026 14:00:
		// Thu 17:00 3h; Friday 1 May is a holiday, then the weekend; Mon 4
		// 17:00 11h; Tue 19h; Wed 27h; Thu 7 35h; Fri 8 43h; Mon 11 51h;
		// Tue 59h. Urgent's resolution warning and high's first-response
		// warning (3h) land on Thursday's closing instant.
		{"holiday", "mayday", "2026-04-30 14:00 +02:00", Urgent,
			stages{"2026-04-30 14:45 +02:00", "2026-04-30 15:00 +02:00", "2026-04-30 15:30 +02:00"},
			stages{"2026-04-30 17:00 +02:00", "2026-05-04 10:00 +02:00", "2026-05-04 12:00 +02:00"}},
		{"holiday", "mayday", "2026-04-30 14:00 +02:00", High,
			stages{"2026-04-30 17:00 +02:00", "2026-05-04 10:00 +02:00", "2026-05-04 12:00 +02:00"},
			stages{"2026-05-04 12:00 +02:00", "2026-05-04 14:00 +02:00", "2026-05-05 10:00 +02:00"}},
		{"holiday", "mayday", "2026-04-30 14:00 +02:00", Normal,
			stages{"2026-05-04 12:00 +02:00", "2026-05-04 14:00 +02:00", "2026-05-05 10:00 +02:00"},
			stages{"2026-05-05 16:00 +02:00", "2026-05-06 14:00 +02:00", "2026-05-08 10:00 +02:00"}},
		{"holiday", "mayday", "2026-04-30 14:00 +02:00", Low,
			stages{"2026-05-04 12:00 +02:00", "2026-05-04 14:00 +02:00", "2026-05-05 10:00 +02:00"},
			stages{"2026-05-07 12:00 +02:00", "2026-05-08 14:00 +02:00", "2026-05-13 10:00 +02:00"}},

		// Split days, New York (EDT), 09:00–12:00 and 13:00–17:00. Targets
		// urgent 1h/4h, high 4h/7h, normal 8h/21h, low 7h/35h; their 75%
		// and 150% are 45m/1h30m, 3h/6h, 5h15m/10h30m, 6h/12h, 15h45m/31h30m,
		// 26h15m/52h30m. From Wednesday 10 June 2026 11:00: Wed 12:00 1h,
		// 17:00 5h; Thu 11 12:00 8h, 17:00 12h; Fri 12 15h, 19h; Mon 15
		// 22h, 26h; Tue 29h, 33h; Wed 17 36h, 40h; Thu 43h, 47h; Fri 19
		// 50h, 54h. Urgent's first response (1h) falls due at 12:00, as
		// lunch begins, not at 13:00; normal's escalation (12h) at
		// Thursday's closing.
		{"split days", "lunch", "2026-06-10 11:00 -04:00", Urgent,
			stages{"2026-06-10 11:45 -04:00", "2026-06-10 12:00 -04:00", "2026-06-10 13:30 -04:00"},
			stages{"2026-06-10 15:00 -04:00", "2026-06-10 16:00 -04:00", "2026-06-11 10:00 -04:00"}},
		{"split days", "lunch", "2026-06-10 11:00 -04:00", High,
			stages{"2026-06-10 15:00 -04:00", "2026-06-10 16:00 -04:00", "2026-06-11 10:00 -04:00"},
			stages{"2026-06-11 09:15 -04:00", "2026-06-11 11:00 -04:00", "2026-06-11 15:30 -04:00"}},
		{"split days", "lunch", "2026-06-10 11:00 -04:00", Normal,
			stages{"2026-06-11 10:00 -04:00", "2026-06-11 12:00 -04:00", "2026-06-11 17:00 -04:00"},
			stages{"2026-06-12 13:45 -04:00", "2026-06-15 11:00 -04:00", "2026-06-16 15:30 -04:00"}},
		{"split days", "lunch", "2026-06-10 11:00 -04:00", Low,
			stages{"2026-06-11 09:15 -04:00", "2026-06-11 11:00 -04:00", "2026-06-11 15:30 -04:00"},
			stages{"2026-06-16 09:15 -04:00", "2026-06-17 11:00 -04:00", "2026-06-19 15:30 -04:00"}},

		// New York springs forward on Sunday 8 March 2026 (EST → EDT). From
		// Friday 6 March 16:30 EST: Fri 17:00 0.5h; then day k of the
		// following weeks (Mon 9, Tue 10, … Fri 13, Mon 16, Tue 17, Wed
		// 18) closes at 8k + 8.5h, so x falls due at 08:30 + (x − 8k) EDT.
		{"New York spring forward week", "ny", "2026-03-06 16:30 -05:00", Urgent,
			stages{"2026-03-09 09:15 -04:00", "2026-03-09 09:30 -04:00", "2026-03-09 10:00 -04:00"},
			stages{"2026-03-09 11:30 -04:00", "2026-03-09 12:30 -04:00", "2026-03-09 14:30 -04:00"}},
		{"New York spring forward week", "ny", "2026-03-06 16:30 -05:00", High,
			stages{"2026-03-09 11:30 -04:00", "2026-03-09 12:30 -04:00", "2026-03-09 14:30 -04:00"},
			stages{"2026-03-09 14:30 -04:00", "2026-03-09 16:30 -04:00", "2026-03-10 12:30 -04:00"}},
		{"New York spring forward week", "ny", "2026-03-06 16:30 -05:00", Normal,
			stages{"2026-03-09 14:30 -04:00", "2026-03-09 16:30 -04:00", "2026-03-10 12:30 -04:00"},
			stages{"2026-03-11 10:30 -04:00", "2026-03-11 16:30 -04:00", "2026-03-13 12:30 -04:00"}},
		{"New York spring forward week", "ny", "2026-03-06 16:30 -05:00", Low,
			stages{"2026-03-09 14:30 -04:00", "2026-03-09 16:30 -04:00", "2026-03-10 12:30 -04:00"},
			stages{"2026-03-12 14:30 -04:00", "2026-03-13 16:30 -04:00", "2026-03-18 12:30 -04:00"}},

		// New York falls back on Sunday 1 November 2026 (EDT → EST). From
		// Thursday 29 October 10:00 EDT: Thu 17:00 7h; Fri 30 15h; Mon 2
		// November 23h (EST from here); Tue 31h; Wed 39h; Thu 5 47h; Fri
		// 55h; Mon 9 63h.
		{"New York fall back week", "ny", "2026-10-29 10:00 -04:00", Urgent,
			stages{"2026-10-29 10:45 -04:00", "2026-10-29 11:00 -04:00", "2026-10-29 11:30 -04:00"},
			stages{"2026-10-29 13:00 -04:00", "2026-10-29 14:00 -04:00", "2026-10-29 16:00 -04:00"}},
		{"New York fall back week", "ny", "2026-10-29 10:00 -04:00", High,
			stages{"2026-10-29 13:00 -04:00", "2026-10-29 14:00 -04:00", "2026-10-29 16:00 -04:00"},
			stages{"2026-10-29 16:00 -04:00", "2026-10-30 10:00 -04:00", "2026-10-30 14:00 -04:00"}},
		{"New York fall back week", "ny", "2026-10-29 10:00 -04:00", Normal,
			stages{"2026-10-29 16:00 -04:00", "2026-10-30 10:00 -04:00", "2026-10-30 14:00 -04:00"},
			stages{"2026-11-02 12:00 -05:00", "2026-11-03 10:00 -05:00", "2026-11-04 14:00 -05:00"}},
		{"New York fall back week", "ny", "2026-10-29 10:00 -04:00", Low,
			stages{"2026-10-29 16:00 -04:00", "2026-10-30 10:00 -04:00", "2026-10-30 14:00 -04:00"},
			stages{"2026-11-03 16:00 -05:00", "2026-11-05 10:00 -05:00", "2026-11-09 14:00 -05:00"}},

		// Berlin springs forward on Sunday 29 March 2026 (CET → CEST). From
		// Thursday 26 March 14:00 CET: Thu 17:00 3h; Fri 27 11h; Mon 30
		// 19h (CEST from here); Tue 27h; Wed 1 April 35h; Thu 43h; Fri 51h;
		// Mon 6 59h; Tue 67h.
		{"Berlin spring forward week", "berlin", "2026-03-26 14:00 +01:00", Urgent,
			stages{"2026-03-26 14:45 +01:00", "2026-03-26 15:00 +01:00", "2026-03-26 15:30 +01:00"},
			stages{"2026-03-26 17:00 +01:00", "2026-03-27 10:00 +01:00", "2026-03-27 12:00 +01:00"}},
		{"Berlin spring forward week", "berlin", "2026-03-26 14:00 +01:00", High,
			stages{"2026-03-26 17:00 +01:00", "2026-03-27 10:00 +01:00", "2026-03-27 12:00 +01:00"},
			stages{"2026-03-27 12:00 +01:00", "2026-03-27 14:00 +01:00", "2026-03-30 10:00 +02:00"}},
		{"Berlin spring forward week", "berlin", "2026-03-26 14:00 +01:00", Normal,
			stages{"2026-03-27 12:00 +01:00", "2026-03-27 14:00 +01:00", "2026-03-30 10:00 +02:00"},
			stages{"2026-03-30 16:00 +02:00", "2026-03-31 14:00 +02:00", "2026-04-02 10:00 +02:00"}},
		{"Berlin spring forward week", "berlin", "2026-03-26 14:00 +01:00", Low,
			stages{"2026-03-27 12:00 +01:00", "2026-03-27 14:00 +01:00", "2026-03-30 10:00 +02:00"},
			stages{"2026-04-01 12:00 +02:00", "2026-04-02 14:00 +02:00", "2026-04-07 10:00 +02:00"}},

		// Berlin falls back on Sunday 25 October 2026 (CEST → CET). From
		// Friday 23 October 12:00 CEST: Fri 17:00 5h; Mon 26 13h (CET from
		// here); Tue 21h; Wed 29h; Thu 37h; Fri 30 45h; Mon 2 November
		// 53h; Tue 61h.
		{"Berlin fall back week", "berlin", "2026-10-23 12:00 +02:00", Urgent,
			stages{"2026-10-23 12:45 +02:00", "2026-10-23 13:00 +02:00", "2026-10-23 13:30 +02:00"},
			stages{"2026-10-23 15:00 +02:00", "2026-10-23 16:00 +02:00", "2026-10-26 10:00 +01:00"}},
		{"Berlin fall back week", "berlin", "2026-10-23 12:00 +02:00", High,
			stages{"2026-10-23 15:00 +02:00", "2026-10-23 16:00 +02:00", "2026-10-26 10:00 +01:00"},
			stages{"2026-10-26 10:00 +01:00", "2026-10-26 12:00 +01:00", "2026-10-26 16:00 +01:00"}},
		{"Berlin fall back week", "berlin", "2026-10-23 12:00 +02:00", Normal,
			stages{"2026-10-26 10:00 +01:00", "2026-10-26 12:00 +01:00", "2026-10-26 16:00 +01:00"},
			stages{"2026-10-27 14:00 +01:00", "2026-10-28 12:00 +01:00", "2026-10-29 16:00 +01:00"}},
		{"Berlin fall back week", "berlin", "2026-10-23 12:00 +02:00", Low,
			stages{"2026-10-26 10:00 +01:00", "2026-10-26 12:00 +01:00", "2026-10-26 16:00 +01:00"},
			stages{"2026-10-29 10:00 +01:00", "2026-10-30 12:00 +01:00", "2026-11-03 16:00 +01:00"}},

		// The night New York springs forward, round the clock. From
		// Saturday 7 March 23:00 EST, x of business time is x of real
		// time: the wall clock reads 23:00 + x until 02:00 EST (x = 3h),
		// when it jumps to 03:00 EDT, and 23:00 + x + 1h after.
		{"New York spring forward night", "ny24", "2026-03-07 23:00 -05:00", Urgent,
			stages{"2026-03-07 23:45 -05:00", "2026-03-08 00:00 -05:00", "2026-03-08 00:30 -05:00"},
			stages{"2026-03-08 03:00 -04:00", "2026-03-08 04:00 -04:00", "2026-03-08 06:00 -04:00"}},
		{"New York spring forward night", "ny24", "2026-03-07 23:00 -05:00", High,
			stages{"2026-03-08 03:00 -04:00", "2026-03-08 04:00 -04:00", "2026-03-08 06:00 -04:00"},
			stages{"2026-03-08 18:00 -04:00", "2026-03-09 00:00 -04:00", "2026-03-09 12:00 -04:00"}},
		{"New York spring forward night", "ny24", "2026-03-07 23:00 -05:00", Normal,
			stages{"2026-03-08 06:00 -04:00", "2026-03-08 08:00 -04:00", "2026-03-08 12:00 -04:00"},
			stages{"2026-03-10 06:00 -04:00", "2026-03-11 00:00 -04:00", "2026-03-12 12:00 -04:00"}},
		{"New York spring forward night", "ny24", "2026-03-07 23:00 -05:00", Low,
			stages{"2026-03-08 18:00 -04:00", "2026-03-09 00:00 -04:00", "2026-03-09 12:00 -04:00"},
			stages{"2026-03-11 18:00 -04:00", "2026-03-13 00:00 -04:00", "2026-03-15 12:00 -04:00"}},

		// The night New York falls back, round the clock. From Saturday 31
		// October 23:00 EDT (03:00 UTC): at 02:00 EDT (x = 3h) the wall
		// clock goes back to 01:00 EST, so after it reads 23:00 + x − 1h,
		// and x = 3h is the second 01:00.
		{"New York fall back night", "ny24", "2026-10-31 23:00 -04:00", Urgent,
			stages{"2026-10-31 23:45 -04:00", "2026-11-01 00:00 -04:00", "2026-11-01 00:30 -04:00"},
			stages{"2026-11-01 01:00 -05:00", "2026-11-01 02:00 -05:00", "2026-11-01 04:00 -05:00"}},
		{"New York fall back night", "ny24", "2026-10-31 23:00 -04:00", High,
			stages{"2026-11-01 01:00 -05:00", "2026-11-01 02:00 -05:00", "2026-11-01 04:00 -05:00"},
			stages{"2026-11-01 16:00 -05:00", "2026-11-01 22:00 -05:00", "2026-11-02 10:00 -05:00"}},
		{"New York fall back night", "ny24", "2026-10-31 23:00 -04:00", Normal,
			stages{"2026-11-01 04:00 -05:00", "2026-11-01 06:00 -05:00", "2026-11-01 10:00 -05:00"},
			stages{"2026-11-03 04:00 -05:00", "2026-11-03 22:00 -05:00", "2026-11-05 10:00 -05:00"}},
		{"New York fall back night", "ny24", "2026-10-31 23:00 -04:00", Low,
			stages{"2026-11-01 16:00 -05:00", "2026-11-01 22:00 -05:00", "2026-11-02 10:00 -05:00"},
			stages{"2026-11-04 16:00 -05:00", "2026-11-05 22:00 -05:00", "2026-11-08 10:00 -05:00"}},

		// The night Berlin springs forward, round the clock. From Saturday
		// 28 March 23:00 CET: at 02:00 CET (x = 3h) the clock jumps to
		// 03:00 CEST.
		{"Berlin spring forward night", "berlin24", "2026-03-28 23:00 +01:00", Urgent,
			stages{"2026-03-28 23:45 +01:00", "2026-03-29 00:00 +01:00", "2026-03-29 00:30 +01:00"},
			stages{"2026-03-29 03:00 +02:00", "2026-03-29 04:00 +02:00", "2026-03-29 06:00 +02:00"}},
		{"Berlin spring forward night", "berlin24", "2026-03-28 23:00 +01:00", High,
			stages{"2026-03-29 03:00 +02:00", "2026-03-29 04:00 +02:00", "2026-03-29 06:00 +02:00"},
			stages{"2026-03-29 18:00 +02:00", "2026-03-30 00:00 +02:00", "2026-03-30 12:00 +02:00"}},
		{"Berlin spring forward night", "berlin24", "2026-03-28 23:00 +01:00", Normal,
			stages{"2026-03-29 06:00 +02:00", "2026-03-29 08:00 +02:00", "2026-03-29 12:00 +02:00"},
			stages{"2026-03-31 06:00 +02:00", "2026-04-01 00:00 +02:00", "2026-04-02 12:00 +02:00"}},
		{"Berlin spring forward night", "berlin24", "2026-03-28 23:00 +01:00", Low,
			stages{"2026-03-29 18:00 +02:00", "2026-03-30 00:00 +02:00", "2026-03-30 12:00 +02:00"},
			stages{"2026-04-01 18:00 +02:00", "2026-04-03 00:00 +02:00", "2026-04-05 12:00 +02:00"}},

		// The night Berlin falls back, round the clock. From Saturday 24
		// October 23:00 CEST (21:00 UTC): at 03:00 CEST (x = 4h) the clock
		// goes back to 02:00 CET, so x = 3h is the first 02:00 and x = 4h
		// the second.
		{"Berlin fall back night", "berlin24", "2026-10-24 23:00 +02:00", Urgent,
			stages{"2026-10-24 23:45 +02:00", "2026-10-25 00:00 +02:00", "2026-10-25 00:30 +02:00"},
			stages{"2026-10-25 02:00 +02:00", "2026-10-25 02:00 +01:00", "2026-10-25 04:00 +01:00"}},
		{"Berlin fall back night", "berlin24", "2026-10-24 23:00 +02:00", High,
			stages{"2026-10-25 02:00 +02:00", "2026-10-25 02:00 +01:00", "2026-10-25 04:00 +01:00"},
			stages{"2026-10-25 16:00 +01:00", "2026-10-25 22:00 +01:00", "2026-10-26 10:00 +01:00"}},
		{"Berlin fall back night", "berlin24", "2026-10-24 23:00 +02:00", Normal,
			stages{"2026-10-25 04:00 +01:00", "2026-10-25 06:00 +01:00", "2026-10-25 10:00 +01:00"},
			stages{"2026-10-27 04:00 +01:00", "2026-10-27 22:00 +01:00", "2026-10-29 10:00 +01:00"}},
		{"Berlin fall back night", "berlin24", "2026-10-24 23:00 +02:00", Low,
			stages{"2026-10-25 16:00 +01:00", "2026-10-25 22:00 +01:00", "2026-10-26 10:00 +01:00"},
			stages{"2026-10-28 16:00 +01:00", "2026-10-29 22:00 +01:00", "2026-11-01 10:00 +01:00"}},

		// The year end, Berlin (CET). From Wednesday 31 December 2025
		// 13:00: Wed 17:00 4h; 1 January is a holiday; Fri 2 12h; Mon 5
		// 20h; Tue 28h; Wed 36h; Thu 8 44h; Fri 52h; Mon 12 60h. Urgent's
		// resolution (4h) falls due at 17:00 on New Year's Eve, not on 2
		// January.
		{"year end", "newyear", "2025-12-31 13:00 +01:00", Urgent,
			stages{"2025-12-31 13:45 +01:00", "2025-12-31 14:00 +01:00", "2025-12-31 14:30 +01:00"},
			stages{"2025-12-31 16:00 +01:00", "2025-12-31 17:00 +01:00", "2026-01-02 11:00 +01:00"}},
		{"year end", "newyear", "2025-12-31 13:00 +01:00", High,
			stages{"2025-12-31 16:00 +01:00", "2025-12-31 17:00 +01:00", "2026-01-02 11:00 +01:00"},
			stages{"2026-01-02 11:00 +01:00", "2026-01-02 13:00 +01:00", "2026-01-02 17:00 +01:00"}},
		{"year end", "newyear", "2025-12-31 13:00 +01:00", Normal,
			stages{"2026-01-02 11:00 +01:00", "2026-01-02 13:00 +01:00", "2026-01-02 17:00 +01:00"},
			stages{"2026-01-05 15:00 +01:00", "2026-01-06 13:00 +01:00", "2026-01-07 17:00 +01:00"}},
		{"year end", "newyear", "2025-12-31 13:00 +01:00", Low,
			stages{"2026-01-02 11:00 +01:00", "2026-01-02 13:00 +01:00", "2026-01-02 17:00 +01:00"},
			stages{"2026-01-07 11:00 +01:00", "2026-01-08 13:00 +01:00", "2026-01-12 17:00 +01:00"}},
	} {
		t.Run(tc.name+"/"+string(tc.p), func(t *testing.T) {
			e := deadlineCalendars[tc.cal]
			cal, err := calendar.Parse(e[0], e[1], zone(t, e[2]))
			if err != nil {
				t.Fatal(err)
			}
			loc := cal.Location()
			start := instant(t, loc, tc.start)
			pol, ok := DefaultPolicies(cal).For(tc.p)
			if !ok {
				t.Fatalf("no policy for %s", tc.p)
			}
			for _, k := range []struct {
				kind Kind
				want stages
			}{{FirstResponse, tc.fr}, {Resolution, tc.res}} {
				c := NewClock(cal)
				c.Start(start, pol.Target(k.kind))
				for i, s := range Stages() {
					want := instant(t, loc, k.want[i])
					got := c.Due(s)
					if !got.Equal(want) {
						t.Errorf("%s %s: Due = %s, want %s", k.kind, s, got.In(loc).Format(instantLayout), k.want[i])
						continue
					}
					// Business time from the start is exactly the stage's
					// share, and the instant is in working hours or at a
					// span's closing.
					if el := cal.Between(start, got); el != s.share(c.Target()) {
						t.Errorf("%s %s: Between(start, due) = %v, want %v", k.kind, s, el, s.share(c.Target()))
					}
					if !cal.IsOpen(got.Add(-time.Nanosecond)) {
						t.Errorf("%s %s: %s is outside working hours", k.kind, s, k.want[i])
					}
				}
				if d := c.Deadline(); !d.Equal(c.Due(Breach)) {
					t.Errorf("%s: Deadline = %v, Due(breach) = %v", k.kind, d, c.Due(Breach))
				}
			}
		})
	}
}
