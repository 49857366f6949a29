package histogram_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/histogram"
)

// exact returns the nearest-rank q-quantile of sorted, the definition
// Quantile estimates.
func exact(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// distributions are shapes of CRM durations: response times bunched in
// office hours, long tails of tickets left open, and spreads over the
// whole range.
var distributions = []struct {
	name string
	draw func(*rand.Rand) time.Duration
}{
	{"uniform 1s–7d", func(r *rand.Rand) time.Duration {
		return time.Second + time.Duration(r.Int64N(int64(7*24*time.Hour)))
	}},
	{"log-uniform 1s–1y", func(r *rand.Rand) time.Duration {
		return time.Duration(float64(time.Second) * math.Exp(r.Float64()*math.Log(365*24*3600)))
	}},
	{"exponential mean 1h", func(r *rand.Rand) time.Duration {
		return time.Duration(r.ExpFloat64() * float64(time.Hour))
	}},
	{"log-normal median 4h", func(r *rand.Rand) time.Duration {
		return time.Duration(float64(4*time.Hour) * math.Exp(1.5*r.NormFloat64()))
	}},
	{"minutes or days", func(r *rand.Rand) time.Duration {
		if r.IntN(3) == 0 {
			return time.Duration((1 + 4*r.Float64()) * float64(24*time.Hour))
		}
		return time.Duration((1 + 29*r.Float64()) * float64(time.Minute))
	}},
	{"pareto from 10m", func(r *rand.Rand) time.Duration {
		return time.Duration(float64(10*time.Minute) / math.Pow(1-r.Float64(), 1/1.2))
	}},
	{"few distinct values", func(r *rand.Rand) time.Duration {
		return []time.Duration{time.Minute, time.Hour, 90 * time.Minute, 8 * time.Hour}[r.IntN(4)]
	}},
}

// TestQuantileRelativeError measures the error of every estimated quantile
// against the exact one on random data, and holds it to the documented
// bound. Run with -v to see the worst error.
func TestQuantileRelativeError(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261122, 3))
	quantiles := []float64{0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99}
	worst, checked := 0.0, 0
	for _, dist := range distributions {
		for _, n := range []int{1, 2, 3, 10, 101, 1000, 20000} {
			var h histogram.Histogram
			data := make([]time.Duration, n)
			for i := range data {
				data[i] = dist.draw(rng)
				h.Add(data[i])
			}
			slices.Sort(data)
			for _, q := range quantiles {
				want := exact(data, q)
				got, ok := h.Quantile(q)
				if !ok {
					t.Fatalf("%s n=%d: no quantile", dist.name, n)
				}
				if got < data[0] || got > data[n-1] {
					t.Errorf("%s n=%d q=%v: %v outside the data's range [%v, %v]", dist.name, n, q, got, data[0], data[n-1])
				}
				if want < histogram.Shortest || want >= histogram.Longest {
					continue // the bound is promised only in the logarithmic range
				}
				rel := math.Abs(float64(got-want)) / float64(want)
				checked++
				worst = max(worst, rel)
				if rel > histogram.MaxRelativeError {
					t.Errorf("%s n=%d q=%v: estimate %v, exact %v, relative error %.4f > %.4f",
						dist.name, n, q, got, want, rel, histogram.MaxRelativeError)
				}
			}
		}
	}
	t.Logf("relative error bound %.2f%% (theory 1/21 = %.3f%%); worst seen %.3f%% over %d quantiles",
		100*histogram.MaxRelativeError, 100.0/21, 100*worst, checked)
}

// TestMergeEqualsUnion checks that merging the histograms of parts gives the
// very histogram of the whole, in any grouping: days add up to weeks.
func TestMergeEqualsUnion(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, dist := range distributions {
		var whole histogram.Histogram
		parts := make([]histogram.Histogram, 7)
		for range 5000 {
			d := dist.draw(rng)
			whole.Add(d)
			parts[rng.IntN(len(parts))].Add(d)
		}
		var forward, backward histogram.Histogram
		for i := range parts {
			if err := forward.Merge(&parts[i]); err != nil {
				t.Fatal(err)
			}
			if err := backward.Merge(&parts[len(parts)-1-i]); err != nil {
				t.Fatal(err)
			}
		}
		if forward != whole || backward != whole {
			t.Errorf("%s: merged parts differ from the whole", dist.name)
		}
	}
}

func TestEdges(t *testing.T) {
	var h histogram.Histogram
	if _, ok := h.Median(); ok || h.Count() != 0 {
		t.Fatal("an empty histogram has a median")
	}
	if _, ok := h.Min(); ok {
		t.Fatal("an empty histogram has a minimum")
	}
	if err := h.Merge(nil); err != nil || h.Count() != 0 {
		t.Fatalf("Merge(nil) = %v, count %d", err, h.Count())
	}

	h.Add(-5 * time.Second) // a clock that ran backwards counts as zero
	h.Add(300 * time.Millisecond)
	h.Add(2 * time.Hour)
	h.Add(3 * 365 * 24 * time.Hour) // beyond Longest
	h.Add(4 * 365 * 24 * time.Hour)

	tests := []struct {
		q    float64
		want time.Duration
	}{
		{math.Inf(-1), 0}, {0, 0}, {0.2, 0}, {0.4, 500 * time.Millisecond}, /* midpoint of [0, 1s] */
		{1, 4 * 365 * 24 * time.Hour}, {2, 4 * 365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		if got, ok := h.Quantile(tt.q); !ok || got != tt.want {
			t.Errorf("Quantile(%v) = %v, %v; want %v", tt.q, got, ok, tt.want)
		}
	}
	if got, _ := h.Median(); math.Abs(float64(got-2*time.Hour))/float64(2*time.Hour) > histogram.MaxRelativeError {
		t.Errorf("Median = %v, want about 2h", got)
	}
	// The overflow bucket is answered between Longest and the maximum.
	if got, _ := h.Quantile(0.8); got < histogram.Longest || got > 4*365*24*time.Hour {
		t.Errorf("Quantile(0.8) = %v, want between Longest and 4 years", got)
	}
	if _, ok := h.Quantile(math.NaN()); ok {
		t.Error("Quantile(NaN) answered")
	}
	if lo, _ := h.Min(); lo != 0 {
		t.Errorf("Min = %v, want 0", lo)
	}
	if hi, _ := h.Max(); hi != 4*365*24*time.Hour {
		t.Errorf("Max = %v", hi)
	}
	if h.Count() != 5 {
		t.Errorf("Count = %d, want 5", h.Count())
	}
}

// TestSingleValue checks that one repeated value is reported exactly.
func TestSingleValue(t *testing.T) {
	var h histogram.Histogram
	for range 10 {
		h.Add(90 * time.Minute)
	}
	for _, q := range []float64{0, 0.3, 0.5, 0.99, 1} {
		if got, _ := h.Quantile(q); got != 90*time.Minute {
			t.Errorf("Quantile(%v) = %v, want 1h30m", q, got)
		}
	}
}
