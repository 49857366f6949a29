package dynamo

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
)

// Item types, stored in every item's "type" attribute so a stream reader or
// an operator can tell items apart.
const (
	typeLead     = "lead"
	typeTimeline = "timeline"
	typeLeadKey  = "lead_key"
	typeIdem     = "idempotency"
	typeCustomer = "customer"
	typeCustKey  = "customer_key"
	typeCustLead = "customer_lead"
	typeCounter  = "counter"
)

// Key prefixes; see the layout in dynamo.go.
const (
	leadPrefix     = "LEAD#"
	leadSK         = "LEAD"
	timelinePrefix = "TL#"
	leadKeyPrefix  = "LEADKEY#"
	idemPrefix     = "IDEM#"
	customerPrefix = "CUSTOMER#"
	customerSK     = "CUSTOMER"
	custKeyPrefix  = "CUSTKEY#"
	statPrefix     = "STAT#"
	// Index partitions for leads.
	allLeads      = "LEADS"
	leadsByStatus = "LEADS#STATUS#"
	leadsByOwner  = "LEADS#OWNER#"
	leadsBySource = "LEADS#SOURCE#"
)

// timeLayout is fixed-width UTC with milliseconds, so that sort keys built
// from times sort as the times do.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

func parseTimePtr(s string) *time.Time {
	if s == "" {
		return nil
	}
	t := parseTime(s)
	return &t
}

// hashKey keeps people's email addresses and phone numbers, and clients'
// idempotency keys, out of partition keys, which show up in metrics and
// diagnostics.
func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// dealOf reads a stored deal; an item without a currency has none.
func dealOf(minor int64, currency string) *crm.Money {
	if currency == "" {
		return nil
	}
	return &crm.Money{Minor: minor, Currency: currency}
}

// leadItem is a lead as stored.
type leadItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Type    string `dynamodbav:"type"`
	GSI1PK  string `dynamodbav:"gsi1pk"`
	GSI1SK  string `dynamodbav:"gsi1sk"`
	GSI2PK  string `dynamodbav:"gsi2pk"`
	GSI2SK  string `dynamodbav:"gsi2sk"`
	GSI3PK  string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK  string `dynamodbav:"gsi3sk,omitempty"`
	GSI4PK  string `dynamodbav:"gsi4pk"`
	GSI4SK  string `dynamodbav:"gsi4sk"`
	ID      string `dynamodbav:"id"`
	Status  string `dynamodbav:"status"`
	Version int64  `dynamodbav:"version"`

	Name        string            `dynamodbav:"name,omitempty"`
	Email       string            `dynamodbav:"email,omitempty"`
	Phone       string            `dynamodbav:"phone,omitempty"`
	Company     string            `dynamodbav:"company,omitempty"`
	Source      string            `dynamodbav:"source"`
	Attribution attributionItem   `dynamodbav:"attribution"`
	Consent     bool              `dynamodbav:"consent"`
	Custom      map[string]string `dynamodbav:"custom,omitempty"`

	Owner        string `dynamodbav:"owner,omitempty"`
	LostReason   string `dynamodbav:"lost_reason,omitempty"`
	CustomerID   string `dynamodbav:"customer_id,omitempty"`
	DealMinor    int64  `dynamodbav:"deal_minor,omitempty"`
	DealCurrency string `dynamodbav:"deal_currency,omitempty"`

	CapturedAt     string `dynamodbav:"captured_at"`
	UpdatedAt      string `dynamodbav:"updated_at"`
	FirstContactAt string `dynamodbav:"first_contact_at,omitempty"`
	ConvertedAt    string `dynamodbav:"converted_at,omitempty"`
}

type attributionItem struct {
	UTMSource   string `dynamodbav:"utm_source,omitempty"`
	UTMMedium   string `dynamodbav:"utm_medium,omitempty"`
	UTMCampaign string `dynamodbav:"utm_campaign,omitempty"`
	UTMTerm     string `dynamodbav:"utm_term,omitempty"`
	UTMContent  string `dynamodbav:"utm_content,omitempty"`
	Referrer    string `dynamodbav:"referrer,omitempty"`
	PageURL     string `dynamodbav:"page_url,omitempty"`
}

