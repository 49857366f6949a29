package sla

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// wall returns the instant loc's wall clock shows s ("2026-11-06 16:00",
// seconds allowed).
func wall(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	var y, mo, d, h, mi, sec int
	if _, err := fmt.Sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec); err != nil {
		if _, err := fmt.Sscanf(s, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi); err != nil {
			t.Fatalf("wall(%q): %v", s, err)
		}
	}
	return calendar.At(loc, y, time.Month(mo), d, h, mi).Add(time.Duration(sec) * time.Second)
}

// Calendars of the examples: hours, holidays, zone. 2026-11-02 is a
// Monday; clocks go forward on 2026-03-29 in Berlin and 2026-03-08 in New
// York, and back on 2026-10-25 and 2026-11-01.
var examples = map[string][3]string{
	"berlin":  {calendar.DefaultHours, "", "Europe/Berlin"},
	"ny":      {calendar.DefaultHours, "", "America/New_York"},
	"holiday": {calendar.DefaultHours, "2026-10-28", "Europe/Berlin"},
	"yearend": {calendar.DefaultHours, "2026-12-24,2026-12-25,2026-12-31,2027-01-01", "Europe/Berlin"},
	"split":   {"Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00", "", "America/New_York"},
}

func example(t testing.TB, name string) calendar.Calendar {
	t.Helper()
	e, ok := examples[name]
	if !ok {
		t.Fatalf("no example calendar %q", name)
	}
	c, err := calendar.Parse(e[0], e[1], zone(t, e[2]))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func target(t testing.TB, cal calendar.Calendar, p Priority, k Kind) time.Duration {
	t.Helper()
	pol, ok := DefaultPolicies(cal).For(p)
	if !ok {
		t.Fatalf("no policy for %q", p)
	}
	return pol.Target(k)
}

// TestStages checks each policy's three instants, by hand, across a
// weekend, a holiday, split days, both DST changes in Berlin and New York,
// and a year end. Each starts a clock and lets it run.
func TestStages(t *testing.T) {
	for _, tc := range []struct {
		name, cal string
		p         Priority
		k         Kind
		start     string
		warn      string // 75%
		breach    string // 100%
		escalate  string // 150%
	}{
		// Issue 8's example: Friday 16:00–17:00 is 1h, Monday 09:00–11:00
		// the other 2h of the warning's 3h.
		{"high first response over a weekend", "berlin", High, FirstResponse, "2026-11-06 16:00", "2026-11-09 11:00", "2026-11-09 12:00", "2026-11-09 14:00"},
		{"high resolution over a weekend", "berlin", High, Resolution, "2026-11-06 16:00", "2026-11-09 14:00", "2026-11-09 16:00", "2026-11-10 12:00"},
		{"urgent first response, within the day", "berlin", Urgent, FirstResponse, "2026-11-02 10:20", "2026-11-02 11:05", "2026-11-02 11:20", "2026-11-02 11:50"},
		{"urgent first response opened at night", "berlin", Urgent, FirstResponse, "2026-11-02 22:00", "2026-11-03 09:45", "2026-11-03 10:00", "2026-11-03 10:30"},
		{"normal first response ends at closing", "berlin", Normal, FirstResponse, "2026-11-02 09:00", "2026-11-02 15:00", "2026-11-02 17:00", "2026-11-03 13:00"},
		{"low first response from Saturday", "berlin", Low, FirstResponse, "2026-11-07 11:00", "2026-11-09 15:00", "2026-11-09 17:00", "2026-11-10 13:00"},
		// The DST Mondays: spring and autumn, Berlin and New York.
		{"Berlin spring forward", "berlin", High, FirstResponse, "2026-03-27 16:00", "2026-03-30 11:00", "2026-03-30 12:00", "2026-03-30 14:00"},
		{"Berlin fall back", "berlin", High, FirstResponse, "2026-10-23 16:00", "2026-10-26 11:00", "2026-10-26 12:00", "2026-10-26 14:00"},
		{"New York spring forward", "ny", High, FirstResponse, "2026-03-06 16:00", "2026-03-09 11:00", "2026-03-09 12:00", "2026-03-09 14:00"},
		{"New York fall back", "ny", High, FirstResponse, "2026-10-30 16:00", "2026-11-02 11:00", "2026-11-02 12:00", "2026-11-02 14:00"},
		{"New York fall back, normal resolution", "ny", Normal, Resolution, "2026-10-29 13:00", "2026-11-02 15:00", "2026-11-03 13:00", "2026-11-04 17:00"},
		// A holiday on Wednesday 28 October.
		{"urgent resolution over a holiday", "holiday", Urgent, Resolution, "2026-10-27 15:00", "2026-10-29 10:00", "2026-10-29 11:00", "2026-10-29 13:00"},
		// The year end: 24, 25 and 31 December and 1 January are holidays.
		{"normal resolution over Christmas", "yearend", Normal, Resolution, "2026-12-23 15:00", "2026-12-29 17:00", "2026-12-30 15:00", "2027-01-05 11:00"},
		{"low resolution over the year end", "yearend", Low, Resolution, "2026-12-21 09:00", "2026-12-28 15:00", "2026-12-29 17:00", "2027-01-05 13:00"},
		// Split days (Mon–Thu 7h with lunch, Friday 6h), whose business day
		// is 7h.
		{"split normal first response", "split", Normal, FirstResponse, "2026-11-05 16:00", "2026-11-06 14:00", "2026-11-09 10:00", "2026-11-09 15:00"},
		{"split low first response from lunch", "split", Low, FirstResponse, "2026-11-02 12:00", "2026-11-03 10:15", "2026-11-03 12:00", "2026-11-03 16:30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cal := example(t, tc.cal)
			loc := cal.Location()
			c := NewClock(cal)
			c.Start(wall(t, loc, tc.start), target(t, cal, tc.p, tc.k))
			for _, want := range []struct {
				s    Stage
				when string
			}{{Warning, tc.warn}, {Breach, tc.breach}, {Escalation, tc.escalate}} {
				if got, w := c.Due(want.s), wall(t, loc, want.when); !got.Equal(w) {
					t.Errorf("Due(%s) = %v, want %v", want.s, got, w)
				}
			}
			if d := c.Deadline(); !d.Equal(c.Due(Breach)) {
				t.Errorf("Deadline = %v, Due(breach) = %v", d, c.Due(Breach))
			}
			if got := c.Elapsed(c.Deadline()); got != c.Target() {
				t.Errorf("Elapsed at the deadline = %v, want the target %v", got, c.Target())
			}
		})
	}
}

