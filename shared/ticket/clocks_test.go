package ticket

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/sla"
)

// The tests tell a ticket's story through the service's own edits (edit's
// setStatus and setPriority), so the history they build is the one the
// service records. Monday–Friday 09:00–17:00: high is 4h to first
// response and 8h to resolution; 2026-11-02 and 2026-11-09 are Mondays.

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at returns the instant loc's wall clock shows s ("2026-11-06 16:00").
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	var y, mo, d, h, mi int
	if _, err := fmt.Sscanf(s, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi); err != nil {
		t.Fatalf("at(%q): %v", s, err)
	}
	return calendar.At(loc, y, time.Month(mo), d, h, mi)
}

// rulesIn are the default policies on Monday–Friday 09:00–17:00 in loc.
func rulesIn(loc *time.Location) Rules {
	cal := calendar.Default(loc)
	return Rules{Policies: sla.DefaultPolicies(cal), Calendar: cal}
}

// opened is a ticket opened at now with priority p, as Service.open
// writes it.
func opened(id string, now time.Time, p sla.Priority) Ticket {
	return Ticket{
		ID: id, Kind: KindRequest, Channel: ChannelWeb, Priority: p, Status: StatusNew,
		OpenedAt: now, UpdatedAt: now, Version: 1,
		History: []Change{{At: now, Status: StatusNew, Priority: p}},
	}
}

// edited applies fn to an edit of t at now and returns the ticket after
// it, leaving t as it was.
func edited(t Ticket, now time.Time, fn func(c *edit)) Ticket {
	t.History = slices.Clone(t.History)
	c := &edit{prev: t, t: t, now: now}
	fn(c)
	return c.t
}

// moved is t moved to status st at now.
func moved(t Ticket, now time.Time, st Status) Ticket {
	return edited(t, now, func(c *edit) { c.setStatus(st) })
}

// reprioritised is t given priority p at now.
func reprioritised(t Ticket, now time.Time, p sla.Priority) Ticket {
	return edited(t, now, func(c *edit) { c.setPriority(p) })
}

// replied is t after a public staff reply at now, as Service.Reply
// records it: a new ticket opens, and the first reply stops the
// first-response clock.
func replied(t Ticket, now time.Time) Ticket {
	if t.Status == StatusNew {
		t = moved(t, now, StatusOpen)
	}
	if t.FirstResponseAt == nil {
		t.History = append(slices.Clone(t.History), Change{At: now, Replied: true})
		t.FirstResponseAt = &now
	}
	return t
}

// stagesAre checks clock c's warning, breach and escalation instants; ""
// means none (the timer is cancelled).
func stagesAre(t *testing.T, loc *time.Location, what string, c sla.Clock, want [3]string) {
	t.Helper()
	for i, s := range sla.Stages() {
		var w time.Time
		if want[i] != "" {
			w = at(t, loc, want[i])
		}
		if got := c.Due(s); !got.Equal(w) {
			t.Errorf("%s %s due %v, want %v", what, s, got, w)
		}
	}
}

