// Package scorecardmail renders the weekly scorecard report: last week's
// balanced scorecard, mailed to every manager on Monday morning, with the
// content of the scorecard page (GET /scorecard as HTML) — a tile per KPI
// by perspective, each with its status in words, value, target and trend
// — as HTML and plain text, with no images and no script.
package scorecardmail

import (
	"embed"
	"net/url"
	"time"

	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

//go:embed templates
var templateFiles embed.FS

// mails holds the one kind, "weekly".
var mails = email.MustParseFS(templateFiles, "templates")

// Report is one manager's weekly report.
type Report struct {
	// Card is the organisation's card of the week.
	Card scoring.Card
	// Stored says the card is the snapshot taken when the week ended,
	// not one computed for the mail.
	Stored bool
	// Name and Email are the manager's.
	Name, Email string
	// AppURL is where Rapport's pages are; the mail links the week's page.
	AppURL string
}

// data is what the templates show, every value in words.
type data struct {
	Name, Week, Span, Zone, Score, Computed, Link string
	Stored                                        bool
	Perspectives                                  []perspective
}

type perspective struct {
	Name, Score string
	KPIs        []kpi
}

type kpi struct {
	Name, Status, Value, Target, Trend string
	// Border and Background colour the tile by status; the words say it.
	Border, Background string
}

// colours by status, the page's.
var colours = map[scorecard.Status][2]string{
	scorecard.Green: {"#1b7f3b", "#eef8f0"},
	scorecard.Amber: {"#a15c00", "#fff6e5"},
	scorecard.Red:   {"#b3261e", "#fdeeee"},
}

// Render renders r as a mail to r.Email, in the week's own thread.
func Render(r Report) (email.Message, error) {
	c := r.Card
	loc, err := time.LoadLocation(c.Period.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	p, err := period.Parse(c.Period.ID, loc)
	if err != nil {
		return email.Message{}, err
	}
	q := url.Values{"period": {string(p.Kind())}, "at": {p.ID()}}
	if r.Stored {
		q.Set("snapshot", "true")
	}
	d := data{
		Name: r.Name, Week: p.ID(), Span: scoring.SpanWords(p), Zone: c.Period.TimeZone,
		Score:    scoring.ScoreWords(c.Score, c.Status),
		Computed: c.ComputedAt.In(loc).Format("2 January 2006 15:04 MST"),
		Link:     r.AppURL + "/scorecard?" + q.Encode(),
		Stored:   r.Stored,
	}
	for _, ps := range c.Perspectives {
		pd := perspective{Name: ps.Name, Score: scoring.ScoreWords(ps.Score, ps.Status)}
		for _, k := range ps.KPIs {
			col, ok := colours[k.Status]
			if !ok {
				col = [2]string{"#767676", "#ffffff"}
			}
			pd.KPIs = append(pd.KPIs, kpi{
				Name: k.Name, Status: scoring.KPIStatusWords(k.Status, k.Score),
				Value:  scoring.ValueWords(k.Value, k.Unit, c.Currency),
				Target: scoring.ValueWords(&k.Target, k.Unit, c.Currency),
				Trend:  scoring.TrendWords(k, p.Kind(), c.Currency),
				Border: col[0], Background: col[1],
			})
		}
		d.Perspectives = append(d.Perspectives, pd)
	}
	m, err := mails.Render("weekly", d)
	m.To, m.Thread = []string{r.Email}, "scorecard/"+p.ID()
	return m, err
}