// TestReplyBeforeDeadline: a reply before the deadline is met, and the
// breach and escalation timers are cancelled; a reply after it breaches.
func TestReplyBeforeDeadline(t *testing.T) {
	cal := example(t, "berlin")
	loc := cal.Location()
	start := wall(t, loc, "2026-11-06 16:00")
	for _, tc := range []struct {
		reply             string
		status            Status
		warn, breach, esc string // "" means cancelled
	}{
		{"2026-11-09 10:30", Met, "", "", ""},
		{"2026-11-09 11:30", Met, "2026-11-09 11:00", "", ""},
		{"2026-11-09 12:00", Met, "2026-11-09 11:00", "", ""}, // at the deadline is in time
		{"2026-11-09 12:00:01", Breached, "2026-11-09 11:00", "2026-11-09 12:00", ""},
		{"2026-11-10 09:00", Breached, "2026-11-09 11:00", "2026-11-09 12:00", "2026-11-09 14:00"},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			c := NewClock(cal)
			c.Start(start, target(t, cal, High, FirstResponse))
			reply := wall(t, loc, tc.reply)
			c.Stop(reply)
			later := reply.Add(30 * 24 * time.Hour)
			if got := c.Status(later); got != tc.status {
				t.Errorf("Status = %s, want %s", got, tc.status)
			}
			for _, want := range []struct {
				s    Stage
				when string
			}{{Warning, tc.warn}, {Breach, tc.breach}, {Escalation, tc.esc}} {
				var w time.Time
				if want.when != "" {
					w = wall(t, loc, want.when)
				}
				if got := c.Due(want.s); !got.Equal(w) {
					t.Errorf("Due(%s) = %v, want %v", want.s, got, w)
				}
			}
			if d, w := c.Deadline(), wall(t, loc, "2026-11-09 12:00"); !d.Equal(w) {
				t.Errorf("Deadline = %v, want %v as it stood", d, w)
			}
			if !c.StoppedAt().Equal(reply) || c.Elapsed(later) != c.Elapsed(reply) {
				t.Errorf("StoppedAt = %v, Elapsed later %v, at the reply %v", c.StoppedAt(), c.Elapsed(later), c.Elapsed(reply))
			}
		})
	}
}

