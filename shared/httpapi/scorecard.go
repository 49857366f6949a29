package httpapi

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// Scorecard serves the scorecard function's routes: a period's balanced
// scorecard as JSON, CSV or a page, chosen by Accept; its leads,
// conversions and revenue by source and campaign; and the config of
// targets, baselines, thresholds and weights it is scored against.
type Scorecard struct {
	Service *scoring.Service
	// Snapshots keeps the cards stored as their periods ended
	// (GET /scorecard/snapshots, GET /scorecard?snapshot=true).
	Snapshots scoring.SnapshotStore
	// Recompute rebuilds a day's rollups from the event journal, for the
	// admin's /scorecard/recompute.
	Recompute Recomputer
}

// Register binds a handler to each of the scorecard function's manifest
// routes; it panics when a route has no handler.
func (h *Scorecard) Register(api *API) {
	api.HandleAll("scorecard", map[string]HandlerFunc{
		"GET /scorecard":            h.card,
		"GET /scorecard/sources":    h.sources,
		"GET /scorecard/snapshots":  h.snapshots,
		"GET /scorecard/config":     h.config,
		"PUT /scorecard/config":     h.putConfig,
		"GET /scorecard/recompute":  h.recompute,
		"POST /scorecard/recompute": h.repair,
	})
}

// sparkPeriods is how many periods each KPI's sparkline on the page shows:
// the page reads that many periods' rollups, JSON and CSV only two.
const sparkPeriods = scoring.SnapshotHistory

// The media types GET /scorecard answers with, in the order of preference
// when Accept weighs them alike.
const (
	mediaJSON = "application/json"
	mediaCSV  = "text/csv"
	mediaHTML = "text/html"
)

// The years a scorecard may be asked for: from the Unix epoch, and short
// of the last four-digit year, so that every period a card reads or links
// to (the eight before it, the next) has a name period.Parse reads back.
const (
	minYear = 1970
	maxYear = 9999
)

// card answers the scorecard of ?period= (default week) at ?at= (default
// the current one) for ?team= (default the organisation).
func (h *Scorecard) card(ctx context.Context, r *Request) (Response, error) {
	q, err := h.query(r.QueryStringParameters)
	if err != nil {
		return Response{}, err
	}
	as := preferred(r.Header("Accept"), mediaJSON, mediaCSV, mediaHTML)
	if as == mediaHTML {
		q.History = sparkPeriods
	}
	var card scoring.Card
	if q.snapshot {
		snap, err := h.Service.ReadSnapshot(ctx, h.Snapshots, scoring.SnapshotKey{Kind: q.Period.Kind(), Period: q.Period.ID(), Team: q.Team})
		if err != nil {
			return Response{}, err
		}
		card = snap.Card
	} else if card, err = h.Service.Card(ctx, q.Query); err != nil {
		return Response{}, err
	}
	var resp Response
	switch as {
	case mediaCSV:
		resp = Response{StatusCode: http.StatusOK, Body: scorecardCSV(card), Headers: map[string]string{
			"Content-Type":        "text/csv; charset=utf-8",
			"Content-Disposition": `attachment; filename="scorecard-` + card.Period.ID + `.csv"`,
		}}
	case mediaHTML:
		resp = HTML(http.StatusOK, scorecardPage(card))
	default:
		resp = JSON(http.StatusOK, toScorecardJSON(card))
	}
	resp.Headers["Vary"] = "Accept"
	return resp, nil
}

// cardQuery is a card asked for: live, or as its snapshot stored it.
type cardQuery struct {
	scoring.Query
	snapshot bool
}

