package httpapi

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
)

// The JSON shapes of the API, as documented in docs/openapi.yaml.

type moneyJSON struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

func toMoneyJSON(m crm.Money) moneyJSON { return moneyJSON{Amount: m.String(), Currency: m.Currency} }

func toMoneyPtr(m *crm.Money) *moneyJSON {
	if m == nil {
		return nil
	}
	j := toMoneyJSON(*m)
	return &j
}

// decimalText reads an amount sent as a JSON number (1250.5) or string
// ("1250.50") as its exact decimal text, never through a float.
func decimalText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return "", false
	}
	return n.String(), true
}

type attributionJSON struct {
	UTMSource   string `json:"utm_source,omitempty"`
	UTMMedium   string `json:"utm_medium,omitempty"`
	UTMCampaign string `json:"utm_campaign,omitempty"`
	UTMTerm     string `json:"utm_term,omitempty"`
	UTMContent  string `json:"utm_content,omitempty"`
	Referrer    string `json:"referrer,omitempty"`
	PageURL     string `json:"page_url,omitempty"`
}

type leadJSON struct {
	ID             string            `json:"id"`
	Status         crm.LeadStatus    `json:"status"`
	Name           string            `json:"name"`
	Email          string            `json:"email"`
	Phone          string            `json:"phone"`
	Company        string            `json:"company"`
	Source         string            `json:"source"`
	Attribution    attributionJSON   `json:"attribution"`
	Consent        bool              `json:"consent"`
	Custom         map[string]string `json:"custom"`
	Owner          string            `json:"owner"`
	LostReason     string            `json:"lost_reason,omitempty"`
	CustomerID     string            `json:"customer_id,omitempty"`
	DealValue      *moneyJSON        `json:"deal_value,omitempty"`
	CapturedAt     time.Time         `json:"captured_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	FirstContactAt *time.Time        `json:"first_contact_at"`
	ConvertedAt    *time.Time        `json:"converted_at,omitempty"`
	Version        int64             `json:"version"`
}

func toLeadJSON(l crm.Lead) leadJSON {
	custom := l.Custom
	if custom == nil {
		custom = map[string]string{}
	}
	return leadJSON{
		ID: l.ID, Status: l.Status, Name: l.Name, Email: l.Email, Phone: l.Phone, Company: l.Company,
		Source: l.Source, Attribution: attributionJSON(l.Attribution), Consent: l.Consent, Custom: custom,
		Owner: l.Owner, LostReason: l.LostReason, CustomerID: l.CustomerID, DealValue: toMoneyPtr(l.Deal),
		CapturedAt: l.CapturedAt, UpdatedAt: l.UpdatedAt, FirstContactAt: l.FirstContactAt, ConvertedAt: l.ConvertedAt,
		Version: l.Version,
	}
}

type entryJSON struct {
	ID          string            `json:"id"`
	At          time.Time         `json:"at"`
	Kind        crm.EntryKind     `json:"kind"`
	Actor       string            `json:"actor,omitempty"`
	Message     string            `json:"message,omitempty"`
	Attribution *attributionJSON  `json:"attribution,omitempty"`
	Custom      map[string]string `json:"custom,omitempty"`
	Type        crm.ActivityKind  `json:"type,omitempty"`
	Note        string            `json:"note,omitempty"`
	FromStatus  crm.LeadStatus    `json:"from_status,omitempty"`
	ToStatus    crm.LeadStatus    `json:"to_status,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	FromOwner   string            `json:"from_owner,omitempty"`
	ToOwner     string            `json:"to_owner,omitempty"`
	CustomerID  string            `json:"customer_id,omitempty"`
	DealValue   *moneyJSON        `json:"deal_value,omitempty"`
}

