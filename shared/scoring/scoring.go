// Package scoring serves scorecards: it reads the day rollups of a period,
// of the one before it and, for the page's sparklines, of the periods
// before those, and asks the engine (package scorecard) to score them. It
// is what GET /scorecard answers from; like the engine it knows nothing of
// HTTP or DynamoDB.
package scoring

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// Rollups reads the day rollups the rollup consumer keeps;
// dynamo.RollupStore implements it.
type Rollups interface {
	// Range returns scope's rollups of the days first to last, both
	// included, merged; empty when nothing was counted. EINVALID for a
	// range that is not days in order or is too long.
	Range(ctx context.Context, scope rollup.Scope, first, last period.Period) (*scorecard.Rollup, error)
}

// Service scores periods from their rollups.
type Service struct {
	Rollups Rollups
	// Catalogue is the KPIs and targets as they ship; nil is
	// scorecard.DefaultCatalogue.
	Catalogue *scorecard.Catalogue
	// Config keeps the organisation's overrides of Catalogue, read once
	// per card; nil scores against Catalogue as it is.
	Config ConfigStore
	// Zone is the organisation's time zone, in which periods are
	// reckoned; nil is UTC.
	Zone *time.Location
	// Now is the clock the default period and ComputedAt come from; nil
	// is time.Now.
	Now func() time.Time
}

// MaxHistory bounds the periods a card's history may hold: each costs one
// rollup read.
const MaxHistory = 12

// Query asks for one scorecard.
type Query struct {
	// Period is the period scored, in the organisation's zone.
	Period period.Period
	// Team is the team scored, or "" for the whole organisation.
	Team string
	// History is how many periods, ending with Period, to measure each
	// KPI over for a trend line; 0 or 1 asks for none beyond the card,
	// at most MaxHistory.
	History int
}

// Card is a scored period: the engine's document, the currency its money
// is in, and, when asked for, each KPI's value over the last periods.
type Card struct {
	scorecard.Document
	// Currency is the ISO 4217 code of every money value on the card; ""
	// when the period counted no money.
	Currency string
	// History holds the periods of Query.History, oldest first, the last
	// being the card's own; nil when none was asked for.
	History []Point
}

// Point is the KPIs' values in one period of a card's history.
type Point struct {
	Period string
	// Values maps a KPI ID to its value; nil where the period has no data.
	Values map[string]*float64
}

// Current returns the period of kind that holds the present instant, in the
// organisation's zone: the period a scorecard shows by default.
func (s *Service) Current(kind period.Kind) period.Period {
	return period.Containing(s.now(), kind, s.Zone)
}

// Card scores q.Period for q.Team against the previous period, with the
// targets in force (one GetItem of the config). It reads one rollup range
// per period — the period and the one before it, or the q.History periods
// ending with it when that is more — each a query per month it touches,
// however many events the periods counted. EINVALID for a team name no
// team has; errors of Rollups and of the ConfigStore pass through.
func (s *Service) Card(ctx context.Context, q Query) (Card, error) {
	if t, ok := CleanTeam(q.Team); !ok || t != q.Team {
		return Card{}, &crm.Error{Code: crm.EINVALID, Message: "invalid team",
			Fields: []crm.FieldError{{Field: "team", Reason: TeamRule}}}
	}
	if q.Period.IsZero() {
		return Card{}, crm.Errorf(crm.EINVALID, "a scorecard needs a period")
	}
	settings, err := s.Settings(ctx)
	if err != nil {
		return Card{}, err
	}
	return s.card(ctx, settings, q)
}

// card scores q, already checked, against settings.
func (s *Service) card(ctx context.Context, settings Settings, q Query) (Card, error) {
	n := min(max(q.History, 2), MaxHistory)
	periods := make([]period.Period, n) // oldest first
	p := q.Period
	for i := n - 1; i >= 0; i-- {
		periods[i], p = p, p.Previous()
	}
	rollups, err := s.read(ctx, scope(q.Team), periods)
	if err != nil {
		return Card{}, err
	}
	cat := settings.Catalogue
	now := s.now()
	card := Card{
		Document: cat.Score(scorecard.Input{
			Period: q.Period, Team: q.Team, Current: rollups[n-1], Previous: rollups[n-2], ComputedAt: now,
		}),
		Currency: rollups[n-1].Currency,
	}
	if q.History > 1 {
		for i, hp := range periods {
			doc := cat.Score(scorecard.Input{Period: hp, Team: q.Team, Current: rollups[i], ComputedAt: now})
			card.History = append(card.History, pointOf(doc))
		}
	}
	return card, nil
}

// read reads the rollups of periods at once, in their order.
func (s *Service) read(ctx context.Context, sc rollup.Scope, periods []period.Period) ([]*scorecard.Rollup, error) {
	out := make([]*scorecard.Rollup, len(periods))
	errs := make([]error, len(periods))
	var wg sync.WaitGroup
	for i, p := range periods {
		wg.Go(func() {
			days := p.Days()
			out[i], errs[i] = s.Rollups.Range(ctx, sc, days[0], days[len(days)-1])
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pointOf keeps the values of a scored document.
func pointOf(doc scorecard.Document) Point {
	pt := Point{Period: doc.Period.ID, Values: map[string]*float64{}}
	for _, ps := range doc.Perspectives {
		for _, k := range ps.KPIs {
			pt.Values[k.ID] = k.Value
		}
	}
	return pt
}

// maxTeam is the longest team name, as staff profiles allow it
// (staff.MaxTeam).
const maxTeam = 64

// teamName is the form of a team name in staff profiles.
var teamName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// TeamRule says in words what CleanTeam accepts.
const TeamRule = "must be a team name: up to 64 lower-case letters, digits, - and _, such as sales-emea"

// CleanTeam lower-cases a team name as staff profiles store it and reports
// whether it is one; "" (the whole organisation) is.
func CleanTeam(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	return s, s == "" || (len(s) <= maxTeam && teamName.MatchString(s))
}

func scope(team string) rollup.Scope {
	if team == "" {
		return rollup.Org
	}
	return rollup.Team(team)
}

func (s *Service) catalogue() *scorecard.Catalogue {
	if s.Catalogue != nil {
		return s.Catalogue
	}
	return scorecard.DefaultCatalogue()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
