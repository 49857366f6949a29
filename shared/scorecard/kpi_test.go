package scorecard_test

import (
	"math"
	oldrand "math/rand" // testing/quick still takes a math/rand source
	"math/rand/v2"
	"testing"
	"testing/quick"

	"github.com/rapportcrm/rapport/shared/scorecard"
)

var (
	higher = scorecard.KPI{ID: "h", Direction: scorecard.HigherIsBetter, Baseline: 0, Target: 50, Weight: 1}
	lower  = scorecard.KPI{ID: "l", Direction: scorecard.LowerIsBetter, Baseline: 86400, Target: 3600, Weight: 1}
	// closest scores 100 at 50 and 0 at 50 away from it, either side.
	closest = scorecard.KPI{ID: "c", Direction: scorecard.ClosestToTarget, Baseline: 100, Target: 50, Weight: 1}
)

func TestScore(t *testing.T) {
	tests := []struct {
		name  string
		kpi   scorecard.KPI
		value float64
		want  float64
	}{
		{"higher at baseline", higher, 0, 0},
		{"higher part way", higher, 34, 68},
		{"higher at target", higher, 50, 100},
		{"higher above target is clamped", higher, 80, 100},
		{"higher below baseline is clamped", higher, -40, 0},
		{"higher with a negative baseline", scorecard.KPI{Direction: scorecard.HigherIsBetter, Baseline: -100, Target: 100}, 0, 50},
		{"lower at baseline", lower, 86400, 0},
		{"lower part way", lower, 86400 - 0.25*(86400-3600), 25},
		{"lower at target", lower, 3600, 100},
		{"lower below target is clamped", lower, 60, 100},
		{"lower above baseline is clamped", lower, 200000, 0},
		{"closest at target", closest, 50, 100},
		{"closest above, half way", closest, 75, 50},
		{"closest below, half way", closest, 25, 50},
		{"closest at baseline distance above", closest, 100, 0},
		{"closest at baseline distance below", closest, 0, 0},
		{"closest beyond baseline distance is clamped", closest, 180, 0},
		{"closest with the baseline below the target", scorecard.KPI{Direction: scorecard.ClosestToTarget, Baseline: 0, Target: 10}, 12, 80},
		// Catalogues that fail Validate still score without dividing by zero.
		{"degenerate higher met", scorecard.KPI{Direction: scorecard.HigherIsBetter, Baseline: 5, Target: 5}, 6, 100},
		{"degenerate higher missed", scorecard.KPI{Direction: scorecard.HigherIsBetter, Baseline: 5, Target: 5}, 4, 0},
		{"degenerate closest", scorecard.KPI{Direction: scorecard.ClosestToTarget, Baseline: 5, Target: 5}, 5, 100},
	}
	for _, tt := range tests {
		if got := tt.kpi.Score(tt.value); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: Score(%v) = %v, want %v", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestStatus(t *testing.T) {
	withThresholds := func(k scorecard.KPI, green, amber float64) scorecard.KPI {
		k.Thresholds = &scorecard.Thresholds{Green: green, Amber: amber}
		return k
	}
	sla := withThresholds(scorecard.KPI{Direction: scorecard.HigherIsBetter, Baseline: 70, Target: 100}, 95, 90)
	wait := withThresholds(lower, 7200, 14400)
	near := withThresholds(closest, 5, 15)
	tests := []struct {
		name  string
		kpi   scorecard.KPI
		value float64
		want  scorecard.Status
	}{
		// From the score: green from 80, amber from 50, on the shown score.
		{"score 100", higher, 50, scorecard.Green},
		{"score 80", higher, 40, scorecard.Green},
		{"score 79.96 shows 80.0", higher, 39.98, scorecard.Green},
		{"score 79.9", higher, 39.95, scorecard.Amber},
		{"score 50", higher, 25, scorecard.Amber},
		{"score 49.9", higher, 24.95, scorecard.Red},
		{"score 0", higher, -5, scorecard.Red},
		{"lower, score 100", lower, 3000, scorecard.Green},
		{"lower, score 0", lower, 90000, scorecard.Red},
		{"closest, score 90", closest, 45, scorecard.Green},
		{"closest, score 60", closest, 70, scorecard.Amber},
		// From thresholds, which override the score.
		{"higher threshold green", sla, 95, scorecard.Green},
		{"higher threshold amber though score is 80", sla, 94, scorecard.Amber},
		{"higher threshold amber edge", sla, 90, scorecard.Amber},
		{"higher threshold red though score is 63", sla, 89, scorecard.Red},
		{"lower threshold green though score is 97", wait, 6000, scorecard.Green},
		{"lower threshold green edge", wait, 7200, scorecard.Green},
		{"lower threshold amber", wait, 14400, scorecard.Amber},
		{"lower threshold red though score is 86", wait, 15000, scorecard.Red},
		{"closest threshold green above", near, 55, scorecard.Green},
		{"closest threshold green below", near, 45, scorecard.Green},
		{"closest threshold amber", near, 36, scorecard.Amber},
		{"closest threshold red", near, 66, scorecard.Red},
	}
	for _, tt := range tests {
		if got := tt.kpi.Status(tt.value); got != tt.want {
			t.Errorf("%s: Status(%v) = %q (score %.2f), want %q", tt.name, tt.value, got, tt.kpi.Score(tt.value), tt.want)
		}
	}
}

func TestTrend(t *testing.T) {
	tests := []struct {
		name            string
		kpi             scorecard.KPI
		value, previous float64
		want            scorecard.Trend
	}{
		{"higher up", higher, 34, 30, scorecard.Better},
		{"higher down", higher, 30, 34, scorecard.Worse},
		{"higher same", higher, 34, 34, scorecard.Flat},
		{"higher same as shown", higher, 34.001, 33.999, scorecard.Flat},
		{"higher up beyond target still better", higher, 90, 80, scorecard.Better},
		{"lower down is better", lower, 3000, 4000, scorecard.Better},
		{"lower up is worse", lower, 4000, 3000, scorecard.Worse},
		{"lower same", lower, 4000, 4000, scorecard.Flat},
		{"closest nearer from above", closest, 55, 70, scorecard.Better},
		{"closest nearer across the target", closest, 45, 70, scorecard.Better},
		{"closest further", closest, 30, 45, scorecard.Worse},
		{"closest equally far either side", closest, 40, 60, scorecard.Flat},
	}
	for _, tt := range tests {
		if got := tt.kpi.Trend(tt.value, tt.previous); got != tt.want {
			t.Errorf("%s: Trend(%v, %v) = %q, want %q", tt.name, tt.value, tt.previous, got, tt.want)
		}
	}
}

// kpiFrom builds a KPI of direction d from two arbitrary numbers, putting
// the baseline on the correct side of the target.
func kpiFrom(d scorecard.Direction, a, b float64) (scorecard.KPI, bool) {
	lo, hi := min(a, b), max(a, b)
	if lo == hi || math.IsInf(hi-lo, 0) {
		return scorecard.KPI{}, false
	}
	if d == scorecard.LowerIsBetter {
		return scorecard.KPI{Direction: d, Baseline: hi, Target: lo}, true
	}
	return scorecard.KPI{Direction: d, Baseline: lo, Target: hi}, true
}

// TestScoreMonotonic is the property that a higher-is-better score never
// falls as the value rises, a lower-is-better score never rises, and every
// score stays in 0–100.
func TestScoreMonotonic(t *testing.T) {
	cfg := &quick.Config{MaxCount: 20000, Rand: oldrand.New(oldrand.NewSource(1))}
	for _, tc := range []struct {
		d      scorecard.Direction
		orders func(s1, s2 float64) bool // s1 is the score of the smaller value
	}{
		{scorecard.HigherIsBetter, func(s1, s2 float64) bool { return s1 <= s2 }},
		{scorecard.LowerIsBetter, func(s1, s2 float64) bool { return s1 >= s2 }},
	} {
		property := func(a, b, v1, v2 float64) bool {
			k, ok := kpiFrom(tc.d, a, b)
			if !ok {
				return true
			}
			lo, hi := min(v1, v2), max(v1, v2)
			s1, s2 := k.Score(lo), k.Score(hi)
			return tc.orders(s1, s2) && s1 >= 0 && s1 <= 100 && s2 >= 0 && s2 <= 100
		}
		if err := quick.Check(property, cfg); err != nil {
			t.Errorf("%s: %v", tc.d, err)
		}
		// Values near the baseline and target, where quick's wide
		// floats rarely land.
		rng := rand.New(rand.NewPCG(2, 2))
		for range 20000 {
			base, target := rng.NormFloat64()*100, rng.NormFloat64()*100
			v1 := base + (target-base)*(rng.Float64()*1.4-0.2)
			v2 := base + (target-base)*(rng.Float64()*1.4-0.2)
			if !property(base, target, v1, v2) {
				t.Fatalf("%s: baseline/target %v, %v: values %v, %v break the order", tc.d, base, target, v1, v2)
			}
		}
	}
}

// TestClosestSymmetric is the property that closest-to-target scores
// depend only on the distance from the target and fall as it grows.
func TestClosestSymmetric(t *testing.T) {
	property := func(target, span, d1, d2 float64) bool {
		// Keep quick's floats, which span ±1e308, where sums stay finite.
		target, span, d1, d2 = math.Mod(target, 1e9), math.Mod(span, 1e9), math.Mod(d1, 1e9), math.Mod(d2, 1e9)
		if span == 0 {
			return true
		}
		k := scorecard.KPI{Direction: scorecard.ClosestToTarget, Target: target, Baseline: target + span}
		near, far := min(math.Abs(d1), math.Abs(d2)), max(math.Abs(d1), math.Abs(d2))
		return k.Score(target+near) >= k.Score(target+far) &&
			math.Abs(k.Score(target+near)-k.Score(target-near)) < 1e-6
	}
	if err := quick.Check(property, &quick.Config{MaxCount: 20000, Rand: oldrand.New(oldrand.NewSource(3))}); err != nil {
		t.Error(err)
	}
}

func TestForDays(t *testing.T) {
	k := scorecard.KPI{Target: 500, Baseline: 100, Thresholds: &scorecard.Thresholds{Green: 400, Amber: 200}, PerDay: true}
	w := k.ForDays(7)
	if w.Target != 3500 || w.Baseline != 700 || w.Thresholds.Green != 2800 || w.Thresholds.Amber != 1400 {
		t.Errorf("ForDays(7) = %+v %+v", w, *w.Thresholds)
	}
	if k.Target != 500 || k.Thresholds.Green != 400 {
		t.Error("ForDays changed the KPI it was called on")
	}
	k.PerDay = false
	if got := k.ForDays(30); got.Target != 500 {
		t.Errorf("ForDays on a KPI that is not per day changed its target to %v", got.Target)
	}
}
