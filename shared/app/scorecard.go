package app

import (
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/httpapi"
)

// Scorecard builds the scorecard function's HTTP handler: the balanced
// scorecard of a period, scored from the day rollups in the organisation's
// time zone against the default catalogue with the organisation's saved
// config, and that config; and the snapshots the kpis function stores.
func Scorecard(d Deps) HTTPHandler {
	api := httpapi.New(d.Log)
	rollups := readRollups(d)
	h := &httpapi.Scorecard{Service: scoringService(d, rollups), Recompute: rollups,
		Snapshots: &dynamo.SnapshotStore{Client: d.DynamoDB, Table: d.Config.TableName}}
	h.Register(api)
	return api.Serve
}
