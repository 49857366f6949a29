package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// config answers the scorecard config in force: every KPI's target,
// baseline, thresholds and weight, each perspective's weight, and the
// overrides they come from, with the version as ETag.
func (h *Scorecard) config(ctx context.Context, _ *Request) (Response, error) {
	s, err := h.Service.Settings(ctx)
	if err != nil {
		return Response{}, err
	}
	return configResponse(s), nil
}

// putConfig replaces the overrides with the body, if the config is still
// the version If-Match names ("0" before the first change). If-Match is
// required, so no change is made blind; the engine checks the whole
// catalogue that results before anything is saved.
func (h *Scorecard) putConfig(ctx context.Context, r *Request) (Response, error) {
	version, err := configIfMatch(r)
	if err != nil {
		return Response{}, err
	}
	var body overridesBody
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	doc, err := body.decode()
	if err != nil {
		return Response{}, err
	}
	o, err := doc.overrides()
	if err != nil {
		return Response{}, err
	}
	s, err := h.Service.SetConfig(ctx, o, version, r.Caller.Subject)
	if err != nil {
		return Response{}, err
	}
	return configResponse(s), nil
}

// configIfMatch reads the required If-Match; unlike a record's, the
// config's version may be 0, the catalogue as it ships.
func configIfMatch(r *Request) (int64, error) {
	h := strings.TrimSpace(r.Header("If-Match"))
	if h == "" {
		return 0, crm.Errorf(crm.EPRECONDITIONREQUIRED, `send If-Match with the ETag of the config you read ("0" before the first change)`)
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return 0, fieldError("If-Match", `must be the ETag of the config as read, such as "0" before the first change`)
	}
	return v, nil
}

func configResponse(s scoring.Settings) Response {
	return JSON(http.StatusOK, toConfigJSON(s), "ETag", etag(s.Version))
}

// configJSON is the config in force as the API shows it.
type configJSON struct {
	Version      int64                   `json:"version"`
	UpdatedAt    *time.Time              `json:"updated_at"`
	Perspectives []configPerspectiveJSON `json:"perspectives"`
	KPIs         []configKPIJSON         `json:"kpis"`
	// Overrides is what PUT takes: read, change, send back.
	Overrides overridesJSON `json:"overrides"`
}

type configPerspectiveJSON struct {
	ID     scorecard.PerspectiveID `json:"id"`
	Name   string                  `json:"name"`
	Weight float64                 `json:"weight"`
}

type configKPIJSON struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name"`
	Perspective scorecard.PerspectiveID `json:"perspective"`
	Unit        scorecard.Unit          `json:"unit"`
	Direction   scorecard.Direction     `json:"direction"`
	Target      float64                 `json:"target"`
	Baseline    float64                 `json:"baseline"`
	Thresholds  *scorecard.Thresholds   `json:"thresholds"`
	Weight      float64                 `json:"weight"`
	// PerDay says target, baseline and thresholds are per day of the
	// period scored (revenue).
	PerDay bool `json:"per_day"`
}

// overridesJSON is the overrides document GET shows. A key left out, or
// null, keeps the catalogue's value.
type overridesJSON struct {
	KPIs               map[string]kpiOverrideJSON `json:"kpis"`
	PerspectiveWeights map[string]*float64        `json:"perspective_weights"`
}

// overridesBody is the document PUT takes: overridesJSON, with each KPI's
// changes decoded on their own so that an error names the KPI
// (kpis.nps.target), which encoding/json leaves out for map values.
type overridesBody struct {
	KPIs               map[string]json.RawMessage `json:"kpis"`
	PerspectiveWeights map[string]*float64        `json:"perspective_weights"`
}

// decode reads the body's KPI changes into an overridesJSON.
func (b overridesBody) decode() (overridesJSON, error) {
	out := overridesJSON{KPIs: map[string]kpiOverrideJSON{}, PerspectiveWeights: b.PerspectiveWeights}
	for _, id := range slices.Sorted(maps.Keys(b.KPIs)) {
		var ko kpiOverrideJSON
		if raw := b.KPIs[id]; string(raw) != "null" {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ko); err != nil {
				return overridesJSON{}, prefixFields("kpis."+id+".", jsonError(err))
			}
		}
		out.KPIs[id] = ko
	}
	return out, nil
}

