// Package scorecard is Rapport's balanced scorecard engine: the catalogue of
// KPIs, the rollup of a period's activity they are computed from, and the
// scoring of each KPI against its target, each perspective and the whole
// card. It is pure logic — no AWS, no HTTP, no clock — so that the rollup
// consumers only feed it and GET /scorecard only serves what it returns.
package scorecard

import (
	"encoding/json"
	"math"
)

// PerspectiveID names one of the four perspectives of a balanced scorecard.
type PerspectiveID string

// The four perspectives, in the order a scorecard lists them.
const (
	Financial       PerspectiveID = "financial"
	Customer        PerspectiveID = "customer"
	InternalProcess PerspectiveID = "internal_process"
	LearningGrowth  PerspectiveID = "learning_growth"
)

// Direction says which way a KPI's value should move.
type Direction string

// The directions. For HigherIsBetter the baseline lies below the target, for
// LowerIsBetter above it; for ClosestToTarget the distance between them is
// how far off the value may be before it scores nothing.
const (
	HigherIsBetter  Direction = "higher_is_better"
	LowerIsBetter   Direction = "lower_is_better"
	ClosestToTarget Direction = "closest_to_target"
)

// Unit says how to read a KPI's value.
type Unit string

// The units of the default catalogue.
const (
	// UnitMinorUnits is an amount of money in the minor units (cents) of
	// the organisation's one currency, so sums stay exact.
	UnitMinorUnits Unit = "minor_units"
	// UnitPercent is a share from 0 to 100 (a rate may exceed 100 when
	// its numerator and denominator come from different periods).
	UnitPercent Unit = "percent"
	// UnitPoints is a score on its own scale, such as NPS's −100..100.
	UnitPoints Unit = "points"
	// UnitSeconds is a duration in seconds.
	UnitSeconds Unit = "seconds"
	// UnitScale1To7 is a mean answer on a 1–7 scale.
	UnitScale1To7 Unit = "scale_1_7"
)

// Status is the colour of a score: green, amber or red. The empty Status
// means no data and is written to JSON as null.
type Status string

// The statuses, and the scores at which a KPI without thresholds, a
// perspective or the card turns amber and green.
const (
	Green  Status = "green"
	Amber  Status = "amber"
	Red    Status = "red"
	NoData Status = ""

	GreenFrom = 80.0
	AmberFrom = 50.0
)

// Trend compares a KPI's value with the previous period's, read against the
// KPI's direction. The empty Trend means one of the two has no data and is
// written to JSON as null.
type Trend string

// The trends.
const (
	Better  Trend = "better"
	Worse   Trend = "worse"
	Flat    Trend = "flat"
	NoTrend Trend = ""
)

// Thresholds set a KPI's status from its value instead of its score, for
// KPIs where a line matters more than progress (an SLA promised to
// customers). For HigherIsBetter the value is green at or above Green and
// amber at or above Amber; for LowerIsBetter green at or below Green and
// amber at or below Amber; for ClosestToTarget Green and Amber are the
// largest distances from the target that are still green or amber.
// Anything else is red.
type Thresholds struct {
	Green float64 `json:"green"`
	Amber float64 `json:"amber"`
}

// Measurement is a KPI's value in one period and the number of observations
// behind it (answers, leads, tickets, customers), shown as "samples".
type Measurement struct {
	Value   float64
	Samples int64
}

// KPI is one line of the scorecard: what is measured, how it is computed
// from a period's Rollup, and what counts as good.
type KPI struct {
	// ID is the stable name used in overrides, URLs and documents.
	ID string
	// Name and Description are for the people who read the card.
	Name        string
	Description string
	// Formula says in words how the value is computed from the rollup.
	Formula     string
	Perspective PerspectiveID
	Unit        Unit
	Direction   Direction
	// Target is the value that scores 100, Baseline the value that scores
	// 0 (for ClosestToTarget, |Baseline − Target| is the distance at
	// which the score reaches 0).
	Target   float64
	Baseline float64
	// Thresholds, if set, decide the status instead of the score.
	Thresholds *Thresholds
	// Weight is the KPI's share in its perspective's score; 0 shows the
	// KPI without counting it.
	Weight float64
	// PerDay marks totals that grow with the period, such as revenue:
	// Target, Baseline and Thresholds are then per day, and the engine
	// multiplies them by the number of days in the period scored.
	PerDay bool
	// Measure computes the value from a rollup, and reports false when
	// the inputs are empty: no data, which is not the same as zero.
	Measure func(*Rollup) (Measurement, bool)
}

