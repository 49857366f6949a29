package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local/bus"
	"github.com/rapportcrm/rapport/infra/local/internal/clock"
	"github.com/rapportcrm/rapport/infra/local/internal/invoke"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

var rules = []manifest.Rule{
	{Name: "kpis-leads", Source: events.SourceLeads, DetailTypes: []string{events.LeadCapturedType, events.LeadConvertedType}, Function: "kpis"},
	{Name: "reminders-leads", Source: events.SourceLeads, DetailTypes: []string{events.LeadCapturedType}, Function: "reminders"},
	{Name: "surveys-tickets", Source: "rapport.tickets", DetailTypes: []string{events.LeadCapturedType}, Function: "surveys"},
}

// consumers records what each function receives.
type consumers struct {
	mu   sync.Mutex
	got  map[string][]lambdaevents.EventBridgeEvent
	fail map[string]int // failures left per function
}

func (c *consumers) handler(name string) app.EventHandler {
	return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.fail[name] > 0 {
			c.fail[name]--
			return errors.New("consumer down")
		}
		c.got[name] = append(c.got[name], ev)
		return nil
	}
}

func (c *consumers) handlers() map[string]app.EventHandler {
	return map[string]app.EventHandler{"kpis": c.handler("kpis"), "reminders": c.handler("reminders"), "surveys": c.handler("surveys")}
}

func (c *consumers) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got[name])
}

func envelope(t *testing.T, detailType string) events.Envelope {
	t.Helper()
	return events.Envelope{
		ID:         "evt-" + detailType,
		Source:     events.SourceLeads,
		DetailType: detailType,
		Time:       time.Date(2026, 11, 22, 10, 0, 0, 123_000_000, time.UTC),
		Detail:     json.RawMessage(`{"event_id":"evt-1","lead_id":"L1","note":"Ana's secret message"}`),
	}
}

