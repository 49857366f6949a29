package app

import (
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/httpapi"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// Scorecard builds the scorecard function's HTTP handler: the balanced
// scorecard of a period, scored from the day rollups in the organisation's
// time zone against the default catalogue with the organisation's saved
// config, and that config.
func Scorecard(d Deps) HTTPHandler {
	api := httpapi.New(d.Log)
	rollups := &dynamo.RollupStore{Client: d.DynamoDB, Table: d.Config.TableName, Now: d.Now}
	h := &httpapi.Scorecard{Recompute: rollups, Service: &scoring.Service{
		Rollups: rollups,
		Config:  &dynamo.ScorecardConfigStore{Client: d.DynamoDB, Table: d.Config.TableName},
		Zone:    d.Config.TimeZone,
		Now:     d.Now,
	}}
	h.Register(api)
	return api.Serve
}