// query reads the period, at, team and snapshot parameters, naming each
// one that is wrong. Without period, at's own kind is taken; without
// either, this week, or with snapshot=true the last week ended.
func (h *Scorecard) query(params map[string]string) (cardQuery, error) {
	var v crm.Invalid
	var snapshot bool
	switch params["snapshot"] {
	case "", "false":
	case "true":
		snapshot = true
	default:
		v.Add("snapshot", "must be true or false")
	}
	var kind period.Kind
	if s := params["period"]; s != "" {
		k, err := period.ParseKind(s)
		if err != nil {
			v.Add("period", "must be day, week, month or quarter")
		}
		kind = k
	}
	var p period.Period
	switch at := params["at"]; {
	case at == "" && !v.Has("period"):
		p = h.Service.Current(orWeek(kind))
		if snapshot {
			p = p.Previous() // the current period has no snapshot yet
		}
	case at != "":
		var err error
		p, err = period.Parse(at, h.Service.Zone)
		var pe *period.ParseError
		switch {
		case errors.As(err, &pe):
			v.Add("at", pe.Reason)
		case err != nil:
			v.Add("at", "must be a day (2026-12-01), ISO week (2026-W48), month (2026-12) or quarter (2026-Q4)")
		case kind != "" && p.Kind() != kind:
			v.Add("at", "must name a "+string(kind)+", such as "+example(kind)+", to go with period="+string(kind))
		case p.Start().In(p.Location()).Year() < minYear || p.End().In(p.Location()).Year() > maxYear:
			v.Add("at", "must lie between "+strconv.Itoa(minYear)+" and "+strconv.Itoa(maxYear-1))
		}
	}
	team, ok := scoring.CleanTeam(params["team"])
	if !ok {
		v.Add("team", scoring.TeamRule)
	}
	if err := v.Err(); err != nil {
		return cardQuery{}, err
	}
	return cardQuery{Query: scoring.Query{Period: p, Team: team}, snapshot: snapshot}, nil
}

func orWeek(k period.Kind) period.Kind {
	if k == "" {
		return period.Week
	}
	return k
}

// example names a period of kind, for messages.
func example(k period.Kind) string {
	return map[period.Kind]string{period.Day: "2026-12-01", period.Week: "2026-W48", period.Month: "2026-12", period.Quarter: "2026-Q4"}[k]
}

// preferred returns the type among types that the Accept header weighs
// highest, the first on a tie; the first when there is no header. The
// adapter has already refused a header that allows none of them.
func preferred(header string, types ...string) string {
	if strings.TrimSpace(header) == "" {
		return types[0]
	}
	best, bestQ := types[0], 0.0
	for _, t := range types {
		if q := quality(header, t); q > bestQ {
			best, bestQ = t, q
		}
	}
	return best
}

// scorecardJSON is the engine's document with the currency of its money.
type scorecardJSON struct {
	scorecard.Document
	Currency *string `json:"currency"`
}

func toScorecardJSON(c scoring.Card) scorecardJSON {
	return scorecardJSON{Document: c.Document, Currency: orNil(c.Currency)}
}

// scorecardColumns head the CSV: one row per KPI, the period and team on
// every row so that rows from several files can be stacked.
var scorecardColumns = []string{
	"period", "team", "perspective", "kpi", "name", "unit", "direction",
	"value", "target", "baseline", "score", "status", "previous", "trend", "samples", "weight", "currency",
}

// scorecardCSV writes the card as RFC 4180 CSV (CRLF line ends, fields
// quoted where they must be). An empty cell is no data.
func scorecardCSV(c scoring.Card) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(scorecardColumns)
	team := ""
	if c.Team != nil {
		team = *c.Team
	}
	for _, ps := range c.Perspectives {
		for _, k := range ps.KPIs {
			_ = w.Write([]string{
				c.Period.ID, team, string(ps.ID), k.ID, k.Name, string(k.Unit), string(k.Direction),
				number(k.Value), number(&k.Target), number(&k.Baseline), number(k.Score), string(k.Status),
				number(k.Previous), string(k.Trend), strconv.FormatInt(k.Samples, 10), number(&k.Weight), c.Currency,
			})
		}
	}
	w.Flush() // a strings.Builder does not fail
	return b.String()
}

// number writes a value as its shortest decimal, "" for no data.
func number(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
