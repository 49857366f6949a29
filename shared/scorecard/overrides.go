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
		if err := out.Validate(); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, errors.Join(errs...)
}

// Validate checks that every KPI can be scored: unique IDs, a known
// perspective and direction, finite numbers, a baseline on the right side
// of the target, thresholds in the right order and non-negative weights.
// It returns one *FieldError per problem, joined.
func (c *Catalogue) Validate() error {
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
		switch k.Direction {
		case HigherIsBetter:
			if k.Baseline >= k.Target {
				bad(field+".baseline", "must be below the target (%v) when higher is better", k.Target)
			}
		case LowerIsBetter:
			if k.Baseline <= k.Target {
				bad(field+".baseline", "must be above the target (%v) when lower is better", k.Target)
			}
		case ClosestToTarget:
			if k.Baseline == k.Target {
				bad(field+".baseline", "must differ from the target (%v): its distance is where the score reaches 0", k.Target)
			}
		default:
			bad(field+".direction", "%q is not higher_is_better, lower_is_better or closest_to_target", k.Direction)
		}
		if t := k.Thresholds; t != nil {
			checkThresholds(field+".thresholds", k.Direction, *t, bad)
		}
	}
	return errors.Join(errs...)
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
