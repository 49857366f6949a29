package scorecardmail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scorecardmail"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// A week with conversions and one without data: the report says each
// KPI's status, value, target and trend in words in both parts, escapes
// the manager's name, links the stored week's page, and has no image.
func TestWeeklyReport(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	week, err := period.Parse("2026-W13", berlin)
	if err != nil {
		t.Fatal(err)
	}
	var cur, prev scorecard.Rollup
	_ = cur.Add(scorecard.LeadsCaptured, 10)
	_ = cur.Add(scorecard.LeadsConverted, 3)
	_ = prev.Add(scorecard.LeadsCaptured, 10)
	_ = prev.Add(scorecard.LeadsConverted, 1)
	doc := scorecard.DefaultCatalogue().Score(scorecard.Input{Period: week, Current: &cur, Previous: &prev, ComputedAt: week.End()})
	m, err := scorecardmail.Render(scorecardmail.Report{Card: scoring.Card{Document: doc}, Stored: true,
		Name: "<Max>", Email: "max@example.com", AppURL: "https://crm.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Subject, "Scorecard for week 2026-W13: ") || m.To[0] != "max@example.com" {
		t.Errorf("subject %q to %v", m.Subject, m.To)
	}
	for _, want := range []string{"23 March 2026 to 29 March 2026", "Lead conversion rate", "30%", "Better than the previous week (10%)",
		"No data this period", "target", "Stored when the week ended",
		"https://crm.example.com/scorecard?at=2026-W13&period=week&snapshot=true"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
		if !strings.Contains(m.HTML, strings.ReplaceAll(want, "&", "&amp;")) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if !strings.Contains(m.HTML, "&lt;Max&gt;") || strings.Contains(m.HTML, "<Max>") {
		t.Errorf("the name is not escaped in the HTML")
	}
	if strings.Contains(m.HTML, "<img") || strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, "ZgotmplZ") {
		t.Errorf("the HTML has an image, a script or a value html/template refused")
	}
}
