package scorecard

import "time"

// Perspective is one of the four groups of KPIs on the card, with its share
// of the overall score.
type Perspective struct {
	ID     PerspectiveID
	Name   string
	Weight float64
}

// Catalogue is the set of KPIs an organisation is scored on, grouped into
// perspectives. DefaultCatalogue gives Rapport's; WithOverrides adapts it.
type Catalogue struct {
	// Perspectives in the order the card lists them.
	Perspectives []Perspective
	// KPIs in the order the card lists them within each perspective.
	KPIs []KPI
}

// KPI returns the KPI with the given ID.
func (c *Catalogue) KPI(id string) (KPI, bool) {
	for _, k := range c.KPIs {
		if k.ID == id {
			return k, true
		}
	}
	return KPI{}, false
}

// The IDs of the default catalogue's KPIs.
const (
	KPIRevenue                 = "revenue"
	KPIAverageDealValue        = "average_deal_value"
	KPITopCustomerRevenueShare = "top_customer_revenue_share"
	KPILeadConversionRate      = "lead_conversion_rate"
	KPINPS                     = "nps"
	KPICSAT                    = "csat"
	KPICES                     = "ces"
	KPIComplaintRate           = "complaint_rate"
	KPIRepeatCustomerRate      = "repeat_customer_rate"
	KPILeadResponseTime        = "lead_response_time"
	KPITicketFirstResponseTime = "ticket_first_response_time"
	KPITicketResolutionTime    = "ticket_resolution_time"
	KPISLACompliance           = "sla_compliance"
	KPIFollowUpsOnTime         = "followups_on_time"
	KPISurveyResponseRate      = "survey_response_rate"
	KPIBestLeadSourceShare     = "best_lead_source_share"
)

// Durations in the catalogue's targets, in seconds.
var (
	hour = time.Hour.Seconds()
	day  = 24 * hour
)

