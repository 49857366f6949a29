package rollup

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// What each event adds, as shared/scorecard/names.go and docs/kpis.md
// define it. Each counts for the organisation and, when it names one, for
// the team of the owner when it was written. Lead and follow-up events
// written before they carried a team count for the organisation only.

// leadCaptured: one lead, and one for its source and for its campaign,
// at captured_at.
func leadCaptured(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.LeadCaptured](raw)
	if err != nil {
		return nil, err
	}
	if d.Attribution.Source == "" {
		return nil, errors.New("no attribution.source")
	}
	b := newBuilder(zone, d.Team)
	err = b.at(d.CapturedAt, "captured_at", func(r *scorecard.Rollup) error {
		if err := r.Add(scorecard.LeadsCaptured, 1); err != nil {
			return err
		}
		if err := r.AddTo(scorecard.LeadsBySource, d.Attribution.Source, 1); err != nil {
			return err
		}
		return r.AddTo(scorecard.LeadsByCampaign, orNoKey(d.Attribution.UTMCampaign), 1)
	})
	return b.result(), err
}

// leadUpdated: the lead's response time, when this update is its first
// contact, at first_contact_at.
func leadUpdated(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.LeadUpdated](raw)
	if err != nil || !slices.Contains(d.Changes, "first_contact") {
		return nil, err
	}
	if d.FirstContactAt == nil || d.CapturedAt.IsZero() {
		return nil, errors.New("first_contact without first_contact_at and captured_at")
	}
	b := newBuilder(zone, d.Team)
	err = b.at(*d.FirstContactAt, "first_contact_at", func(r *scorecard.Rollup) error {
		r.Observe(scorecard.LeadResponseTime, d.FirstContactAt.Sub(d.CapturedAt))
		return nil
	})
	return b.result(), err
}

// leadConverted: one conversion and its deal value as revenue, each also
// to the lead's source and campaign, and a sale (a repeat one when
// the customer had bought before) with its amount to the customer, at
// converted_at. A deal of no value is still a sale and a conversion.
func leadConverted(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.LeadConverted](raw)
	if err != nil {
		return nil, err
	}
	if d.CustomerID == "" {
		return nil, errors.New("no customer_id")
	}
	amount := d.DealValue.Minor
	if amount != 0 && d.DealValue.Currency == "" {
		return nil, errors.New("deal_value without a currency")
	}
	b := newBuilder(zone, d.Team)
	err = b.at(d.ConvertedAt, "converted_at", func(r *scorecard.Rollup) error {
		if err := r.Add(scorecard.LeadsConverted, 1); err != nil {
			return err
		}
		if err := bySourceAndCampaign(r, d, amount); err != nil {
			return err
		}
		if err := r.AddTo(scorecard.SalesByCustomer, d.CustomerID, 1); err != nil {
			return err
		}
		if d.RepeatCustomer {
			if err := r.AddTo(scorecard.RepeatSalesByCustomer, d.CustomerID, 1); err != nil {
				return err
			}
		}
		if amount == 0 {
			return nil
		}
		if err := r.AddSum(scorecard.ConversionRevenue, amount, d.DealValue.Currency); err != nil {
			return err
		}
		return r.AddTo(scorecard.RevenueByCustomer, d.CustomerID, amount)
	})
	return b.result(), err
}

// bySourceAndCampaign adds a conversion, and its amount when it has one,
// to the lead's source and campaign.
func bySourceAndCampaign(r *scorecard.Rollup, d events.LeadConverted, amount int64) error {
	source, campaign := orNoKey(d.Source), orNoKey(d.UTMCampaign)
	adds := []struct {
		b   scorecard.Breakdown
		key string
		n   int64
	}{
		{scorecard.ConversionsBySource, source, 1},
		{scorecard.ConversionsByCampaign, campaign, 1},
		{scorecard.ConversionRevenueBySource, source, amount},
		{scorecard.ConversionRevenueByCampaign, campaign, amount},
	}
	for _, a := range adds {
		if a.n == 0 {
			continue
		}
		if err := r.AddTo(a.b, a.key, a.n); err != nil {
			return err
		}
	}
	return nil
}

// orNoKey returns key, or scorecard.NoKey when it is empty: breakdown keys
// are never empty.
func orNoKey(key string) string {
	if key == "" {
		return scorecard.NoKey
	}
	return key
}

// purchaseRecorded: one purchase, its amount as revenue, and a sale (a
// repeat one when the customer had bought before) with its amount to the
// customer, at purchased_at. A purchase of no value is still a sale.
func purchaseRecorded(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.PurchaseRecorded](raw)
	if err != nil {
		return nil, err
	}
	if d.CustomerID == "" {
		return nil, errors.New("no customer_id")
	}
	amount := d.Amount.Minor
	if amount != 0 && d.Amount.Currency == "" {
		return nil, errors.New("amount without a currency")
	}
	b := newBuilder(zone, "")
	err = b.at(d.PurchasedAt, "purchased_at", func(r *scorecard.Rollup) error {
		if err := r.Add(scorecard.Purchases, 1); err != nil {
			return err
		}
		if err := r.AddTo(scorecard.SalesByCustomer, d.CustomerID, 1); err != nil {
			return err
		}
		if d.RepeatCustomer {
			if err := r.AddTo(scorecard.RepeatSalesByCustomer, d.CustomerID, 1); err != nil {
				return err
			}
		}
		if amount == 0 {
			return nil
		}
		if err := r.AddSum(scorecard.PurchaseRevenue, amount, d.Amount.Currency); err != nil {
			return err
		}
		return r.AddTo(scorecard.RevenueByCustomer, d.CustomerID, amount)
	})
	return b.result(), err
}

