package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/local/internal/clock"
	"github.com/rapportcrm/rapport/infra/local/scheduler"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr  string
		loc   *time.Location
		after string
		want  []string // successive firings; "" for none
	}{
		{"rate(1 minute)", nil, "2026-11-22T10:00:30Z", []string{"2026-11-22T10:01:30Z", "2026-11-22T10:02:30Z"}},
		{"rate(5 minutes)", nil, "2026-11-22T10:00:00Z", []string{"2026-11-22T10:05:00Z"}},
		{"rate(1 hour)", nil, "2026-11-22T10:00:00Z", []string{"2026-11-22T11:00:00Z"}},
		{"rate(2 hours)", nil, "2026-11-22T10:00:00Z", []string{"2026-11-22T12:00:00Z"}},
		{"rate(1 day)", nil, "2026-11-22T10:00:00Z", []string{"2026-11-23T10:00:00Z"}},
		{"rate(7 days)", nil, "2026-11-22T10:00:00Z", []string{"2026-11-29T10:00:00Z"}},
		// every minute
		{"cron(* * * * ? *)", nil, "2026-11-22T10:00:30Z", []string{"2026-11-22T10:01:00Z", "2026-11-22T10:02:00Z"}},
		// daily at 06:00, strictly after
		{"cron(0 6 * * ? *)", nil, "2026-11-22T06:00:00Z", []string{"2026-11-23T06:00:00Z", "2026-11-24T06:00:00Z"}},
		{"cron(0 6 * * ? *)", nil, "2026-11-22T05:59:59Z", []string{"2026-11-22T06:00:00Z"}},
		// every 15 minutes
		{"cron(0/15 * * * ? *)", nil, "2026-11-22T10:07:00Z", []string{"2026-11-22T10:15:00Z", "2026-11-22T10:30:00Z", "2026-11-22T10:45:00Z", "2026-11-22T11:00:00Z"}},
		// weekly, Monday 08:00 (2026-11-22 is a Sunday); names and numbers (2 = Monday)
		{"cron(0 8 ? * MON *)", nil, "2026-11-22T12:00:00Z", []string{"2026-11-23T08:00:00Z", "2026-11-30T08:00:00Z"}},
		{"cron(0 8 ? * 2 *)", nil, "2026-11-22T12:00:00Z", []string{"2026-11-23T08:00:00Z"}},
		// weekdays at 09:30
		{"cron(30 9 ? * MON-FRI *)", nil, "2026-11-27T10:00:00Z", []string{"2026-11-30T09:30:00Z", "2026-12-01T09:30:00Z"}},
		// first of the month; across a year end
		{"cron(0 0 1 * ? *)", nil, "2026-12-15T00:00:00Z", []string{"2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"}},
		// the 31st skips short months
		{"cron(0 12 31 * ? *)", nil, "2027-01-31T12:00:00Z", []string{"2027-03-31T12:00:00Z"}},
		// lists and ranges with steps, months by name
		{"cron(0,30 8-10/2 * JAN,JUL ? *)", nil, "2026-12-31T00:00:00Z", []string{"2027-01-01T08:00:00Z", "2027-01-01T08:30:00Z", "2027-01-01T10:00:00Z", "2027-01-01T10:30:00Z", "2027-01-02T08:00:00Z"}},
		// a year field that ends
		{"cron(0 0 1 1 ? 2027)", nil, "2026-06-01T00:00:00Z", []string{"2027-01-01T00:00:00Z", ""}},
		// in the organisation's zone: Monday 08:00 Berlin is 07:00Z in winter, 06:00Z in summer
		{"cron(0 8 ? * MON *)", berlin, "2026-03-22T12:00:00Z", []string{"2026-03-23T07:00:00Z", "2026-03-30T06:00:00Z"}},
		// daily 01:30 Berlin across the autumn change (25 Oct 2026): once a day
		{"cron(30 1 * * ? *)", berlin, "2026-10-24T00:00:00Z", []string{"2026-10-24T23:30:00Z", "2026-10-26T00:30:00Z"}},
	} {
		s, err := scheduler.Parse(tc.expr, tc.loc)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		at := utc(tc.after)
		for i, w := range tc.want {
			got := s.Next(at)
			if w == "" {
				if !got.IsZero() {
					t.Errorf("%s firing %d after %s: %s, want none", tc.expr, i+1, at.UTC().Format(time.RFC3339), got.UTC().Format(time.RFC3339))
				}
				break
			}
			if !got.Equal(utc(w)) {
				t.Errorf("%s firing %d after %s: %s, want %s", tc.expr, i+1, at.UTC().Format(time.RFC3339), got.UTC().Format(time.RFC3339), w)
				break
			}
			at = got
		}
	}
}

