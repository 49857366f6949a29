package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/shared/dynamo"
)

// recompute asks for method /scorecard/recompute with query, as role.
func (a *scorecardAPI) recompute(method string, query map[string]string, role string) (int, string) {
	a.t.Helper()
	resp := a.do(req{route: method + " /scorecard/recompute", role: role, query: query})
	return resp.StatusCode, resp.Body
}

// An admin compares a day with its recomputation from the journal, and
// repairs it; a day missing, malformed or in the future is refused naming
// day, and a manager is refused.
func TestScorecardRecomputeComparesAndRepairs(t *testing.T) {
	a := newScorecardAPI(t)
	envs := scriptedSources(t)
	for _, env := range envs {
		if err := dynamo.Journal(context.Background(), a.store.Client, a.store.Table, env); err != nil {
			t.Fatal(err)
		}
	}
	a.apply(envs[1:]...) // the first, on Monday, journaled but never counted

	code, body := a.recompute("GET", map[string]string{"day": "2026-11-30"}, "admin")
	var doc struct {
		Day    string `json:"day"`
		Equal  bool   `json:"equal"`
		Events int    `json:"events"`
		Scopes []struct {
			Scope       string `json:"scope"`
			Differences []struct {
				Name       string `json:"name"`
				Stored     int64  `json:"stored"`
				Recomputed int64  `json:"recomputed"`
			} `json:"differences"`
		} `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil {
		t.Fatalf("GET: %d %s", code, body)
	}
	if doc.Equal || doc.Day != "2026-11-30" || len(doc.Scopes) != 1 || doc.Scopes[0].Scope != "org" ||
		!strings.Contains(body, `"name":"counters.leads_captured","stored":0,"recomputed":1`) {
		t.Errorf("GET Monday: %s, want leads_captured 0 stored, 1 recomputed", body)
	}
	code, body = a.recompute("POST", map[string]string{"day": "2026-11-30"}, "admin")
	if code != 200 || !strings.Contains(body, `"equal":true`) || !strings.Contains(body, `"changed":false`) {
		t.Errorf("POST: %d %s, want equal", code, body)
	}
	code, body = a.recompute("GET", map[string]string{"day": "2026-12-01"}, "admin")
	if code != 200 || !strings.Contains(body, `"equal":true`) {
		t.Errorf("GET Tuesday: %d %s, want equal", code, body)
	}
	for _, q := range []map[string]string{{}, {"day": "2026-12"}, {"day": "yesterday"}, {"day": "2026-12-03"}} {
		code, body := a.recompute("GET", q, "admin")
		if code/100 != 4 || !strings.Contains(body, `"field":"day"`) {
			t.Errorf("GET %v: %d %s, want a 4xx naming day", q, code, body)
		}
	}
	if code, _ := a.recompute("POST", map[string]string{"day": "2026-11-30"}, "manager"); code != 403 {
		t.Errorf("a manager's POST: %d, want 403", code)
	}
}