func toAttributionItem(a crm.Attribution) attributionItem { return attributionItem(a) }
func toAttribution(a attributionItem) crm.Attribution     { return crm.Attribution(a) }

func toLeadItem(l crm.Lead) leadItem {
	sk := formatTime(l.CapturedAt) + "#" + l.ID
	it := leadItem{
		PK: leadPrefix + l.ID, SK: leadSK, Type: typeLead,
		GSI1PK: allLeads, GSI1SK: sk,
		GSI2PK: leadsByStatus + string(l.Status), GSI2SK: sk,
		GSI4PK: leadsBySource + l.Source, GSI4SK: sk,
		ID: l.ID, Status: string(l.Status), Version: l.Version,
		Name: l.Name, Email: l.Email, Phone: l.Phone, Company: l.Company,
		Source: l.Source, Attribution: toAttributionItem(l.Attribution), Consent: l.Consent, Custom: l.Custom,
		Owner: l.Owner, LostReason: l.LostReason, CustomerID: l.CustomerID,
		CapturedAt: formatTime(l.CapturedAt), UpdatedAt: formatTime(l.UpdatedAt),
		FirstContactAt: formatTimePtr(l.FirstContactAt), ConvertedAt: formatTimePtr(l.ConvertedAt),
	}
	if l.Owner != "" { // sparse: only owned leads are in the owner index
		it.GSI3PK, it.GSI3SK = leadsByOwner+l.Owner, sk
	}
	if l.Deal != nil {
		it.DealMinor, it.DealCurrency = l.Deal.Minor, l.Deal.Currency
	}
	return it
}

func toLead(it leadItem) crm.Lead {
	l := crm.Lead{
		ID: it.ID, Status: crm.LeadStatus(it.Status), Version: it.Version,
		Name: it.Name, Email: it.Email, Phone: it.Phone, Company: it.Company,
		Source: it.Source, Attribution: toAttribution(it.Attribution), Consent: it.Consent, Custom: it.Custom,
		Owner: it.Owner, LostReason: it.LostReason, CustomerID: it.CustomerID,
		CapturedAt: parseTime(it.CapturedAt), UpdatedAt: parseTime(it.UpdatedAt),
		FirstContactAt: parseTimePtr(it.FirstContactAt), ConvertedAt: parseTimePtr(it.ConvertedAt),
	}
	l.Deal = dealOf(it.DealMinor, it.DealCurrency)
	return l
}

// timelineItem is a timeline entry as stored, in its lead's partition.
type timelineItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	ID     string `dynamodbav:"id"`
	LeadID string `dynamodbav:"lead_id"`
	At     string `dynamodbav:"at"`
	Kind   string `dynamodbav:"kind"`
	Actor  string `dynamodbav:"actor,omitempty"`

	Message     string            `dynamodbav:"message,omitempty"`
	Attribution *attributionItem  `dynamodbav:"attribution,omitempty"`
	Custom      map[string]string `dynamodbav:"custom,omitempty"`

	Activity string `dynamodbav:"activity,omitempty"`
	Note     string `dynamodbav:"note,omitempty"`

	FromStatus string `dynamodbav:"from_status,omitempty"`
	ToStatus   string `dynamodbav:"to_status,omitempty"`
	Reason     string `dynamodbav:"reason,omitempty"`
	FromOwner  string `dynamodbav:"from_owner,omitempty"`
	ToOwner    string `dynamodbav:"to_owner,omitempty"`

	CustomerID   string `dynamodbav:"customer_id,omitempty"`
	DealMinor    int64  `dynamodbav:"deal_minor,omitempty"`
	DealCurrency string `dynamodbav:"deal_currency,omitempty"`
}

