package events

import "time"

// SourceTickets is the EventBridge source of every ticket event, those the
// tickets function writes and those its SLA and auto-close timers fire.
const SourceTickets = "rapport.tickets"

// Ticket detail types.
const (
	TicketOpenedType       = "ticket.opened"
	TicketUpdatedType      = "ticket.updated"
	TicketRepliedType      = "ticket.replied"
	TicketSolvedType       = "ticket.solved"
	TicketReopenedType     = "ticket.reopened"
	TicketClosedType       = "ticket.closed"
	TicketSLAWarningType   = "ticket.sla_warning"
	TicketSLABreachedType  = "ticket.sla_breached"
	TicketSLAEscalatedType = "ticket.sla_escalated"
	TicketCloseDueType     = "ticket.close_due"
)

// Ticket is what every ticket event says of its ticket: what the scorecard
// counts by (kind, priority, channel, owner and team) and its ids; never
// the requester's name, address, subject or messages.
type Ticket struct {
	TicketID string `json:"ticket_id"`
	// Kind is request, question, complaint or incident.
	Kind string `json:"kind"`
	// Priority is low, normal, high or urgent.
	Priority string `json:"priority"`
	// Channel is how the ticket came in: web, email, phone or chat.
	Channel string `json:"channel"`
	// Category is the form's or the agent's category, if any.
	Category string `json:"category,omitempty"`
	// CustomerID is the customer record the requester is, if any.
	CustomerID string `json:"customer_id,omitempty"`
	// Owner is the staff user id working the ticket; empty when
	// unassigned. Team is the owner's team when the ticket was written.
	Owner    string    `json:"owner,omitempty"`
	Team     string    `json:"team,omitempty"`
	OpenedAt time.Time `json:"opened_at"`
}

// SLAClock is where one SLA clock stood when the event was written.
type SLAClock struct {
	// Status is running, paused, met or breached. A clock whose breach
	// fired stays breached, even if a lower priority later gave it a
	// deadline it met.
	Status string `json:"status"`
	// TargetAt is the deadline; absent while the clock is paused before it.
	TargetAt *time.Time `json:"target_at,omitempty"`
	// ElapsedBusinessSeconds is the business time the clock has counted.
	ElapsedBusinessSeconds int64 `json:"elapsed_business_seconds"`
	// StoppedAt is when the clock stopped, if it has.
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
}

// TicketOpened is published once per ticket, from a web form or opened by
// staff for a caller.
type TicketOpened struct {
	Metadata
	Ticket
	FirstResponse SLAClock `json:"first_response"`
	Resolution    SLAClock `json:"resolution"`
	// FollowsTicketID names the closed ticket a customer answered, when
	// the answer opened this one.
	FollowsTicketID string `json:"follows_ticket_id,omitempty"`
}

// EventSource implements Detail.
func (TicketOpened) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketOpened) DetailType() string { return TicketOpenedType }

// TicketUpdated is published for every change staff make to a ticket's
// status, priority, owner, kind or category, and for a customer's answer
// that moves it; Version is the ticket's version after the change.
type TicketUpdated struct {
	Metadata
	Ticket
	Version int64 `json:"version"`
	// Changes names what changed: status, priority, owner, kind, category.
	Changes          []string `json:"changes"`
	Status           string   `json:"status"`
	PreviousStatus   string   `json:"previous_status,omitempty"`
	PreviousPriority string   `json:"previous_priority,omitempty"`
	PreviousOwner    string   `json:"previous_owner,omitempty"`
}

// EventSource implements Detail.
func (TicketUpdated) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketUpdated) DetailType() string { return TicketUpdatedType }

// TicketReplied is published for every message added to a ticket's
// thread: a staff reply (public), an internal note (not public) or the
// customer's answer (By "customer").
type TicketReplied struct {
	Metadata
	Ticket
	ReplyID string `json:"reply_id"`
	// By is "staff" or "customer".
	By     string `json:"by"`
	Public bool   `json:"public"`
	// FirstResponse is true for the staff reply that stopped the
	// first-response clock; FirstResponseSLA then says met or breached,
	// and FirstResponseSeconds is the wall time from opening to it.
	FirstResponse        bool   `json:"first_response"`
	FirstResponseSLA     string `json:"first_response_sla,omitempty"`
	FirstResponseSeconds int64  `json:"first_response_seconds,omitempty"`
	// RepliedAt is when the message was written.
	RepliedAt time.Time `json:"replied_at"`
	// Solved is true for a staff reply sent with status solved: the reply
	// and the solve are one change (and ticket.solved names the reply).
	Solved bool `json:"solved,omitempty"`
}

