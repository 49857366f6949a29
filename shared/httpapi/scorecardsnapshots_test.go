package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// The snapshot routes: bad parameters are refused naming the parameter,
// before any read; an agent may not list; no snapshot is 404; a stored one
// is answered as JSON, CSV and a page, and listed newest first.
func TestScorecardSnapshots(t *testing.T) {
	a := newScorecardAPI(t)
	for _, c := range []struct {
		route string
		query map[string]string
		field string
	}{
		{"GET /scorecard", map[string]string{"snapshot": "yes"}, "snapshot"},
		{"GET /scorecard", map[string]string{"snapshot": "TRUE", "period": "day"}, "snapshot"},
		{"GET /scorecard", map[string]string{"snapshot": "true", "period": "year"}, "period"},
		{"GET /scorecard", map[string]string{"snapshot": "true", "team": "Sales Team"}, "team"},
		{"GET /scorecard/snapshots", map[string]string{"period": "year"}, "period"},
		{"GET /scorecard/snapshots", map[string]string{"team": "a#b"}, "team"},
		{"GET /scorecard/snapshots", map[string]string{"limit": "0"}, "limit"},
		{"GET /scorecard/snapshots", map[string]string{"cursor": "nonsense"}, "cursor"},
	} {
		a.calls.Reset()
		resp := a.do(req{route: c.route, role: "manager", query: c.query})
		if resp.StatusCode != 422 || problemField(t, resp.Body) != c.field {
			t.Errorf("%s %v: %d %s, want 422 naming %s", c.route, c.query, resp.StatusCode, resp.Body, c.field)
		}
		if c.field != "cursor" && a.calls.Requests() != 0 {
			t.Errorf("%s %v: %d requests for a refused query", c.route, c.query, a.calls.Requests())
		}
		if c := a.calls.Cost(); c.Requests["PutItem"]+c.Requests["UpdateItem"]+c.Requests["TransactWriteItems"] != 0 {
			t.Errorf("a refused request wrote: %v", c.Requests)
		}
	}
	if resp := a.do(req{route: "GET /scorecard/snapshots", role: "agent"}); resp.StatusCode != 403 {
		t.Errorf("an agent lists snapshots: %d", resp.StatusCode)
	}
	if status, body, h := a.get(map[string]string{"period": "day", "at": "2026-12-01", "snapshot": "true"}, ""); status != 404 || !strings.HasPrefix(h["Content-Type"], "application/problem+json") {
		t.Errorf("no snapshot stored: %d %s, want 404 problem+json", status, body)
	}

	a.apply(scriptedDay(t)...)
	svc := &scoring.Service{Rollups: a.store, Zone: berlin, Now: func() time.Time { return wednesday }}
	store := &dynamo.SnapshotStore{Client: a.store.Client, Table: a.store.Table}
	if rep, err := svc.TakeSnapshots(context.Background(), store, nil, wednesday); err != nil || rep.Stored != 4 {
		t.Fatalf("snapshots on Wednesday 2 December: %+v %v", rep, err)
	}
	var doc struct {
		Period struct{ ID string } `json:"period"`
	}
	status, body, _ := a.get(map[string]string{"period": "day", "at": "2026-12-01", "snapshot": "true"}, "application/json")
	if err := json.Unmarshal([]byte(body), &doc); status != 200 || err != nil || doc.Period.ID != "2026-12-01" {
		t.Errorf("the snapshot as JSON: %d %s", status, body)
	}
	if status, body, _ := a.get(map[string]string{"period": "day", "at": "2026-12-01", "snapshot": "true"}, "text/csv"); status != 200 || !strings.Contains(body, "2026-12-01,,") {
		t.Errorf("the snapshot as CSV: %d %s", status, body)
	}
	if status, body, _ := a.get(map[string]string{"period": "day", "snapshot": "true"}, "text/html"); status != 200 || !strings.Contains(body, "day 2026-12-01") || !strings.Contains(body, "<svg") {
		t.Errorf("yesterday's snapshot as a page: %d %s", status, body)
	}
	resp := a.do(req{route: "GET /scorecard/snapshots", role: "manager", query: map[string]string{"period": "day"}})
	var page struct {
		Items []struct {
			Kind   period.Kind `json:"kind"`
			Period string      `json:"period"`
			Team   *string     `json:"team"`
			Score  *float64    `json:"score"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); resp.StatusCode != 200 || err != nil || len(page.Items) != 1 ||
		page.Items[0].Period != "2026-12-01" || page.Items[0].Team != nil || page.Items[0].Score == nil || page.NextCursor != nil {
		t.Errorf("day snapshots: %d %s", resp.StatusCode, resp.Body)
	}
}
