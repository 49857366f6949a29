package scorecard

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
)

// Overrides are an organisation's changes to the default catalogue, kept
// as a setting: its own targets, baselines, thresholds and weights. A
// PerDay KPI's (revenue's) target, baseline and thresholds are per day.
type Overrides struct {
	// KPIs maps a KPI ID to the changes to it.
	KPIs map[string]KPIOverride `json:"kpis,omitempty"`
	// PerspectiveWeights maps a perspective to its share of the overall
	// score.
	PerspectiveWeights map[PerspectiveID]float64 `json:"perspective_weights,omitempty"`
}

// KPIOverride changes one KPI; nil fields keep the catalogue's value.
type KPIOverride struct {
	Target     *float64    `json:"target,omitempty"`
	Baseline   *float64    `json:"baseline,omitempty"`
	Thresholds *Thresholds `json:"thresholds,omitempty"`
	// ClearThresholds removes the KPI's thresholds, so that its status
	// follows its score.
	ClearThresholds bool     `json:"clear_thresholds,omitempty"`
	Weight          *float64 `json:"weight,omitempty"`
}

// FieldError names a setting that is not valid and why, in terms an admin
// can act on. Field is a dotted path such as "kpis.nps.baseline".
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// WithOverrides returns a copy of c with o applied, or the reasons o cannot
// apply: one *FieldError per problem, joined. c itself is not changed.
func (c *Catalogue) WithOverrides(o Overrides) (*Catalogue, error) {
	out := c.clone()
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(o.KPIs)) {
		ov := o.KPIs[id]
		i := slices.IndexFunc(out.KPIs, func(k KPI) bool { return k.ID == id })
		if i < 0 {
			errs = append(errs, &FieldError{"kpis." + id, "there is no such KPI"})
			continue
		}
		k := &out.KPIs[i]
		if ov.Target != nil {
			k.Target = *ov.Target
		}
		if ov.Baseline != nil {
			k.Baseline = *ov.Baseline
		}
		if ov.Weight != nil {
			k.Weight = *ov.Weight
		}
		switch {
		case ov.ClearThresholds && ov.Thresholds != nil:
			errs = append(errs, &FieldError{"kpis." + id + ".thresholds", "cannot be set and cleared at once"})
		case ov.ClearThresholds:
			k.Thresholds = nil
		case ov.Thresholds != nil:
			t := *ov.Thresholds
			k.Thresholds = &t
		}
	}
	for _, id := range slices.Sorted(maps.Keys(o.PerspectiveWeights)) {
		i := slices.IndexFunc(out.Perspectives, func(p Perspective) bool { return p.ID == id })
		if i < 0 {
			errs = append(errs, &FieldError{"perspective_weights." + string(id), "there is no such perspective"})
			continue
		}
		out.Perspectives[i].Weight = o.PerspectiveWeights[id]
	}
	if len(errs) == 0 {
		// A target moved past its baseline is the target's fault when
		// the baseline was left alone: name the field the admin sent.
		moved := map[string]bool{}
		for id, ov := range o.KPIs {
			moved[id] = ov.Target != nil && ov.Baseline == nil
		}
		if err := out.validate(moved); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, errors.Join(errs...)
}

// Validate checks that every KPI can be scored: unique IDs, a known
// perspective and direction, finite numbers, a baseline on the right side
// of the target, thresholds in the right order, non-negative weights, and
// weights that leave something to score: the perspectives' may not all be
// 0, nor all the KPIs' of a perspective that counts. It returns one
// *FieldError per problem, joined.
func (c *Catalogue) Validate() error { return c.validate(nil) }

// validate is Validate, naming the target rather than the baseline of the
// KPIs in targetMoved when the two are in the wrong order.
func (c *Catalogue) validate(targetMoved map[string]bool) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{field, fmt.Sprintf(format, args...)})
	}

	perspectives := map[PerspectiveID]bool{}
	for i, p := range c.Perspectives {
		field := fmt.Sprintf("perspectives.%d", i)
		switch {
		case p.ID != Financial && p.ID != Customer && p.ID != InternalProcess && p.ID != LearningGrowth:
			bad(field+".id", "%q is not one of financial, customer, internal_process, learning_growth", p.ID)
		case perspectives[p.ID]:
			bad(field+".id", "%q is listed twice", p.ID)
		}
		perspectives[p.ID] = true
		if !finite(p.Weight) || p.Weight < 0 {
			bad("perspective_weights."+string(p.ID), "must be a number of 0 or more, not %v", p.Weight)
		}
	}

	ids := map[string]bool{}
	for i, k := range c.KPIs {
		field := "kpis." + k.ID
		if !validID(k.ID) {
			field = fmt.Sprintf("kpis[%d]", i)
			bad(field+".id", "%q must be lower-case letters, digits and underscores, starting with a letter", k.ID)
		} else if ids[k.ID] {
			bad(field+".id", "is used by two KPIs")
		}
		ids[k.ID] = true
		if k.Name == "" {
			bad(field+".name", "is empty")
		}
		if !perspectives[k.Perspective] {
			bad(field+".perspective", "%q is not a perspective of the catalogue", k.Perspective)
		}
		if k.Unit == "" {
			bad(field+".unit", "is empty")
		}
		if k.Measure == nil {
			bad(field, "has no formula")
		}
		if !finite(k.Weight) || k.Weight < 0 {
			bad(field+".weight", "must be a number of 0 or more, not %v", k.Weight)
		}
		if !finite(k.Target) || !finite(k.Baseline) {
			bad(field, "target and baseline must be finite numbers")
			continue
		}
		if k.Direction != HigherIsBetter && k.Direction != LowerIsBetter && k.Direction != ClosestToTarget {
			bad(field+".direction", "%q is not higher_is_better, lower_is_better or closest_to_target", k.Direction)
		} else if reason := orderProblem(k, targetMoved[k.ID]); reason != "" {
			if targetMoved[k.ID] {
				bad(field+".target", "%s", reason)
			} else {
				bad(field+".baseline", "%s", reason)
			}
		}
		if t := k.Thresholds; t != nil {
			checkThresholds(field+".thresholds", k.Direction, *t, bad)
		}
	}
	checkWeights(c, bad)
	return errors.Join(errs...)
}

