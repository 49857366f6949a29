package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/rollup/rolluptest"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

var rollupZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

type rollupFixture struct {
	store *dynamo.RollupStore
	calls *dynamotest.Counter
}

func newRollupFixture(t testing.TB) rollupFixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	calls := &dynamotest.Counter{API: client}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return rollupFixture{store: &dynamo.RollupStore{Client: calls, Table: table, Now: func() time.Time { return now }}, calls: calls}
}

// apply applies env as a consumer would: its contributions, by its id.
func (f rollupFixture) apply(t testing.TB, env events.Envelope) error {
	t.Helper()
	cs, err := rollup.Contributions(env, rollupZone)
	if err != nil {
		t.Fatal(err)
	}
	return f.store.Apply(context.Background(), env.ID, cs)
}

func day(t testing.TB, id string) period.Period {
	t.Helper()
	p, err := period.Parse(id, rollupZone)
	if err != nil || p.Kind() != period.Day {
		t.Fatalf("day %q: %v", id, err)
	}
	return p
}

// sameRollup compares rollups as the scorecard would serve them.
func sameRollup(t testing.TB, what string, got, want *scorecard.Rollup) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// checkAgainstOracle reads every scope's rollup of each day the oracle
// has, and of the whole span, and compares them with the oracle's.
func checkAgainstOracle(t testing.TB, s *dynamo.RollupStore, oracle map[rolluptest.Key]*scorecard.Rollup, scopes []rollup.Scope, first, last string) {
	t.Helper()
	ctx := context.Background()
	for k, want := range oracle {
		got, err := s.Day(ctx, k.Scope, day(t, k.Day))
		if err != nil {
			t.Fatal(err)
		}
		sameRollup(t, fmt.Sprintf("%s on %s", k.Scope, k.Day), got, want)
	}
	for _, scope := range scopes {
		got, err := s.Range(ctx, scope, day(t, first), day(t, last))
		if err != nil {
			t.Fatal(err)
		}
		want, err := rolluptest.Sum(oracle, scope, day(t, first), day(t, last))
		if err != nil {
			t.Fatal(err)
		}
		sameRollup(t, fmt.Sprintf("%s from %s to %s", scope, first, last), got, want)
	}
}

// samples returns every sample event of the catalogue, in its order.
func samples(t testing.TB) []events.Envelope {
	var out []events.Envelope
	for _, d := range events.Catalogue() {
		out = append(out, rolluptest.Sample(t, d.DetailType()))
	}
	return out
}

// Every sample event, applied once, twice, or by ten goroutines at once,
// leaves the same rollups: those its contributions add up to. (Some
// follow-up samples share an event id; the store, like the oracle, counts
// the first of them that adds anything.)
func TestRollupEachEventCountsOnce(t *testing.T) {
	once, twice, racing := newRollupFixture(t), newRollupFixture(t), newRollupFixture(t)
	scopes := []rollup.Scope{rollup.Org, rollup.Team("support")}
	var applied []events.Envelope
	for _, env := range samples(t) {
		applied = append(applied, env)
		if err := once.apply(t, env); err != nil {
			t.Fatalf("%s: %v", env.DetailType, err)
		}
		for range 2 {
			if err := twice.apply(t, env); err != nil {
				t.Fatalf("%s: %v", env.DetailType, err)
			}
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 10)
		for range 10 {
			wg.Go(func() {
				<-start
				errs <- racing.apply(t, env)
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s applied by 10 goroutines: %v", env.DetailType, err)
			}
		}
		oracle, err := rolluptest.Oracle(applied, rollupZone)
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]rollupFixture{"once": once, "twice": twice, "by 10 goroutines": racing} {
			t.Run(env.DetailType+" "+name, func(t *testing.T) {
				checkAgainstOracle(t, f.store, oracle, scopes, "2026-05-01", "2026-12-31")
			})
		}
	}
}