// DefaultCatalogue returns Rapport's standard KPIs with starting targets
// that suit a small service business; every organisation should review
// them, revenue above all. Each call returns a fresh copy that the caller
// may change.
//
// docs/kpis.md describes every KPI for managers; a test keeps the two in
// step.
func DefaultCatalogue() *Catalogue {
	return &Catalogue{
		Perspectives: []Perspective{
			{Financial, "Financial", 1},
			{Customer, "Customer", 1},
			{InternalProcess, "Internal process", 1},
			{LearningGrowth, "Learning & growth", 1},
		},
		KPIs: []KPI{
			// Financial: what the work brings in, and how safely.
			{
				ID: KPIRevenue, Name: "Revenue", Perspective: Financial,
				Description: "Money from deals won and purchases made in the period.",
				Formula:     "deal value of converted leads + value of purchases",
				Unit:        UnitMinorUnits, Direction: HigherIsBetter, PerDay: true,
				Target: 500_000, Baseline: 0, Weight: 1, // 5,000.00 a day
				Measure: revenue,
			},
			{
				ID: KPIAverageDealValue, Name: "Average deal value", Perspective: Financial,
				Description: "What a converted lead is worth on average.",
				Formula:     "deal value of converted leads ÷ leads converted",
				Unit:        UnitMinorUnits, Direction: HigherIsBetter,
				Target: 100_000, Baseline: 20_000, Weight: 1,
				Measure: averageDealValue,
			},
			{
				ID: KPITopCustomerRevenueShare, Name: "Revenue from top 20% of customers", Perspective: Financial,
				Description: "How much of the period's revenue depends on its biggest customers; lower means less risk if one leaves.",
				Formula:     "revenue of the top ⌈20%⌉ of paying customers ÷ revenue of all paying customers × 100",
				Unit:        UnitPercent, Direction: LowerIsBetter,
				Target: 50, Baseline: 90, Weight: 1,
				Measure: topCustomerShare,
			},

			// Customer: winning customers, keeping them and how they feel.
			{
				ID: KPILeadConversionRate, Name: "Lead conversion rate", Perspective: Customer,
				Description: "How many leads become customers.",
				Formula:     "leads converted ÷ leads captured × 100 (both counted in the period)",
				Unit:        UnitPercent, Direction: HigherIsBetter,
				Target: 20, Baseline: 2, Weight: 1,
				Measure: percentOf(LeadsConverted, LeadsCaptured),
			},
			{
				ID: KPINPS, Name: "Net Promoter Score", Perspective: Customer,
				Description: "Would customers recommend us? Answers 0–10; 9–10 are promoters, 0–6 detractors.",
				Formula:     "% promoters (9–10) − % detractors (0–6), from −100 to 100",
				Unit:        UnitPoints, Direction: HigherIsBetter,
				Target: 50, Baseline: 0, Weight: 1,
				Measure: nps,
			},
			{
				ID: KPICSAT, Name: "Customer satisfaction (CSAT)", Perspective: Customer,
				Description: "Share of customers satisfied with how we handled them, on a 1–5 scale.",
				Formula:     "answers of 4 or 5 ÷ all answers × 100",
				Unit:        UnitPercent, Direction: HigherIsBetter,
				Target: 90, Baseline: 60, Weight: 1,
				Measure: csat,
			},
			{
				ID: KPICES, Name: "Customer effort (CES)", Perspective: Customer,
				Description: `Agreement with "it was easy to handle my issue", 1 (strongly disagree) to 7 (strongly agree).`,
				Formula:     "mean of the 1–7 answers",
				Unit:        UnitScale1To7, Direction: HigherIsBetter,
				Target: 6, Baseline: 4, Weight: 1,
				Measure: ces,
			},
			{
				ID: KPIComplaintRate, Name: "Complaint rate", Perspective: Customer,
				Description: "Share of tickets that are complaints rather than requests.",
				Formula:     "complaints opened ÷ tickets opened × 100",
				Unit:        UnitPercent, Direction: LowerIsBetter,
				Target: 5, Baseline: 25, Weight: 1,
				Measure: percentOf(ComplaintsOpened, TicketsOpened),
			},
			{
				ID: KPIRepeatCustomerRate, Name: "Repeat-customer rate", Perspective: Customer,
				Description: "Share of the period's buying customers who had bought before.",
				Formula:     "customers with a repeat sale ÷ customers with any sale × 100",
				Unit:        UnitPercent, Direction: HigherIsBetter,
				Target: 40, Baseline: 10, Weight: 1,
				Measure: repeatCustomerRate,
			},

			// Internal process: how fast and how reliably the team works.
			{
				ID: KPILeadResponseTime, Name: "Lead response time", Perspective: InternalProcess,
				Description: "How long a new lead waits for its first contact (median).",
				Formula:     "median of (first contact − capture) over leads first contacted in the period",
				Unit:        UnitSeconds, Direction: LowerIsBetter,
				Target: 1 * hour, Baseline: 1 * day, Weight: 1,
				Measure: medianSeconds(LeadResponseTime),
			},
			{
				ID: KPITicketFirstResponseTime, Name: "Ticket first-response time", Perspective: InternalProcess,
				Description: "How long a customer waits for the first reply to a ticket (median).",
				Formula:     "median of (first staff reply − opening) over tickets first answered in the period",
				Unit:        UnitSeconds, Direction: LowerIsBetter,
				Target: 1 * hour, Baseline: 8 * hour, Weight: 1,
				Measure: medianSeconds(TicketFirstResponseTime),
			},
			{
				ID: KPITicketResolutionTime, Name: "Ticket resolution time", Perspective: InternalProcess,
				Description: "How long a ticket takes to resolve (median).",
				Formula:     "median of (resolution − opening) over tickets resolved in the period",
				Unit:        UnitSeconds, Direction: LowerIsBetter,
				Target: 1 * day, Baseline: 5 * day, Weight: 1,
				Measure: medianSeconds(TicketResolutionTime),
			},
			{
				ID: KPISLACompliance, Name: "SLA compliance", Perspective: InternalProcess,
				Description: "Share of first-response and resolution deadlines met. A promise to customers, so its colour follows fixed lines.",
				Formula:     "SLA clocks met ÷ (met + breached) × 100",
				Unit:        UnitPercent, Direction: HigherIsBetter,
				Target: 95, Baseline: 70, Weight: 1,
				Thresholds: &Thresholds{Green: 95, Amber: 90},
				Measure:    slaCompliance,
			},
			{
				ID: KPIFollowUpsOnTime, Name: "Follow-ups done on time", Perspective: InternalProcess,
				Description: "Share of follow-up tasks due in the period that were done by their due time.",
				Formula:     "follow-ups done on time ÷ follow-ups due × 100",
				Unit:        UnitPercent, Direction: HigherIsBetter,
				Target: 95, Baseline: 60, Weight: 1,
				Measure: percentOf(FollowUpsDoneOnTime, FollowUpsDue),
			},

			// Learning & growth: how well the business listens and learns
			// where its customers come from.
			{
				ID: KPISurveyResponseRate, Name: "Survey response rate", Perspective: LearningGrowth,
				Description: "Share of survey invitations answered: the more customers answer, the more the other customer KPIs can be trusted.",
				Formula:     "survey responses ÷ invitations sent × 100 (both counted in the period)",
				Unit:        UnitPercent, Direction: HigherIsBetter,
				Target: 30, Baseline: 5, Weight: 1,
				Measure: percentOf(SurveyResponses, SurveyInvitationsSent),
			},
			{
				ID: KPIBestLeadSourceShare, Name: "Leads from the best source", Perspective: LearningGrowth,
				Description: "Share of leads from the single biggest source. Near half means a proven channel without depending on it alone.",
				Formula:     "leads from the biggest source ÷ all leads captured × 100",
				Unit:        UnitPercent, Direction: ClosestToTarget,
				Target: 50, Baseline: 100, Weight: 1,
				Measure: bestSourceShare,
			},
		},
	}
}