// snapshotIs checks a snapshot; a zero time in want is none.
func snapshotIs(t *testing.T, what string, got, want sla.Snapshot) {
	t.Helper()
	if !got.TargetAt.Equal(want.TargetAt) || got.Status != want.Status || got.Elapsed != want.Elapsed || !got.StoppedAt.Equal(want.StoppedAt) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// TestHighOpenedFridayAfternoon: a high ticket opened on Friday at 16:00
// has one business hour on Friday; its first-response warning (3h),
// breach (4h) and escalation (6h) fall on Monday at 11:00, 12:00 and
// 14:00, and its resolution's (6h, 8h, 12h) on Monday at 14:00 and 16:00
// and Tuesday at 12:00 — in the organisation's zone, whatever its offset.
func TestHighOpenedFridayAfternoon(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/Berlin"} {
		t.Run(name, func(t *testing.T) {
			loc := zone(t, name)
			r := rulesIn(loc)
			tk := opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High)
			c := r.Clocks(tk)
			stagesAre(t, loc, "first response", c.FirstResponse, [3]string{"2026-11-09 11:00", "2026-11-09 12:00", "2026-11-09 14:00"})
			stagesAre(t, loc, "resolution", c.Resolution, [3]string{"2026-11-09 14:00", "2026-11-09 16:00", "2026-11-10 12:00"})
			if got, want := r.NextDeadline(tk), at(t, loc, "2026-11-09 12:00"); !got.Equal(want) {
				t.Errorf("NextDeadline = %v, want %v", got, want)
			}
			if got, want := r.WarningAt(tk), at(t, loc, "2026-11-09 11:00"); !got.Equal(want) {
				t.Errorf("WarningAt = %v, want %v", got, want)
			}

			first, res := r.Snapshots(tk, at(t, loc, "2026-11-06 16:30"))
			snapshotIs(t, "first response on Friday", first, sla.Snapshot{TargetAt: at(t, loc, "2026-11-09 12:00"), Status: sla.Running, Elapsed: 30 * time.Minute})
			snapshotIs(t, "resolution on Friday", res, sla.Snapshot{TargetAt: at(t, loc, "2026-11-09 16:00"), Status: sla.Running, Elapsed: 30 * time.Minute})
			// Over the weekend nothing elapses.
			first, _ = r.Snapshots(tk, at(t, loc, "2026-11-08 20:00"))
			snapshotIs(t, "first response on Sunday", first, sla.Snapshot{TargetAt: at(t, loc, "2026-11-09 12:00"), Status: sla.Running, Elapsed: time.Hour})
			first, res = r.Snapshots(tk, at(t, loc, "2026-11-09 12:30"))
			snapshotIs(t, "first response past its deadline", first, sla.Snapshot{TargetAt: at(t, loc, "2026-11-09 12:00"), Status: sla.Breached, Elapsed: 4*time.Hour + 30*time.Minute})
			snapshotIs(t, "resolution on Monday", res, sla.Snapshot{TargetAt: at(t, loc, "2026-11-09 16:00"), Status: sla.Running, Elapsed: 4*time.Hour + 30*time.Minute})
		})
	}
}

// TestFirstReply: a public reply stops the first-response clock, met
// until and at its deadline and breached after it; the resolution clock
// runs on.
func TestFirstReply(t *testing.T) {
	loc := zone(t, "Europe/Berlin")
	r := rulesIn(loc)
	open := opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High)
	deadline := at(t, loc, "2026-11-09 12:00")
	for _, tc := range []struct {
		reply   string
		status  sla.Status
		elapsed time.Duration
		stages  [3]string
	}{
		{"2026-11-09 10:30", sla.Met, 2*time.Hour + 30*time.Minute, [3]string{"", "", ""}},
		{"2026-11-09 11:30", sla.Met, 3*time.Hour + 30*time.Minute, [3]string{"2026-11-09 11:00", "", ""}},
		{"2026-11-09 12:00", sla.Met, 4 * time.Hour, [3]string{"2026-11-09 11:00", "", ""}},
		{"2026-11-09 12:30", sla.Breached, 4*time.Hour + 30*time.Minute, [3]string{"2026-11-09 11:00", "2026-11-09 12:00", ""}},
	} {
		t.Run(tc.reply, func(t *testing.T) {
			reply := at(t, loc, tc.reply)
			tk := replied(open, reply)
			c := r.Clocks(tk)
			stagesAre(t, loc, "first response", c.FirstResponse, tc.stages)
			stagesAre(t, loc, "resolution", c.Resolution, [3]string{"2026-11-09 14:00", "2026-11-09 16:00", "2026-11-10 12:00"})
			first, res := r.Snapshots(tk, at(t, loc, "2026-11-10 10:00"))
			snapshotIs(t, "first response", first, sla.Snapshot{TargetAt: deadline, Status: tc.status, Elapsed: tc.elapsed, StoppedAt: reply})
			if res.Status != sla.Breached || !res.TargetAt.Equal(at(t, loc, "2026-11-09 16:00")) || !res.StoppedAt.IsZero() {
				t.Errorf("resolution a day later = %+v, want breached at Monday 16:00 and still running", res)
			}
			if tk.Status != StatusOpen {
				t.Errorf("status after the reply %s, want open", tk.Status)
			}
		})
	}
}

