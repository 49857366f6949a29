package app

import (
	"context"
	"encoding/json"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/rollup"
)

// KPIs builds the kpis function's handler for its bus rules (kpis-leads,
// kpis-reminders, kpis-tickets, kpis-surveys): every Rapport event is
// added to the day rollups in the organisation's time zone
// (shared/rollup), exactly once per event id — the detail's event_id,
// never EventBridge's id, which differs between two publications of one
// event. A redelivered or retried event therefore changes nothing.
//
// Its scorecard-snapshot schedule, just after midnight, stores the
// scorecards of the periods that have just ended (snapshotRun).
//
// An event that can never be counted — its detail unreadable, an instant
// a counter needs missing, contributions the store refuses as EINVALID —
// is logged by detail type and event id and dropped (nil): retrying it
// would fail the same way until the retries ran out. Every other error is
// returned, so the bus retries the event; the store's transaction wrote
// all or nothing, so the retry is safe.
//
// Its daily schedule (manifest.RankValueDetailType) ranks the customers by
// their trailing-twelve-month revenue, read from the rollups it keeps; a
// failed run returns its error, and the scheduler retries it.
func KPIs(d Deps) EventHandler {
	store := &dynamo.RollupStore{Client: d.DynamoDB, Table: d.Config.TableName, Currency: d.Config.Currency, Now: d.Now}
	zone := d.Config.TimeZone
	ranker := valueRanker{rollups: store, ranks: &dynamo.ValueStore{Client: d.DynamoDB, Table: d.Config.TableName},
		zone: zone, currency: d.Config.Currency}
	snapshots := snapshotRun(d, store)
	return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
		switch ev.DetailType {
		case manifest.SnapshotDetailType:
			return snapshots(ctx, ev)
		case manifest.RankValueDetailType:
			at := ev.Time
			if at.IsZero() {
				at = d.Now()
			}
			rep, err := ranker.run(ctx, at)
			d.Log.InfoContext(ctx, "value ranks", "ranked", rep.Ranked, "written", rep.Written, "cleared", rep.Cleared, "unchanged", rep.Unchanged)
			return err
		}
		env, err := envelopeOf(ev)
		if err != nil {
			d.Log.ErrorContext(ctx, "event not counted: its detail is not an event", "detail_type", ev.DetailType)
			return nil
		}
		cs, err := rollup.Contributions(env, zone)
		if err != nil {
			d.Log.ErrorContext(ctx, "event not counted: its detail lacks what its counters need", "detail_type", env.DetailType, "event_id", env.ID)
			return nil
		}
		if len(cs) == 0 {
			return nil // an event that feeds no counter
		}
		err = store.Apply(ctx, env.ID, cs)
		if crm.ErrorCode(err) == crm.EINVALID {
			d.Log.ErrorContext(ctx, "event not counted: the rollups cannot hold it", "detail_type", env.DetailType, "event_id", env.ID)
			return nil
		}
		return err
	}
}

// envelopeOf turns the event a rule delivers back into the envelope the
// relay published: its id and instant are the detail's event_id and
// occurred_at.
func envelopeOf(ev lambdaevents.EventBridgeEvent) (events.Envelope, error) {
	var meta events.Metadata
	if err := json.Unmarshal(ev.Detail, &meta); err != nil {
		return events.Envelope{}, err
	}
	at := meta.OccurredAt
	if at.IsZero() {
		at = ev.Time
	}
	return events.Envelope{ID: meta.EventID, Source: ev.Source, DetailType: ev.DetailType, Time: at.UTC(), Detail: ev.Detail}, nil
}
