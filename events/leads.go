package events

import "time"

// SourceLeads is the EventBridge source of every lead event.
const SourceLeads = "rapport.leads"

// Lead detail types.
const (
	LeadCapturedType  = "lead.captured"
	LeadUpdatedType   = "lead.updated"
	LeadConvertedType = "lead.converted"
)

// Attribution says where a lead came from.
type Attribution struct {
	Source      string `json:"source"`
	UTMSource   string `json:"utm_source,omitempty"`
	UTMMedium   string `json:"utm_medium,omitempty"`
	UTMCampaign string `json:"utm_campaign,omitempty"`
	UTMTerm     string `json:"utm_term,omitempty"`
	UTMContent  string `json:"utm_content,omitempty"`
	// ReferrerHost is the referring site's host name only; full URLs can
	// carry personal data in their query strings.
	ReferrerHost string `json:"referrer_host,omitempty"`
}

// LeadCaptured is published once when a new lead is created from a form
// submission. A duplicate submission publishes nothing.
type LeadCaptured struct {
	Metadata
	LeadID      string      `json:"lead_id"`
	Attribution Attribution `json:"attribution"`
	// Team is the owner's team when the lead was captured with an owner;
	// the public form captures leads unowned, so it is absent there.
	Team       string    `json:"team,omitempty"`
	HasEmail   bool      `json:"has_email"`
	HasPhone   bool      `json:"has_phone"`
	Consent    bool      `json:"consent"`
	CapturedAt time.Time `json:"captured_at"`
}

// EventSource implements Detail.
func (LeadCaptured) EventSource() string { return SourceLeads }

// DetailType implements Detail.
func (LeadCaptured) DetailType() string { return LeadCapturedType }

// LeadUpdated is published when staff change a lead's status or owner, or
// first contact it.
type LeadUpdated struct {
	Metadata
	LeadID string `json:"lead_id"`
	Source string `json:"source"`
	// Changes names what changed: "status", "owner", "first_contact".
	Changes        []string `json:"changes"`
	Status         string   `json:"status"`
	PreviousStatus string   `json:"previous_status,omitempty"`
	LostReason     string   `json:"lost_reason,omitempty"`
	Owner          string   `json:"owner,omitempty"`
	// Team is the owner's team when the event was written; empty when
	// the lead is unowned or the owner has none.
	Team           string     `json:"team,omitempty"`
	CapturedAt     time.Time  `json:"captured_at"`
	FirstContactAt *time.Time `json:"first_contact_at,omitempty"`
	Version        int64      `json:"version"`
}

// EventSource implements Detail.
func (LeadUpdated) EventSource() string { return SourceLeads }

// DetailType implements Detail.
func (LeadUpdated) DetailType() string { return LeadUpdatedType }

// Money is an amount in the currency's minor units (cents for EUR), so sums
// are exact.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// LeadConverted is published once when a lead becomes a customer's deal.
type LeadConverted struct {
	Metadata
	LeadID     string `json:"lead_id"`
	CustomerID string `json:"customer_id"`
	Source     string `json:"source"`
	// UTMCampaign is the lead's attribution.utm_campaign, so rollups by
	// campaign need no lookup; empty when the lead came without one.
	UTMCampaign string `json:"utm_campaign,omitempty"`
	Owner       string `json:"owner,omitempty"`
	// Team is the owner's team when the lead was converted; empty when
	// the lead is unowned or the owner has none.
	Team        string    `json:"team,omitempty"`
	DealValue   Money     `json:"deal_value"`
	CapturedAt  time.Time `json:"captured_at"`
	ConvertedAt time.Time `json:"converted_at"`
	// RepeatCustomer is true when the customer already had a converted deal.
	RepeatCustomer bool `json:"repeat_customer"`
}

// EventSource implements Detail.
func (LeadConverted) EventSource() string { return SourceLeads }

// DetailType implements Detail.
func (LeadConverted) DetailType() string { return LeadConvertedType }
