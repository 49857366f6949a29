package httpapi

import (
	"context"
	"net/http"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// sources answers what each lead source and UTM campaign brought in
// ?period= at ?at= for ?team=, read as GET /scorecard reads them.
func (h *Scorecard) sources(ctx context.Context, r *Request) (Response, error) {
	q, err := h.query(r.QueryStringParameters)
	if err != nil {
		return Response{}, err
	}
	s, err := h.Service.Sources(ctx, q.Query)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toSourcesJSON(s)), nil
}

// sourcesJSON is GET /scorecard/sources' document.
type sourcesJSON struct {
	Period    scorecard.PeriodInfo `json:"period"`
	Team      *string              `json:"team"`
	Currency  *string              `json:"currency"`
	Sources   []sourceJSON         `json:"sources"`
	Campaigns []campaignJSON       `json:"campaigns"`
}

// channelJSON is what one source or campaign brought.
type channelJSON struct {
	Leads          int64       `json:"leads"`
	Conversions    int64       `json:"conversions"`
	ConversionRate *float64    `json:"conversion_rate"`
	Revenue        revenueJSON `json:"revenue"`
}

// revenueJSON is an amount in the period's currency; the currency is null
// when the period counted no money.
type revenueJSON struct {
	Amount   string  `json:"amount"`
	Currency *string `json:"currency"`
}

type sourceJSON struct {
	Source string `json:"source"`
	channelJSON
}

type campaignJSON struct {
	Campaign string `json:"campaign"`
	channelJSON
}

func toSourcesJSON(s scoring.Sources) sourcesJSON {
	p := s.Period
	out := sourcesJSON{
		Period: scorecard.PeriodInfo{Kind: p.Kind(), ID: p.ID(), Start: p.Start(), End: p.End(), TimeZone: p.Location().String()},
		Team:   orNil(s.Team), Currency: orNil(s.Currency),
		Sources: make([]sourceJSON, 0, len(s.BySource)), Campaigns: make([]campaignJSON, 0, len(s.ByCampaign)),
	}
	for _, c := range s.BySource {
		out.Sources = append(out.Sources, sourceJSON{Source: c.Key, channelJSON: toChannelJSON(c, s.Currency)})
	}
	for _, c := range s.ByCampaign {
		out.Campaigns = append(out.Campaigns, campaignJSON{Campaign: c.Key, channelJSON: toChannelJSON(c, s.Currency)})
	}
	return out
}

func toChannelJSON(c scorecard.Channel, currency string) channelJSON {
	return channelJSON{
		Leads: c.Leads, Conversions: c.Conversions, ConversionRate: c.ConversionRate,
		Revenue: revenueJSON{Amount: crm.Money{Minor: c.Revenue, Currency: currency}.String(), Currency: orNil(currency)},
	}
}