// TestPendingTwoBusinessDays: a ticket pending (then on hold) for two
// business days breaches its resolution two business days later than it
// would have; its first-response clock never pauses.
func TestPendingTwoBusinessDays(t *testing.T) {
	loc := zone(t, "Europe/Berlin")
	r := rulesIn(loc)
	open := opened("T1", at(t, loc, "2026-11-02 09:00"), sla.High)
	without := r.Clocks(open)
	stagesAre(t, loc, "resolution, never pending", without.Resolution, [3]string{"2026-11-02 15:00", "2026-11-02 17:00", "2026-11-03 13:00"})

	for _, tc := range []struct {
		name  string
		moves []Status
	}{
		{"pending", []Status{StatusPending}},
		{"pending then on hold", []Status{StatusPending, StatusOnHold}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Paused Monday 10:00, a day later put on hold if asked,
			// open again Wednesday 10:00.
			tk := open
			pause := at(t, loc, "2026-11-02 10:00")
			for i, st := range tc.moves {
				tk = moved(tk, pause.Add(time.Duration(i)*24*time.Hour), st)
			}
			_, res := r.Snapshots(tk, at(t, loc, "2026-11-03 16:00"))
			snapshotIs(t, "resolution while pending", res, sla.Snapshot{Status: sla.Paused, Elapsed: time.Hour})
			if got := r.NextDeadline(tk); !got.Equal(at(t, loc, "2026-11-02 13:00")) {
				t.Errorf("NextDeadline while pending = %v, want the first response's Monday 13:00", got)
			}

			tk = moved(tk, at(t, loc, "2026-11-04 10:00"), StatusOpen)
			c := r.Clocks(tk)
			stagesAre(t, loc, "resolution", c.Resolution, [3]string{"2026-11-04 15:00", "2026-11-04 17:00", "2026-11-05 13:00"})
			stagesAre(t, loc, "first response", c.FirstResponse, [3]string{"2026-11-02 12:00", "2026-11-02 13:00", "2026-11-02 15:00"})
			if d := r.Calendar.Between(without.Resolution.Deadline(), c.Resolution.Deadline()); d != 2*r.Calendar.DayLength() {
				t.Errorf("the deadline moved by %v of business time, want two business days", d)
			}
		})
	}
}

// TestPriorityChange: a new priority's targets count the business time
// already elapsed, so its deadlines move both ways, into the past if need
// be.
func TestPriorityChange(t *testing.T) {
	loc := zone(t, "UTC")
	r := rulesIn(loc)
	open := opened("T1", at(t, loc, "2026-11-02 09:00"), sla.Normal)
	c := r.Clocks(open)
	stagesAre(t, loc, "normal first response", c.FirstResponse, [3]string{"2026-11-02 15:00", "2026-11-02 17:00", "2026-11-03 13:00"})
	stagesAre(t, loc, "normal resolution", c.Resolution, [3]string{"2026-11-04 11:00", "2026-11-04 17:00", "2026-11-06 13:00"})

	up := reprioritised(open, at(t, loc, "2026-11-02 09:30"), sla.Urgent)
	c = r.Clocks(up)
	stagesAre(t, loc, "urgent first response", c.FirstResponse, [3]string{"2026-11-02 09:45", "2026-11-02 10:00", "2026-11-02 10:30"})
	stagesAre(t, loc, "urgent resolution", c.Resolution, [3]string{"2026-11-02 12:00", "2026-11-02 13:00", "2026-11-02 15:00"})
	if got := r.NextDeadline(up); !got.Equal(at(t, loc, "2026-11-02 10:00")) {
		t.Errorf("NextDeadline = %v, want 10:00", got)
	}

	down := reprioritised(open, at(t, loc, "2026-11-02 10:00"), sla.Low)
	c = r.Clocks(down)
	stagesAre(t, loc, "low first response", c.FirstResponse, [3]string{"2026-11-02 15:00", "2026-11-02 17:00", "2026-11-03 13:00"})
	stagesAre(t, loc, "low resolution", c.Resolution, [3]string{"2026-11-05 15:00", "2026-11-06 17:00", "2026-11-11 13:00"})

	// Made urgent after two hours: its first response was due at 10:00,
	// so it is breached at once.
	late := reprioritised(open, at(t, loc, "2026-11-02 11:00"), sla.Urgent)
	first, _ := r.Snapshots(late, at(t, loc, "2026-11-02 11:00"))
	snapshotIs(t, "first response made urgent late", first, sla.Snapshot{TargetAt: at(t, loc, "2026-11-02 10:00"), Status: sla.Breached, Elapsed: 2 * time.Hour})
}

