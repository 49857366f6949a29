package scorecard_test

import (
	"os"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/shared/scorecard"
)

// TestReferencePage keeps docs/kpis.md in step with the default catalogue:
// every KPI has a section under its perspective and a row in the summary
// table with its perspective and direction, and the page describes no KPI
// the catalogue lacks.
func TestReferencePage(t *testing.T) {
	page, err := os.ReadFile("../../docs/kpis.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(page)
	cat := scorecard.DefaultCatalogue()
	names := map[scorecard.PerspectiveID]string{}
	for _, p := range cat.Perspectives {
		names[p.ID] = p.Name
	}
	for _, k := range cat.KPIs {
		heading := "#### " + k.Name + " — `" + k.ID + "`"
		at := strings.Index(doc, heading)
		if at < 0 {
			t.Errorf("docs/kpis.md has no heading %q", heading)
			continue
		}
		// The nearest perspective heading above the KPI's is its own.
		section := doc[:at]
		section = section[strings.LastIndex(section, "\n### ")+5:]
		if got, _, _ := strings.Cut(section, "\n"); got != names[k.Perspective] {
			t.Errorf("%s is described under %q, but belongs to %q", k.ID, got, names[k.Perspective])
		}
		row := "| `" + k.ID + "` | " + names[k.Perspective] + " | "
		if !strings.Contains(doc, row) {
			t.Errorf("docs/kpis.md has no table row beginning %q", row)
		}
		direction := strings.ReplaceAll(string(k.Direction), "_", " ")
		if line := lineWith(doc, row); !strings.Contains(line, direction) {
			t.Errorf("%s's table row does not say %q: %s", k.ID, direction, line)
		}
	}
	if got, want := strings.Count(doc, "\n#### "), len(cat.KPIs); got != want {
		t.Errorf("docs/kpis.md describes %d KPIs, the catalogue has %d", got, want)
	}
}

func lineWith(doc, s string) string {
	i := strings.Index(doc, s)
	if i < 0 {
		return ""
	}
	line, _, _ := strings.Cut(doc[i:], "\n")
	return line
}