// prefixFields puts prefix before each field err names; "body" becomes
// the prefix's own field.
func prefixFields(prefix string, err error) error {
	var e *crm.Error
	if !errors.As(err, &e) {
		return err
	}
	out := &crm.Error{Code: e.Code}
	for _, f := range e.Fields {
		if f.Field == "body" {
			f.Field = strings.TrimSuffix(prefix, ".")
		} else {
			f.Field = prefix + f.Field
		}
		out.Fields = append(out.Fields, f)
		out.Message = "invalid " + f.Field
	}
	return out
}

type kpiOverrideJSON struct {
	Target          *float64        `json:"target,omitempty"`
	Baseline        *float64        `json:"baseline,omitempty"`
	Thresholds      *thresholdsJSON `json:"thresholds,omitempty"`
	ClearThresholds bool            `json:"clear_thresholds,omitempty"`
	Weight          *float64        `json:"weight,omitempty"`
}

type thresholdsJSON struct {
	Green *float64 `json:"green"`
	Amber *float64 `json:"amber"`
}

func toConfigJSON(s scoring.Settings) configJSON {
	j := configJSON{Version: s.Version, Perspectives: []configPerspectiveJSON{}, KPIs: []configKPIJSON{},
		Overrides: overridesJSON{KPIs: map[string]kpiOverrideJSON{}, PerspectiveWeights: map[string]*float64{}}}
	if !s.UpdatedAt.IsZero() {
		j.UpdatedAt = &s.UpdatedAt
	}
	for _, p := range s.Catalogue.Perspectives {
		j.Perspectives = append(j.Perspectives, configPerspectiveJSON{ID: p.ID, Name: p.Name, Weight: p.Weight})
	}
	for _, k := range s.Catalogue.KPIs {
		j.KPIs = append(j.KPIs, configKPIJSON{ID: k.ID, Name: k.Name, Perspective: k.Perspective, Unit: k.Unit,
			Direction: k.Direction, Target: k.Target, Baseline: k.Baseline, Thresholds: k.Thresholds,
			Weight: k.Weight, PerDay: k.PerDay})
	}
	for id, o := range s.Overrides.KPIs {
		ko := kpiOverrideJSON{Target: o.Target, Baseline: o.Baseline, ClearThresholds: o.ClearThresholds, Weight: o.Weight}
		if t := o.Thresholds; t != nil {
			ko.Thresholds = &thresholdsJSON{Green: &t.Green, Amber: &t.Amber}
		}
		j.Overrides.KPIs[id] = ko
	}
	for id, w := range s.Overrides.PerspectiveWeights {
		j.Overrides.PerspectiveWeights[string(id)] = &w
	}
	return j
}

// overrides converts the document for the engine, naming a threshold sent
// without both of its lines; the engine checks the rest.
func (b overridesJSON) overrides() (scorecard.Overrides, error) {
	var v crm.Invalid
	o := scorecard.Overrides{}
	if len(b.KPIs) > 0 {
		o.KPIs = map[string]scorecard.KPIOverride{}
	}
	for _, id := range slices.Sorted(maps.Keys(b.KPIs)) {
		ko := b.KPIs[id]
		out := scorecard.KPIOverride{Target: ko.Target, Baseline: ko.Baseline, ClearThresholds: ko.ClearThresholds, Weight: ko.Weight}
		if t := ko.Thresholds; t != nil {
			if t.Green == nil {
				v.Add("kpis."+id+".thresholds.green", "is required with thresholds")
			}
			if t.Amber == nil {
				v.Add("kpis."+id+".thresholds.amber", "is required with thresholds")
			}
			if t.Green != nil && t.Amber != nil {
				out.Thresholds = &scorecard.Thresholds{Green: *t.Green, Amber: *t.Amber}
			}
		}
		o.KPIs[id] = out
	}
	for id, w := range b.PerspectiveWeights {
		if w == nil {
			continue
		}
		if o.PerspectiveWeights == nil {
			o.PerspectiveWeights = map[scorecard.PerspectiveID]float64{}
		}
		o.PerspectiveWeights[scorecard.PerspectiveID(id)] = *w
	}
	return o, v.Err()
}
