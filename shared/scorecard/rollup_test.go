package scorecard_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/scorecard"
)

// event is one thing a rollup consumer might see, applied to a rollup.
type event func(*scorecard.Rollup) error

// randomEvents returns n events of every kind the catalogue reads.
func randomEvents(rng *rand.Rand, n int) []event {
	customers := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	sources := []string{"web", "referral", "ads", "fair"}
	events := make([]event, n)
	for i := range events {
		switch rng.IntN(6) {
		case 0:
			src := sources[rng.IntN(len(sources))]
			events[i] = func(r *scorecard.Rollup) error {
				return errors.Join(r.Add(scorecard.LeadsCaptured, 1), r.AddTo(scorecard.LeadsBySource, src, 1))
			}
		case 1:
			c, v, repeat := customers[rng.IntN(len(customers))], rng.Int64N(500_000), rng.IntN(3) == 0
			events[i] = func(r *scorecard.Rollup) error {
				err := errors.Join(r.Add(scorecard.LeadsConverted, 1),
					r.AddSum(scorecard.ConversionRevenue, v, "EUR"),
					r.AddTo(scorecard.RevenueByCustomer, c, v),
					r.AddTo(scorecard.SalesByCustomer, c, 1))
				if repeat {
					err = errors.Join(err, r.AddTo(scorecard.RepeatSalesByCustomer, c, 1))
				}
				return err
			}
		case 2:
			d := time.Duration(rng.ExpFloat64() * float64(3*time.Hour))
			events[i] = func(r *scorecard.Rollup) error { r.Observe(scorecard.LeadResponseTime, d); return nil }
		case 3:
			score := rng.IntN(11)
			events[i] = func(r *scorecard.Rollup) error {
				c, _ := scorecard.AnswerCounter(scorecard.NPS, score)
				return errors.Join(r.Add(c, 1), r.Add(scorecard.SurveyResponses, 1))
			}
		case 4:
			met := rng.IntN(5) > 0
			events[i] = func(r *scorecard.Rollup) error {
				if met {
					return r.Add(scorecard.SLAMet, 1)
				}
				return r.Add(scorecard.SLABreached, 1)
			}
		default:
			v := rng.Int64N(20_000) - 2_000 // purchases, and the odd refund
			events[i] = func(r *scorecard.Rollup) error {
				return errors.Join(r.Add(scorecard.Purchases, 1), r.AddSum(scorecard.PurchaseRevenue, v, "EUR"))
			}
		}
	}
	return events
}

// TestMergeDaysIntoWeek checks that merging the rollups of days, in any
// order, gives the rollup of all their events, and so the same KPIs.
func TestMergeDaysIntoWeek(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 22))
	whole := &scorecard.Rollup{}
	days := make([]*scorecard.Rollup, 7)
	for i := range days {
		days[i] = &scorecard.Rollup{}
		for _, ev := range randomEvents(rng, 300) {
			must(t, ev(days[i]))
			must(t, ev(whole))
		}
	}
	week, err := scorecard.MergeAll(days...)
	must(t, err)
	if !reflect.DeepEqual(week, whole) {
		t.Fatal("merged days differ from the rollup of all events")
	}
	reversed := &scorecard.Rollup{}
	for i := len(days) - 1; i >= 0; i-- {
		must(t, reversed.Merge(days[i]))
	}
	if !reflect.DeepEqual(reversed, whole) {
		t.Fatal("merging in another order gives another rollup")
	}
	for _, k := range scorecard.DefaultCatalogue().KPIs {
		a, okA := k.Measure(week)
		b, okB := k.Measure(whole)
		if a != b || okA != okB {
			t.Errorf("%s: %v from merged days, %v from all events", k.ID, a, b)
		}
	}
	// Merging must not alias: changing the week leaves the days alone.
	before := days[0].Clone()
	week.Observe(scorecard.LeadResponseTime, time.Hour)
	must(t, week.AddTo(scorecard.LeadsBySource, "web", 1))
	if !reflect.DeepEqual(days[0], before) {
		t.Error("changing a merged rollup changed one of its parts")
	}
}

func TestMergeRefusals(t *testing.T) {
	eur := &scorecard.Rollup{}
	must(t, eur.AddSum(scorecard.ConversionRevenue, 100, "EUR"))
	must(t, eur.Add(scorecard.LeadsConverted, 1))
	usd := &scorecard.Rollup{}
	must(t, usd.AddSum(scorecard.ConversionRevenue, 100, "USD"))

	before := eur.Clone()
	if err := eur.Merge(usd); err == nil || !strings.Contains(err.Error(), "USD") {
		t.Errorf("merging USD into EUR: %v", err)
	}
	if err := eur.AddSum(scorecard.PurchaseRevenue, 5, "USD"); err == nil {
		t.Error("adding a USD amount to a EUR rollup succeeded")
	}
	if err := eur.AddSum(scorecard.PurchaseRevenue, 5, ""); err == nil {
		t.Error("adding an amount without a currency succeeded")
	}

	huge := &scorecard.Rollup{}
	must(t, huge.Add(scorecard.LeadsConverted, 1)) // checked before the overflow below
	must(t, huge.AddTo(scorecard.RevenueByCustomer, "c", math.MaxInt64))
	if err := eur.Merge(huge); err != nil {
		t.Fatalf("first merge: %v", err)
	}
	before = eur.Clone()
	if err := eur.Merge(huge); !errors.Is(err, scorecard.ErrOverflow) {
		t.Errorf("overflowing merge = %v, want ErrOverflow", err)
	}
	if !reflect.DeepEqual(eur, before) {
		t.Error("a refused merge changed the rollup")
	}
	if err := eur.Add(scorecard.LeadsCaptured, math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	if err := eur.Add(scorecard.LeadsCaptured, 1); !errors.Is(err, scorecard.ErrOverflow) {
		t.Errorf("overflowing Add = %v, want ErrOverflow", err)
	}
	if err := eur.Merge(nil); err != nil {
		t.Errorf("Merge(nil) = %v", err)
	}
}

// TestRollupJSON checks that a rollup, histograms included, survives JSON.
func TestRollupJSON(t *testing.T) {
	r := handWorked(t)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back scorecard.Rollup
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("JSON round trip changed the rollup:\n%s", b)
	}
	if err := json.Unmarshal([]byte(`{"timings":{"lead_response_time":"AQ"}}`), &back); err == nil {
		t.Error("a damaged histogram decoded")
	}
}
