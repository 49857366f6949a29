// Package rollup says what each Rapport event adds to the day rollups the
// scorecard is computed from: for one event, the day (in the
// organisation's time zone) of the instant docs/kpis.md names for each
// counter, the scopes it counts in (the organisation, and the team the
// event names), and the increments — counters, sums in minor units,
// timing samples and breakdown entries. It is pure: the store applies the
// contributions exactly once per event, and the tests add them up in
// memory as the oracle the store must agree with.
package rollup

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// Scope is whose rollup a contribution adds to: the whole organisation
// (the zero Scope) or one team.
type Scope struct {
	// Team is the team's name, as staff profiles spell it ("support");
	// empty for the organisation.
	Team string
}

// Org is the organisation's scope.
var Org = Scope{}

// Team returns the scope of the named team.
func Team(name string) Scope { return Scope{Team: name} }

// IsOrg reports whether s is the whole organisation.
func (s Scope) IsOrg() bool { return s.Team == "" }

// String returns "org" or "team <name>", for messages.
func (s Scope) String() string {
	if s.IsOrg() {
		return "org"
	}
	return "team " + s.Team
}

// Contribution is what one event adds to one scope's rollup of one day.
type Contribution struct {
	// Scope is whose rollup it adds to.
	Scope Scope
	// Day is the day period, in the organisation's zone, of the instant
	// the counters are reckoned at.
	Day period.Period
	// Once, when set, names a thing that is counted at most once however
	// many events report it ("followup#<id>"): only the first event
	// carrying the key contributes; later ones add nothing. Every
	// contribution of an event carries the same key.
	Once string
	// Adds holds the increments: counters, sums in minor units of its
	// Currency, one-sample histograms per timing, breakdown entries.
	Adds scorecard.Rollup
}

// Contributions returns what env adds to the day rollups, with days
// reckoned in zone (nil is UTC): at most one contribution per scope and
// day, the organisation's first. Events that feed no counter contribute
// nothing. An event of a counted type whose detail cannot be read, or
// lacks an instant a counter needs, is an error: the producer is broken,
// and counting it anywhere would be a guess.
func Contributions(env events.Envelope, zone *time.Location) ([]Contribution, error) {
	feed, ok := feeds[env.DetailType]
	if !ok {
		return nil, nil
	}
	out, err := feed(env.Detail, zone)
	if err != nil {
		return nil, fmt.Errorf("rollup %s %s: %w", env.DetailType, env.ID, err)
	}
	return out, nil
}

// feeds maps each detail type that feeds the scorecard to what it adds.
var feeds = map[string]func(json.RawMessage, *time.Location) ([]Contribution, error){
	events.LeadCapturedType:      leadCaptured,
	events.LeadUpdatedType:       leadUpdated,
	events.LeadConvertedType:     leadConverted,
	events.PurchaseRecordedType:  purchaseRecorded,
	events.FollowupOverdueType:   followupOverdue,
	events.FollowupCompletedType: followupCompleted,
	events.TicketOpenedType:      ticketOpened,
	events.TicketRepliedType:     ticketReplied,
	events.TicketSolvedType:      ticketSolved,
	events.TicketClosedType:      ticketClosed,
	events.TicketSLABreachedType: ticketSLABreached,
	events.SurveyInvitedType:     surveyInvited,
	events.SurveyRespondedType:   surveyResponded,
}

// decode reads an event's detail into d.
func decode[D any](raw json.RawMessage) (D, error) {
	var d D
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, fmt.Errorf("read detail: %w", err)
	}
	return d, nil
}

// builder gathers an event's increments into one contribution per scope
// and day, in the order they are first touched.
type builder struct {
	zone   *time.Location
	scopes []Scope
	once   string
	out    []Contribution
}

// newBuilder returns a builder counting in the organisation and, when
// team is set, in that team.
func newBuilder(zone *time.Location, team string) *builder {
	b := &builder{zone: zone, scopes: []Scope{Org}}
	if team != "" {
		b.scopes = append(b.scopes, Team(team))
	}
	return b
}

// at applies add to the contribution of every scope on the day of t,
// which the event calls what; a zero t is an error.
func (b *builder) at(t time.Time, what string, add func(*scorecard.Rollup) error) error {
	if t.IsZero() {
		return fmt.Errorf("no %s", what)
	}
	day := period.Containing(t, period.Day, b.zone)
	for _, s := range b.scopes {
		if err := add(&b.find(s, day).Adds); err != nil {
			return err
		}
	}
	return nil
}

// count adds one to each counter on the day of t.
func (b *builder) count(t time.Time, what string, cs ...scorecard.Counter) error {
	return b.at(t, what, func(r *scorecard.Rollup) error {
		for _, c := range cs {
			if err := r.Add(c, 1); err != nil {
				return err
			}
		}
		return nil
	})
}

// find returns the contribution of scope s on day, adding it if new.
func (b *builder) find(s Scope, day period.Period) *Contribution {
	for i := range b.out {
		if b.out[i].Scope == s && b.out[i].Day.ID() == day.ID() {
			return &b.out[i]
		}
	}
	b.out = append(b.out, Contribution{Scope: s, Day: day, Once: b.once})
	return &b.out[len(b.out)-1]
}

// result returns the contributions, organisation first, each scope's in
// the order its days were touched.
func (b *builder) result() []Contribution {
	out := make([]Contribution, 0, len(b.out))
	for _, s := range b.scopes {
		for _, c := range b.out {
			if c.Scope == s {
				out = append(out, c)
			}
		}
	}
	return out
}
