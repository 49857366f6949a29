package dynamo_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// The config round-trips every kind of override; none saved is ENOTFOUND;
// a write over a version that is gone is EPRECONDITION and changes nothing.
func TestScorecardConfigStore(t *testing.T) {
	ctx := context.Background()
	client, table := dynamotest.NewTable(t)
	store := &dynamo.ScorecardConfigStore{Client: client, Table: table}

	if _, err := store.Config(ctx); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("empty table: %v, want not found", err)
	}
	first := scoring.Config{Version: 1, UpdatedBy: "sub-root", UpdatedAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
		Overrides: scorecard.Overrides{
			KPIs: map[string]scorecard.KPIOverride{
				"nps":            {Target: ptr(60.0), Baseline: ptr(-10.0), Weight: ptr(0.0)},
				"csat":           {Thresholds: &scorecard.Thresholds{Green: 85, Amber: 70}},
				"sla_compliance": {ClearThresholds: true},
			},
			PerspectiveWeights: map[scorecard.PerspectiveID]float64{"financial": 2, "learning_growth": 0},
		}}
	if err := store.PutConfig(ctx, first, 0); err != nil {
		t.Fatal(err)
	}
	got, err := store.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Errorf("read back %+v, want %+v", got, first)
	}

	second := scoring.Config{Version: 2, UpdatedBy: "sub-root", UpdatedAt: first.UpdatedAt.Add(time.Hour)}
	for _, prev := range []int64{0, 2} {
		if err := store.PutConfig(ctx, second, prev); crm.ErrorCode(err) != crm.EPRECONDITION {
			t.Errorf("put over version %d with version 1 saved: %v, want precondition failed", prev, err)
		}
	}
	if got, _ := store.Config(ctx); got.Version != 1 {
		t.Errorf("a refused write changed the config to version %d", got.Version)
	}
	if err := store.PutConfig(ctx, second, 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Config(ctx); !reflect.DeepEqual(got, second) {
		t.Errorf("read back %+v, want %+v", got, second)
	}
}

// Admins saving over the same version at once: exactly one wins, the rest
// are told the config changed.
func TestScorecardConfigConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	client, table := dynamotest.NewTable(t)
	store := &dynamo.ScorecardConfigStore{Client: client, Table: table}
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			c := scoring.Config{Version: 1, UpdatedAt: time.Now(), Overrides: scorecard.Overrides{
				KPIs: map[string]scorecard.KPIOverride{"nps": {Target: ptr(float64(51 + i))}}}}
			errs[i] = store.PutConfig(ctx, c, 0)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch crm.ErrorCode(err) {
		case "":
			won++
		case crm.EPRECONDITION:
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers won, want 1", won)
	}
}
