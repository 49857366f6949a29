package crm

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/events"
)

// LeadStore keeps leads, their timelines and customers. Every write that
// carries events stores them atomically with the change, so an event exists
// exactly when its change does.
type LeadStore interface {
	// Capture stores a new lead with its first timeline entry and events,
	// unless someone with the same PersonKey was captured within
	// c.Window: then it only adds the entry to that lead's timeline and
	// answers Duplicate. With an idempotency key, a repeated key answers
	// what the first request got and changes nothing; ECONFLICT when the
	// key was used for a different submission.
	Capture(ctx context.Context, c CaptureRequest) (CaptureResult, error)
	// CountSpam counts one submission the honeypot caught.
	CountSpam(ctx context.Context, at time.Time) error

	// Lead returns a lead without its timeline. ENOTFOUND.
	Lead(ctx context.Context, id string) (Lead, error)
	// LeadDetail returns a lead with its timeline. ENOTFOUND.
	LeadDetail(ctx context.Context, id string) (LeadDetail, error)
	// Leads lists leads newest first. EINVALID for a cursor it did not make.
	Leads(ctx context.Context, f LeadFilter) (LeadPage, error)
	// UpdateLead stores l if the stored lead still has version prev, with
	// the entries and events. ENOTFOUND, EPRECONDITION when stale.
	UpdateLead(ctx context.Context, l Lead, prev int64, entries []TimelineEntry, evs []events.Envelope) error
	// AddEntry appends an entry to the timeline of lead e.LeadID. ENOTFOUND.
	AddEntry(ctx context.Context, e TimelineEntry) error

	// CustomerByPerson returns the customer with that PersonKey. ENOTFOUND.
	CustomerByPerson(ctx context.Context, personKey string) (Customer, error)
	// Convert stores the converted lead (if still at version c.Prev), the
	// customer (created when c.NewCustomer, else updated from version
	// c.PrevCustomerDeals), the entry and the events. EPRECONDITION when the
	// lead changed; ECONFLICT when the customer changed meanwhile.
	Convert(ctx context.Context, c ConvertRequest) error
	// Customer returns a customer with the history of its leads and its
	// latest purchases. ENOTFOUND.
	Customer(ctx context.Context, id string) (CustomerDetail, error)

	// CustomerByID returns a customer without its history. ENOTFOUND.
	CustomerByID(ctx context.Context, id string) (Customer, error)
	// PurchaseByKey returns the purchase recorded with the idempotency
	// key, and whether there is one still remembered at now. ECONFLICT
	// naming Idempotency-Key when it was recorded with another
	// fingerprint.
	PurchaseByKey(ctx context.Context, key, fingerprint string, now time.Time) (Purchase, bool, error)
	// RecordPurchase stores the purchase, the customer (if it still has
	// p.PrevCustomerDeals deals), the idempotency key's answer and the
	// events in one transaction. ECONFLICT when the customer changed or
	// the key was taken meanwhile; ENOTFOUND when the customer is gone.
	RecordPurchase(ctx context.Context, p PurchaseRequest) error
	// CustomersByValue lists the ranked customers, the highest
	// trailing-twelve-month revenue first. EINVALID naming cursor for a
	// cursor it did not make.
	CustomersByValue(ctx context.Context, f ValueFilter) (ValuePage, error)
}

// CaptureRequest is everything Capture writes.
type CaptureRequest struct {
	Lead   Lead
	Entry  TimelineEntry
	Events []events.Envelope
	// Window is how long a person's first lead absorbs their later
	// submissions.
	Window time.Duration
	// IdempotencyKey is the client's Idempotency-Key header, if any, and
	// Fingerprint a digest of the submission it was sent with.
	IdempotencyKey string
	Fingerprint    string
}

// CaptureResult is Capture's answer.
type CaptureResult struct {
	LeadID    string
	Duplicate bool
}

// ConvertRequest is everything Convert writes.
type ConvertRequest struct {
	Lead  Lead
	Prev  int64
	Entry TimelineEntry
	// Customer is the customer after the deal; NewCustomer says whether it
	// is created, else it is updated if it still has PrevCustomerDeals deals.
	Customer          Customer
	NewCustomer       bool
	PrevCustomerDeals int
	Events            []events.Envelope
}

// LeadFilter selects leads for a list. Zero fields do not filter.
type LeadFilter struct {
	Status LeadStatus
	Source string
	Owner  string
	From   time.Time // captured at or after
	To     time.Time // captured before
	Limit  int
	Cursor string
}

// LeadPage is one page of a list; NextCursor is empty on the last page.
type LeadPage struct {
	Items      []Lead
	NextCursor string
}

// Teams gives a staff member's team, as their staff profile names it: ""
// when they have none or no profile. Lead events carry the owner's team
// when they are written, so the scorecard can count them per team.
type Teams interface {
	TeamOf(ctx context.Context, sub string) (string, error)
}