func TestDeliversToMatchingRulesOnly(t *testing.T) {
	c := &consumers{got: map[string][]lambdaevents.EventBridgeEvent{}}
	var logs bytes.Buffer
	b, err := bus.New(bus.Options{Rules: rules, Handlers: c.handlers(), Region: "eu-west-1",
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	env := envelope(t, events.LeadCapturedType)
	if errs := b.Publish(context.Background(), []events.Envelope{env}); len(errs) != 1 || errs[0] != nil {
		t.Fatalf("Publish: %v", errs)
	}
	b.Wait()
	if c.count("kpis") != 1 || c.count("reminders") != 1 || c.count("surveys") != 0 {
		t.Fatalf("deliveries kpis=%d reminders=%d surveys=%d, want 1 1 0", c.count("kpis"), c.count("reminders"), c.count("surveys"))
	}
	ev := c.got["kpis"][0]
	if ev.Version != "0" || ev.ID == "" || ev.ID == env.ID || ev.DetailType != env.DetailType || ev.Source != env.Source ||
		ev.AccountID != invoke.Account || ev.Region != "eu-west-1" || !ev.Time.Equal(env.Time.Truncate(time.Second)) ||
		ev.Resources == nil || len(ev.Resources) != 0 || string(ev.Detail) != string(env.Detail) {
		t.Errorf("event = %+v", ev)
	}
	if c.got["reminders"][0].ID != ev.ID {
		t.Error("each rule should get the same event id, as one PutEvents entry")
	}
	// EventBridge's wire names.
	raw, _ := json.Marshal(ev)
	for _, k := range []string{`"version":"0"`, `"detail-type":"lead.captured"`, `"account":"000000000000"`, `"resources":[]`, `"time":"2026-11-22T10:00:00Z"`} {
		if !strings.Contains(string(raw), k) {
			t.Errorf("JSON lacks %s: %s", k, raw)
		}
	}

	if errs := b.Publish(context.Background(), []events.Envelope{envelope(t, events.LeadConvertedType)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	b.Wait()
	if c.count("kpis") != 2 || c.count("reminders") != 1 {
		t.Errorf("after lead.converted kpis=%d reminders=%d, want 2 1", c.count("kpis"), c.count("reminders"))
	}
	if !strings.Contains(logs.String(), "event_id=evt-lead.captured") || strings.Contains(logs.String(), "secret") {
		t.Errorf("log should name the event and never its detail:\n%s", logs.String())
	}
}

func TestRetriesAFailingConsumerOnTheClock(t *testing.T) {
	c := &consumers{got: map[string][]lambdaevents.EventBridgeEvent{}, fail: map[string]int{"reminders": 2}}
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b, err := bus.New(bus.Options{Rules: rules, Handlers: c.handlers(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	b.Publish(context.Background(), []events.Envelope{envelope(t, events.LeadCapturedType)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, wait := range []time.Duration{time.Second, 2 * time.Second} {
		if err := clk.WaitForWaiters(ctx, 1); err != nil {
			t.Fatal("the bus did not wait to retry")
		}
		if next, _ := clk.NextDeadline(); next.Sub(clk.Now()) != wait {
			t.Errorf("backoff %v, want %v", next.Sub(clk.Now()), wait)
		}
		clk.Advance(wait)
	}
	b.Wait()
	if c.count("reminders") != 1 || c.count("kpis") != 1 {
		t.Errorf("reminders=%d kpis=%d, want 1 each (the healthy consumer is not retried)", c.count("reminders"), c.count("kpis"))
	}
}

func TestGivesUpAfterTheLastAttemptAndLogs(t *testing.T) {
	c := &consumers{got: map[string][]lambdaevents.EventBridgeEvent{}, fail: map[string]int{"kpis": 99}}
	var logs bytes.Buffer
	b, err := bus.New(bus.Options{Rules: rules, Handlers: c.handlers(),
		Retry: invoke.Policy{Attempts: 4}, // no backoff
		Log:   slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	b.Publish(context.Background(), []events.Envelope{envelope(t, events.LeadConvertedType)})
	b.Wait()
	if left := c.fail["kpis"]; left != 95 {
		t.Errorf("attempts = %d, want 4", 99-left)
	}
	if !strings.Contains(logs.String(), "event not delivered") || !strings.Contains(logs.String(), "attempts=4") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// A delivery whose retries are spent waits in the dead-letter queue, and a
// redrive hands it to its consumer again — once, and only to that rule.
func TestRedriveDeliversDeadLettersOnce(t *testing.T) {
	c := &consumers{got: map[string][]lambdaevents.EventBridgeEvent{}, fail: map[string]int{"kpis": 2}}
	b, err := bus.New(bus.Options{Rules: rules, Handlers: c.handlers(), Retry: invoke.Policy{Attempts: 2}})
	if err != nil {
		t.Fatal(err)
	}
	env := envelope(t, events.LeadCapturedType)
	b.Publish(context.Background(), []events.Envelope{env})
	b.Wait()
	if c.count("kpis") != 0 || c.count("reminders") != 1 || b.DeadLetters() != 1 {
		t.Fatalf("before the redrive: kpis got %d, reminders %d, dead letters %d; want 0, 1, 1", c.count("kpis"), c.count("reminders"), b.DeadLetters())
	}
	if n := b.Redrive(); n != 1 {
		t.Fatalf("redrove %d, want 1", n)
	}
	b.Wait()
	if c.count("kpis") != 1 || c.count("reminders") != 1 || b.DeadLetters() != 0 {
		t.Errorf("after the redrive: kpis got %d, reminders %d, dead letters %d; want 1, 1, 0", c.count("kpis"), c.count("reminders"), b.DeadLetters())
	}
	if got := c.got["kpis"][0].Detail; !bytes.Equal(got, env.Detail) {
		t.Errorf("redriven detail %s, want %s", got, env.Detail)
	}
	if b.Redrive() != 0 {
		t.Error("a second redrive found dead letters")
	}
}

func TestRefusesMalformedEntriesOneByOne(t *testing.T) {
	c := &consumers{got: map[string][]lambdaevents.EventBridgeEvent{}}
	b, err := bus.New(bus.Options{Rules: rules, Handlers: c.handlers()})
	if err != nil {
		t.Fatal(err)
	}
	good := envelope(t, events.LeadCapturedType)
	noID, noSource, notObject := good, good, good
	noID.ID, noSource.Source, notObject.Detail = "", "", json.RawMessage(`[1]`)
	errs := b.Publish(context.Background(), []events.Envelope{noID, good, noSource, notObject})
	if len(errs) != 4 || errs[0] == nil || errs[1] != nil || errs[2] == nil || errs[3] == nil {
		t.Fatalf("errs = %v", errs)
	}
	b.Wait()
	if c.count("kpis") != 1 {
		t.Errorf("kpis got %d, want only the good one", c.count("kpis"))
	}

	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if errs := b.Publish(context.Background(), []events.Envelope{good}); !errors.Is(errs[0], bus.ErrClosed) {
		t.Errorf("after Close: %v", errs)
	}
}

func TestCloseStopsRetriesWhenItsContextEnds(t *testing.T) {
	c := &consumers{got: map[string][]lambdaevents.EventBridgeEvent{}, fail: map[string]int{"kpis": 99}}
	clk := clock.NewFake(time.Now())
	b, err := bus.New(bus.Options{Rules: rules[:1], Handlers: c.handlers(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	b.Publish(context.Background(), []events.Envelope{envelope(t, events.LeadCapturedType)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.WaitForWaiters(ctx, 1); err != nil {
		t.Fatal(err)
	}
	expired, cancelExpired := context.WithCancel(context.Background())
	cancelExpired()
	if err := b.Close(expired); err == nil {
		t.Error("Close should report deliveries cut short")
	}
}

func TestNewRefusesARuleWithoutAHandler(t *testing.T) {
	if _, err := bus.New(bus.Options{Rules: rules, Handlers: map[string]app.EventHandler{}}); err == nil {
		t.Error("accepted a rule whose function has no handler")
	}
	if _, err := bus.New(bus.Options{Rules: manifest.Rules}); err != nil && len(manifest.Rules) == 0 {
		t.Errorf("the manifest's rules: %v", err)
	}
}
