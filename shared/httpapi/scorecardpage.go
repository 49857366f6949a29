package httpapi

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// The scorecard page for people: a tile per KPI, grouped by perspective,
// each saying its status, value, target and trend in words (the colour
// only repeats the words), with an inline SVG of its last periods. It has
// no script and loads nothing, so it reads the same with JavaScript off.
var scorecardTemplate = template.Must(template.New("scorecard").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:1rem/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.6rem;margin:0}h2{font-size:1.25rem;margin:2rem 0 .5rem}
.tiles{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.75rem}
.tile{border:2px solid #767676;border-left-width:.6rem;border-radius:.4rem;padding:.6rem .8rem;background:#fff}
.tile h3{font-size:1rem;margin:0 0 .25rem}.tile p{margin:.15rem 0}
.status{font-weight:700}
.green{border-color:#1b7f3b;background:#eef8f0}.amber{border-color:#a15c00;background:#fff6e5}.red{border-color:#b3261e;background:#fdeeee}
.value{font-size:1.3rem;font-weight:700}
svg{display:block;margin-top:.3rem}
nav a{margin-right:1rem}
</style></head>
<body>
<header><h1>{{.Title}}</h1>
<p>{{.Span}} ({{.Zone}}). Overall: <span class="status">{{.Score}}</span>.</p>
<nav><a href="{{.PreviousURL}}" rel="prev">← {{.PreviousLabel}}</a><a href="{{.NextURL}}" rel="next">{{.NextLabel}} →</a></nav></header>
<main>
{{range .Perspectives}}<section aria-labelledby="p-{{.ID}}">
<h2 id="p-{{.ID}}">{{.Name}}: <span class="status">{{.Score}}</span></h2>
<ul class="tiles">
{{range .KPIs}}<li class="tile {{.Class}}">
<h3>{{.Name}}</h3>
<p class="status">{{.Status}}</p>
<p><span class="value">{{.Value}}</span> <span>target {{.Target}}</span></p>
<p>{{.Trend}}</p>
{{with .Spark}}<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Label}}"><title>{{.Label}}</title>
{{range .Lines}}<polyline points="{{.}}" fill="none" stroke="#1a1a1a" stroke-width="1.5"/>{{end}}
{{range .Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="2" fill="#1a1a1a"/>{{end}}</svg>{{end}}
</li>
{{end}}</ul>
</section>
{{end}}</main>
<footer><p>Computed {{.Computed}}. Scores run from 0 (baseline) to 100 (target): green from 80, amber from 50; a KPI with no data counts in no score.</p></footer>
</body></html>
`))

// scorecardPageData is what the template shows, every value already in
// words.
type scorecardPageData struct {
	Title, Span, Zone, Score, Computed string
	PreviousURL, NextURL               string
	PreviousLabel, NextLabel           string
	Perspectives                       []perspectiveTile
}

type perspectiveTile struct {
	ID, Name, Score string
	KPIs            []kpiTile
}

type kpiTile struct {
	Name, Class, Status, Value, Target, Trend string
	Spark                                     *sparkline
}

// scorecardPage renders the card as a page.
func scorecardPage(c scoring.Card) string {
	kind := c.Period.Kind
	loc, err := time.LoadLocation(c.Period.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	p, err := period.Parse(c.Period.ID, loc)
	if err != nil {
		panic("scorecard page: the card's own period does not parse: " + err.Error())
	}
	who := "the whole organisation"
	if c.Team != nil {
		who = "team " + *c.Team
	}
	d := scorecardPageData{
		Title:         "Scorecard for " + who + ": " + periodName(p),
		Span:          spanWords(p),
		Zone:          c.Period.TimeZone,
		Score:         scoreWords(c.Score, c.Status),
		Computed:      c.ComputedAt.In(loc).Format("2 January 2006 15:04 MST"),
		PreviousURL:   scorecardURL(p.Previous(), c.Team),
		NextURL:       scorecardURL(p.Next(), c.Team),
		PreviousLabel: "Previous " + string(kind),
		NextLabel:     "Next " + string(kind),
	}
	for _, ps := range c.Perspectives {
		pt := perspectiveTile{ID: string(ps.ID), Name: ps.Name, Score: scoreWords(ps.Score, ps.Status)}
		for _, k := range ps.KPIs {
			pt.KPIs = append(pt.KPIs, kpiTile{
				Name:   k.Name,
				Class:  string(k.Status),
				Status: kpiStatusWords(k.Status, k.Score),
				Value:  valueWords(k.Value, k.Unit, c.Currency),
				Target: valueWords(&k.Target, k.Unit, c.Currency),
				Trend:  trendWords(k, kind, c.Currency),
				Spark:  sparkOf(k, c.History, c.Currency),
			})
		}
		d.Perspectives = append(d.Perspectives, pt)
	}
	var b strings.Builder
	if err := scorecardTemplate.Execute(&b, d); err != nil {
		panic("render scorecard: " + err.Error()) // the template and its data are fixed
	}
	return b.String()
}

// scorecardURL links the page of another period for the same team.
func scorecardURL(p period.Period, team *string) string {
	u := "?period=" + string(p.Kind()) + "&at=" + p.ID()
	if team != nil {
		u += "&team=" + *team
	}
	return u
}

// periodName names a period for a heading: "week 2026-W48".
func periodName(p period.Period) string { return scoring.PeriodName(p) }

// The words of the page are the scorecard's words, which the weekly
// report mail (shared/scorecardmail) uses too.
var (
	spanWords      = scoring.SpanWords
	scoreWords     = scoring.ScoreWords
	kpiStatusWords = scoring.KPIStatusWords
	trendWords     = scoring.TrendWords
	valueWords     = scoring.ValueWords
)

// sparkline is a KPI's values over the card's history as SVG geometry:
// a polyline per run of periods with data, a dot on each.
type sparkline struct {
	Width, Height int
	Label         string
	Lines         []string
	Dots          []struct{ X, Y string }
}

const (
	sparkWidth  = 160
	sparkHeight = 36
	sparkPad    = 3
)

// sparkOf draws k's history; nil when there is none.
func sparkOf(k scorecard.KPIScore, history []scoring.Point, currency string) *sparkline {
	if len(history) == 0 {
		return nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	words := make([]string, len(history))
	for i, pt := range history {
		v := pt.Values[k.ID]
		words[i] = pt.Period + " " + valueWords(v, k.Unit, currency)
		if v != nil {
			lo, hi = math.Min(lo, *v), math.Max(hi, *v)
		}
	}
	s := &sparkline{Width: sparkWidth, Height: sparkHeight,
		Label: k.Name + ", last " + strconv.Itoa(len(history)) + " periods: " + strings.Join(words, "; ")}
	step := float64(sparkWidth-2*sparkPad) / float64(max(len(history)-1, 1))
	var run []string
	for i, pt := range history {
		v := pt.Values[k.ID]
		if v == nil {
			s.addRun(run)
			run = nil
			continue
		}
		y := float64(sparkHeight) / 2
		if hi > lo {
			y = sparkPad + (hi-*v)/(hi-lo)*float64(sparkHeight-2*sparkPad)
		}
		x, yy := coord(sparkPad+float64(i)*step), coord(y)
		run = append(run, x+","+yy)
		s.Dots = append(s.Dots, struct{ X, Y string }{x, yy})
	}
	s.addRun(run)
	return s
}

func (s *sparkline) addRun(run []string) {
	if len(run) > 1 {
		s.Lines = append(s.Lines, strings.Join(run, " "))
	}
}

func coord(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
