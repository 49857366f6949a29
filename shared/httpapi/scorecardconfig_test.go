package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/shared/scorecard"
)

// config reads the scorecard config as an admin.
func (a *scorecardAPI) config() (map[string]any, string) {
	a.t.Helper()
	resp := a.do(req{route: "GET /scorecard/config", role: "admin"})
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET /scorecard/config: %d %s", resp.StatusCode, resp.Body)
	}
	return decodeString(a.t, resp.Body), resp.Headers["ETag"]
}

// putConfig saves body as role with If-Match ifMatch ("" for none).
func (a *scorecardAPI) putConfig(role, ifMatch, body string) (int, string, map[string]string) {
	a.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if ifMatch != "" {
		h["If-Match"] = ifMatch
	}
	resp := a.do(req{route: "PUT /scorecard/config", role: role, headers: h, body: body})
	return resp.StatusCode, resp.Body, resp.Headers
}

// configKPI returns the KPI with id from a config document.
func configKPI(t *testing.T, doc map[string]any, id string) map[string]any {
	t.Helper()
	for _, k := range doc["kpis"].([]any) {
		if k := k.(map[string]any); k["id"] == id {
			return k
		}
	}
	t.Fatalf("no KPI %s in the config", id)
	return nil
}

// assertUnchanged fails unless the config is still at version etag.
func (a *scorecardAPI) assertUnchanged(what, etag string) {
	a.t.Helper()
	if _, got := a.config(); got != etag {
		a.t.Errorf("%s: the config is now %s, want it left at %s", what, got, etag)
	}
}

// Only admins read and change the config; a refused change writes nothing.
func TestScorecardConfigRoles(t *testing.T) {
	a := newScorecardAPI(t)
	for role, want := range map[string]int{"": 401, "agent": 403, "manager": 403, "admin": 200} {
		if resp := a.do(req{route: "GET /scorecard/config", role: role}); resp.StatusCode != want {
			t.Errorf("GET as %q: %d, want %d: %s", role, resp.StatusCode, want, resp.Body)
		}
	}
	for role, want := range map[string]int{"": 401, "agent": 403, "manager": 403} {
		if status, body, _ := a.putConfig(role, `"0"`, `{"kpis":{"nps":{"target":70}}}`); status != want {
			t.Errorf("PUT as %q: %d, want %d: %s", role, status, want, body)
		}
	}
	a.assertUnchanged("refused PUTs", `"0"`)
}

// The defaults are version 0; a change is read back as the KPI's target in
// force and as the override it came from; {} restores the defaults.
func TestScorecardConfigRoundTrip(t *testing.T) {
	a := newScorecardAPI(t)
	doc, etag := a.config()
	if etag != `"0"` || doc["version"] != 0.0 || doc["updated_at"] != nil {
		t.Fatalf("defaults: ETag %s, %v", etag, doc)
	}
	nps := configKPI(t, doc, scorecard.KPINPS)
	if nps["target"] != 50.0 || nps["baseline"] != 0.0 || nps["weight"] != 1.0 || nps["thresholds"] != nil || nps["perspective"] != "customer" {
		t.Errorf("default nps %v", nps)
	}
	if sla := configKPI(t, doc, scorecard.KPISLACompliance)["thresholds"].(map[string]any); sla["green"] != 95.0 || sla["amber"] != 90.0 {
		t.Errorf("default sla thresholds %v", sla)
	}
	if len(doc["perspectives"].([]any)) != 4 || len(doc["overrides"].(map[string]any)["kpis"].(map[string]any)) != 0 {
		t.Errorf("defaults: %v perspectives, overrides %v", doc["perspectives"], doc["overrides"])
	}

	change := `{
		"kpis": {
			"nps": {"target": 60, "baseline": -10, "weight": 2},
			"csat": {"thresholds": {"green": 85, "amber": 70}},
			"sla_compliance": {"clear_thresholds": true}
		},
		"perspective_weights": {"financial": 2, "learning_growth": 0}
	}`
	status, body, headers := a.putConfig("admin", `"0"`, change)
	if status != 200 || headers["ETag"] != `"1"` {
		t.Fatalf("PUT: %d ETag %s %s", status, headers["ETag"], body)
	}
	doc, etag = a.config()
	if etag != `"1"` || doc["version"] != 1.0 || doc["updated_at"] == nil {
		t.Errorf("after PUT: ETag %s version %v updated_at %v", etag, doc["version"], doc["updated_at"])
	}
	if nps := configKPI(t, doc, scorecard.KPINPS); nps["target"] != 60.0 || nps["baseline"] != -10.0 || nps["weight"] != 2.0 {
		t.Errorf("nps %v, want target 60, baseline -10, weight 2", nps)
	}
	if csat := configKPI(t, doc, scorecard.KPICSAT)["thresholds"].(map[string]any); csat["green"] != 85.0 || csat["amber"] != 70.0 {
		t.Errorf("csat thresholds %v", csat)
	}
	if sla := configKPI(t, doc, scorecard.KPISLACompliance); sla["thresholds"] != nil {
		t.Errorf("sla thresholds %v, want cleared", sla["thresholds"])
	}
	weights := map[any]any{}
	for _, p := range doc["perspectives"].([]any) {
		weights[p.(map[string]any)["id"]] = p.(map[string]any)["weight"]
	}
	if weights["financial"] != 2.0 || weights["customer"] != 1.0 || weights["learning_growth"] != 0.0 {
		t.Errorf("perspective weights %v", weights)
	}
	over := doc["overrides"].(map[string]any)
	if o := over["kpis"].(map[string]any)["nps"].(map[string]any); o["target"] != 60.0 || o["baseline"] != -10.0 || o["weight"] != 2.0 {
		t.Errorf("nps override read back %v", o)
	}
	if w := over["perspective_weights"].(map[string]any); w["financial"] != 2.0 || w["learning_growth"] != 0.0 || len(w) != 2 {
		t.Errorf("perspective weight overrides read back %v", w)
	}

	// What GET shows under overrides is what PUT takes.
	raw := mustMarshal(t, over)
	if status, body, headers := a.putConfig("admin", `"1"`, raw); status != 200 || headers["ETag"] != `"2"` {
		t.Fatalf("PUT back what was read: %d %s", status, body)
	}
	if status, body, _ := a.putConfig("admin", `"2"`, `{}`); status != 200 {
		t.Fatalf("PUT {}: %d %s", status, body)
	}
	doc, etag = a.config()
	if nps := configKPI(t, doc, scorecard.KPINPS); etag != `"3"` || nps["target"] != 50.0 {
		t.Errorf("after {}: ETag %s nps %v, want version 3 with the default target", etag, nps)
	}
}

