package scorecard

import "strconv"

// Counter names a count of events in a Rollup.
type Counter string

// Sum names a total of amounts in a Rollup, in minor currency units.
type Sum string

// Timing names a duration histogram in a Rollup.
type Timing string

// Breakdown names a family of counts keyed by something open-ended — a lead
// source, a customer — in a Rollup.
type Breakdown string

// The counters the default catalogue reads, and the event that feeds each.
// A rollup consumer adds to them in the period (in the organisation's time
// zone) of the instant named, and for the team of the lead's or ticket's
// owner as well as for the organisation.
const (
	// LeadsCaptured: +1 per lead.captured, at captured_at.
	LeadsCaptured Counter = "leads_captured"
	// LeadsConverted: +1 per lead.converted, at converted_at.
	LeadsConverted Counter = "leads_converted"
	// Purchases: +1 per purchase recorded for a customer (purchase
	// events, to come), at the purchase time.
	Purchases Counter = "purchases"
	// TicketsOpened: +1 per ticket.opened, of any kind, at opened_at.
	TicketsOpened Counter = "tickets_opened"
	// ComplaintsOpened: +1 per ticket.opened whose kind is complaint, at
	// opened_at; also counted in TicketsOpened.
	ComplaintsOpened Counter = "complaints_opened"
	// SLAMet: +1 per SLA clock (first response or resolution) stopped by
	// its deadline, from the event that stopped it: ticket.replied with
	// first_response and first_response_sla "met", at replied_at;
	// ticket.solved with first_response_stopped and first_response.status
	// "met", at solved_at; ticket.closed with resolution.status "met", at
	// solved_at (the resolution), and with first_response_stopped and
	// first_response.status "met" (closed unanswered), at closed_at.
	SLAMet Counter = "sla_met"
	// SLABreached: +1 per ticket.sla_breached, at its occurred_at (the
	// deadline). A clock is counted once, as met or as breached: once
	// its breach fires, every later event reports it breached.
	SLABreached Counter = "sla_breached"
	// SurveyInvitationsSent: +1 per survey.invited, at sent_at.
	SurveyInvitationsSent Counter = "survey_invitations_sent"
	// SurveyResponses: +1 per survey.responded, however many questions it
	// answers, at answered_at.
	SurveyResponses Counter = "survey_responses"
	// FollowUpsDue: +1 per follow-up task, in the period of its due time,
	// once it is completed or first becomes overdue (task events, to
	// come), so a task is counted once however often it is moved.
	FollowUpsDue Counter = "followups_due"
	// FollowUpsDoneOnTime: +1 per follow-up task completed at or before
	// its due time, in the period of its due time.
	FollowUpsDoneOnTime Counter = "followups_done_on_time"
)

// The sums the default catalogue reads, in minor units of the
// organisation's currency.
const (
	// ConversionRevenue: + deal_value.minor per lead.converted, at
	// converted_at.
	ConversionRevenue Sum = "conversion_revenue"
	// PurchaseRevenue: + the amount of each purchase (to come), at the
	// purchase time; refunds may subtract.
	PurchaseRevenue Sum = "purchase_revenue"
)

// The duration histograms the default catalogue reads.
const (
	// LeadResponseTime: first_contact_at − captured_at, from the
	// lead.updated whose changes include "first_contact", at
	// first_contact_at.
	LeadResponseTime Timing = "lead_response_time"
	// TicketFirstResponseTime: first_response_seconds of the ticket.replied
	// with first_response (opening to the first public staff reply), at
	// replied_at.
	TicketFirstResponseTime Timing = "ticket_first_response_time"
	// TicketResolutionTime: resolution_seconds of ticket.closed (opening
	// to the last solve), at solved_at: once per ticket, when it closes
	// for good.
	TicketResolutionTime Timing = "ticket_resolution_time"
)

