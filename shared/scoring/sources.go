package scoring

import (
	"context"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// Sources is what each lead source and each UTM campaign brought in a
// period: leads, conversions, their rate and the conversions' revenue.
type Sources struct {
	// Period is the period read, in the organisation's zone.
	Period period.Period
	// Team is the team read, or "" for the whole organisation. A team's
	// hold the conversions of leads its members owned; leads captured
	// unowned count for the organisation only.
	Team string
	// Currency is the ISO 4217 code of every revenue; "" when the period
	// counted no money.
	Currency string
	// BySource and ByCampaign are the period's channels, best first (see
	// scorecard.ChannelsBySource); empty when it counted no lead.
	BySource, ByCampaign []scorecard.Channel
}

// Sources reads q.Period's rollup for q.Team — one rollup range, a query
// per month it touches, however many leads the period counted — and splits
// it by source and campaign; q.History is ignored. EINVALID for a team
// name no team has or no period; errors of Rollups pass through.
func (s *Service) Sources(ctx context.Context, q Query) (Sources, error) {
	if t, ok := CleanTeam(q.Team); !ok || t != q.Team {
		return Sources{}, &crm.Error{Code: crm.EINVALID, Message: "invalid team",
			Fields: []crm.FieldError{{Field: "team", Reason: TeamRule}}}
	}
	if q.Period.IsZero() {
		return Sources{}, crm.Errorf(crm.EINVALID, "sources need a period")
	}
	rs, err := s.read(ctx, scope(q.Team), []period.Period{q.Period})
	if err != nil {
		return Sources{}, err
	}
	r := rs[0]
	return Sources{
		Period: q.Period, Team: q.Team, Currency: r.Currency,
		BySource: scorecard.ChannelsBySource(r), ByCampaign: scorecard.ChannelsByCampaign(r),
	}, nil
}
