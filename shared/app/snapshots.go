package app

import (
	"context"
	"slices"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/scoring"
	"github.com/rapportcrm/rapport/shared/staff"
)

// readRollups is the rollup store of the functions that only read the
// rollups (and, for the admin's repair, rewrite them).
func readRollups(d Deps) *dynamo.RollupStore {
	return &dynamo.RollupStore{Client: d.DynamoDB, Table: d.Config.TableName, Now: d.Now}
}

// scoringService is the scorecard service on rollups, in the
// organisation's zone, against its saved config.
func scoringService(d Deps, rollups *dynamo.RollupStore) *scoring.Service {
	return &scoring.Service{
		Rollups: rollups,
		Config:  &dynamo.ScorecardConfigStore{Client: d.DynamoDB, Table: d.Config.TableName},
		Zone:    d.Config.TimeZone,
		Now:     d.Now,
	}
}

// snapshotRun is the kpis function's scorecard-snapshot schedule: the
// snapshots due at the firing's instant (scoring.TakeSnapshots) for the
// organisation and every team a staff profile names. Teams come from the
// profiles because the rollups have no list of teams short of a scan; a
// team nobody belongs to any more keeps the snapshots it has, and its
// live card. A failed run is retried; what it stored stays stored.
func snapshotRun(d Deps, rollups *dynamo.RollupStore) func(context.Context, lambdaevents.EventBridgeEvent) error {
	svc := scoringService(d, rollups)
	store := &dynamo.SnapshotStore{Client: d.DynamoDB, Table: d.Config.TableName}
	people := StaffService(d)
	return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
		at := ev.Time
		if at.IsZero() {
			at = d.Now()
		}
		teams, err := teamsOf(ctx, people)
		if err != nil {
			return err
		}
		rep, err := svc.TakeSnapshots(ctx, store, teams, at)
		d.Log.InfoContext(ctx, "scorecard snapshots", "at", at.UTC().Format(time.RFC3339), "teams", len(teams), "stored", rep.Stored, "existing", rep.Existing)
		return err
	}
}

// maxStaffPages bounds the staff read of one run: 100 pages of 100.
const maxStaffPages = 100

// everyone lists the profiles f selects, page by page.
func everyone(ctx context.Context, people *staff.Service, f staff.Filter) ([]staff.Profile, error) {
	var out []staff.Profile
	f.Limit = 100
	for range maxStaffPages {
		page, err := people.List(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if f.Cursor = page.NextCursor; f.Cursor == "" {
			break
		}
	}
	return out, nil
}

// teamsOf lists the teams staff profiles name, sorted, once each.
func teamsOf(ctx context.Context, people *staff.Service) ([]string, error) {
	all, err := everyone(ctx, people, staff.Filter{})
	if err != nil {
		return nil, err
	}
	var teams []string
	for _, p := range all {
		if p.Team != "" && !slices.Contains(teams, p.Team) {
			teams = append(teams, p.Team)
		}
	}
	slices.Sort(teams)
	return teams, nil
}
