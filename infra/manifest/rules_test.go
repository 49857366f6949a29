package manifest_test

import (
	"slices"
	"testing"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// Every event in the catalogue reaches the kpis function through exactly
// one rule, and the kpis rules match nothing else.
func TestEveryEventReachesTheRollups(t *testing.T) {
	for _, d := range events.Catalogue() {
		n := 0
		for _, r := range manifest.Rules {
			if r.Function == "kpis" && r.Source == d.EventSource() && slices.Contains(r.DetailTypes, d.DetailType()) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s (%s) reaches the kpis function through %d rules, want 1", d.DetailType(), d.EventSource(), n)
		}
	}
	known := map[string]string{}
	for _, d := range events.Catalogue() {
		known[d.DetailType()] = d.EventSource()
	}
	for _, r := range manifest.Rules {
		for _, dt := range r.DetailTypes {
			if src, ok := known[dt]; !ok || src != r.Source {
				t.Errorf("rule %s matches %s from %s, which the catalogue does not list", r.Name, dt, r.Source)
			}
		}
	}
	if f, ok := manifest.FunctionNamed("kpis"); !ok || f.Kind != manifest.Event || f.Table != manifest.ReadWrite || f.PublishEvents || f.SendEmail {
		t.Errorf("kpis function %+v: want an event function that reads and writes the table and nothing else", f)
	}
}
