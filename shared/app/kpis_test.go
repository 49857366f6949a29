package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/rollup/rolluptest"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// errInjected is the failure the flaky client makes up.
var errInjected = errors.New("injected failure")

// fault is what one invocation's requests suffer, carried in its context
// so that concurrent invocations each fail their own way.
type fault struct {
	mode string // "refuse": the first request fails unsent; "lose": a transaction is applied but its answer lost
	hit  atomic.Bool
}

type faultKey struct{}

// flaky passes requests through to the server, failing them as the
// invocation's fault says.
type flaky struct{ dynamo.API }

func faultOf(ctx context.Context) *fault {
	f, _ := ctx.Value(faultKey{}).(*fault)
	return f
}

// refuse reports whether this request is to fail before it is sent.
func refuse(ctx context.Context) bool {
	f := faultOf(ctx)
	return f != nil && f.mode == "refuse" && f.hit.CompareAndSwap(false, true)
}

func (c flaky) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if refuse(ctx) {
		return nil, errInjected
	}
	return c.API.GetItem(ctx, in, opts...)
}

func (c flaky) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if refuse(ctx) {
		return nil, errInjected
	}
	out, err := c.API.TransactWriteItems(ctx, in, opts...)
	if f := faultOf(ctx); err == nil && f != nil && f.mode == "lose" && f.hit.CompareAndSwap(false, true) {
		return nil, errInjected
	}
	return out, err
}

// kpisFixture is the kpis function on a real table, in Berlin time.
type kpisFixture struct {
	handler app.EventHandler
	store   *dynamo.RollupStore // reads back what the handler wrote
	zone    *time.Location
	log     *syncBuffer
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(s.b.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func newKPIs(t *testing.T, wrap func(dynamo.API) dynamo.API) kpisFixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "APP_URL": "https://crm.example.com", "ORG_TIME_ZONE": "Europe/Berlin", "ORG_NAME": "Acme"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var api dynamo.API = client
	if wrap != nil {
		api = wrap(client)
	}
	log := &syncBuffer{}
	return kpisFixture{
		handler: app.KPIs(app.Deps{Config: cfg, DynamoDB: api, Now: clock, Log: slog.New(slog.NewJSONHandler(log, nil))}),
		store:   &dynamo.RollupStore{Client: client, Table: table},
		zone:    cfg.TimeZone,
		log:     log,
	}
}

// eventBridge returns env as a rule delivers it, under a fresh EventBridge
// id: two publications of one event have different ids.
var deliveries atomic.Int64

func eventBridge(env events.Envelope) lambdaevents.EventBridgeEvent {
	return lambdaevents.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("eb-%d", deliveries.Add(1)), Source: env.Source, DetailType: env.DetailType,
		AccountID: "123456789012", Time: env.Time.Truncate(time.Second), Region: "us-east-1", Resources: []string{}, Detail: env.Detail,
	}
}

