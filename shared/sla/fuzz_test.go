package sla

import (
	"fmt"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/calendar/calendartest"
)

// FuzzClock replays a history the fuzzer writes — on working hours,
// holidays and policies it writes too, in one of the property tests'
// zones — and checks it as TestProperties does: every stage against the
// model, deadlines inside working hours, the target equal to the business
// time less the pauses, pausing and longer targets never bringing a
// deadline forward. The seed corpus below runs in go test; to search
// further:
//
//	go test ./shared/sla -run '^$' -fuzz FuzzClock -fuzztime 1m
func FuzzClock(f *testing.F) {
	for _, s := range []struct {
		seed                      uint64
		zone                      uint8 // index into calendartest.Zones
		hours, holidays, policies string
		script                    []byte
	}{
		// The seeds put each start near a year end or a clock change (see
		// calendartest.Gen.Instant).
		//
		// Tuesday 31 December 2024 10:22 UTC: a normal ticket's resolution,
		// paused over New Year's Day and resumed three days later.
		{30, 0, calendar.DefaultHours, "2024-12-25,2024-12-26,2025-01-01", "", []byte{2, 0, 5 | 3<<3, 1, 7 | 2<<3}},
		// Friday 23 October 2026 18:36 in Berlin, before the clocks go
		// back: split days, retargeted down and up, paused, stopped.
		{14, 1, "Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00", "2026-10-26", DefaultPoliciesString,
			[]byte{3, 2, 4 | 1<<3, 12, 6, 0, 5 | 2<<3, 1, 6 | 1<<3, 3, 5}},
		// Saturday 7 March 2026 14:28 in New York, before the clocks go
		// forward: spans around the skipped hour, custom policies.
		{28, 2, "Mon-Sun 01:00-03:00,22:00-24:00", "", "urgent=30m/2h,high=1.5h/1d4h",
			[]byte{4, 7, 3 | 1<<3, 0, 2 | 1<<3, 1, 4 | 3<<3, 17, 1}},
		// Friday 4 April 2025 20:23 at Lord Howe, before its half-hour
		// change back: round the clock, stopped early, then more events.
		{23, 3, "Sun-Thu 00:00-24:00", "2025-04-07", "low=2d/10d",
			[]byte{3 | 4, 3, 5 | 1<<3, 0, 5, 1, 4, 12, 6}},
		// Saturday 28 October 2028 13:29 in Berlin, before the clocks go
		// back: a span in the hour that happens twice, a first response.
		{39, 1, "Mon-Fri 02:00-02:30,03:00-09:00; Sun 02:30-03:00", "", "",
			[]byte{1 | 4, 4, 7, 1, 6}},
		// Friday 30 October 2026 17:36 in New York, before the clocks go
		// back, with a holiday after it; no script: a normal ticket's
		// resolution, never paused.
		{14, 2, calendar.DefaultHours, "2026-11-02", "", nil},
	} {
		f.Add(s.seed, s.zone, s.hours, s.holidays, s.policies, s.script)
	}
	f.Fuzz(func(t *testing.T, seed uint64, zoneIndex uint8, hours, holidays, policies string, script []byte) {
		name := calendartest.Zones[int(zoneIndex)%len(calendartest.Zones)]
		cal, err := calendar.Parse(hours, holidays, zone(t, name))
		if err != nil {
			return
		}
		ps, err := ParsePolicies(policies, cal)
		if err != nil {
			return
		}
		g := &gen{calendartest.New(seed, cal.Location())}
		g.Margin = 60 * 24 * time.Hour
		h := decodeHistory(g.Instant(), ps, script)
		// Leave out calendars so sparse that a target runs for years: the
		// model's bisection would make the case slow, not more telling.
		var longest time.Duration
		for _, e := range h {
			longest = max(longest, e.target)
		}
		if cal.Add(h[0].at, longest+longest/2).Sub(h[0].at) > 2*366*24*time.Hour {
			return
		}
		checkHistory(t, g, cal, h, fmt.Sprintf("seed %d, %s, %s, policies %s, history %v", seed, name, cal, ps, h))
	})
}

// decodeHistory reads a history from script: its first byte picks the
// priority (bits 0–1) and the clock (bit 2) whose target starts it; each
// pair after that is an action, by its value modulo 5 (pause, resume,
// retarget, stop, pause again; a retarget takes the target of priority
// (value/5)%4, so 2, 7, 12 and 17 retarget to urgent, high, normal and
// low), and the real time before it. At most 24 events.
func decodeHistory(start time.Time, ps Policies, script []byte) []event {
	kind, p := Resolution, Normal
	if len(script) > 0 {
		p = Priorities()[script[0]%4]
		if script[0]&4 != 0 {
			kind = FirstResponse
		}
		script = script[1:]
	}
	targetOf := func(p Priority) time.Duration {
		pol, _ := ps.For(p)
		return pol.Target(kind)
	}
	at := start
	h := []event{{do: doStart, at: at, target: targetOf(p)}}
	for i := 0; i+1 < len(script) && len(h) < 24; i += 2 {
		op, gap := script[i], script[i+1]
		at = at.Add(gapOf(gap))
		e := event{at: at}
		switch op % 5 {
		case 0, 4:
			e.do = doPause
		case 1:
			e.do = doResume
		case 2:
			e.do, e.target = doRetarget, targetOf(Priorities()[(op/5)%4])
		case 3:
			e.do = doStop
		}
		h = append(h, e)
	}
	return h
}

// gapOf reads the real time between two events from a byte: its low three
// bits pick a unit from none to a day, the rest how many (1 to 32).
func gapOf(b byte) time.Duration {
	unit := [...]time.Duration{0, time.Nanosecond, time.Second, time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 24 * time.Hour}[b%8]
	return unit * time.Duration(1+b/8)
}
