package scorecard

import (
	"time"

	"github.com/rapportcrm/rapport/shared/period"
)

// Input is what one scorecard is computed from.
type Input struct {
	// Period is the period scored, in the organisation's time zone.
	Period period.Period
	// Team is the team scored, or "" for the whole organisation.
	Team string
	// Current is the rollup of Period (for Team); nil reads as empty.
	Current *Rollup
	// Previous is the rollup of Period.Previous(), for each KPI's
	// previous value and trend; nil when it is not known.
	Previous *Rollup
	// ComputedAt is when the card is computed, from the caller's clock, so
	// that the engine stays a pure function of its input.
	ComputedAt time.Time
}

// Document is a scored scorecard: what GET /scorecard serves and what the
// scheduled snapshot stores. A score, status, value or trend that has no
// data is written as JSON null.
type Document struct {
	Period       PeriodInfo         `json:"period"`
	Team         *string            `json:"team"`
	Score        *float64           `json:"score"`
	Status       Status             `json:"status"`
	ComputedAt   time.Time          `json:"computed_at"`
	Perspectives []PerspectiveScore `json:"perspectives"`
}

// PeriodInfo describes the period a Document covers; Start and End are UTC
// instants bounding [Start, End).
type PeriodInfo struct {
	Kind     period.Kind `json:"kind"`
	ID       string      `json:"id"`
	Start    time.Time   `json:"start"`
	End      time.Time   `json:"end"`
	TimeZone string      `json:"time_zone"`
}

// PerspectiveScore is one perspective on the card: the weighted mean of its
// KPIs that have data.
type PerspectiveScore struct {
	ID     PerspectiveID `json:"id"`
	Name   string        `json:"name"`
	Weight float64       `json:"weight"`
	Score  *float64      `json:"score"`
	Status Status        `json:"status"`
	KPIs   []KPIScore    `json:"kpis"`
}

// KPIScore is one KPI on the card. Target and Baseline are those of the
// period scored (per-day KPIs multiplied by its days). Scores are rounded
// to one decimal and values to two.
type KPIScore struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Unit      Unit      `json:"unit"`
	Direction Direction `json:"direction"`
	Value     *float64  `json:"value"`
	Target    float64   `json:"target"`
	Baseline  float64   `json:"baseline"`
	Score     *float64  `json:"score"`
	Status    Status    `json:"status"`
	Weight    float64   `json:"weight"`
	Samples   int64     `json:"samples"`
	Previous  *float64  `json:"previous"`
	Trend     Trend     `json:"trend"`
}

// Score computes the scorecard of in.Period from its rollups. Every KPI is
// listed, with data or not; a KPI with no data counts in no mean, and a
// perspective none of whose KPIs has data counts in no overall score, so
// missing data never reads as failure. c should have passed Validate.
func (c *Catalogue) Score(in Input) Document {
	p := in.Period
	doc := Document{
		Period: PeriodInfo{
			Kind: p.Kind(), ID: p.ID(), Start: p.Start(), End: p.End(),
			TimeZone: p.Location().String(),
		},
		ComputedAt:   in.ComputedAt.UTC(),
		Perspectives: make([]PerspectiveScore, 0, len(c.Perspectives)),
	}
	if in.Team != "" {
		team := in.Team
		doc.Team = &team
	}
	days := p.DayCount()

	var overall mean
	for _, persp := range c.Perspectives {
		ps := PerspectiveScore{ID: persp.ID, Name: persp.Name, Weight: persp.Weight, KPIs: []KPIScore{}}
		var m mean
		for _, k := range c.KPIs {
			if k.Perspective != persp.ID {
				continue
			}
			ks, score, ok := scoreKPI(k.ForDays(days), in.Current, in.Previous)
			if ok {
				m.add(score, k.Weight)
			}
			ps.KPIs = append(ps.KPIs, ks)
		}
		if s, ok := m.value(); ok {
			ps.Score, ps.Status = rounded(s)
			overall.add(s, persp.Weight)
		}
		doc.Perspectives = append(doc.Perspectives, ps)
	}
	if s, ok := overall.value(); ok {
		doc.Score, doc.Status = rounded(s)
	}
	return doc
}

// scoreKPI measures k on the current and previous rollups. It returns the
// card's line and, when there is data, the unrounded score for the means.
func scoreKPI(k KPI, current, previous *Rollup) (KPIScore, float64, bool) {
	ks := KPIScore{
		ID: k.ID, Name: k.Name, Unit: k.Unit, Direction: k.Direction,
		Target: k.Target, Baseline: k.Baseline, Weight: k.Weight,
	}
	prev, hasPrev := measureKPI(k, previous)
	if hasPrev {
		ks.Previous = ptr(roundValue(prev.Value))
	}
	cur, ok := measureKPI(k, current)
	if !ok {
		return ks, 0, false
	}
	score := k.Score(cur.Value)
	ks.Value = ptr(roundValue(cur.Value))
	ks.Score = ptr(roundScore(score))
	ks.Status = k.Status(cur.Value)
	ks.Samples = cur.Samples
	if hasPrev {
		ks.Trend = k.Trend(cur.Value, prev.Value)
	}
	return ks, score, true
}

// measureKPI applies k's formula, treating a value that is not a finite
// number — which only corrupt data could produce — as no data, since JSON
// cannot carry it and no score can be read from it.
func measureKPI(k KPI, r *Rollup) (Measurement, bool) {
	if r == nil || k.Measure == nil {
		return Measurement{}, false
	}
	m, ok := k.Measure(r)
	if !ok || !finite(m.Value) {
		return Measurement{}, false
	}
	return m, true
}

// mean accumulates a weighted mean. Items of weight 0 are shown on the card
// but do not count, and the weights of those that do are renormalised by
// dividing by their sum.
type mean struct{ sum, weight float64 }

func (m *mean) add(score, weight float64) {
	if weight > 0 {
		m.sum += score * weight
		m.weight += weight
	}
}

func (m mean) value() (float64, bool) {
	if m.weight <= 0 {
		return 0, false
	}
	return m.sum / m.weight, true
}

// rounded returns a score as shown, with the status of the shown score.
func rounded(score float64) (*float64, Status) {
	s := roundScore(score)
	return &s, ScoreStatus(s)
}

func ptr(f float64) *float64 { return &f }
