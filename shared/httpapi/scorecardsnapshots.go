package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// snapshots lists the stored snapshots of ?period= (default week) for
// ?team= (default the organisation), newest first, a page at a time.
func (h *Scorecard) snapshots(ctx context.Context, r *Request) (Response, error) {
	params := r.QueryStringParameters
	var v crm.Invalid
	kind := period.Week
	if s := params["period"]; s != "" {
		k, err := period.ParseKind(s)
		if err != nil {
			v.Add("period", "must be day, week, month or quarter")
		}
		kind = k
	}
	team, ok := scoring.CleanTeam(params["team"])
	if !ok {
		v.Add("team", scoring.TeamRule)
	}
	limit := pageLimit(params["limit"], &v)
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	if limit == 0 {
		limit = 25
	}
	page, err := h.Snapshots.Snapshots(ctx, scoring.SnapshotFilter{Kind: kind, Team: team, Limit: limit, Cursor: params["cursor"]})
	if err != nil {
		return Response{}, err
	}
	items := make([]snapshotJSON, len(page.Items))
	for i, s := range page.Items {
		items[i] = snapshotJSON{Kind: s.Kind, Period: s.Period, Team: orNil(s.Team), TakenAt: s.TakenAt,
			Score: s.Score, ConfigVersion: s.ConfigVersion}
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": orNil(page.NextCursor)}), nil
}

// snapshotJSON is one entry of the snapshot list.
type snapshotJSON struct {
	Kind          period.Kind `json:"kind"`
	Period        string      `json:"period"`
	Team          *string     `json:"team"`
	TakenAt       time.Time   `json:"taken_at"`
	Score         *float64    `json:"score"`
	ConfigVersion int64       `json:"config_version"`
}
