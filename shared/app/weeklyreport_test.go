package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// The weekly report fired on Monday 08:00 in Berlin mails last week's
// scorecard to each manager with an address, once: a second firing of the
// same week, or its retry on Tuesday, mails nobody. The mail says every
// status in words, has a text part and no image.
func TestWeeklyReportOncePerManager(t *testing.T) {
	d := newDesk(t)
	d.mail.take()
	fire := func(at time.Time) {
		t.Helper()
		ev := lambdaevents.EventBridgeEvent{DetailType: manifest.WeeklyReportDetailType, Source: "aws.scheduler", Time: at, Detail: json.RawMessage(`{}`)}
		if err := d.handler(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC) // Monday 08:00 CET
	d.now = at
	d.calls.Reset()
	fire(at)
	first := d.calls.Cost()
	sent := d.mail.take()
	to := map[string]int{}
	for _, m := range sent {
		to[strings.Join(m.To, ",")]++
		if m.Subject != "Scorecard for week 2026-W10: no data" {
			t.Errorf("subject %q", m.Subject)
		}
		for _, want := range []string{"No data this period", "target", "Customer"} {
			if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
				t.Errorf("the report lacks %q in its text or HTML", want)
			}
		}
		if strings.Contains(m.HTML, "<img") || strings.Contains(m.HTML, "<script") {
			t.Errorf("the report has an image or a script")
		}
	}
	if len(sent) != 2 || to["max@example.com"] != 1 || to["mia@example.com"] != 1 {
		t.Errorf("reports to %v, want one to each manager", to)
	}
	t.Logf("first firing, 2 managers: %v, %.1f RCU, %.1f WCU", first.Requests, first.RCU, first.WCU)

	d.calls.Reset()
	d.now = at.Add(time.Minute)
	fire(at)
	d.now = at.Add(26 * time.Hour)
	fire(at) // a retry on Tuesday of Monday's firing
	if again := d.mail.take(); len(again) != 0 {
		t.Errorf("a second firing mailed %d", len(again))
	}
	t.Logf("two more firings: %v, %.1f RCU, %.1f WCU", d.calls.Cost().Requests, d.calls.Cost().RCU, d.calls.Cost().WCU)
}