func toEntryJSON(e crm.TimelineEntry) entryJSON {
	j := entryJSON{
		ID: e.ID, At: e.At, Kind: e.Kind, Actor: e.Actor, Message: e.Message, Custom: e.Custom,
		Type: e.Activity, Note: e.Note, FromStatus: e.FromStatus, ToStatus: e.ToStatus, Reason: e.Reason,
		FromOwner: e.FromOwner, ToOwner: e.ToOwner, CustomerID: e.CustomerID, DealValue: toMoneyPtr(e.Deal),
	}
	if e.Kind == crm.EntrySubmission {
		a := attributionJSON(e.Attribution)
		j.Attribution = &a
	}
	return j
}

type leadDetailJSON struct {
	leadJSON
	Timeline []entryJSON `json:"timeline"`
}

func toLeadDetailJSON(d crm.LeadDetail) leadDetailJSON {
	j := leadDetailJSON{leadJSON: toLeadJSON(d.Lead), Timeline: make([]entryJSON, len(d.Timeline))}
	for i, e := range d.Timeline {
		j.Timeline[i] = toEntryJSON(e)
	}
	return j
}

type customerJSON struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Email     string      `json:"email"`
	Phone     string      `json:"phone"`
	Company   string      `json:"company"`
	Value     []moneyJSON `json:"lifetime_value"`
	Deals     int         `json:"deals"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

func toCustomerJSON(c crm.Customer) customerJSON {
	j := customerJSON{ID: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, Company: c.Company,
		Value: []moneyJSON{}, Deals: c.Deals, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	for _, m := range c.Value {
		j.Value = append(j.Value, toMoneyJSON(m))
	}
	return j
}

type customerDetailJSON struct {
	customerJSON
	// The value rank, absent while the customer is not ranked.
	ValueRank  int              `json:"value_rank,omitempty"`
	TTMRevenue *moneyJSON       `json:"ttm_revenue,omitempty"`
	RankedAt   *time.Time       `json:"ranked_at,omitempty"`
	Leads      []leadDetailJSON `json:"leads"`
	Purchases  []purchaseJSON   `json:"purchases"`
}

func toCustomerDetailJSON(d crm.CustomerDetail) customerDetailJSON {
	j := customerDetailJSON{customerJSON: toCustomerJSON(d.Customer), Leads: make([]leadDetailJSON, len(d.Leads)),
		Purchases: make([]purchaseJSON, len(d.Purchases))}
	if v := d.Value; v != nil {
		ttm, at := toMoneyJSON(v.Revenue), v.RankedAt
		j.ValueRank, j.TTMRevenue, j.RankedAt = v.Rank, &ttm, &at
	}
	for i, l := range d.Leads {
		j.Leads[i] = toLeadDetailJSON(l)
	}
	for i, p := range d.Purchases {
		j.Purchases[i] = toPurchaseJSON(p)
	}
	return j
}

// customerValueJSON is a customer in the list by value.
type customerValueJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ValueRank  int       `json:"value_rank"`
	TTMRevenue moneyJSON `json:"ttm_revenue"`
	RankedAt   time.Time `json:"ranked_at"`
}

func toCustomerValueJSON(v crm.ValueRank) customerValueJSON {
	return customerValueJSON{ID: v.CustomerID, Name: v.Name, ValueRank: v.Rank, TTMRevenue: toMoneyJSON(v.Revenue), RankedAt: v.RankedAt}
}

type purchaseJSON struct {
	ID          string    `json:"id"`
	CustomerID  string    `json:"customer_id"`
	Amount      string    `json:"amount"`
	Currency    string    `json:"currency"`
	PurchasedAt time.Time `json:"purchased_at"`
	Description string    `json:"description"`
	RecordedBy  string    `json:"recorded_by"`
	RecordedAt  time.Time `json:"recorded_at"`
}

func toPurchaseJSON(p crm.Purchase) purchaseJSON {
	return purchaseJSON{ID: p.ID, CustomerID: p.CustomerID, Amount: p.Amount.String(), Currency: p.Amount.Currency,
		PurchasedAt: p.At, Description: p.Description, RecordedBy: p.RecordedBy, RecordedAt: p.RecordedAt}
}
