package survey

import (
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
)

// Reason says why an invitation was made.
type Reason string

// Reasons.
const (
	// AfterTicket is made when a ticket is solved, to go out some time
	// later unless the ticket is reopened first; it asks CSAT and CES.
	AfterTicket Reason = "after_ticket"
	// Relationship is a customer's periodic NPS invitation.
	Relationship Reason = "relationship"
	// Manual is made by a manager, with the questions they chose.
	Manual Reason = "manual"
)

// Reasons lists every reason.
var Reasons = []Reason{AfterTicket, Relationship, Manual}

// ParseReason reads a reason.
func ParseReason(s string) (Reason, bool) {
	for _, r := range Reasons {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// DefaultQuestions returns what an invitation made for r asks when no one
// chose: CSAT then CES after a ticket, NPS otherwise.
func (r Reason) DefaultQuestions() []Question {
	if r == AfterTicket {
		return []Question{CSAT, CES}
	}
	return []Question{NPS}
}

// Status is where an invitation stands. Answered and cancelled are final;
// a sent invitation expires by itself (StatusAt), without a write.
type Status string

// Statuses.
const (
	// StatusScheduled is made and waiting for its due instant.
	StatusScheduled Status = "scheduled"
	// StatusSent has been emailed; its link works until it expires.
	StatusSent Status = "sent"
	// StatusAnswered has its one answer.
	StatusAnswered Status = "answered"
	// StatusCancelled was never sent: its ticket was reopened, or the
	// person could no longer be invited when it fell due.
	StatusCancelled Status = "cancelled"
	// StatusExpired is never stored: StatusAt reports it for a sent
	// invitation past its expiry.
	StatusExpired Status = "expired"
)

// Why an invitation was cancelled or refused; stable codes, safe to log and
// count (they say nothing about the person).
const (
	// NoEmail: the person has no email address.
	NoEmail = "no_email"
	// OptedOut: the person asked not to be surveyed.
	OptedOut = "opted_out"
	// QuietPeriod: the person was invited, or is due to be, within the
	// quiet period.
	QuietPeriod = "quiet_period"
	// TicketReopened: the ticket was reopened before the invitation went
	// out.
	TicketReopened = "ticket_reopened"
)

// Invitation is one person's invitation to answer a survey, by a signed
// link that works once.
type Invitation struct {
	ID string
	// Email is the person's address, normalised (lower case); it is the
	// person's identity for the quiet period and opting out.
	Email string
	// CustomerID is the customer the person is, if known; TicketID the
	// ticket the invitation follows (AfterTicket only).
	CustomerID string
	TicketID   string
	// Owner and Team are the ticket's owner and team (AfterTicket) or the
	// customer's owner, when the invitation was made: whose work the
	// answer judges, and who follows up a detractor.
	Owner string
	Team  string
	// Questions are what the invitation asks, in order; the first must be
	// answered, the others may be left out.
	Questions []Question
	Reason    Reason
	Status    Status
	// CancelReason is one of the reason codes above, for a cancelled
	// invitation.
	CancelReason string

	CreatedAt time.Time
	// DueAt is when the invitation is to be sent; its timer fires then.
	DueAt time.Time
	// SentAt is when it was emailed; ExpiresAt, SentAt plus the link
	// lifetime, is when its link stops working.
	SentAt    *time.Time
	ExpiresAt *time.Time
	// AnsweredAt is when its one answer was recorded.
	AnsweredAt *time.Time

	Version int64
}

// StatusAt returns the invitation's status at now: its stored status, or
// StatusExpired for a sent invitation whose link has run out.
func (i Invitation) StatusAt(now time.Time) Status {
	if i.Status == StatusSent && i.ExpiresAt != nil && !now.Before(*i.ExpiresAt) {
		return StatusExpired
	}
	return i.Status
}

// Asks reports whether the invitation asks q.
func (i Invitation) Asks(q Question) bool {
	for _, x := range i.Questions {
		if x == q {
			return true
		}
	}
	return false
}

// Holds reports whether the invitation holds its person's quiet period:
// scheduled, sent or answered, not cancelled. The instant it holds it
// from is QuietFrom.
func (i Invitation) Holds() bool { return i.Status != StatusCancelled }

// QuietFrom is the instant the quiet period is reckoned from: when the
// invitation was sent, or, until then, when it is due to be.
func (i Invitation) QuietFrom() time.Time {
	if i.SentAt != nil {
		return *i.SentAt
	}
	return i.DueAt
}

// Cancel returns the scheduled invitation cancelled for reason.
// ECONFLICT when it is no longer scheduled: once sent, an invitation is
// answered or expires.
func (i Invitation) Cancel(reason string) (Invitation, error) {
	if i.Status != StatusScheduled {
		return i, crm.Errorf(crm.ECONFLICT, "the invitation is %s, not scheduled", i.Status)
	}
	i.Status, i.CancelReason, i.Version = StatusCancelled, reason, i.Version+1
	return i, nil
}

// Record returns the invitation answered by a, which CheckAnswer accepted
// for it.
func (i Invitation) Record(a Answer) Invitation {
	at := a.AnsweredAt.UTC()
	i.Status, i.AnsweredAt, i.Version = StatusAnswered, &at, i.Version+1
	return i
}

// AfterTicketID is the id of the invitation made for a ticket's solve: the
// same for every delivery of one ticket.solved, so a redelivered event
// finds its invitation already made; another solve of the ticket gets
// another id.
func AfterTicketID(ticketID string, solvedAt time.Time) string {
	return crm.DerivedID(solvedAt, "survey|after_ticket|"+ticketID+"|"+solvedAt.UTC().Format(time.RFC3339Nano))
}

// RelationshipID is the id of a customer's relationship invitation due at
// due, the same however often the schedule that makes it runs.
func RelationshipID(customerID string, due time.Time) string {
	return crm.DerivedID(due, "survey|relationship|"+customerID+"|"+due.UTC().Format(time.RFC3339Nano))
}
