package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// Recomputer rebuilds a day's rollups from the event journal;
// dynamo.RollupStore implements it.
type Recomputer interface {
	// Compare sets the stored rollups of day (in zone) beside their
	// recomputation, for the organisation, each team the day's events
	// name and the teams named. EINVALID when day is not a day.
	Compare(ctx context.Context, zone *time.Location, day period.Period, teams ...string) (rollup.Comparison, error)
	// Repair makes the stored rollups of day equal their recomputation
	// and returns the comparison after. EINVALID as Compare.
	Repair(ctx context.Context, zone *time.Location, day period.Period, teams ...string) (rollup.Comparison, error)
}

// recompute answers GET /scorecard/recompute?day=[&team=]: the day's
// stored rollups against their recomputation from the journal.
func (h *Scorecard) recompute(ctx context.Context, r *Request) (Response, error) {
	day, team, err := h.recomputeQuery(r.QueryStringParameters)
	if err != nil {
		return Response{}, err
	}
	c, err := h.Recompute.Compare(ctx, h.Service.Zone, day, team)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toRecomputeJSON(c)), nil
}

// repair answers POST /scorecard/recompute?day=[&team=]: the day's stored
// rollups made equal to their recomputation, and the comparison after.
func (h *Scorecard) repair(ctx context.Context, r *Request) (Response, error) {
	day, team, err := h.recomputeQuery(r.QueryStringParameters)
	if err != nil {
		return Response{}, err
	}
	c, err := h.Recompute.Repair(ctx, h.Service.Zone, day, team)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toRecomputeJSON(c)), nil
}

// recomputeQuery reads ?day= (required: a day, not in the future) and
// ?team=.
func (h *Scorecard) recomputeQuery(params map[string]string) (period.Period, string, error) {
	var v crm.Invalid
	var day period.Period
	s := params["day"]
	p, err := period.Parse(s, h.Service.Zone)
	var pe *period.ParseError
	switch {
	case s == "":
		v.Add("day", "is required: the day to recompute, such as 2026-12-01")
	case errors.As(err, &pe):
		v.Add("day", pe.Reason)
	case err != nil || p.Kind() != period.Day:
		v.Add("day", "must be a day, such as 2026-12-01")
	case p.Start().In(p.Location()).Year() < minYear:
		v.Add("day", "must lie after 1970")
	case p.Start().After(h.Service.Current(period.Day).Start()):
		v.Add("day", "must not be in the future")
	default:
		day = p
	}
	team, ok := scoring.CleanTeam(params["team"])
	if !ok {
		v.Add("team", scoring.TeamRule)
	}
	if err := v.Err(); err != nil {
		return period.Period{}, "", err
	}
	return day, team, nil
}

// recomputeJSON is the document of /scorecard/recompute.
type recomputeJSON struct {
	Day string `json:"day"`
	// Equal is true when every scope's stored rollup equals its
	// recomputation.
	Equal bool `json:"equal"`
	// Events is how many journaled events count on the day.
	Events int `json:"events"`
	// Changed (after a repair) says the journal gained events meanwhile:
	// run the repair again.
	Changed bool                 `json:"changed"`
	Scopes  []recomputeScopeJSON `json:"scopes"`
}

type recomputeScopeJSON struct {
	// Scope is "org" or the team's name.
	Scope       string            `json:"scope"`
	Team        *string           `json:"team"`
	Equal       bool              `json:"equal"`
	Stored      *scorecard.Rollup `json:"stored"`
	Recomputed  *scorecard.Rollup `json:"recomputed"`
	Differences []differenceJSON  `json:"differences"`
}

type differenceJSON struct {
	Name       string `json:"name"`
	Stored     int64  `json:"stored"`
	Recomputed int64  `json:"recomputed"`
}

func toRecomputeJSON(c rollup.Comparison) recomputeJSON {
	out := recomputeJSON{Day: c.Day.ID(), Equal: c.Equal(), Events: c.Events, Changed: c.Changed, Scopes: []recomputeScopeJSON{}}
	for _, s := range c.Scopes {
		js := recomputeScopeJSON{Scope: "org", Equal: s.Equal(), Stored: s.Stored, Recomputed: s.Recomputed, Differences: []differenceJSON{}}
		if !s.Scope.IsOrg() {
			js.Scope, js.Team = s.Scope.Team, orNil(s.Scope.Team)
		}
		for _, d := range s.Differences {
			js.Differences = append(js.Differences, differenceJSON{Name: d.Name, Stored: d.Stored, Recomputed: d.Recomputed})
		}
		out.Scopes = append(out.Scopes, js)
	}
	return out
}
