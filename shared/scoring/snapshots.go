package scoring

import (
	"context"
	"errors"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
)

// Snapshot is a card as it was scored when its period had just ended:
// stored once, never rewritten, so a later change of targets or a late
// event leaves history as it was read.
type Snapshot struct {
	Card
	// TakenAt is when the snapshot was taken.
	TakenAt time.Time
	// ConfigVersion is the version of the scorecard config the card was
	// scored against (0: the catalogue as it ships).
	ConfigVersion int64
}

// SnapshotKey names one snapshot: a period of a kind, for the
// organisation (Team "") or a team.
type SnapshotKey struct {
	Kind   period.Kind
	Period string // the period's id, such as 2026-W48
	Team   string
}

// SnapshotSummary is a snapshot as a list shows it.
type SnapshotSummary struct {
	SnapshotKey
	TakenAt       time.Time
	Score         *float64
	ConfigVersion int64
}

// SnapshotFilter chooses a page of snapshots: one kind, the organisation
// or one team, newest first.
type SnapshotFilter struct {
	Kind   period.Kind
	Team   string
	Limit  int
	Cursor string
}

// SnapshotPage is a page of snapshots, newest first; NextCursor is "" on
// the last page.
type SnapshotPage struct {
	Items      []SnapshotSummary
	NextCursor string
}

// SnapshotStore keeps snapshots; dynamo.SnapshotStore implements it.
type SnapshotStore interface {
	// PutSnapshot stores s unless a snapshot of its key exists, and says
	// whether it stored it. A stored snapshot is never replaced.
	PutSnapshot(ctx context.Context, s Snapshot) (bool, error)
	// Snapshot returns the snapshot of k. ENOTFOUND when none was taken.
	Snapshot(ctx context.Context, k SnapshotKey) (Snapshot, error)
	// Latest returns the id of the newest period of kind stored for team,
	// "" when none is. It reads one item.
	Latest(ctx context.Context, kind period.Kind, team string) (string, error)
	// Snapshots lists snapshots, newest first. EINVALID for a cursor not
	// made by this list with these filters.
	Snapshots(ctx context.Context, f SnapshotFilter) (SnapshotPage, error)
}

// Teams lists the teams of the organisation; the staff profiles hold
// them.
type Teams interface {
	Teams(ctx context.Context) ([]string, error)
}

// SnapshotHistory is how many periods, ending with its own, a snapshot
// keeps each KPI's values for: the page's sparklines.
const SnapshotHistory = 8

// catchUp bounds how many missed periods of each kind one run stores: a
// month of days, five weeks, two months and two quarters. A run missed
// for longer leaves the oldest gaps unfilled rather than take unbounded
// work.
var catchUp = map[period.Kind]int{period.Day: 31, period.Week: 5, period.Month: 2, period.Quarter: 2}

// SnapshotReport says what a run stored.
type SnapshotReport struct {
	Stored, Existing int
}

// TakeSnapshots stores, for the organisation and each of teams, the
// snapshots due by at: of each kind, every period ended by at since the
// newest one stored (at most catchUp of them, oldest first), or only the
// last one ended when none is stored yet. So the run just after midnight
// stores yesterday, on Mondays last week, on the 1st last month and on a
// quarter's first day last quarter; a missed run is made good by the next;
// and a second run stores nothing. Each card is scored against the config
// in force now, read once for the run.
func (s *Service) TakeSnapshots(ctx context.Context, store SnapshotStore, teams []string, at time.Time) (SnapshotReport, error) {
	var rep SnapshotReport
	settings, err := s.Settings(ctx)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, team := range append([]string{""}, teams...) {
		if t, ok := CleanTeam(team); !ok || t != team {
			continue // a team name scoring refuses cannot have rollups
		}
		for _, kind := range period.Kinds() {
			due, err := s.due(ctx, store, kind, team, at)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, p := range due {
				card, err := s.card(ctx, settings, Query{Period: p, Team: team, History: SnapshotHistory})
				if err != nil {
					errs = append(errs, err)
					break // oldest first: a gap would hide this period from the next run
				}
				stored, err := store.PutSnapshot(ctx, Snapshot{Card: card, TakenAt: s.now().UTC(), ConfigVersion: settings.Version})
				if err != nil {
					errs = append(errs, err)
					break
				}
				if stored {
					rep.Stored++
				} else {
					rep.Existing++
				}
			}
		}
	}
	return rep, errors.Join(errs...)
}

// due lists the periods of kind to store for team by at, oldest first.
func (s *Service) due(ctx context.Context, store SnapshotStore, kind period.Kind, team string, at time.Time) ([]period.Period, error) {
	latest, err := store.Latest(ctx, kind, team)
	if err != nil {
		return nil, err
	}
	var out []period.Period
	for p := period.Containing(at, kind, s.Zone).Previous(); len(out) < catchUp[kind]; p = p.Previous() {
		if p.ID() <= latest { // ids of one kind sort in time order
			break
		}
		out = append(out, p)
		if latest == "" {
			break
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// ReadSnapshot returns the stored snapshot of k. ENOTFOUND when none was
// taken; EINVALID for a team name no team has.
func (s *Service) ReadSnapshot(ctx context.Context, store SnapshotStore, k SnapshotKey) (Snapshot, error) {
	if t, ok := CleanTeam(k.Team); !ok || t != k.Team {
		return Snapshot{}, &crm.Error{Code: crm.EINVALID, Message: "invalid team",
			Fields: []crm.FieldError{{Field: "team", Reason: TeamRule}}}
	}
	return store.Snapshot(ctx, k)
}

// SnapshotOrCard returns the organisation's card of p as a report shows
// it: the stored snapshot when there is one (true), else the card
// computed now (false).
func (s *Service) SnapshotOrCard(ctx context.Context, store SnapshotStore, p period.Period) (Card, bool, error) {
	snap, err := store.Snapshot(ctx, SnapshotKey{Kind: p.Kind(), Period: p.ID()})
	switch {
	case err == nil:
		return snap.Card, true, nil
	case crm.ErrorCode(err) != crm.ENOTFOUND:
		return Card{}, false, err
	}
	card, err := s.Card(ctx, Query{Period: p})
	return card, false, err
}
