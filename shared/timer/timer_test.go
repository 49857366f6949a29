package timer_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/timer"
)

func TestDailyNextAcrossDST(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	cases := []struct {
		name  string
		daily timer.Daily
		after time.Time
		want  string
	}{
		{"later today", timer.Daily{Zone: berlin, Hour: 8}, time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC), "2026-12-02T07:00:00Z"},
		{"at the instant: tomorrow", timer.Daily{Zone: berlin, Hour: 8}, time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC), "2026-12-03T07:00:00Z"},
		{"summer time", timer.Daily{Zone: berlin, Hour: 8}, time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "2026-07-02T06:00:00Z"},
		{"the autumn change", timer.Daily{Zone: berlin, Hour: 8}, time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC), "2026-10-25T07:00:00Z"},
		{"a skipped wall time fires at the jump", timer.Daily{Zone: berlin, Hour: 2, Minute: 30}, time.Date(2027, 3, 27, 12, 0, 0, 0, time.UTC), "2027-03-28T01:00:00Z"},
		{"a repeated wall time fires at the first", timer.Daily{Zone: ny, Hour: 1, Minute: 30}, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), "2026-11-01T05:30:00Z"},
		{"then once the next day", timer.Daily{Zone: ny, Hour: 1, Minute: 30}, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), "2026-11-02T06:30:00Z"},
		{"over a year end", timer.Daily{Zone: ny, Hour: 23, Minute: 59}, time.Date(2027, 1, 1, 4, 59, 0, 0, time.UTC), "2027-01-02T04:59:00Z"},
	}
	for _, c := range cases {
		if got := c.daily.Next(c.after).UTC().Format(time.RFC3339); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestEnvelopeOfAFiring(t *testing.T) {
	due := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	tm, err := timer.Arm("followup#F1#due", due, events.FollowupDue{
		Metadata: events.Metadata{EventID: "ignored", OccurredAt: time.Now()},
		Followup: events.Followup{FollowupID: "F1", SubjectKind: "lead", SubjectID: "L1", Kind: "task", DueAt: due},
	})
	if err != nil {
		t.Fatal(err)
	}
	tm.Arming = "a1"
	env, err := tm.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	var d events.FollowupDue
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		t.Fatal(err)
	}
	if env.ID != d.EventID || !d.OccurredAt.Equal(due) || d.FollowupID != "F1" || env.DetailType != events.FollowupDueType || env.Source != events.SourceReminders {
		t.Fatalf("envelope %+v, detail %+v", env, d)
	}
	again, _ := tm.Envelope()
	if again.ID != env.ID {
		t.Error("two attempts at one firing have different event ids")
	}
	rearmed := tm
	rearmed.Arming = "a2"
	moved := tm
	moved.Due = due.Add(time.Hour)
	if id, _ := rearmed.Envelope(); id.ID == env.ID {
		t.Error("a timer armed again for the same instant reuses the event id")
	}
	if id, _ := moved.Envelope(); id.ID == env.ID {
		t.Error("a moved timer reuses the event id")
	}
	if _, err := (timer.Timer{ID: "x", Detail: []byte(`[1]`)}).Envelope(); err == nil {
		t.Error("a detail that is not an object made an envelope")
	}
}