// A random stream of 400 events, every kind, made from the catalogue's
// samples with fresh ids (redeliveries among them), reaches the kpis
// function twice each — the two copies of half of them at once, of the
// other half the second at the end of the stream — under a different
// EventBridge id every time. 30% of the invocations fail at random: the
// context cancelled, the first request refused before it is sent, or a
// transaction applied and its answer lost. Each failed invocation is
// retried until it succeeds, as the bus does. The rollups read back equal
// the stream's contributions added up in memory, each event once, for the
// organisation and each team, on every day and over the whole span.
func TestKPIsCountEveryEventOnceDespiteRedeliveryAndFailures(t *testing.T) {
	f := newKPIs(t, func(c dynamo.API) dynamo.API { return flaky{c} })
	rng := rand.New(rand.NewPCG(10, 10))
	var rngMu sync.Mutex
	stream := rolluptest.Stream(t, rng, 400, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), 6)

	var invocations, failed atomic.Int64
	failures := map[string]int{}
	var failMu sync.Mutex
	// deliver invokes the handler with env until it succeeds.
	deliver := func(env events.Envelope) error {
		for try := 0; try < 30; try++ {
			rngMu.Lock()
			mode := ""
			if rng.IntN(10) < 3 {
				mode = []string{"cancel", "refuse", "lose"}[rng.IntN(3)]
			}
			rngMu.Unlock()
			ctx, cancel := context.WithCancel(context.Background())
			if mode == "cancel" {
				cancel()
			}
			fl := &fault{mode: mode}
			ctx = context.WithValue(ctx, faultKey{}, fl)
			invocations.Add(1)
			err := f.handler(ctx, eventBridge(env))
			cancel()
			switch {
			case err == nil && fl.hit.Load():
				return fmt.Errorf("%s %s: the handler swallowed a failed request", env.DetailType, env.ID)
			case err == nil && mode != "":
				// The handler made no request the fault could fail (or
				// none after the cancellation): the invocation fails
				// after it, as when the runtime loses the answer.
				err = errInjected
			case err == nil:
				return nil
			}
			if mode == "" {
				return fmt.Errorf("%s %s failed with no fault injected: %w", env.DetailType, env.ID, err)
			}
			failed.Add(1)
			failMu.Lock()
			failures[mode]++
			failMu.Unlock()
		}
		return fmt.Errorf("%s %s: still failing after 30 invocations", env.DetailType, env.ID)
	}

	var later []events.Envelope
	for i, env := range stream {
		if i%2 == 1 {
			if err := deliver(env); err != nil {
				t.Fatal(err)
			}
			later = append(later, env)
			continue
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for c := range errs {
			wg.Go(func() { errs[c] = deliver(env) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	for _, env := range later {
		if err := deliver(env); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d events, %d invocations, %d failed: %v", len(stream), invocations.Load(), failed.Load(), failures)
	if share := float64(failed.Load()) / float64(invocations.Load()); share < 0.25 || share > 0.35 {
		t.Errorf("%.0f%% of the invocations failed, want about 30%%", 100*share)
	}

	oracle, err := rolluptest.Oracle(stream, f.zone)
	if err != nil {
		t.Fatal(err)
	}
	if len(oracle) < 20 {
		t.Errorf("the stream touched only %d scope-days", len(oracle))
	}
	ctx := context.Background()
	day := func(id string) period.Period {
		p, err := period.Parse(id, f.zone)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, k := range slices.SortedFunc(maps.Keys(oracle), func(a, b rolluptest.Key) int {
		return cmpKeys(a, b)
	}) {
		got, err := f.store.Day(ctx, k.Scope, day(k.Day))
		if err != nil {
			t.Fatal(err)
		}
		sameRollup(t, fmt.Sprintf("%s on %s", k.Scope, k.Day), got, oracle[k])
	}
	first, last := day("2026-11-26"), day("2026-12-08")
	for _, scope := range []rollup.Scope{rollup.Org, rollup.Team("support"), rollup.Team("sales")} {
		got, err := f.store.Range(ctx, scope, first, last)
		if err != nil {
			t.Fatal(err)
		}
		want, err := rolluptest.Sum(oracle, scope, first, last)
		if err != nil {
			t.Fatal(err)
		}
		sameRollup(t, fmt.Sprintf("%s over the span", scope), got, want)
		if scope.IsOrg() && got.Count(scorecard.LeadsCaptured) == 0 {
			t.Error("no lead counted over the span")
		}
	}
	// The recomputation from the journal agrees, day by day: every event
	// journaled as its producer would, each day rebuilt from the journal.
	for _, env := range stream {
		if err := dynamo.Journal(ctx, f.store.Client, f.store.Table, env); err != nil {
			t.Fatal(err)
		}
	}
	for d := first; d.ID() <= last.ID(); d = d.Next() {
		rec, err := f.store.Recompute(ctx, f.zone, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, scope := range []rollup.Scope{rollup.Org, rollup.Team("support"), rollup.Team("sales")} {
			got, err := f.store.Day(ctx, scope, d)
			if err != nil {
				t.Fatal(err)
			}
			want := rec[scope]
			if want == nil {
				want = &scorecard.Rollup{}
			}
			sameRollup(t, fmt.Sprintf("%s on %s, against the recomputation", scope, d.ID()), got, want)
		}
	}
	if l := f.log.lines(t); len(l) > 0 {
		t.Errorf("the handler logged %d lines for a well-formed stream: %v", len(l), l[0])
	}
}

func cmpKeys(a, b rolluptest.Key) int {
	if a.Day != b.Day {
		if a.Day < b.Day {
			return -1
		}
		return 1
	}
	switch {
	case a.Scope.Team < b.Scope.Team:
		return -1
	case a.Scope.Team > b.Scope.Team:
		return 1
	}
	return 0
}

func sameRollup(t *testing.T, what string, got, want *scorecard.Rollup) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// An event that can never be counted — a detail its counters cannot read,
// or a team name the rollups cannot key — is dropped with one error line
// naming its detail type and event id and nothing else, and counts
// nowhere; retrying it would fail the same way until the retries ran out.
// A failure of DynamoDB is returned, so the bus retries the event, which
// is then counted.
func TestKPIsDropWhatCanNeverCountAndRetryTheRest(t *testing.T) {
	ctx := context.Background()
	down := &atomic.Bool{}
	f := newKPIs(t, func(c dynamo.API) dynamo.API { return outage{c, down} })
	lead := rolluptest.Sample(t, events.LeadCapturedType)
	ticket := rolluptest.Sample(t, events.TicketOpenedType)
	broken := []events.Envelope{
		rolluptest.Edit(t, lead, "01BROKEN00000000000000001", map[string]any{"captured_at": nil}),
		rolluptest.Edit(t, ticket, "01BROKEN00000000000000002", map[string]any{"team": "sup#port"}),
		{ID: "x", Source: events.SourceLeads, DetailType: events.LeadCapturedType, Detail: json.RawMessage(`"not an object"`)},
	}
	for _, env := range broken {
		if err := f.handler(ctx, eventBridge(env)); err != nil {
			t.Errorf("%s %s: %v, want it dropped", env.DetailType, env.ID, err)
		}
	}
	lines := f.log.lines(t)
	if len(lines) != len(broken) {
		t.Fatalf("%d log lines, want one per dropped event: %v", len(lines), lines)
	}
	for i, l := range lines {
		if l["level"] != "ERROR" || l["detail_type"] != broken[i].DetailType {
			t.Errorf("log line %v, want an error naming %s", l, broken[i].DetailType)
		}
		keys := slices.Sorted(maps.Keys(l))
		allowed := []string{"detail_type", "event_id", "level", "msg", "time"}
		if i == 2 {
			allowed = []string{"detail_type", "level", "msg", "time"} // no event id to name
		}
		if !slices.Equal(keys, allowed) {
			t.Errorf("log line %v carries %v, want only %v", l, keys, allowed)
		}
	}

	good := rolluptest.Edit(t, ticket, "01GOOD0000000000000000001", map[string]any{})
	down.Store(true)
	err := f.handler(ctx, eventBridge(good))
	if !errors.Is(err, errInjected) {
		t.Errorf("during an outage: %v, want the failure returned for a retry", err)
	}
	down.Store(false)
	if err := f.handler(ctx, eventBridge(good)); err != nil {
		t.Fatal(err)
	}
	cs, err := rollup.Contributions(good, f.zone)
	if err != nil || len(cs) == 0 {
		t.Fatalf("contributions of the sample: %v, %v", cs, err)
	}
	got, err := f.store.Day(ctx, rollup.Org, cs[0].Day)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Count(scorecard.TicketsOpened); n != 1 {
		t.Errorf("tickets opened that day: %d, want the retried event's 1 and none of the broken ones'", n)
	}
	if n := got.Count(scorecard.LeadsCaptured); n != 0 {
		t.Errorf("leads captured: %d, want 0: the broken lead counts nowhere", n)
	}
}

// outage fails every request while down is set.
type outage struct {
	dynamo.API
	down *atomic.Bool
}

func (o outage) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if o.down.Load() {
		return nil, errInjected
	}
	return o.API.GetItem(ctx, in, opts...)
}

func (o outage) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if o.down.Load() {
		return nil, errInjected
	}
	return o.API.TransactWriteItems(ctx, in, opts...)
}