// ForDays returns the KPI as it applies to a period of the given number of
// days: a PerDay KPI's target, baseline and thresholds multiplied, any
// other KPI unchanged.
func (k KPI) ForDays(days int) KPI {
	if !k.PerDay {
		return k
	}
	n := float64(days)
	k.Target *= n
	k.Baseline *= n
	if k.Thresholds != nil {
		k.Thresholds = &Thresholds{Green: k.Thresholds.Green * n, Amber: k.Thresholds.Amber * n}
	}
	return k
}

// Score returns the value's progress from the baseline to the target as a
// percentage clamped to 0–100. For ClosestToTarget it is 100 at the target
// and falls linearly to 0 at the baseline's distance on either side.
func (k KPI) Score(value float64) float64 {
	var progress float64
	switch span := k.Target - k.Baseline; {
	case k.Direction == ClosestToTarget:
		if span == 0 {
			return boolScore(value == k.Target)
		}
		progress = 1 - math.Abs(value-k.Target)/math.Abs(span)
	case span == 0:
		// A catalogue that passed Validate never gets here; answer
		// sensibly rather than divide by zero.
		return boolScore(!k.worse(value, k.Target))
	default:
		// One formula serves both directions: for LowerIsBetter the
		// span is negative and so is every improvement.
		progress = (value - k.Baseline) / span
	}
	return 100 * min(max(progress, 0), 1)
}

// Status returns the value's colour: from the thresholds if the KPI has
// them, otherwise from its score as shown on the card (rounded to one
// decimal, so a card never shows 80.0 in amber).
func (k KPI) Status(value float64) Status {
	t := k.Thresholds
	if t == nil {
		return ScoreStatus(roundScore(k.Score(value)))
	}
	switch k.Direction {
	case LowerIsBetter:
		return pick(value <= t.Green, value <= t.Amber)
	case ClosestToTarget:
		off := math.Abs(value - k.Target)
		return pick(off <= t.Green, off <= t.Amber)
	default:
		return pick(value >= t.Green, value >= t.Amber)
	}
}

// Trend says whether value is better, worse or the same as previous, read
// against the KPI's direction. Values equal to the precision a card shows
// are flat.
func (k KPI) Trend(value, previous float64) Trend {
	v, p := roundValue(value), roundValue(previous)
	switch {
	case v == p:
		return Flat
	case k.worse(v, p):
		return Worse
	case k.worse(p, v):
		return Better
	}
	return Flat // equally far from the target on either side
}

// worse reports whether a is strictly worse than b for this KPI.
func (k KPI) worse(a, b float64) bool {
	switch k.Direction {
	case LowerIsBetter:
		return a > b
	case ClosestToTarget:
		return math.Abs(a-k.Target) > math.Abs(b-k.Target)
	default:
		return a < b
	}
}

// ScoreStatus returns the status of a score with no thresholds: green from
// 80, amber from 50, red below.
func ScoreStatus(score float64) Status {
	return pick(score >= GreenFrom, score >= AmberFrom)
}

func pick(green, amber bool) Status {
	switch {
	case green:
		return Green
	case amber:
		return Amber
	}
	return Red
}

func boolScore(ok bool) float64 {
	if ok {
		return 100
	}
	return 0
}

// roundScore rounds a score to the one decimal a card shows.
func roundScore(s float64) float64 { return math.Round(s*10) / 10 }

// roundValue rounds a value to the two decimals a card shows.
func roundValue(v float64) float64 { return math.Round(v*100) / 100 }

// MarshalJSON writes NoData as null.
func (s Status) MarshalJSON() ([]byte, error) { return nullable(string(s)) }

// UnmarshalJSON reads null as NoData.
func (s *Status) UnmarshalJSON(b []byte) error { return readNullable(b, (*string)(s)) }

// MarshalJSON writes NoTrend as null.
func (t Trend) MarshalJSON() ([]byte, error) { return nullable(string(t)) }

// UnmarshalJSON reads null as NoTrend.
func (t *Trend) UnmarshalJSON(b []byte) error { return readNullable(b, (*string)(t)) }

func nullable(s string) ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(s)
}

func readNullable(b []byte, s *string) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	return json.Unmarshal(b, s)
}
