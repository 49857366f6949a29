package httpapi_test

import (
	"strconv"
	"testing"

	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
)

// BenchmarkScorecardReadCost reports the DynamoDB requests and read
// capacity of GET /scorecard (JSON) for each kind of period, with 1,000
// events spread over the quarter and again with 100,000, so `make bench`
// prints the two side by side (TestScorecardFlatCost holds them equal).
func BenchmarkScorecardReadCost(b *testing.B) {
	reads := []struct{ kind, at string }{
		{"day", "2026-11-25"}, {"week", "2026-W48"}, {"month", "2026-11"}, {"quarter", "2026-Q4"},
	}
	for _, events := range []int{1_000, 100_000} {
		a := newScorecardAPI(b)
		fillQuarter(b, a.store, events)
		for _, r := range reads {
			b.Run(r.kind+"/events="+strconv.Itoa(events), func(b *testing.B) {
				a.t = b
				a.calls.Reset()
				for b.Loop() {
					if status, body, _ := a.get(map[string]string{"period": r.kind, "at": r.at}, "application/json"); status != 200 {
						b.Fatalf("%d %s", status, body)
					}
				}
				c := a.calls.Cost()
				reportCost(b, c)
			})
		}
	}
}

func reportCost(b *testing.B, c dynamotest.Cost) {
	n := float64(b.N)
	b.ReportMetric(float64(c.Total())/n, "requests/op")
	b.ReportMetric(c.RCU/n, "RCU/op")
	b.ReportMetric(c.WCU/n, "WCU/op")
}
