package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/timer"
)

// dueProbe counts the followup.due events the bus delivers, by event id.
type dueProbe struct {
	mu   sync.Mutex
	seen map[string]int
}

func (p *dueProbe) handler(app.Deps) app.EventHandler {
	return func(_ context.Context, ev lambdaevents.EventBridgeEvent) error {
		var d events.FollowupDue
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.seen[d.EventID]++
		return nil
	}
}

func (p *dueProbe) counts() (events, deliveries int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.seen {
		events++
		deliveries += n
	}
	return events, deliveries
}

// startRapport starts the stack with Rapport's own handlers, rules and
// schedules, frozen at at, plus a probe on followup.due.
func startRapport(t *testing.T, at time.Time) (*local.Stack, *dueProbe) {
	t.Helper()
	probe := &dueProbe{seen: map[string]int{}}
	reg := local.DefaultRegistry()
	reg.Event["probe"] = probe.handler
	rules := append([]manifest.Rule{{Name: "probe-due", Source: events.SourceReminders, DetailTypes: []string{events.FollowupDueType}, Function: "probe"}}, manifest.Rules...)
	st, _ := startStack(t, &chain{}, nil, map[string]string{local.ClockVar: at.Format(time.RFC3339)}, func(o *local.Options) {
		o.Registry, o.Rules = &reg, rules
	})
	return st, probe
}

// A lead captured on a Monday morning gets a first-contact task due four
// working hours later; five hours on, the sales queue has its reminder in
// the outbox, followup.due has reached the bus once, and the task is in the
// unassigned queue's overdue plan.
func TestFirstContactReminderEndToEnd(t *testing.T) {
	st, probe := startRapport(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ctx := within(t, 2*time.Minute)
	form := "name=Ada+Lovelace&email=ada%40example.com&company=Analytical+Engines&source=website"
	for range 2 { // the second post is a duplicate: one lead, one task
		if code, body := call(t, "POST", st.URL+"/leads", "", strings.NewReader(form)); code != 201 && code != 200 {
			t.Fatalf("POST /leads: %d %s", code, body)
		}
	}
	if _, err := st.Advance(ctx, 0); err != nil { // let lead.captured make its task
		t.Fatal(err)
	}
	agent, _ := st.TokenFor(manifest.Agent, "agent-1")
	code, body := call(t, "GET", st.URL+"/followups?owner=unassigned", agent, nil)
	var plan struct {
		Items []struct {
			ID, Kind, Subject string
			DueAt             time.Time `json:"due_at"`
		}
	}
	if err := json.Unmarshal([]byte(body), &plan); code != 200 || err != nil || len(plan.Items) != 1 {
		t.Fatalf("unassigned plan: %d %s", code, body)
	}
	task := plan.Items[0]
	if task.Kind != "first_contact" || !task.DueAt.Equal(time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("task %+v, want a first_contact due at 13:00Z", task)
	}

	mv, err := st.Advance(ctx, 5*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if mv.Fired["reminders-sweep"] != 300 {
		t.Errorf("sweeps in five hours: %v", mv.Fired)
	}
	if ev, n := probe.counts(); ev != 1 || n != 1 {
		t.Errorf("followup.due on the bus: %d events in %d deliveries, want 1 in 1", ev, n)
	}
	mails, _ := filepath.Glob(filepath.Join(st.Outbox, "*.eml"))
	if len(mails) != 1 {
		t.Fatalf("outbox holds %d mails, want the one reminder", len(mails))
	}
	if !strings.HasPrefix(filepath.Base(mails[0]), "20260302T130") {
		t.Errorf("the mail %s is not dated by the stack's clock (13:00 on 2 March)", filepath.Base(mails[0]))
	}
	mail, _ := os.ReadFile(mails[0])
	for _, want := range []string{"sales@rapport.localhost", "First contact", "Ada Lovelace (Analytical Engines)", "/leads/"} {
		if !strings.Contains(string(mail), want) {
			t.Errorf("the reminder lacks %q:\n%s", want, mail)
		}
	}
	code, body = call(t, "GET", st.URL+"/followups?owner=unassigned&when=overdue", agent, nil)
	if code != 200 || !strings.Contains(body, task.ID) {
		t.Errorf("overdue plan: %d %s", code, body)
	}
}

// Ten sweeps at once over due timers fire each once: counted on the bus,
// after the stream, the relay and the bus have delivered everything.
func TestConcurrentSweepsDeliverEachReminderOnce(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	st, probe := startRapport(t, now)
	ctx := within(t, 4*time.Minute)
	const n = 1000
	var timers []timer.Timer
	for i := range n {
		tm, err := timer.Arm(fmt.Sprintf("followup#T%04d#due", i), now.Add(-time.Duration(i)*time.Second), events.FollowupDue{
			Followup: events.Followup{FollowupID: fmt.Sprintf("T%04d", i), SubjectKind: "lead", SubjectID: "L1", Kind: "task"},
		})
		if err != nil {
			t.Fatal(err)
		}
		timers = append(timers, tm)
	}
	if err := (&dynamo.TimerStore{Client: st.DynamoDB, Table: st.Table}).Arm(ctx, timers...); err != nil {
		t.Fatal(err)
	}
	sweep := app.Reminders(app.Deps{Config: st.Config, DynamoDB: st.DynamoDB, Now: st.Now, Log: local.NewLogger(io.Discard, nil), Mail: st.Mailer})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := sweep(ctx, lambdaevents.EventBridgeEvent{DetailType: manifest.SweepDetailType, Source: "aws.scheduler", Detail: json.RawMessage(`{}`)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := st.Advance(ctx, 0); err != nil { // wait until the bus has delivered what the sweeps wrote
		t.Fatal(err)
	}
	if ev, deliveries := probe.counts(); ev != n || deliveries != n {
		t.Fatalf("the bus delivered %d followup.due events in %d deliveries, want %d in %d", ev, deliveries, n, n)
	}
}
