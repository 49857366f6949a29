package scorecard_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/shared/scorecard"
)

func f(v float64) *float64 { return &v }

func TestDefaultCatalogueIsValid(t *testing.T) {
	cat := scorecard.DefaultCatalogue()
	if err := cat.Validate(); err != nil {
		t.Fatal(err)
	}
	// Every KPI named in the issue and in DESIGN.md's Scorecard section.
	for _, id := range []string{
		scorecard.KPIRevenue, scorecard.KPIAverageDealValue, scorecard.KPILeadConversionRate,
		scorecard.KPIBestLeadSourceShare, scorecard.KPILeadResponseTime, scorecard.KPITicketFirstResponseTime,
		scorecard.KPITicketResolutionTime, scorecard.KPISLACompliance, scorecard.KPIComplaintRate,
		scorecard.KPICSAT, scorecard.KPINPS, scorecard.KPICES, scorecard.KPISurveyResponseRate,
		scorecard.KPIRepeatCustomerRate, scorecard.KPIFollowUpsOnTime, scorecard.KPITopCustomerRevenueShare,
	} {
		if _, ok := cat.KPI(id); !ok {
			t.Errorf("the default catalogue has no %s", id)
		}
	}
	seen := map[scorecard.PerspectiveID]int{}
	for _, k := range cat.KPIs {
		seen[k.Perspective]++
		if k.Description == "" || k.Formula == "" {
			t.Errorf("%s has no description or formula", k.ID)
		}
	}
	for _, p := range cat.Perspectives {
		if seen[p.ID] == 0 {
			t.Errorf("perspective %s has no KPI", p.ID)
		}
	}
}

