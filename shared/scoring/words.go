package scoring

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// The scorecard in words, as people read it on the page (GET /scorecard
// as HTML) and in the weekly report: every status says itself in words,
// so colour is never the only sign of it.

// PeriodName names a period for a heading: "week 2026-W48".
func PeriodName(p period.Period) string { return string(p.Kind()) + " " + p.ID() }

// SpanWords says which days a period covers.
func SpanWords(p period.Period) string {
	days := p.Days()
	first, last := days[0].Start().In(p.Location()), days[len(days)-1].Start().In(p.Location())
	if len(days) == 1 {
		return first.Format("Monday 2 January 2006")
	}
	return first.Format("2 January 2006") + " to " + last.Format("2 January 2006")
}

// ScoreWords says a score and its status: "72.5 of 100, amber".
func ScoreWords(score *float64, s scorecard.Status) string {
	if score == nil {
		return "no data"
	}
	return strconv.FormatFloat(*score, 'f', -1, 64) + " of 100, " + string(s)
}

// KPIStatusWords says a KPI's status in words, so colour is never the
// only sign of it.
func KPIStatusWords(s scorecard.Status, score *float64) string {
	words := map[scorecard.Status]string{
		scorecard.Green: "Green: on target", scorecard.Amber: "Amber: getting there", scorecard.Red: "Red: off target",
	}[s]
	if words == "" {
		return "No data this period"
	}
	return words + " (score " + strconv.FormatFloat(*score, 'f', -1, 64) + ")"
}

// TrendWords compares a KPI with the previous period in words.
func TrendWords(k scorecard.KPIScore, kind period.Kind, currency string) string {
	prev := "the previous " + string(kind)
	switch {
	case k.Previous == nil:
		return "No data in " + prev + " to compare."
	case k.Trend == scorecard.NoTrend:
		return "The previous " + string(kind) + ": " + ValueWords(k.Previous, k.Unit, currency) + "."
	}
	word := map[scorecard.Trend]string{scorecard.Better: "Better than", scorecard.Worse: "Worse than", scorecard.Flat: "Level with"}[k.Trend]
	return word + " " + prev + " (" + ValueWords(k.Previous, k.Unit, currency) + ")."
}

// ValueWords writes a value in its unit: "1,234.56 EUR", "12.5%", "3 h 5 min".
func ValueWords(v *float64, u scorecard.Unit, currency string) string {
	if v == nil {
		return "no data"
	}
	x := *v
	switch u {
	case scorecard.UnitMinorUnits:
		s := grouped(x / 100)
		if currency != "" {
			s += " " + currency
		}
		return s
	case scorecard.UnitPercent:
		return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) + "%"
	case scorecard.UnitSeconds:
		return durationWords(x)
	case scorecard.UnitScale1To7:
		return strconv.FormatFloat(x, 'f', 2, 64) + " of 7"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// grouped writes an amount with two decimals and thousands separated.
func grouped(x float64) string {
	s := strconv.FormatFloat(math.Abs(x), 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if x < 0 {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}

// durationWords writes seconds as a person reads a wait.
func durationWords(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.0f min", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}