// TestSolveReopenClose: solving pauses the resolution clock (shown as
// stopped at the solve), reopening resumes it where it was, and closing
// stops both clocks for good, shown as they stood at the last solve.
func TestSolveReopenClose(t *testing.T) {
	loc := zone(t, "Europe/Berlin")
	r := rulesIn(loc)
	tk := replied(opened("T1", at(t, loc, "2026-11-02 09:00"), sla.High), at(t, loc, "2026-11-02 09:30"))
	firstMet := sla.Snapshot{TargetAt: at(t, loc, "2026-11-02 13:00"), Status: sla.Met, Elapsed: 30 * time.Minute, StoppedAt: at(t, loc, "2026-11-02 09:30")}

	solved := moved(tk, at(t, loc, "2026-11-02 11:00"), StatusSolved)
	c := r.Clocks(solved)
	if got := c.Resolution.Status(at(t, loc, "2026-11-02 12:00")); got != sla.Paused {
		t.Errorf("resolution clock of a solved ticket is %s, want paused", got)
	}
	stagesAre(t, loc, "resolution of a solved ticket", c.Resolution, [3]string{"", "", ""})
	first, res := r.Snapshots(solved, at(t, loc, "2026-11-03 12:00"))
	snapshotIs(t, "first response when solved", first, firstMet)
	snapshotIs(t, "resolution when solved", res, sla.Snapshot{TargetAt: at(t, loc, "2026-11-02 17:00"), Status: sla.Met, Elapsed: 2 * time.Hour, StoppedAt: at(t, loc, "2026-11-02 11:00")})
	if !r.NextDeadline(solved).IsZero() || !r.WarningAt(solved).IsZero() {
		t.Errorf("a solved ticket has NextDeadline %v, WarningAt %v", r.NextDeadline(solved), r.WarningAt(solved))
	}

	// Reopened the next morning: six hours left.
	reopened := moved(solved, at(t, loc, "2026-11-03 09:00"), StatusOpen)
	if reopened.Reopened != 1 {
		t.Errorf("Reopened = %d", reopened.Reopened)
	}
	c = r.Clocks(reopened)
	stagesAre(t, loc, "resolution after the reopen", c.Resolution, [3]string{"2026-11-03 13:00", "2026-11-03 15:00", "2026-11-04 11:00"})
	first, res = r.Snapshots(reopened, at(t, loc, "2026-11-03 10:00"))
	snapshotIs(t, "first response after the reopen", first, firstMet)
	snapshotIs(t, "resolution after the reopen", res, sla.Snapshot{TargetAt: at(t, loc, "2026-11-03 15:00"), Status: sla.Running, Elapsed: 3 * time.Hour})
	if got := r.NextDeadline(reopened); !got.Equal(at(t, loc, "2026-11-03 15:00")) {
		t.Errorf("NextDeadline after the reopen = %v", got)
	}

	for _, tc := range []struct {
		solve   string
		status  sla.Status
		elapsed time.Duration
	}{
		{"2026-11-03 12:00", sla.Met, 5 * time.Hour},
		{"2026-11-04 10:00", sla.Breached, 11 * time.Hour},
	} {
		t.Run("solved again "+tc.solve, func(t *testing.T) {
			again := moved(reopened, at(t, loc, tc.solve), StatusSolved)
			closed := moved(again, at(t, loc, "2026-11-06 09:00"), StatusClosed)
			want := sla.Snapshot{TargetAt: at(t, loc, "2026-11-03 15:00"), Status: tc.status, Elapsed: tc.elapsed, StoppedAt: at(t, loc, tc.solve)}
			for _, s := range []struct {
				name string
				t    Ticket
			}{{"solved", again}, {"closed", closed}} {
				first, res := r.Snapshots(s.t, at(t, loc, "2026-11-10 09:00"))
				snapshotIs(t, "first response "+s.name, first, firstMet)
				snapshotIs(t, "resolution "+s.name, res, want)
			}
			c := r.Clocks(closed)
			if got := c.Resolution.StoppedAt(); !got.Equal(at(t, loc, "2026-11-06 09:00")) {
				t.Errorf("resolution clock of the closed ticket stopped at %v, want the close", got)
			}
			if !r.NextDeadline(closed).IsZero() || !r.WarningAt(closed).IsZero() {
				t.Errorf("a closed ticket has NextDeadline %v, WarningAt %v", r.NextDeadline(closed), r.WarningAt(closed))
			}
			// Nothing can resume a closed ticket's clocks.
			after := moved(closed, at(t, loc, "2026-11-09 09:00"), StatusOpen)
			if c := r.Clocks(after); !c.Resolution.StoppedAt().Equal(at(t, loc, "2026-11-06 09:00")) || c.Resolution.Status(at(t, loc, "2026-11-10 09:00")) != want.Status {
				t.Errorf("an event after the close moved the resolution clock: %+v", c.Resolution.Snapshot(at(t, loc, "2026-11-10 09:00")))
			}
		})
	}

	// Closed straight from work, unanswered: both clocks stop there.
	direct := moved(opened("T2", at(t, loc, "2026-11-02 09:00"), sla.High), at(t, loc, "2026-11-02 12:00"), StatusClosed)
	first, res = r.Snapshots(direct, at(t, loc, "2026-11-03 09:00"))
	snapshotIs(t, "first response closed unanswered", first, sla.Snapshot{TargetAt: at(t, loc, "2026-11-02 13:00"), Status: sla.Met, Elapsed: 3 * time.Hour, StoppedAt: at(t, loc, "2026-11-02 12:00")})
	snapshotIs(t, "resolution closed from work", res, sla.Snapshot{TargetAt: at(t, loc, "2026-11-02 17:00"), Status: sla.Met, Elapsed: 3 * time.Hour, StoppedAt: at(t, loc, "2026-11-02 12:00")})
}