// The breakdowns the default catalogue reads. Each is a map from a key to a
// count or an amount, merged key by key, so that distinct customers and
// per-customer totals stay exact when days are added up to a quarter.
const (
	// LeadsBySource: key attribution.source, +1 per lead.captured.
	LeadsBySource Breakdown = "leads_by_source"
	// RevenueByCustomer: key customer ID, + the amount of each
	// lead.converted (deal_value.minor) and each purchase.
	RevenueByCustomer Breakdown = "revenue_by_customer"
	// SalesByCustomer: key customer ID, +1 per lead.converted and per
	// purchase.
	SalesByCustomer Breakdown = "sales_by_customer"
	// RepeatSalesByCustomer: key customer ID, +1 per sale to a customer
	// who had bought before (lead.converted with repeat_customer, and
	// every purchase after the first).
	RepeatSalesByCustomer Breakdown = "repeat_sales_by_customer"
	// LeadsByCampaign: key attribution.utm_campaign (NoKey without one),
	// +1 per lead.captured.
	LeadsByCampaign Breakdown = "leads_by_campaign"
	// ConversionsBySource: key source, +1 per lead.converted.
	ConversionsBySource Breakdown = "conversions_by_source"
	// ConversionsByCampaign: key utm_campaign (NoKey without one), +1 per
	// lead.converted.
	ConversionsByCampaign Breakdown = "conversions_by_campaign"
	// ConversionRevenueBySource: key source, + deal_value.minor per
	// lead.converted; the split of ConversionRevenue.
	ConversionRevenueBySource Breakdown = "conversion_revenue_by_source"
	// ConversionRevenueByCampaign: key utm_campaign (NoKey without one),
	// + deal_value.minor per lead.converted.
	ConversionRevenueByCampaign Breakdown = "conversion_revenue_by_campaign"
)

// NoKey is the breakdown key of events that name no campaign (or, on an
// old lead.converted, no source): a breakdown key is never empty. A
// campaign literally named "(none)" is counted with them.
const NoKey = "(none)"

// SurveyQuestion is one of the standard survey questions, each with its own
// answer scale.
type SurveyQuestion string

// The standard questions.
const (
	// NPS: "How likely are you to recommend us to a friend or
	// colleague?", 0 (not at all) to 10 (extremely).
	NPS SurveyQuestion = "nps"
	// CSAT: "How satisfied were you with …?", 1 (very dissatisfied) to 5
	// (very satisfied).
	CSAT SurveyQuestion = "csat"
	// CES: "<Company> made it easy for me to handle my issue", 1
	// (strongly disagree) to 7 (strongly agree) — higher is easier.
	CES SurveyQuestion = "ces"
)

// Scale returns the lowest and highest answer q allows, and false for an
// unknown question.
func (q SurveyQuestion) Scale() (lo, hi int, ok bool) {
	switch q {
	case NPS:
		return 0, 10, true
	case CSAT:
		return 1, 5, true
	case CES:
		return 1, 7, true
	}
	return 0, 0, false
}

// AnswerCounterPrefix begins the name of every survey-answer counter.
const AnswerCounterPrefix = "survey_answers_"

// AnswerCounter names the counter of answers with the given score to
// question q — "survey_answers_nps_9" — which a survey response adds 1 to
// for each standard question it answers. It returns false when the score is
// off q's scale or q is unknown.
func AnswerCounter(q SurveyQuestion, score int) (Counter, bool) {
	lo, hi, ok := q.Scale()
	if !ok || score < lo || score > hi {
		return "", false
	}
	return Counter(AnswerCounterPrefix + string(q) + "_" + strconv.Itoa(score)), true
}

// The answer counters of each question, lowest score first, named once.
var (
	npsAnswers  = answers(NPS)
	csatAnswers = answers(CSAT)
	cesAnswers  = answers(CES)
)

// answers returns the counter of each answer on q's scale, lowest first.
func answers(q SurveyQuestion) []Counter {
	lo, hi, _ := q.Scale()
	out := make([]Counter, 0, hi-lo+1)
	for s := lo; s <= hi; s++ {
		c, _ := AnswerCounter(q, s)
		out = append(out, c)
	}
	return out
}
