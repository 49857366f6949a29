package rolluptest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
)

// Stream returns n random events made from the samples: every detail type
// in the catalogue, the counted ones most often, with instants spread over
// days from start (across a month's end when start is near one), a few
// teams, customers, sources and follow-up tasks shared between events so
// that breakdowns and first-of rules are exercised, and about one event
// in ten a redelivery of an earlier one (the same envelope again).
func Stream(t testing.TB, rng *rand.Rand, n int, start time.Time, days int) []events.Envelope {
	t.Helper()
	g := gen{t: t, rng: rng, start: start, span: time.Duration(days) * 24 * time.Hour, samples: map[string]events.Envelope{}}
	for _, d := range events.Catalogue() {
		g.samples[d.DetailType()] = Sample(t, d.DetailType())
	}
	makers := []struct {
		weight int
		make   func() events.Envelope
	}{
		{6, g.leadCaptured}, {4, g.leadUpdated}, {3, g.leadConverted},
		{3, g.followupCompleted}, {3, g.followupOverdue},
		{5, g.ticketOpened}, {4, g.ticketReplied}, {2, g.ticketSolved}, {3, g.ticketClosed}, {2, g.ticketSLABreached},
		{3, g.surveyInvited}, {3, g.surveyResponded},
		{4, g.uncounted},
	}
	total := 0
	for _, m := range makers {
		total += m.weight
	}
	out := make([]events.Envelope, 0, n)
	for len(out) < n {
		if len(out) > 0 && rng.IntN(10) == 0 {
			out = append(out, out[rng.IntN(len(out))])
			continue
		}
		pick := rng.IntN(total)
		for _, m := range makers {
			if pick < m.weight {
				out = append(out, m.make())
				break
			}
			pick -= m.weight
		}
	}
	return out
}

// gen makes random variants of the samples.
type gen struct {
	t       testing.TB
	rng     *rand.Rand
	start   time.Time
	span    time.Duration
	samples map[string]events.Envelope
	n       int
}

func (g *gen) variant(detailType string, changes map[string]any) events.Envelope {
	g.n++
	id := fmt.Sprintf("01RND%021d", g.n)
	changes["occurred_at"] = g.instant()
	return Edit(g.t, g.samples[detailType], id, changes)
}

// instant returns a random instant in the stream's span, to the
// millisecond.
func (g *gen) instant() time.Time {
	return g.start.Add(time.Duration(g.rng.Int64N(int64(g.span))).Truncate(time.Millisecond)).UTC()
}

func (g *gen) pick(options ...string) string { return options[g.rng.IntN(len(options))] }

func (g *gen) team() string { return g.pick("support", "support", "sales", "") }

func (g *gen) customer() string { return fmt.Sprintf("01CUSTOMER%016d", g.rng.IntN(12)) }

func (g *gen) seconds(max int64) int64 { return g.rng.Int64N(max) }

func (g *gen) status() string { return g.pick("met", "met", "breached") }

func (g *gen) leadCaptured() events.Envelope {
	return g.variant(events.LeadCapturedType, map[string]any{
		"captured_at":        g.instant(),
		"attribution.source": g.pick("website", "website", "referral", "newsletter", "trade fair", "ads"),
	})
}

func (g *gen) leadUpdated() events.Envelope {
	captured := g.instant()
	changes := []string{"status"}
	if g.rng.IntN(3) > 0 {
		changes = append(changes, "first_contact")
	}
	return g.variant(events.LeadUpdatedType, map[string]any{
		"changes":          changes,
		"captured_at":      captured,
		"first_contact_at": captured.Add(time.Duration(g.seconds(3*86400)) * time.Second),
	})
}

func (g *gen) leadConverted() events.Envelope {
	return g.variant(events.LeadConvertedType, map[string]any{
		"customer_id":         g.customer(),
		"converted_at":        g.instant(),
		"deal_value.minor":    g.rng.Int64N(5) * 25_000,
		"repeat_customer":     g.rng.IntN(3) == 0,
		"deal_value.currency": "EUR",
	})
}

func (g *gen) followup() map[string]any {
	return map[string]any{
		"followup_id": fmt.Sprintf("01TASK%020d", g.rng.IntN(40)),
		"due_at":      g.instant(),
	}
}

func (g *gen) followupCompleted() events.Envelope {
	f := g.followup()
	f["on_time"] = g.rng.IntN(4) > 0
	return g.variant(events.FollowupCompletedType, f)
}

func (g *gen) followupOverdue() events.Envelope {
	return g.variant(events.FollowupOverdueType, g.followup())
}

func (g *gen) ticket(changes map[string]any) map[string]any {
	changes["team"] = g.team()
	changes["kind"] = g.pick("request", "question", "complaint", "incident")
	if changes["team"] == "" {
		changes["team"] = nil
	}
	return changes
}

func (g *gen) ticketOpened() events.Envelope {
	return g.variant(events.TicketOpenedType, g.ticket(map[string]any{"opened_at": g.instant()}))
}

func (g *gen) ticketReplied() events.Envelope {
	return g.variant(events.TicketRepliedType, g.ticket(map[string]any{
		"first_response":         g.rng.IntN(3) > 0,
		"first_response_sla":     g.status(),
		"first_response_seconds": g.seconds(86400),
		"replied_at":             g.instant(),
	}))
}

func (g *gen) ticketSolved() events.Envelope {
	return g.variant(events.TicketSolvedType, g.ticket(map[string]any{
		"first_response_stopped": g.rng.IntN(2) == 0,
		"first_response.status":  g.status(),
		"solved_at":              g.instant(),
	}))
}

func (g *gen) ticketClosed() events.Envelope {
	solved := g.instant()
	return g.variant(events.TicketClosedType, g.ticket(map[string]any{
		"first_response_stopped": g.rng.IntN(4) == 0,
		"first_response.status":  g.status(),
		"resolution.status":      g.status(),
		"solved_at":              solved,
		"closed_at":              solved.Add(time.Duration(g.seconds(4*86400)) * time.Second),
		"resolution_seconds":     g.seconds(7 * 86400),
	}))
}

func (g *gen) ticketSLABreached() events.Envelope {
	return g.variant(events.TicketSLABreachedType, g.ticket(map[string]any{"clock": g.pick("first_response", "resolution")}))
}

func (g *gen) survey(changes map[string]any) map[string]any {
	changes["team"] = g.team()
	if changes["team"] == "" {
		changes["team"] = nil
	}
	return changes
}

func (g *gen) surveyInvited() events.Envelope {
	return g.variant(events.SurveyInvitedType, g.survey(map[string]any{"sent_at": g.instant()}))
}

func (g *gen) surveyResponded() events.Envelope {
	answers := []map[string]any{{"question": "nps", "score": g.rng.IntN(11)}}
	if g.rng.IntN(2) == 0 {
		answers = []map[string]any{{"question": "csat", "score": 1 + g.rng.IntN(5)}}
		if g.rng.IntN(2) == 0 {
			answers = append(answers, map[string]any{"question": "ces", "score": 1 + g.rng.IntN(7)})
		}
	}
	return g.variant(events.SurveyRespondedType, g.survey(map[string]any{"answers": answers, "answered_at": g.instant()}))
}

// uncounted returns an event of a type that feeds no counter.
func (g *gen) uncounted() events.Envelope {
	return g.variant(g.pick(events.TicketUpdatedType, events.TicketReopenedType, events.TicketSLAWarningType,
		events.FollowupCreatedType, events.FollowupDueType, events.FollowupCancelledType,
		events.SurveyOptedOutType, events.SurveyDueType, events.StaffDigestDueType), map[string]any{})
}