// A follow-up task counts once, at the first of its completion and its
// overdue event: done late after going overdue adds nothing, and an
// overdue event after an on-time completion (a moved task's) adds nothing.
func TestRollupFollowUpCountsOnce(t *testing.T) {
	ctx := context.Background()
	f := newRollupFixture(t)
	overdue := rolluptest.Edit(t, rolluptest.Sample(t, events.FollowupOverdueType), "ov-1", map[string]any{"followup_id": "T1"})
	late := rolluptest.Edit(t, rolluptest.Sample(t, events.FollowupCompletedType), "done-1", map[string]any{"followup_id": "T1", "on_time": false})
	onTime := rolluptest.Edit(t, rolluptest.Sample(t, events.FollowupCompletedType), "done-2", map[string]any{"followup_id": "T2"})
	overdueAfter := rolluptest.Edit(t, rolluptest.Sample(t, events.FollowupOverdueType), "ov-2", map[string]any{"followup_id": "T2"})
	for _, env := range []events.Envelope{overdue, late, late, onTime, overdueAfter, overdue} {
		if err := f.apply(t, env); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.store.Day(ctx, rollup.Org, day(t, "2026-12-03"))
	if err != nil {
		t.Fatal(err)
	}
	if due, done := got.Count(scorecard.FollowUpsDue), got.Count(scorecard.FollowUpsDoneOnTime); due != 2 || done != 1 {
		t.Errorf("followups due %d, done on time %d; want 2 and 1", due, done)
	}
}

// Events for one day and scope applied concurrently — racing on the same
// shards, and on a histogram's smallest and largest durations — lose no
// update.
func TestRollupConcurrentEventsLoseNothing(t *testing.T) {
	f := newRollupFixture(t)
	base := rolluptest.Sample(t, events.TicketRepliedType)
	var envs []events.Envelope
	for i := range 48 {
		envs = append(envs, rolluptest.Edit(t, base, fmt.Sprintf("reply-%02d", i), map[string]any{
			"first_response_seconds": (i*7919)%86400 + i, "first_response_sla": []string{"met", "breached"}[i%2],
		}))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range 8 {
		wg.Go(func() {
			<-start
			for i := w; i < len(envs); i += 8 {
				if err := f.apply(t, envs[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("48 events by 8 goroutines: %v", f.calls.Cost().Requests)
	oracle, err := rolluptest.Oracle(envs, rollupZone)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstOracle(t, f.store, oracle, []rollup.Scope{rollup.Org, rollup.Team("support")}, "2026-12-01", "2026-12-31")
}

// What the store cannot key or merge is refused before anything is
// written.
func TestRollupRefusesWhatItCannotHold(t *testing.T) {
	ctx := context.Background()
	f := newRollupFixture(t)
	f.store.Currency = "EUR"
	d := day(t, "2026-12-03")
	sum := func(currency string) scorecard.Rollup {
		var r scorecard.Rollup
		_ = r.AddSum(scorecard.ConversionRevenue, 100, currency)
		return r
	}
	one := scorecard.Rollup{Counters: map[scorecard.Counter]int64{scorecard.LeadsCaptured: 1}}
	week, _ := period.Parse("2026-W49", rollupZone)
	for name, c := range map[string]struct {
		id string
		cs []rollup.Contribution
	}{
		"no event id":            {"", []rollup.Contribution{{Day: d, Adds: one}}},
		"a week, not a day":      {"e1", []rollup.Contribution{{Day: week, Adds: one}}},
		"no day":                 {"e2", []rollup.Contribution{{Adds: one}}},
		"a team name with #":     {"e3", []rollup.Contribution{{Scope: rollup.Team("a#b"), Day: d, Adds: one}}},
		"another currency":       {"e4", []rollup.Contribution{{Day: d, Adds: sum("USD")}}},
		"sums with no currency":  {"e5", []rollup.Contribution{{Day: d, Adds: scorecard.Rollup{Sums: map[scorecard.Sum]int64{scorecard.ConversionRevenue: 5}}}}},
		"an empty breakdown key": {"e6", []rollup.Contribution{{Day: d, Adds: scorecard.Rollup{Breakdowns: map[scorecard.Breakdown]map[string]int64{scorecard.LeadsBySource: {"": 1}}}}}},
	} {
		f.calls.Reset()
		if err := f.store.Apply(ctx, c.id, c.cs); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
		if n := f.calls.Requests(); n != 0 {
			t.Errorf("%s: %d requests", name, n)
		}
	}
	if _, err := f.store.Range(ctx, rollup.Org, day(t, "2026-12-03"), day(t, "2026-12-02")); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("a range ending before it starts: %v", err)
	}
	if _, err := f.store.Range(ctx, rollup.Org, week, week); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("a range of weeks: %v", err)
	}
	if _, err := f.store.Range(ctx, rollup.Org, day(t, "2025-01-01"), day(t, "2026-12-31")); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("two years: %v", err)
	}
	// Without an organisation currency, a day's shard keeps the currency
	// of its first amount and refuses another.
	f.store.Currency = ""
	if err := f.store.Apply(ctx, "eur", []rollup.Contribution{{Day: d, Adds: sum("EUR")}}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := range 20 {
		err := f.store.Apply(ctx, fmt.Sprintf("usd-%d", i), []rollup.Contribution{{Day: d, Adds: sum("USD")}})
		switch crm.ErrorCode(err) {
		case crm.EINVALID:
			refused++
		case "":
		default:
			t.Fatal(err)
		}
	}
	if refused == 0 {
		t.Error("no USD amount landed on the EUR shard in 20 tries")
	}
}
