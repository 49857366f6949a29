package scorecard_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/scorecard"
)

// monthOfActivity builds the rollup of a busy month for a mid-sized team:
// 2,000 leads from 8 sources, 240 deals and 500 purchases from 400
// customers, 900 tickets, 800 survey responses.
func monthOfActivity(tb testing.TB, seed uint64) *scorecard.Rollup {
	rng := rand.New(rand.NewPCG(seed, 1))
	r := &scorecard.Rollup{}
	add := func(c scorecard.Counter, n int64) { must(tb, r.Add(c, n)) }
	for i := range 2000 {
		add(scorecard.LeadsCaptured, 1)
		must(tb, r.AddTo(scorecard.LeadsBySource, fmt.Sprintf("source-%d", i*i%8), 1))
		r.Observe(scorecard.LeadResponseTime, time.Duration(rng.ExpFloat64()*float64(4*time.Hour)))
	}
	sell := func(counter scorecard.Counter, sum scorecard.Sum) {
		customer := fmt.Sprintf("cust-%03d", int(400*math.Pow(rng.Float64(), 2))) // a few big buyers
		v := 5_000 + rng.Int64N(200_000)
		add(counter, 1)
		must(tb, r.AddSum(sum, v, "EUR"))
		must(tb, r.AddTo(scorecard.RevenueByCustomer, customer, v))
		must(tb, r.AddTo(scorecard.SalesByCustomer, customer, 1))
		if rng.IntN(3) == 0 {
			must(tb, r.AddTo(scorecard.RepeatSalesByCustomer, customer, 1))
		}
	}
	for range 240 {
		sell(scorecard.LeadsConverted, scorecard.ConversionRevenue)
	}
	for range 500 {
		sell(scorecard.Purchases, scorecard.PurchaseRevenue)
	}
	for range 900 {
		add(scorecard.TicketsOpened, 1)
		if rng.IntN(8) == 0 {
			add(scorecard.ComplaintsOpened, 1)
		}
		r.Observe(scorecard.TicketFirstResponseTime, time.Duration(rng.ExpFloat64()*float64(2*time.Hour)))
		r.Observe(scorecard.TicketResolutionTime, time.Duration(rng.ExpFloat64()*float64(36*time.Hour)))
		for range 2 { // first response and resolution clocks
			if rng.IntN(10) == 0 {
				add(scorecard.SLABreached, 1)
			} else {
				add(scorecard.SLAMet, 1)
			}
		}
	}
	add(scorecard.SurveyInvitationsSent, 3000)
	for range 800 {
		add(scorecard.SurveyResponses, 1)
		answer(tb, r, scorecard.NPS, min(10, 4+rng.IntN(8)), 1)
		answer(tb, r, scorecard.CSAT, 1+rng.IntN(5), 1)
		answer(tb, r, scorecard.CES, 2+rng.IntN(6), 1)
	}
	add(scorecard.FollowUpsDue, 600)
	add(scorecard.FollowUpsDoneOnTime, 510)
	return r
}

// BenchmarkScoreDefaultCatalogue scores the default catalogue for one month
// against the month before, as GET /scorecard does on every request.
func BenchmarkScoreDefaultCatalogue(b *testing.B) {
	cat := scorecard.DefaultCatalogue()
	in := scorecard.Input{
		Period:     berlin(b, "2026-11"),
		Current:    monthOfActivity(b, 1),
		Previous:   monthOfActivity(b, 2),
		ComputedAt: computedAt,
	}
	doc := cat.Score(in)
	if doc.Score == nil {
		b.Fatal("the benchmark month has no score")
	}
	b.ReportAllocs()
	for b.Loop() {
		cat.Score(in)
	}
}