func TestParseRefusesWhatItDoesNotSupport(t *testing.T) {
	for expr, reason := range map[string]string{
		"rate(1 minutes)":         "singular",
		"rate(5 minute)":          "singular",
		"rate(0 minutes)":         "positive",
		"rate(1 week)":            "want rate",
		"rate(-1 minutes)":        "want rate",
		"at(2026-11-22T10:00:00)": "only rate",
		"every minute":            "only rate",
		"cron(0 6 * * *)":         "6 fields",
		"cron(0 6 * * * *)":       "exactly one",
		"cron(0 6 ? * ? *)":       "exactly one",
		"cron(0 6 L * ? *)":       "not supported",
		"cron(0 6 15W * ? *)":     "not supported",
		"cron(0 6 ? * 6L *)":      "not supported",
		"cron(0 6 ? * 2#1 *)":     "not supported",
		"cron(60 6 * * ? *)":      "outside",
		"cron(0 24 * * ? *)":      "outside",
		"cron(0 6 0 * ? *)":       "outside",
		"cron(0 6 ? 13 MON *)":    "outside",
		"cron(0 6 ? * 8 *)":       "outside",
		"cron(0 6 * * ? 1969)":    "outside",
		"cron(? 6 * * ? *)":       "? is allowed only",
		"cron(0 10-8 * * ? *)":    "low to high",
		"cron(0/0 6 * * ? *)":     "step",
		"cron(x 6 * * ? *)":       "not a value",
		"cron(0 6 ? * FUNDAY *)":  "not a value",
	} {
		_, err := scheduler.Parse(expr, nil)
		if err == nil {
			t.Errorf("Parse(%q) accepted it", expr)
			continue
		}
		if !strings.Contains(err.Error(), reason) {
			t.Errorf("Parse(%q): %q does not say %q", expr, err, reason)
		}
	}
}

