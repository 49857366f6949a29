package dynamo_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

type snapshotFixture struct {
	svc    *scoring.Service
	store  *dynamo.SnapshotStore
	config *dynamo.ScorecardConfigStore
	calls  *dynamotest.Counter
	now    time.Time
}

// newSnapshotFixture has ten leads captured and two converted on Monday
// 30 November 2026 (Berlin), for the organisation and team sales.
func newSnapshotFixture(t *testing.T) *snapshotFixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	calls := &dynamotest.Counter{API: client}
	f := &snapshotFixture{
		store:  &dynamo.SnapshotStore{Client: calls, Table: table},
		config: &dynamo.ScorecardConfigStore{Client: calls, Table: table},
		calls:  calls,
	}
	rollups := &dynamo.RollupStore{Client: calls, Table: table, Now: func() time.Time { return f.now }}
	f.svc = &scoring.Service{Rollups: rollups, Config: f.config, Zone: rollupZone, Now: func() time.Time { return f.now }}
	for _, sc := range []rollup.Scope{rollup.Org, rollup.Team("sales")} {
		var adds scorecard.Rollup
		_ = adds.Add(scorecard.LeadsCaptured, 10)
		_ = adds.Add(scorecard.LeadsConverted, 2)
		if err := rollups.Apply(context.Background(), "ev-"+sc.String(), []rollup.Contribution{{Scope: sc, Day: day(t, "2026-11-30"), Adds: adds}}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// run takes the snapshots due at local 00:05 on day, in Berlin.
func (f *snapshotFixture) run(t *testing.T, y int, m time.Month, d int) scoring.SnapshotReport {
	t.Helper()
	f.now = time.Date(y, m, d, 0, 5, 0, 0, rollupZone)
	rep, err := f.svc.TakeSnapshots(context.Background(), f.store, []string{"sales"}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func conversion(t *testing.T, c scoring.Card) scorecard.KPIScore {
	t.Helper()
	for _, ps := range c.Perspectives {
		for _, k := range ps.KPIs {
			if k.ID == scorecard.KPILeadConversionRate {
				return k
			}
		}
	}
	t.Fatalf("no conversion rate on the card")
	return scorecard.KPIScore{}
}

// The first run stores the last period of each kind ended, for the
// organisation and the team; a second run writes nothing; a config saved
// later changes no snapshot; a run after three missed ones stores the
// missing days, oldest first, and nothing else.
func TestSnapshotsAreTakenOnceAndNeverRewritten(t *testing.T) {
	ctx := context.Background()
	f := newSnapshotFixture(t)

	if rep := f.run(t, 2026, 12, 1); rep.Stored != 8 || rep.Existing != 0 {
		t.Fatalf("first run on 1 December: %+v, want 8 stored (day, week, month, quarter × org, sales)", rep)
	}
	for _, k := range []scoring.SnapshotKey{
		{Kind: period.Day, Period: "2026-11-30"}, {Kind: period.Week, Period: "2026-W48"},
		{Kind: period.Month, Period: "2026-11", Team: "sales"}, {Kind: period.Quarter, Period: "2026-Q3", Team: "sales"},
	} {
		if _, err := f.store.Snapshot(ctx, k); err != nil {
			t.Errorf("snapshot %+v: %v", k, err)
		}
	}
	before, err := f.store.Snapshot(ctx, scoring.SnapshotKey{Kind: period.Day, Period: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	if k := conversion(t, before.Card); k.Value == nil || *k.Value != 20 || len(before.History) != scoring.SnapshotHistory {
		t.Errorf("snapshot of 30 November: conversion %+v, %d history points; want 20%% and %d", k, len(before.History), scoring.SnapshotHistory)
	}

	f.calls.Reset()
	if rep := f.run(t, 2026, 12, 1); rep.Stored != 0 || rep.Existing != 0 {
		t.Errorf("second run: %+v, want nothing", rep)
	}
	cost := f.calls.Cost()
	if cost.Requests["PutItem"] != 0 || cost.WCU != 0 {
		t.Errorf("second run wrote: %+v", cost)
	}
	t.Logf("a run with nothing due: %d requests %v, %.1f RCU", cost.Total(), cost.Requests, cost.RCU)

	target := 50.0
	if err := f.config.PutConfig(ctx, scoring.Config{Version: 1, Overrides: scorecard.Overrides{
		KPIs: map[string]scorecard.KPIOverride{scorecard.KPILeadConversionRate: {Target: &target}}}}, 0); err != nil {
		t.Fatal(err)
	}
	after, err := f.store.Snapshot(ctx, scoring.SnapshotKey{Kind: period.Day, Period: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) || after.ConfigVersion != 0 {
		t.Errorf("the snapshot changed with the config:\n%+v\nwant\n%+v", after, before)
	}
	live, err := f.svc.Card(ctx, scoring.Query{Period: day(t, "2026-11-30")})
	if err != nil {
		t.Fatal(err)
	}
	if got, was := conversion(t, live).Target, conversion(t, before.Card).Target; got != 50 || was == 50 {
		t.Errorf("live target %v, snapshot target %v: want the live card at 50 and the snapshot at the target of its day", got, was)
	}
	if stored, err := f.store.PutSnapshot(ctx, scoring.Snapshot{Card: live, TakenAt: f.now, ConfigVersion: 1}); stored || err != nil {
		t.Errorf("a second put of 30 November: stored %v, %v; want refused", stored, err)
	}
	if again, _ := f.store.Snapshot(ctx, scoring.SnapshotKey{Kind: period.Day, Period: "2026-11-30"}); !reflect.DeepEqual(again, before) {
		t.Errorf("a refused put changed the snapshot")
	}

	// The runs of 2, 3 and 4 December were missed: Saturday's stores 1–4
	// December, with the targets in force on Saturday; week 49 is not over.
	f.calls.Reset()
	if rep := f.run(t, 2026, 12, 5); rep.Stored != 8 {
		t.Errorf("catch-up run: %+v, want 4 days × 2 scopes", rep)
	}
	t.Logf("a catch-up run of 4 days × 2 scopes: %v, %.1f RCU, %.1f WCU", f.calls.Cost().Requests, f.calls.Cost().RCU, f.calls.Cost().WCU)
	s, err := f.store.Snapshot(ctx, scoring.SnapshotKey{Kind: period.Day, Period: "2026-12-04", Team: "sales"})
	if err != nil || s.ConfigVersion != 1 || conversion(t, s.Card).Target != 50 {
		t.Errorf("4 December for sales: version %d, %v; want version 1 and target 50", s.ConfigVersion, err)
	}
	if _, err := f.store.Snapshot(ctx, scoring.SnapshotKey{Kind: period.Week, Period: "2026-W49"}); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("week 49, not over on Saturday: %v, want not found", err)
	}

	var got []string
	cursor := ""
	for range 4 {
		page, err := f.store.Snapshots(ctx, scoring.SnapshotFilter{Kind: period.Day, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			got = append(got, it.Period)
			if it.Team != "" || it.TakenAt.IsZero() || it.Kind != period.Day {
				t.Errorf("entry %+v", it)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if want := []string{"2026-12-04", "2026-12-03", "2026-12-02", "2026-12-01", "2026-11-30"}; !reflect.DeepEqual(got, want) {
		t.Errorf("day snapshots %v, want %v", got, want)
	}
	if _, err := f.store.Snapshots(ctx, scoring.SnapshotFilter{Kind: period.Week, Limit: 2, Cursor: cursor + "x"}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("a bad cursor: %v, want invalid", err)
	}
}

// A snapshot of the default catalogue with its eight periods of history
// costs a few write units, far from the 400 KB item limit.
func TestSnapshotItemIsSmall(t *testing.T) {
	f := newSnapshotFixture(t)
	f.now = time.Date(2026, 12, 1, 0, 5, 0, 0, rollupZone)
	card, err := f.svc.Card(context.Background(), scoring.Query{Period: day(t, "2026-11-30"), History: scoring.SnapshotHistory})
	if err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
	if _, err := f.store.PutSnapshot(context.Background(), scoring.Snapshot{Card: card, TakenAt: f.now}); err != nil {
		t.Fatal(err)
	}
	wcu := f.calls.Cost().WCU
	t.Logf("one snapshot: %.1f WCU", wcu)
	if wcu > 4 {
		t.Errorf("a snapshot costs %.1f WCU, want at most 4 (under 4 KB)", wcu)
	}
}
