package scorecard_test

import (
	"math"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/histogram"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// must fails the test on a rollup error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// answer adds n answers of score to question q.
func answer(t testing.TB, r *scorecard.Rollup, q scorecard.SurveyQuestion, score int, n int64) {
	t.Helper()
	c, ok := scorecard.AnswerCounter(q, score)
	if !ok {
		t.Fatalf("no counter for %s %d", q, score)
	}
	must(t, r.Add(c, n))
}

// handWorked is a rollup whose every KPI value is worked out by hand in
// TestMeasures.
func handWorked(t testing.TB) *scorecard.Rollup {
	r := &scorecard.Rollup{}
	for c, n := range map[scorecard.Counter]int64{
		scorecard.LeadsCaptured: 40, scorecard.LeadsConverted: 3, scorecard.Purchases: 2,
		scorecard.TicketsOpened: 20, scorecard.ComplaintsOpened: 3,
		scorecard.SLAMet: 18, scorecard.SLABreached: 2,
		scorecard.FollowUpsDue: 10, scorecard.FollowUpsDoneOnTime: 7,
		scorecard.SurveyInvitationsSent: 50, scorecard.SurveyResponses: 16,
	} {
		must(t, r.Add(c, n))
	}
	must(t, r.AddSum(scorecard.ConversionRevenue, 300_000, "EUR"))
	must(t, r.AddSum(scorecard.PurchaseRevenue, 100_000, "EUR"))
	for customer, v := range map[string]int64{"a": 100_000, "b": 100_000, "c": 50_000, "d": 50_000, "e": 50_000, "f": 50_000, "g": 0, "h": -500} {
		must(t, r.AddTo(scorecard.RevenueByCustomer, customer, v))
	}
	for customer, n := range map[string]int64{"a": 2, "b": 1, "c": 1, "d": 1} {
		must(t, r.AddTo(scorecard.SalesByCustomer, customer, n))
	}
	for customer, n := range map[string]int64{"a": 1, "b": 1, "z": 1} {
		must(t, r.AddTo(scorecard.RepeatSalesByCustomer, customer, n))
	}
	for source, n := range map[string]int64{"web": 12, "referral": 6, "ads": 2} {
		must(t, r.AddTo(scorecard.LeadsBySource, source, n))
	}
	for score, n := range map[int]int64{10: 5, 9: 3, 8: 2, 7: 2, 6: 1, 3: 2, 0: 1} {
		answer(t, r, scorecard.NPS, score, n)
	}
	for score, n := range map[int]int64{5: 6, 4: 3, 3: 1, 1: 2} {
		answer(t, r, scorecard.CSAT, score, n)
	}
	for score, n := range map[int]int64{7: 2, 6: 2, 4: 1} {
		answer(t, r, scorecard.CES, score, n)
	}
	for _, m := range []int{10, 20, 30, 120, 300} {
		r.Observe(scorecard.LeadResponseTime, time.Duration(m)*time.Minute)
		r.Observe(scorecard.TicketFirstResponseTime, time.Duration(m)*time.Minute/2)
		r.Observe(scorecard.TicketResolutionTime, time.Duration(m)*time.Hour)
	}
	return r
}

func TestMeasures(t *testing.T) {
	tests := []struct {
		id      string
		value   float64
		samples int64
		approx  bool // a median read from a histogram
	}{
		{scorecard.KPIRevenue, 400_000, 5, false},
		{scorecard.KPIAverageDealValue, 100_000, 3, false},
		// 6 paying customers (g and h paid nothing); the top ⌈1.2⌉ = 2
		// brought 200,000 of 400,000.
		{scorecard.KPITopCustomerRevenueShare, 50, 6, false},
		{scorecard.KPILeadConversionRate, 7.5, 40, false},
		// 16 answers: 8 promoters, 4 detractors.
		{scorecard.KPINPS, 25, 16, false},
		{scorecard.KPICSAT, 75, 12, false},
		{scorecard.KPICES, 6, 5, false},
		{scorecard.KPIComplaintRate, 15, 20, false},
		// a and b of 4 buyers bought before; z bought nothing this period.
		{scorecard.KPIRepeatCustomerRate, 50, 4, false},
		{scorecard.KPILeadResponseTime, 1800, 5, true},
		{scorecard.KPITicketFirstResponseTime, 900, 5, true},
		{scorecard.KPITicketResolutionTime, 30 * 3600, 5, true},
		{scorecard.KPISLACompliance, 90, 20, false},
		{scorecard.KPIFollowUpsOnTime, 70, 10, false},
		{scorecard.KPISurveyResponseRate, 32, 50, false},
		{scorecard.KPIBestLeadSourceShare, 60, 20, false},
	}
	cat := scorecard.DefaultCatalogue()
	if len(tests) != len(cat.KPIs) {
		t.Errorf("%d KPIs tested, catalogue has %d", len(tests), len(cat.KPIs))
	}
	r := handWorked(t)
	for _, tt := range tests {
		k, ok := cat.KPI(tt.id)
		if !ok {
			t.Errorf("no KPI %s", tt.id)
			continue
		}
		m, ok := k.Measure(r)
		if !ok {
			t.Errorf("%s: no data", tt.id)
			continue
		}
		tolerance := 1e-9
		if tt.approx {
			tolerance = histogram.MaxRelativeError * tt.value
		}
		if math.Abs(m.Value-tt.value) > tolerance || m.Samples != tt.samples {
			t.Errorf("%s = %v over %d samples, want %v over %d", tt.id, m.Value, m.Samples, tt.value, tt.samples)
		}
	}
}

// TestNoData checks that every KPI of an empty rollup has no value, rather
// than a value of zero.
func TestNoData(t *testing.T) {
	empty := []*scorecard.Rollup{nil, {}, {Counters: map[scorecard.Counter]int64{}}}
	// A rollup with numerators but no denominators has no data either.
	numeratorsOnly := &scorecard.Rollup{}
	for _, c := range []scorecard.Counter{scorecard.ComplaintsOpened, scorecard.FollowUpsDoneOnTime, scorecard.SurveyResponses} {
		must(t, numeratorsOnly.Add(c, 3))
	}
	must(t, numeratorsOnly.AddTo(scorecard.RepeatSalesByCustomer, "a", 1))
	must(t, numeratorsOnly.AddTo(scorecard.RevenueByCustomer, "a", -100))
	numeratorsOnly.Timings = map[scorecard.Timing]*histogram.Histogram{scorecard.LeadResponseTime: {}}
	empty = append(empty, numeratorsOnly)

	for i, r := range empty {
		for _, k := range scorecard.DefaultCatalogue().KPIs {
			if m, ok := k.Measure(r); ok {
				t.Errorf("rollup %d: %s = %v with no inputs", i, k.ID, m.Value)
			}
		}
	}
}

func TestAnswerCounter(t *testing.T) {
	tests := []struct {
		q     scorecard.SurveyQuestion
		score int
		want  scorecard.Counter
	}{
		{scorecard.NPS, 0, "survey_answers_nps_0"},
		{scorecard.NPS, 10, "survey_answers_nps_10"},
		{scorecard.CSAT, 1, "survey_answers_csat_1"},
		{scorecard.CSAT, 5, "survey_answers_csat_5"},
		{scorecard.CES, 7, "survey_answers_ces_7"},
		{scorecard.NPS, 11, ""}, {scorecard.NPS, -1, ""},
		{scorecard.CSAT, 0, ""}, {scorecard.CSAT, 6, ""},
		{scorecard.CES, 0, ""}, {scorecard.CES, 8, ""},
		{"stars", 3, ""},
	}
	for _, tt := range tests {
		got, ok := scorecard.AnswerCounter(tt.q, tt.score)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("AnswerCounter(%s, %d) = %q, %v; want %q", tt.q, tt.score, got, ok, tt.want)
		}
	}
}