// EventSource implements Detail.
func (TicketReplied) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketReplied) DetailType() string { return TicketRepliedType }

// TicketSolved is published each time a ticket is solved.
type TicketSolved struct {
	Metadata
	Ticket
	SolvedAt time.Time `json:"solved_at"`
	// FirstResponseStopped is true when solving stopped a first-response
	// clock no reply had stopped (the ticket was solved unanswered);
	// FirstResponse.Status then says met or breached.
	FirstResponseStopped bool     `json:"first_response_stopped"`
	FirstResponse        SLAClock `json:"first_response"`
	Resolution           SLAClock `json:"resolution"`
	// Reopened counts the times the ticket was reopened before.
	Reopened int `json:"reopened"`
	// ReplyID names the public staff reply the ticket was solved with, in
	// the same change; empty for a solve on its own.
	ReplyID string `json:"reply_id,omitempty"`
}

// EventSource implements Detail.
func (TicketSolved) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketSolved) DetailType() string { return TicketSolvedType }

// TicketReopened is published when a solved ticket is opened again, by
// the customer's answer or by staff.
type TicketReopened struct {
	Metadata
	Ticket
	// By is "staff" or "customer".
	By         string    `json:"by"`
	SolvedAt   time.Time `json:"solved_at"`
	ReopenedAt time.Time `json:"reopened_at"`
}

// EventSource implements Detail.
func (TicketReopened) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketReopened) DetailType() string { return TicketReopenedType }

// TicketClosed is published once per ticket, when it closes for good: by
// staff, or by itself some days after it was solved. It carries the final
// SLA outcome, so the scorecard counts each ticket's resolution once.
type TicketClosed struct {
	Metadata
	Ticket
	SolvedAt time.Time `json:"solved_at"`
	ClosedAt time.Time `json:"closed_at"`
	// By is "staff" or "auto".
	By string `json:"by"`
	// FirstResponseStopped is true when closing stopped a first-response
	// clock that no reply or solve had stopped (closed straight from work,
	// unanswered); FirstResponse.Status then says met or breached.
	FirstResponseStopped bool     `json:"first_response_stopped"`
	FirstResponse        SLAClock `json:"first_response"`
	Resolution           SLAClock `json:"resolution"`
	// ResolutionSeconds is the wall time from opening to the last solve.
	ResolutionSeconds int64 `json:"resolution_seconds"`
}

// EventSource implements Detail.
func (TicketClosed) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketClosed) DetailType() string { return TicketClosedType }

// TicketSLA is what an SLA timer's event says: which clock reached which
// stage of its target, and the deadline it was racing.
type TicketSLA struct {
	Ticket
	// Clock is first_response or resolution.
	Clock string `json:"clock"`
	// TargetAt is the clock's deadline as it stood when the timer was
	// armed.
	TargetAt time.Time `json:"target_at"`
	// TargetSeconds is the clock's target in business seconds.
	TargetSeconds int64 `json:"target_seconds"`
}

// TicketSLAWarning is fired by a timer when 75% of a clock's target has
// elapsed and the clock still runs; the owner (or the managers, for an
// unassigned ticket) is emailed.
type TicketSLAWarning struct {
	Metadata
	TicketSLA
}

// EventSource implements Detail.
func (TicketSLAWarning) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketSLAWarning) DetailType() string { return TicketSLAWarningType }

// TicketSLABreached is fired by a timer at a clock's deadline when it has
// not stopped in time; the owner and the managers are emailed. Each clock
// of a ticket breaches at most once.
type TicketSLABreached struct {
	Metadata
	TicketSLA
}

// EventSource implements Detail.
func (TicketSLABreached) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketSLABreached) DetailType() string { return TicketSLABreachedType }

// TicketSLAEscalated is fired by a timer when a breached clock is still
// not stopped after another half of its target; the admins are emailed.
type TicketSLAEscalated struct {
	Metadata
	TicketSLA
}

// EventSource implements Detail.
func (TicketSLAEscalated) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketSLAEscalated) DetailType() string { return TicketSLAEscalatedType }

// TicketCloseDue is fired by a timer some days after a ticket was solved;
// the tickets domain closes it if it is still solved since SolvedAt.
type TicketCloseDue struct {
	Metadata
	TicketID string    `json:"ticket_id"`
	SolvedAt time.Time `json:"solved_at"`
}

// EventSource implements Detail.
func (TicketCloseDue) EventSource() string { return SourceTickets }

// DetailType implements Detail.
func (TicketCloseDue) DetailType() string { return TicketCloseDueType }