func TestWithOverrides(t *testing.T) {
	cat := scorecard.DefaultCatalogue()
	var o scorecard.Overrides
	// Overrides are an organisation setting, so they arrive as JSON.
	err := json.Unmarshal([]byte(`{
		"kpis": {
			"nps": {"target": 60, "baseline": 10, "weight": 2},
			"sla_compliance": {"clear_thresholds": true},
			"csat": {"thresholds": {"green": 85, "amber": 70}},
			"revenue": {"target": 2000000}
		},
		"perspective_weights": {"financial": 2, "learning_growth": 0}
	}`), &o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cat.WithOverrides(o)
	if err != nil {
		t.Fatal(err)
	}
	nps, _ := got.KPI(scorecard.KPINPS)
	if nps.Target != 60 || nps.Baseline != 10 || nps.Weight != 2 {
		t.Errorf("nps = target %v baseline %v weight %v", nps.Target, nps.Baseline, nps.Weight)
	}
	if sla, _ := got.KPI(scorecard.KPISLACompliance); sla.Thresholds != nil {
		t.Error("sla_compliance thresholds were not cleared")
	}
	if csat, _ := got.KPI(scorecard.KPICSAT); csat.Thresholds == nil || *csat.Thresholds != (scorecard.Thresholds{Green: 85, Amber: 70}) {
		t.Errorf("csat thresholds = %v", csat.Thresholds)
	}
	if rev, _ := got.KPI(scorecard.KPIRevenue); rev.Target != 2_000_000 || rev.Baseline != 0 {
		t.Errorf("revenue = target %v baseline %v", rev.Target, rev.Baseline)
	}
	if got.Perspectives[0].Weight != 2 || got.Perspectives[3].Weight != 0 || got.Perspectives[1].Weight != 1 {
		t.Errorf("perspective weights = %+v", got.Perspectives)
	}

	// The catalogue overridden is not changed.
	if nps, _ := cat.KPI(scorecard.KPINPS); nps.Target != 50 {
		t.Errorf("the original nps target became %v", nps.Target)
	}
	if sla, _ := cat.KPI(scorecard.KPISLACompliance); sla.Thresholds == nil {
		t.Error("the original sla_compliance lost its thresholds")
	}
	if cat.Perspectives[0].Weight != 1 {
		t.Error("the original perspective weights changed")
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name   string
		o      scorecard.Overrides
		field  string
		reason string
	}{
		{"unknown KPI", kpiOverride("churn", scorecard.KPIOverride{Target: f(3)}), "kpis.churn", "no such KPI"},
		{"unknown perspective", scorecard.Overrides{PerspectiveWeights: map[scorecard.PerspectiveID]float64{"social": 1}},
			"perspective_weights.social", "no such perspective"},
		{"negative perspective weight", scorecard.Overrides{PerspectiveWeights: map[scorecard.PerspectiveID]float64{"customer": -1}},
			"perspective_weights.customer", "0 or more"},
		{"higher: baseline above target", kpiOverride("nps", scorecard.KPIOverride{Baseline: f(60)}),
			"kpis.nps.baseline", "below the target (50)"},
		{"higher: target moved onto the baseline", kpiOverride("nps", scorecard.KPIOverride{Target: f(0)}),
			"kpis.nps.target", "above the baseline (0)"},
		{"higher: both at one value", kpiOverride("nps", scorecard.KPIOverride{Target: f(10), Baseline: f(10)}),
			"kpis.nps.baseline", "below the target (10)"},
		{"lower: target moved above the baseline", kpiOverride("complaint_rate", scorecard.KPIOverride{Target: f(30)}),
			"kpis.complaint_rate.target", "below the baseline (25)"},
		{"closest: target moved onto the baseline", kpiOverride("best_lead_source_share", scorecard.KPIOverride{Target: f(100)}),
			"kpis.best_lead_source_share.target", "must differ from the baseline (100)"},
		{"perspective weights all 0", scorecard.Overrides{PerspectiveWeights: map[scorecard.PerspectiveID]float64{
			"financial": 0, "customer": 0, "internal_process": 0, "learning_growth": 0}},
			"perspective_weights", "must not all be 0"},
		{"a counted perspective's KPIs all weigh 0", scorecard.Overrides{KPIs: map[string]scorecard.KPIOverride{
			"survey_response_rate": {Weight: f(0)}, "best_lead_source_share": {Weight: f(0)}}},
			"perspective_weights.learning_growth", "every KPI of the perspective weighs 0"},
		{"lower: baseline below target", kpiOverride("lead_response_time", scorecard.KPIOverride{Baseline: f(60)}),
			"kpis.lead_response_time.baseline", "above the target"},
		{"closest: baseline at target", kpiOverride("best_lead_source_share", scorecard.KPIOverride{Baseline: f(50)}),
			"kpis.best_lead_source_share.baseline", "must differ"},
		{"negative weight", kpiOverride("csat", scorecard.KPIOverride{Weight: f(-1)}), "kpis.csat.weight", "0 or more"},
		{"NaN weight", kpiOverride("csat", scorecard.KPIOverride{Weight: f(math.NaN())}), "kpis.csat.weight", "0 or more"},
		{"infinite target", kpiOverride("csat", scorecard.KPIOverride{Target: f(math.Inf(1))}), "kpis.csat", "finite"},
		{"higher: green below amber", kpiOverride("csat", scorecard.KPIOverride{Thresholds: &scorecard.Thresholds{Green: 70, Amber: 85}}),
			"kpis.csat.thresholds", "at least amber"},
		{"lower: green above amber", kpiOverride("complaint_rate", scorecard.KPIOverride{Thresholds: &scorecard.Thresholds{Green: 20, Amber: 10}}),
			"kpis.complaint_rate.thresholds", "at most amber"},
		{"closest: negative distance", kpiOverride("best_lead_source_share", scorecard.KPIOverride{Thresholds: &scorecard.Thresholds{Green: -5, Amber: 10}}),
			"kpis.best_lead_source_share.thresholds", "0 ≤ green ≤ amber"},
		{"NaN threshold", kpiOverride("csat", scorecard.KPIOverride{Thresholds: &scorecard.Thresholds{Green: math.NaN(), Amber: 1}}),
			"kpis.csat.thresholds", "finite"},
		{"set and clear thresholds", kpiOverride("sla_compliance", scorecard.KPIOverride{ClearThresholds: true, Thresholds: &scorecard.Thresholds{Green: 99, Amber: 95}}),
			"kpis.sla_compliance.thresholds", "set and cleared"},
	}
	for _, tt := range tests {
		cat, err := scorecard.DefaultCatalogue().WithOverrides(tt.o)
		if cat != nil {
			t.Errorf("%s: returned a catalogue as well as %v", tt.name, err)
		}
		var fe *scorecard.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v is not a *FieldError", tt.name, err)
			continue
		}
		if fe.Field != tt.field || !strings.Contains(fe.Reason, tt.reason) {
			t.Errorf("%s: %q: %q, want %q: …%s…", tt.name, fe.Field, fe.Reason, tt.field, tt.reason)
		}
	}
}

func kpiOverride(id string, o scorecard.KPIOverride) scorecard.Overrides {
	return scorecard.Overrides{KPIs: map[string]scorecard.KPIOverride{id: o}}
}

// TestValidateCustomCatalogue checks what Validate says about mistakes a
// hand-built catalogue can make and overrides cannot.
func TestValidateCustomCatalogue(t *testing.T) {
	cat := scorecard.DefaultCatalogue()
	cat.Perspectives = append(cat.Perspectives, scorecard.Perspective{ID: "social", Name: "Social"}, cat.Perspectives[0])
	cat.KPIs[1].ID = cat.KPIs[0].ID
	cat.KPIs[2].ID = "Top Share"
	cat.KPIs[3].Perspective = "people"
	cat.KPIs[4].Measure = nil
	cat.KPIs[5].Direction = "up"
	cat.KPIs[6].Name = ""
	cat.KPIs[7].Unit = ""
	err := cat.Validate()
	if err == nil {
		t.Fatal("Validate accepted a broken catalogue")
	}
	for _, want := range []string{
		`perspectives.4.id: "social" is not one of`,
		`perspectives.5.id: "financial" is listed twice`,
		"kpis.revenue.id: is used by two KPIs",
		`kpis[2].id: "Top Share" must be lower-case`,
		`kpis.lead_conversion_rate.perspective: "people" is not a perspective`,
		"kpis.nps: has no formula",
		`kpis.csat.direction: "up" is not`,
		"kpis.ces.name: is empty",
		"kpis.complaint_rate.unit: is empty",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not say %q:\n%v", want, err)
		}
	}
}