// A change needs the version read: none is 428, a stale one 412, one that
// is no version 422; none of them writes.
func TestScorecardConfigIfMatch(t *testing.T) {
	a := newScorecardAPI(t)
	if status, body, _ := a.putConfig("admin", "", `{"kpis":{"nps":{"target":70}}}`); status != 428 {
		t.Errorf("without If-Match: %d %s", status, body)
	}
	a.assertUnchanged("without If-Match", `"0"`)
	if status, body, _ := a.putConfig("admin", `"1"`, `{"kpis":{"nps":{"target":70}}}`); status != 412 {
		t.Errorf("If-Match 1 over the defaults: %d %s", status, body)
	}
	if status, body, _ := a.putConfig("admin", `W/"0"`, `{"kpis":{"nps":{"target":70}}}`); status != 200 {
		t.Fatalf("first change: %d %s", status, body)
	}
	for _, stale := range []string{`"0"`, `"2"`} {
		if status, body, _ := a.putConfig("admin", stale, `{"kpis":{"nps":{"target":80}}}`); status != 412 {
			t.Errorf("If-Match %s over version 1: %d %s", stale, status, body)
		}
	}
	if status, body, _ := a.putConfig("admin", `*`, `{}`); status != 422 || problemField(t, body) != "If-Match" {
		t.Errorf("If-Match *: %d %s", status, body)
	}
	a.assertUnchanged("stale and bad If-Match", `"1"`)
	if nps := configKPI(t, must(a.config()), scorecard.KPINPS); nps["target"] != 70.0 {
		t.Errorf("nps target %v, want the first change's 70", nps["target"])
	}
}