// TestPendingTwoDays: a ticket pending for two business days breaches two
// business days later than it would have; its first-response clock does
// not pause.
func TestPendingTwoDays(t *testing.T) {
	cal := example(t, "berlin")
	loc := cal.Location()
	start := wall(t, loc, "2026-11-02 09:00")
	res := NewClock(cal)
	res.Start(start, target(t, cal, High, Resolution))
	if got, w := res.Due(Breach), wall(t, loc, "2026-11-02 17:00"); !got.Equal(w) {
		t.Fatalf("unpaused breach = %v, want %v", got, w)
	}
	pause, resume := wall(t, loc, "2026-11-02 10:00"), wall(t, loc, "2026-11-04 10:00")
	res.Pause(pause)
	if !res.Deadline().IsZero() || !res.Due(Warning).IsZero() || res.Status(resume) != Paused {
		t.Errorf("paused: Deadline %v, Due(warning) %v, Status %s", res.Deadline(), res.Due(Warning), res.Status(resume))
	}
	if res.Elapsed(pause) != time.Hour || res.Elapsed(resume) != time.Hour {
		t.Errorf("Elapsed while paused = %v, %v, want 1h", res.Elapsed(pause), res.Elapsed(resume))
	}
	res.Resume(resume)
	for _, want := range []struct {
		s    Stage
		when string
	}{{Warning, "2026-11-04 15:00"}, {Breach, "2026-11-04 17:00"}, {Escalation, "2026-11-05 13:00"}} {
		if got, w := res.Due(want.s), wall(t, loc, want.when); !got.Equal(w) {
			t.Errorf("Due(%s) = %v, want %v", want.s, got, w)
		}
	}

	// A pause across a weekend and the DST change moves the deadline by
	// the business time in it only.
	c := NewClock(cal)
	c.Start(wall(t, loc, "2026-10-22 09:00"), target(t, cal, Low, Resolution)) // Thursday; 40h → Wed 28 17:00
	if got, w := c.Due(Breach), wall(t, loc, "2026-10-28 17:00"); !got.Equal(w) {
		t.Fatalf("unpaused breach = %v, want %v", got, w)
	}
	c.Pause(wall(t, loc, "2026-10-23 16:00"))  // Friday, 15h counted
	c.Resume(wall(t, loc, "2026-10-26 12:00")) // Monday noon: 4 business hours paused
	if got, w := c.Due(Breach), wall(t, loc, "2026-10-29 13:00"); !got.Equal(w) {
		t.Errorf("breach after the pause = %v, want %v", got, w)
	}
}

// TestPriorityChange: retargeting moves the timers, counting the business
// time already elapsed against the new target.
func TestPriorityChange(t *testing.T) {
	cal := example(t, "berlin")
	loc := cal.Location()
	start, change := wall(t, loc, "2026-11-02 09:00"), wall(t, loc, "2026-11-02 09:30")
	for _, tc := range []struct {
		to                Priority
		warn, breach, esc string
		status            Status // at the change
	}{
		{High, "2026-11-02 12:00", "2026-11-02 13:00", "2026-11-02 15:00", Running},
		{Urgent, "2026-11-02 09:45", "2026-11-02 10:00", "2026-11-02 10:30", Running},
		{Low, "2026-11-02 15:00", "2026-11-02 17:00", "2026-11-03 13:00", Running},
	} {
		t.Run(string(tc.to), func(t *testing.T) {
			c := NewClock(cal)
			c.Start(start, target(t, cal, High, FirstResponse))
			c.Retarget(change, target(t, cal, tc.to, FirstResponse))
			for _, want := range []struct {
				s    Stage
				when string
			}{{Warning, tc.warn}, {Breach, tc.breach}, {Escalation, tc.esc}} {
				if got, w := c.Due(want.s), wall(t, loc, want.when); !got.Equal(w) {
					t.Errorf("Due(%s) = %v, want %v", want.s, got, w)
				}
			}
			if got := c.Status(change); got != tc.status {
				t.Errorf("Status = %s, want %s", got, tc.status)
			}
		})
	}

	// A shorter target already exceeded: the breach is in the past, at the
	// instant the new target was reached, and the clock is breached.
	c := NewClock(cal)
	c.Start(start, target(t, cal, Normal, FirstResponse))
	change = wall(t, loc, "2026-11-02 11:00")
	c.Retarget(change, target(t, cal, Urgent, FirstResponse))
	if got, w := c.Due(Breach), wall(t, loc, "2026-11-02 10:00"); !got.Equal(w) || c.Status(change) != Breached {
		t.Errorf("Due(breach) = %v (want %v), Status %s", got, w, c.Status(change))
	}

	// Retargeting while paused applies on resuming; after Stop, never.
	c = NewClock(cal)
	c.Start(start, target(t, cal, High, Resolution)) // 8h
	c.Pause(wall(t, loc, "2026-11-02 11:00"))
	c.Retarget(wall(t, loc, "2026-11-02 12:00"), target(t, cal, Urgent, Resolution)) // 4h
	c.Resume(wall(t, loc, "2026-11-03 09:00"))
	if got, w := c.Due(Breach), wall(t, loc, "2026-11-03 11:00"); !got.Equal(w) {
		t.Errorf("Due(breach) after a retarget while paused = %v, want %v", got, w)
	}
	c.Stop(wall(t, loc, "2026-11-03 10:00"))
	stopped := c
	c.Retarget(wall(t, loc, "2026-11-03 10:30"), time.Minute)
	if !reflect.DeepEqual(c, stopped) || c.Status(wall(t, loc, "2026-11-04 10:00")) != Met {
		t.Errorf("a stopped clock changed on Retarget: %s", c.Status(wall(t, loc, "2026-11-04 10:00")))
	}
}