func toTimelineItem(e crm.TimelineEntry) timelineItem {
	it := timelineItem{
		PK: leadPrefix + e.LeadID, SK: timelinePrefix + formatTime(e.At) + "#" + e.ID, Type: typeTimeline,
		ID: e.ID, LeadID: e.LeadID, At: formatTime(e.At), Kind: string(e.Kind), Actor: e.Actor,
		Message: e.Message, Custom: e.Custom,
		Activity: string(e.Activity), Note: e.Note,
		FromStatus: string(e.FromStatus), ToStatus: string(e.ToStatus), Reason: e.Reason,
		FromOwner: e.FromOwner, ToOwner: e.ToOwner, CustomerID: e.CustomerID,
	}
	if e.Kind == crm.EntrySubmission {
		a := toAttributionItem(e.Attribution)
		it.Attribution = &a
	}
	if e.Deal != nil {
		it.DealMinor, it.DealCurrency = e.Deal.Minor, e.Deal.Currency
	}
	return it
}

func toTimelineEntry(it timelineItem) crm.TimelineEntry {
	e := crm.TimelineEntry{
		ID: it.ID, LeadID: it.LeadID, At: parseTime(it.At), Kind: crm.EntryKind(it.Kind), Actor: it.Actor,
		Message: it.Message, Custom: it.Custom,
		Activity: crm.ActivityKind(it.Activity), Note: it.Note,
		FromStatus: crm.LeadStatus(it.FromStatus), ToStatus: crm.LeadStatus(it.ToStatus), Reason: it.Reason,
		FromOwner: it.FromOwner, ToOwner: it.ToOwner, CustomerID: it.CustomerID,
	}
	if it.Attribution != nil {
		e.Attribution = toAttribution(*it.Attribution)
	}
	e.Deal = dealOf(it.DealMinor, it.DealCurrency)
	return e
}

// leadKeyItem records who was captured, so a second submission within the
// window finds the first lead. Its TTL ends the window.
type leadKeyItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	LeadID    string `dynamodbav:"lead_id"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// idemItem remembers the answer to an Idempotency-Key for a day.
type idemItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	LeadID      string `dynamodbav:"lead_id"`
	Duplicate   bool   `dynamodbav:"duplicate"`
	Fingerprint string `dynamodbav:"fingerprint"`
	ExpiresAt   int64  `dynamodbav:"expires_at"`
}

// idempotencyRetention is how long a key's answer is kept; clients retry
// within minutes, and Stripe-style APIs keep keys for a day.
const idempotencyRetention = 24 * time.Hour

// customerItem is a customer as stored.
type customerItem struct {
	PK        string      `dynamodbav:"pk"`
	SK        string      `dynamodbav:"sk"`
	Type      string      `dynamodbav:"type"`
	ID        string      `dynamodbav:"id"`
	Name      string      `dynamodbav:"name,omitempty"`
	Email     string      `dynamodbav:"email,omitempty"`
	Phone     string      `dynamodbav:"phone,omitempty"`
	Company   string      `dynamodbav:"company,omitempty"`
	Value     []moneyItem `dynamodbav:"value"`
	Deals     int         `dynamodbav:"deals"`
	CreatedAt string      `dynamodbav:"created_at"`
	UpdatedAt string      `dynamodbav:"updated_at"`
}

type moneyItem struct {
	Minor    int64  `dynamodbav:"minor"`
	Currency string `dynamodbav:"currency"`
}

func toCustomerItem(c crm.Customer) customerItem {
	it := customerItem{
		PK: customerPrefix + c.ID, SK: customerSK, Type: typeCustomer,
		ID: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, Company: c.Company,
		Deals: c.Deals, CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.UpdatedAt),
		Value: []moneyItem{},
	}
	for _, m := range c.Value {
		it.Value = append(it.Value, moneyItem(m))
	}
	return it
}

func toCustomer(it customerItem) crm.Customer {
	c := crm.Customer{
		ID: it.ID, Name: it.Name, Email: it.Email, Phone: it.Phone, Company: it.Company,
		Deals: it.Deals, CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
	}
	for _, m := range it.Value {
		c.Value = append(c.Value, crm.Money(m))
	}
	return c
}

// custKeyItem finds a customer by the person's email or phone.
type custKeyItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	CustomerID string `dynamodbav:"customer_id"`
}

// custLeadItem links a converted lead to its customer, in the customer's
// partition, so one query finds a customer and all its leads.
type custLeadItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	LeadID string `dynamodbav:"lead_id"`
	At     string `dynamodbav:"at"`
}