// followupOnce is the key under which a follow-up task is counted once:
// at the first of followup.completed and followup.overdue.
func followupOnce(id string) string { return "followup#" + id }

// followupOverdue: one task due, in the period of its due time, unless
// the task was counted already.
func followupOverdue(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.FollowupOverdue](raw)
	if err != nil {
		return nil, err
	}
	return followupDue(d.Followup, false, zone)
}

// followupCompleted: one task due and, when done by its due time, one
// done on time, in the period of its due time, unless the task was
// counted already (it went overdue first: a late task does not become
// on time by being moved).
func followupCompleted(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.FollowupCompleted](raw)
	if err != nil {
		return nil, err
	}
	return followupDue(d.Followup, d.OnTime, zone)
}

func followupDue(f events.Followup, onTime bool, zone *time.Location) ([]Contribution, error) {
	if f.FollowupID == "" {
		return nil, errors.New("no followup_id")
	}
	b := newBuilder(zone, f.Team)
	b.once = followupOnce(f.FollowupID)
	counters := []scorecard.Counter{scorecard.FollowUpsDue}
	if onTime {
		counters = append(counters, scorecard.FollowUpsDoneOnTime)
	}
	err := b.count(f.DueAt, "due_at", counters...)
	return b.result(), err
}

// ticketOpened: one ticket and, for a complaint, one complaint, at
// opened_at; the kind at opening is what counts.
func ticketOpened(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.TicketOpened](raw)
	if err != nil {
		return nil, err
	}
	counters := []scorecard.Counter{scorecard.TicketsOpened}
	if d.Kind == "complaint" {
		counters = append(counters, scorecard.ComplaintsOpened)
	}
	b := newBuilder(zone, d.Team)
	err = b.count(d.OpenedAt, "opened_at", counters...)
	return b.result(), err
}

// SLA clock statuses as the ticket events report them.
const (
	slaMet = "met"
)

// ticketReplied: for the reply that stopped the first-response clock, its
// first-response time and, when the clock was met, one SLA clock met, at
// replied_at. A breached clock was counted by its ticket.sla_breached.
func ticketReplied(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.TicketReplied](raw)
	if err != nil || !d.FirstResponse {
		return nil, err
	}
	b := newBuilder(zone, d.Team)
	err = b.at(d.RepliedAt, "replied_at", func(r *scorecard.Rollup) error {
		r.Observe(scorecard.TicketFirstResponseTime, seconds(d.FirstResponseSeconds))
		if d.FirstResponseSLA == slaMet {
			return r.Add(scorecard.SLAMet, 1)
		}
		return nil
	})
	return b.result(), err
}

// ticketSolved: one SLA clock met, at solved_at, when solving stopped an
// unanswered ticket's first-response clock in time. The resolution clock
// is counted when the ticket closes for good.
func ticketSolved(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.TicketSolved](raw)
	if err != nil || !d.FirstResponseStopped || d.FirstResponse.Status != slaMet {
		return nil, err
	}
	b := newBuilder(zone, d.Team)
	err = b.count(d.SolvedAt, "solved_at", scorecard.SLAMet)
	return b.result(), err
}

// ticketClosed: the ticket's resolution time and, when its resolution
// clock was met, one SLA clock met, at solved_at (the last solve); and one
// more met at closed_at when closing stopped an unanswered ticket's
// first-response clock in time.
func ticketClosed(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.TicketClosed](raw)
	if err != nil {
		return nil, err
	}
	b := newBuilder(zone, d.Team)
	err = b.at(d.SolvedAt, "solved_at", func(r *scorecard.Rollup) error {
		r.Observe(scorecard.TicketResolutionTime, seconds(d.ResolutionSeconds))
		if d.Resolution.Status == slaMet {
			return r.Add(scorecard.SLAMet, 1)
		}
		return nil
	})
	if err == nil && d.FirstResponseStopped && d.FirstResponse.Status == slaMet {
		err = b.count(d.ClosedAt, "closed_at", scorecard.SLAMet)
	}
	return b.result(), err
}

// ticketSLABreached: one SLA clock breached, at the event's occurred_at
// (the deadline). Each clock breaches at most once.
func ticketSLABreached(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.TicketSLABreached](raw)
	if err != nil {
		return nil, err
	}
	b := newBuilder(zone, d.Team)
	err = b.count(d.OccurredAt, "occurred_at", scorecard.SLABreached)
	return b.result(), err
}

// surveyInvited: one invitation sent, at sent_at.
func surveyInvited(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.SurveyInvited](raw)
	if err != nil {
		return nil, err
	}
	b := newBuilder(zone, d.Team)
	err = b.count(d.SentAt, "sent_at", scorecard.SurveyInvitationsSent)
	return b.result(), err
}

// surveyResponded: one response, and one answer with its score to each
// question answered, at answered_at.
func surveyResponded(raw json.RawMessage, zone *time.Location) ([]Contribution, error) {
	d, err := decode[events.SurveyResponded](raw)
	if err != nil {
		return nil, err
	}
	counters := []scorecard.Counter{scorecard.SurveyResponses}
	for _, a := range d.Answers {
		c, ok := scorecard.AnswerCounter(scorecard.SurveyQuestion(a.Question), a.Score)
		if !ok {
			return nil, fmt.Errorf("answer %d to %q is off its scale", a.Score, a.Question)
		}
		counters = append(counters, c)
	}
	b := newBuilder(zone, d.Team)
	err = b.count(d.AnsweredAt, "answered_at", counters...)
	return b.result(), err
}

// seconds turns a whole number of seconds into a duration.
func seconds(s int64) time.Duration { return time.Duration(s) * time.Second }
