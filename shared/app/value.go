package app

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// ValueWindowDays is how many days a customer's value rank counts: the
// trailing twelve months, the 365 days that end with yesterday.
const ValueWindowDays = 365

// valueRanker is the kpis function's daily ranking of the customers by
// value (docs/kpis.md, "Customer value rank").
type valueRanker struct {
	rollups  *dynamo.RollupStore
	ranks    crm.ValueStore
	zone     *time.Location
	currency string
}

// valueWindow returns the first and last days ranked by a run at instant
// at: the ValueWindowDays days that end with yesterday, in zone.
func valueWindow(at time.Time, zone *time.Location) (first, last period.Period) {
	last = period.Containing(at, period.Day, zone).Previous()
	t := last.Start().In(zone)
	// Noon keeps a daylight-saving shift from moving the day.
	first = period.Containing(time.Date(t.Year(), t.Month(), t.Day()-(ValueWindowDays-1), 12, 0, 0, 0, zone), period.Day, zone)
	return first, last
}

// run ranks the paying customers by their revenue in the window before at,
// read from the organisation's revenue_by_customer breakdowns, and saves
// the ranks that changed.
func (v valueRanker) run(ctx context.Context, at time.Time) (crm.ValueReport, error) {
	first, last := valueWindow(at, v.zone)
	r, err := v.rollups.Range(ctx, rollup.Org, first, last)
	if err != nil {
		return crm.ValueReport{}, err
	}
	return v.ranks.SaveValueRanks(ctx, crm.RankByValue(r.Entries(scorecard.RevenueByCustomer), v.currency), at)
}