// TestIdempotent: repeated and out-of-order events do not change a clock.
func TestIdempotent(t *testing.T) {
	cal := example(t, "berlin")
	loc := cal.Location()
	at := func(s string) time.Time { return wall(t, loc, s) }
	var c Clock = NewClock(cal)
	if c.Status(at("2026-11-02 09:00")) != "" || !c.Deadline().IsZero() || c.Elapsed(at("2026-11-03 09:00")) != 0 {
		t.Fatalf("an unstarted clock: %s, %v", c.Status(at("2026-11-02 09:00")), c.Deadline())
	}
	c.Stop(at("2026-11-02 08:00"))
	c.Pause(at("2026-11-02 08:00"))
	c.Retarget(at("2026-11-02 08:00"), time.Hour)
	if !reflect.DeepEqual(c, NewClock(cal)) {
		t.Fatalf("events before Start changed the clock")
	}
	c.Start(at("2026-11-02 09:00"), 8*time.Hour)
	once := c
	c.Start(at("2026-11-02 10:00"), time.Hour)
	c.Resume(at("2026-11-02 10:00"))
	if !reflect.DeepEqual(c, once) {
		t.Errorf("Start or Resume of a running clock changed it")
	}
	c.Pause(at("2026-11-02 11:00"))
	once = c
	c.Pause(at("2026-11-02 12:00"))
	if !reflect.DeepEqual(c, once) {
		t.Errorf("Pause of a paused clock changed it")
	}
	// An event dated before the latest is taken at the latest.
	c.Resume(at("2026-11-02 10:30"))
	if got := c.Due(Breach); !got.Equal(at("2026-11-02 17:00")) {
		t.Errorf("resume dated before the pause: breach %v, want 17:00 (the clock resumed at the pause)", got)
	}

	// Snapshots of copies are independent of later events.
	c2 := NewClock(cal)
	c2.Start(at("2026-11-02 09:00"), 2*time.Hour)
	c2.Pause(at("2026-11-02 09:30"))
	c2.Resume(at("2026-11-02 10:00"))
	snap := c2
	c2.Pause(at("2026-11-02 10:15"))
	c3 := snap
	c3.Pause(at("2026-11-02 10:45"))
	if !snap.Due(Breach).Equal(at("2026-11-02 11:30")) || c3.Elapsed(at("2026-11-03 00:00")) != 75*time.Minute || c2.Elapsed(at("2026-11-03 00:00")) != 45*time.Minute {
		t.Errorf("copies share state: %v, %v, %v", snap.Due(Breach), c3.Elapsed(at("2026-11-03 00:00")), c2.Elapsed(at("2026-11-03 00:00")))
	}
	s := snap.Snapshot(at("2026-11-02 11:00"))
	if !s.TargetAt.Equal(at("2026-11-02 11:30")) || s.Status != Running || s.Elapsed != 90*time.Minute || !s.StoppedAt.IsZero() {
		t.Errorf("Snapshot = %+v, want due 11:30, running, 90m elapsed", s)
	}
}

// TestPanics: a target that is not positive is a programming error.
func TestPanics(t *testing.T) {
	for _, f := range []func(c *Clock){
		func(c *Clock) { c.Start(time.Now(), 0) },
		func(c *Clock) { c.Start(time.Now(), time.Hour); c.Retarget(time.Now(), -time.Hour) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			var c Clock
			f(&c)
		}()
	}
}