// orderProblem says what is wrong with the order of k's baseline and
// target, in the words of the target when blameTarget, else of the
// baseline; "" when nothing is.
func orderProblem(k KPI, blameTarget bool) string {
	ok := map[Direction]bool{
		HigherIsBetter:  k.Baseline < k.Target,
		LowerIsBetter:   k.Baseline > k.Target,
		ClosestToTarget: k.Baseline != k.Target,
	}[k.Direction]
	if ok {
		return ""
	}
	if blameTarget {
		return map[Direction]string{
			HigherIsBetter:  fmt.Sprintf("must be above the baseline (%v) when higher is better", k.Baseline),
			LowerIsBetter:   fmt.Sprintf("must be below the baseline (%v) when lower is better", k.Baseline),
			ClosestToTarget: fmt.Sprintf("must differ from the baseline (%v): their distance is where the score reaches 0", k.Baseline),
		}[k.Direction]
	}
	return map[Direction]string{
		HigherIsBetter:  fmt.Sprintf("must be below the target (%v) when higher is better", k.Target),
		LowerIsBetter:   fmt.Sprintf("must be above the target (%v) when lower is better", k.Target),
		ClosestToTarget: fmt.Sprintf("must differ from the target (%v): its distance is where the score reaches 0", k.Target),
	}[k.Direction]
}

// checkWeights refuses weights that leave a score with nothing to weigh:
// perspectives that all weigh 0, or a perspective that counts whose KPIs
// all weigh 0. Negative weights are refused one by one elsewhere.
func checkWeights(c *Catalogue, bad func(string, string, ...any)) {
	total := 0.0
	for _, p := range c.Perspectives {
		total += max(p.Weight, 0)
	}
	if len(c.Perspectives) > 0 && total == 0 {
		bad("perspective_weights", "must not all be 0: the card's score is their weighted mean")
	}
	for _, p := range c.Perspectives {
		if !(p.Weight > 0) {
			continue
		}
		sum, n := 0.0, 0
		for _, k := range c.KPIs {
			if k.Perspective == p.ID {
				sum, n = sum+max(k.Weight, 0), n+1
			}
		}
		if n > 0 && sum == 0 {
			bad("perspective_weights."+string(p.ID), "is %v but every KPI of the perspective weighs 0: give one of them a weight, or the perspective 0", p.Weight)
		}
	}
}

func checkThresholds(field string, d Direction, t Thresholds, bad func(string, string, ...any)) {
	switch {
	case !finite(t.Green) || !finite(t.Amber):
		bad(field, "green and amber must be finite numbers")
	case d == HigherIsBetter && t.Green < t.Amber:
		bad(field, "green (%v) must be at least amber (%v) when higher is better", t.Green, t.Amber)
	case d == LowerIsBetter && t.Green > t.Amber:
		bad(field, "green (%v) must be at most amber (%v) when lower is better", t.Green, t.Amber)
	case d == ClosestToTarget && (t.Green < 0 || t.Green > t.Amber):
		bad(field, "green (%v) and amber (%v) are distances from the target: 0 ≤ green ≤ amber", t.Green, t.Amber)
	}
}

// clone copies c deeply enough that changing the copy's KPIs, perspectives
// or thresholds leaves c alone.
func (c *Catalogue) clone() *Catalogue {
	out := &Catalogue{Perspectives: slices.Clone(c.Perspectives), KPIs: slices.Clone(c.KPIs)}
	for i, k := range out.KPIs {
		if k.Thresholds != nil {
			t := *k.Thresholds
			out.KPIs[i].Thresholds = &t
		}
	}
	return out
}

func validID(id string) bool {
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for _, c := range []byte(id) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
