package ticket

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/sla"
)

// Store keeps tickets, their timelines and their timers. Every write is
// one transaction with the events it publishes (the outbox) and the timers
// it arms and cancels.
type Store interface {
	// Open writes a new ticket with its first timeline entry. When
	// DedupeKey is set and an unexpired ticket already holds it, nothing
	// is written and that ticket's id is returned with Duplicate set; a
	// key held with another Fingerprint is ECONFLICT naming
	// Idempotency-Key. Of concurrent opens with one key exactly one
	// writes.
	Open(ctx context.Context, o Opening) (OpenResult, error)
	// Ticket returns a ticket, read consistently; ENOTFOUND if none.
	Ticket(ctx context.Context, id string) (Ticket, error)
	// Detail returns a ticket and its timeline, oldest first.
	Detail(ctx context.Context, id string) (Ticket, []Entry, error)
	// Save writes w.Ticket if the stored one is still at w.Prev (else
	// EPRECONDITION, or ENOTFOUND), with its entries, timers and events.
	Save(ctx context.Context, w Write) error
	// AddEntry adds an entry that changes nothing else, with its events.
	AddEntry(ctx context.Context, e Entry, evs []events.Envelope) error
	// List returns tickets matching f, by next SLA deadline (tickets
	// without one last, oldest first).
	List(ctx context.Context, f Filter) (Page, error)
	// OfCustomer returns a customer's tickets, newest first, at most limit.
	OfCustomer(ctx context.Context, customerID string, limit int) ([]Ticket, error)
	// CustomerByEmail returns the id of the customer with that normalised
	// email address, or "" when there is none.
	CustomerByEmail(ctx context.Context, email string) (string, error)
}

// Opening is a new ticket as the store writes it.
type Opening struct {
	Ticket Ticket
	Entry  Entry
	Timers TimerPlan
	Events []events.Envelope
	// DedupeKey makes repeated submissions one ticket: the client's
	// Idempotency-Key, or the digest of what the form said. The store
	// hashes it. Fingerprint tells a retry from a reused key.
	DedupeKey   string
	Fingerprint string
	DedupeUntil time.Time
}

// OpenResult says which ticket a submission made or found.
type OpenResult struct {
	TicketID  string
	Duplicate bool
}

// Write is a change to a ticket.
type Write struct {
	Ticket  Ticket
	Prev    int64
	Entries []Entry
	Timers  TimerPlan
	Events  []events.Envelope
}

// Filter selects tickets for GET /tickets. Empty fields do not filter.
type Filter struct {
	Status   Status
	Priority sla.Priority
	Kind     Kind
	// Owner filters by owner when OwnerSet: a staff user id, or "" for the
	// unassigned queue.
	Owner    string
	OwnerSet bool
	// SLA keeps tickets at risk (past a warning, before the deadline) or
	// breached (past a deadline) at Now.
	SLA    SLAState
	Now    time.Time
	Limit  int
	Cursor string
}

// SLAState filters tickets by where their next deadline stands.
type SLAState string

// SLA filters.
const (
	AtRisk   SLAState = "at_risk"
	Breached SLAState = "breached"
)

// Page is one page of a list and the cursor of the next, "" at the end.
type Page struct {
	Tickets []Ticket
	Next    string
}