func TestFiresOnTheFakeClock(t *testing.T) {
	start := utc("2026-11-22T10:00:30Z")
	clk := clock.NewFake(start)
	got := make(chan lambdaevents.EventBridgeEvent, 10)
	sched, err := scheduler.New(scheduler.Options{
		Schedules: []manifest.Schedule{
			{Name: "reminders-sweep", Expression: "rate(1 minute)", Function: "reminders", DetailType: "reminders.sweep"},
			{Name: "scorecard-hourly", Expression: "cron(0 * * * ? *)", Function: "kpis", DetailType: "scorecard.snapshot"},
		},
		Handlers: map[string]app.EventHandler{
			"reminders": func(_ context.Context, ev lambdaevents.EventBridgeEvent) error { got <- ev; return nil },
			"kpis":      func(_ context.Context, ev lambdaevents.EventBridgeEvent) error { got <- ev; return nil },
		},
		Clock:  clk,
		Region: "eu-central-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { sched.Run(ctx); close(stopped) }()

	wait, cancelWait := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelWait()
	receive := func() lambdaevents.EventBridgeEvent {
		t.Helper()
		select {
		case ev := <-got:
			return ev
		case <-wait.Done():
			t.Fatal("no scheduled event arrived")
			return lambdaevents.EventBridgeEvent{}
		}
	}

	// Both schedules wait; the sweep fires first, a minute after start.
	if err := clk.WaitForWaiters(wait, 2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	ev := receive()
	if ev.Source != scheduler.Source || ev.DetailType != "reminders.sweep" || !ev.Time.Equal(utc("2026-11-22T10:01:30Z")) ||
		ev.Version != "0" || ev.ID == "" || ev.Region != "eu-central-1" || ev.AccountID != "000000000000" ||
		len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:scheduler:eu-central-1:000000000000:schedule/default/reminders-sweep" ||
		string(ev.Detail) != "{}" {
		t.Errorf("event = %+v", ev)
	}

	// Jump to 11:00:00: the hourly snapshot fires at the hour, and the
	// sweep, which fell behind, fires once rather than 58 times.
	if err := clk.WaitForWaiters(wait, 2); err != nil {
		t.Fatal(err)
	}
	clk.Set(utc("2026-11-22T11:00:00Z"))
	seen := map[string]time.Time{}
	for range 2 {
		ev := receive()
		seen[ev.DetailType] = ev.Time
	}
	if !seen["scorecard.snapshot"].Equal(utc("2026-11-22T11:00:00Z")) || seen["reminders.sweep"].IsZero() {
		t.Errorf("after the jump: %v", seen)
	}
	if err := clk.WaitForWaiters(wait, 2); err != nil {
		t.Fatal(err)
	}
	if next, _ := clk.NextDeadline(); !next.Equal(utc("2026-11-22T11:01:00Z")) {
		t.Errorf("the sweep resumes at %s, want a minute after now, 11:01:00", next.Format(time.RFC3339))
	}
	select {
	case ev := <-got:
		t.Errorf("an extra event: %+v", ev)
	default:
	}

	cancel()
	select {
	case <-stopped:
	case <-wait.Done():
		t.Fatal("Run did not return after its context ended")
	}
}

func TestRetriesAFailedRun(t *testing.T) {
	clk := clock.NewFake(utc("2026-11-22T10:00:00Z"))
	calls := make(chan int, 10)
	n := 0
	sched, err := scheduler.New(scheduler.Options{
		Schedules: []manifest.Schedule{{Name: "s", Expression: "rate(1 hour)", Function: "f", DetailType: "d"}},
		Handlers: map[string]app.EventHandler{"f": func(context.Context, lambdaevents.EventBridgeEvent) error {
			n++
			calls <- n
			if n == 1 {
				panic("first run crashes")
			}
			return nil
		}},
		Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sched.Run(ctx)
	wait, cancelWait := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelWait()
	if err := clk.WaitForWaiters(wait, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if <-calls != 1 {
		t.Fatal("first call")
	}
	// Now the next hour's timer and the retry's backoff (1 s) both wait.
	if err := clk.WaitForWaiters(wait, 2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	select {
	case c := <-calls:
		if c != 2 {
			t.Errorf("call %d, want the retry", c)
		}
	case <-wait.Done():
		t.Fatal("the failed run was not retried")
	}
}

func TestNewRefusesBadSchedules(t *testing.T) {
	h := map[string]app.EventHandler{"f": func(context.Context, lambdaevents.EventBridgeEvent) error { return nil }}
	for name, sc := range map[string]manifest.Schedule{
		"bad expression": {Name: "s", Expression: "rate(1 minutes)", Function: "f", DetailType: "d"},
		"no handler":     {Name: "s", Expression: "rate(1 minute)", Function: "g", DetailType: "d"},
		"no detail type": {Name: "s", Expression: "rate(1 minute)", Function: "f"},
	} {
		if _, err := scheduler.New(scheduler.Options{Schedules: []manifest.Schedule{sc}, Handlers: h}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, sc := range manifest.Schedules {
		if _, err := scheduler.Parse(sc.Expression, time.UTC); err != nil {
			t.Errorf("manifest schedule %s: %v", sc.Name, err)
		}
	}
}

// TestStepsThroughEveryFiringInOrder takes the firings one by one, as the
// local stack's movable clock does: every run of every schedule, in time
// order, manifest order at one instant, none skipped however far apart.
func TestStepsThroughEveryFiringInOrder(t *testing.T) {
	clk := clock.NewFake(utc("2026-11-22T10:00:00Z"))
	var got []string
	h := func(_ context.Context, ev lambdaevents.EventBridgeEvent) error {
		got = append(got, ev.DetailType+"@"+ev.Time.Format("15:04"))
		return nil
	}
	sched, err := scheduler.New(scheduler.Options{
		Schedules: []manifest.Schedule{
			{Name: "quarter", Expression: "cron(0/15 * * * ? *)", Function: "f", DetailType: "quarter"},
			{Name: "tick", Expression: "rate(5 minutes)", Function: "f", DetailType: "tick"},
			{Name: "once", Expression: "cron(20 10 22 11 ? 2026)", Function: "f", DetailType: "once"},
		},
		Handlers: map[string]app.EventHandler{"f": h},
		Clock:    clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	until := utc("2026-11-22T10:30:00Z")
	for {
		f, ok := sched.Next()
		if !ok || f.At.After(until) {
			break
		}
		sched.Take(f)
		clk.Set(f.At)
		sched.Fire(context.Background(), f)
	}
	want := []string{
		"tick@10:05", "tick@10:10",
		"quarter@10:15", "tick@10:15", // one instant: manifest order
		"tick@10:20", "once@10:20", "tick@10:25",
		"quarter@10:30", "tick@10:30",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("firings\n got %v\nwant %v", got, want)
	}
	// "once" has no further run; the others carry on.
	for range 20 {
		f, _ := sched.Next()
		if f.Schedule == "once" {
			t.Fatalf("once fires again at %s", f.At)
		}
		sched.Take(f)
	}
}