// TestSolvedUnanswered: solving a ticket nobody answered stops its
// first-response clock at the solve, met or breached; a reopen does not
// start it again, nor does a reply after it.
func TestSolvedUnanswered(t *testing.T) {
	loc := zone(t, "UTC")
	r := rulesIn(loc)
	open := opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High)
	for _, tc := range []struct {
		solve  string
		status sla.Status
		stages [3]string
	}{
		{"2026-11-09 10:00", sla.Met, [3]string{"", "", ""}},
		{"2026-11-09 13:00", sla.Breached, [3]string{"2026-11-09 11:00", "2026-11-09 12:00", ""}},
	} {
		t.Run(tc.solve, func(t *testing.T) {
			solve := at(t, loc, tc.solve)
			tk := moved(open, solve, StatusSolved)
			want := sla.Snapshot{TargetAt: at(t, loc, "2026-11-09 12:00"), Status: tc.status, Elapsed: r.Calendar.Between(open.OpenedAt, solve), StoppedAt: solve}
			for _, s := range []struct {
				name string
				t    Ticket
			}{
				{"solved", tk},
				{"reopened", moved(tk, solve.Add(time.Hour), StatusOpen)},
				{"answered after the reopen", replied(moved(tk, solve.Add(time.Hour), StatusOpen), solve.Add(2*time.Hour))},
			} {
				stagesAre(t, loc, "first response "+s.name, r.Clocks(s.t).FirstResponse, tc.stages)
				first, _ := r.Snapshots(s.t, solve.Add(24*time.Hour))
				snapshotIs(t, "first response "+s.name, first, want)
			}
		})
	}
}

// TestWarningAtOfStoppedClock: a first response answered after its
// warning but in time no longer puts the ticket at risk; the warning that
// counts is the resolution's, the only clock still running.
func TestWarningAtOfStoppedClock(t *testing.T) {
	loc := zone(t, "UTC")
	r := rulesIn(loc)
	tk := replied(opened("T1", at(t, loc, "2026-11-06 16:00"), sla.High), at(t, loc, "2026-11-09 11:30"))
	if got, want := r.WarningAt(tk), at(t, loc, "2026-11-09 14:00"); !got.Equal(want) {
		t.Errorf("WarningAt = %v, want the resolution's warning %v", got, want)
	}
	if got, want := r.NextDeadline(tk), at(t, loc, "2026-11-09 16:00"); !got.Equal(want) {
		t.Errorf("NextDeadline = %v, want %v", got, want)
	}
}