// Each rule of the engine answers 422 naming the field at fault, and
// nothing is written.
func TestScorecardConfigValidation(t *testing.T) {
	a := newScorecardAPI(t)
	if status, body, _ := a.putConfig("admin", `"0"`, `{"kpis":{"nps":{"target":60}}}`); status != 200 {
		t.Fatalf("first change: %d %s", status, body)
	}
	tests := []struct{ name, body, field, reason string }{
		{"unknown KPI", `{"kpis":{"churn":{"target":3}}}`, "kpis.churn", "no such KPI"},
		{"unknown perspective", `{"perspective_weights":{"social":1}}`, "perspective_weights.social", "no such perspective"},
		{"target equal to its baseline", `{"kpis":{"nps":{"target":0}}}`, "kpis.nps.target", "above the baseline (0)"},
		{"target past its baseline, lower is better", `{"kpis":{"lead_response_time":{"target":100000}}}`,
			"kpis.lead_response_time.target", "below the baseline"},
		{"baseline past its target", `{"kpis":{"csat":{"baseline":95}}}`, "kpis.csat.baseline", "below the target (90)"},
		{"thresholds out of order", `{"kpis":{"csat":{"thresholds":{"green":70,"amber":85}}}}`, "kpis.csat.thresholds", "at least amber"},
		{"a threshold missing", `{"kpis":{"csat":{"thresholds":{"green":85}}}}`, "kpis.csat.thresholds.amber", "required"},
		{"thresholds set and cleared", `{"kpis":{"sla_compliance":{"thresholds":{"green":99,"amber":95},"clear_thresholds":true}}}`,
			"kpis.sla_compliance.thresholds", "set and cleared"},
		{"negative KPI weight", `{"kpis":{"csat":{"weight":-1}}}`, "kpis.csat.weight", "0 or more"},
		{"negative perspective weight", `{"perspective_weights":{"customer":-0.5}}`, "perspective_weights.customer", "0 or more"},
		{"perspective weights summing to 0", `{"perspective_weights":{"financial":0,"customer":0,"internal_process":0,"learning_growth":0}}`,
			"perspective_weights", "must not all be 0"},
		{"a counted perspective's KPIs all weighing 0", `{"kpis":{"survey_response_rate":{"weight":0},"best_lead_source_share":{"weight":0}}}`,
			"perspective_weights.learning_growth", "weighs 0"},
		{"a misspelt field", `{"kpis":{"nps":{"targt":60}}}`, "kpis.nps.targt", "not a known field"},
		{"a KPI's changes that are not an object", `{"kpis":{"nps":60}}`, "kpis.nps", "object"},
		{"a target that is not a number", `{"kpis":{"nps":{"target":"60"}}}`, "kpis.nps.target", "number"},
	}
	for _, tt := range tests {
		status, body, headers := a.putConfig("admin", `"1"`, tt.body)
		if status != 422 || headers["Content-Type"] != "application/problem+json" {
			t.Errorf("%s: %d %s %s, want 422 problem+json", tt.name, status, headers["Content-Type"], body)
			continue
		}
		if got := problemField(t, body); got != tt.field || !strings.Contains(body, tt.reason) {
			t.Errorf("%s: names %q in %s, want %q: …%s…", tt.name, got, body, tt.field, tt.reason)
		}
		a.assertUnchanged(tt.name, `"1"`)
	}
	if nps := configKPI(t, must(a.config()), scorecard.KPINPS); nps["target"] != 60.0 {
		t.Errorf("nps target %v after refused changes, want 60", nps["target"])
	}
}

// GET /scorecard scores against the config in force: a KPI's target, and a
// per-day target times the days of the period.
func TestScorecardUsesConfig(t *testing.T) {
	a := newScorecardAPI(t)
	a.apply(scriptedDay(t)...)
	day := map[string]string{"period": "day", "at": "2026-12-01"}
	_, body, _ := a.get(day, "application/json")
	if conv := kpiOf(t, decodeString(t, body), scorecard.KPILeadConversionRate); conv["target"] != 20.0 || conv["score"] != 100.0 {
		t.Fatalf("before: conversion %v, want target 20 and score 100 for 40%%", conv)
	}

	if status, body, _ := a.putConfig("admin", `"0"`, `{"kpis":{"lead_conversion_rate":{"target":80},"revenue":{"target":4000000}}}`); status != 200 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	_, body, _ = a.get(day, "application/json")
	doc := decodeString(t, body)
	// (40 − 2) ÷ (80 − 2) = 48.7%, amber below 50 is red.
	if conv := kpiOf(t, doc, scorecard.KPILeadConversionRate); conv["target"] != 80.0 || conv["score"] != 48.7 || conv["status"] != "red" {
		t.Errorf("after: conversion %v, want target 80, score 48.7, red", conv)
	}
	// 2,000,000 of a 4,000,000 day target: half.
	if rev := kpiOf(t, doc, scorecard.KPIRevenue); rev["target"] != 4_000_000.0 || rev["score"] != 50.0 {
		t.Errorf("after: revenue %v, want target 4,000,000 and score 50", rev)
	}
	_, body, _ = a.get(map[string]string{"period": "week", "at": "2026-W49"}, "application/json")
	if v := kpiOf(t, decodeString(t, body), scorecard.KPIRevenue)["target"]; v != 28_000_000.0 {
		t.Errorf("week's revenue target %v, want 7 days × 4,000,000", v)
	}
	// The CSV carries the same target.
	if _, csv, _ := a.get(day, "text/csv"); !strings.Contains(csv, ",lead_conversion_rate,") || !strings.Contains(csv, ",80,2,48.7,") {
		t.Errorf("CSV does not show target 80, baseline 2, score 48.7:\n%s", csv)
	}
}

func must(doc map[string]any, _ string) map[string]any { return doc }

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
