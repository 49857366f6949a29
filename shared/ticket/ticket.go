// Package ticket is the tickets domain: service requests and complaints,
// the customer's grievance channel, with two SLA clocks each (first
// response and resolution) on the organisation's business calendar.
//
// A ticket keeps the short history of what its clocks depend on (its
// status and priority changes and its first reply) and rebuilds the clocks
// from it with shared/sla, so the clocks come out the same on every read.
// After every change the ticket arms, moves or cancels its SLA timers
// (shared/timer) in the same write as the change: a warning at 75% of a
// target, the breach at 100% and an escalation at 150%, each firing once,
// and the auto-close some days after it is solved.
//
// The package is pure: the store, the staff directory and the clock come
// in through interfaces.
package ticket

import (
	"time"

	"github.com/rapportcrm/rapport/shared/sla"
)

// Status is where a ticket stands.
type Status string

// Statuses. New, Open, Pending and OnHold are active: the ticket waits on
// staff (new, open), on the customer (pending) or on a third party
// (on_hold). Solved waits for the customer to confirm; Closed is final.
const (
	StatusNew     Status = "new"
	StatusOpen    Status = "open"
	StatusPending Status = "pending"
	StatusOnHold  Status = "on_hold"
	StatusSolved  Status = "solved"
	StatusClosed  Status = "closed"
)

// Statuses lists every status in the order a ticket usually passes them.
var Statuses = []Status{StatusNew, StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed}

// ParseStatus reads a status.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Active reports whether a ticket in status s is still being worked.
func (s Status) Active() bool {
	return s == StatusNew || s == StatusOpen || s == StatusPending || s == StatusOnHold
}

// waiting reports whether the resolution clock pauses in s: the ticket
// waits on the customer or a third party, or for the customer to confirm
// it is solved.
func (s Status) waiting() bool {
	return s == StatusPending || s == StatusOnHold || s == StatusSolved
}

// transitions lists the statuses each status may move to by hand. A
// solved ticket goes back to open (reopen) or on to closed; closed is
// final, and new is only where a ticket starts.
var transitions = map[Status][]Status{
	StatusNew:     {StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed},
	StatusOpen:    {StatusPending, StatusOnHold, StatusSolved, StatusClosed},
	StatusPending: {StatusOpen, StatusOnHold, StatusSolved, StatusClosed},
	StatusOnHold:  {StatusOpen, StatusPending, StatusSolved, StatusClosed},
	StatusSolved:  {StatusOpen, StatusClosed},
}

// CanMove reports whether a ticket may move from one status to another by
// hand.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Kind says what a ticket is about.
type Kind string

// Kinds. A complaint is the customer's grievance; the scorecard's
// complaint rate counts them.
const (
	KindRequest   Kind = "request"
	KindQuestion  Kind = "question"
	KindComplaint Kind = "complaint"
	KindIncident  Kind = "incident"
)

// Kinds lists every kind.
var Kinds = []Kind{KindRequest, KindQuestion, KindComplaint, KindIncident}

// ParseKind reads a kind; "" is a request.
func ParseKind(s string) (Kind, bool) {
	if s == "" {
		return KindRequest, true
	}
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// Channel says how a ticket came in.
type Channel string

// Channels. Web forms open web tickets; staff open the others for a caller.
const (
	ChannelWeb   Channel = "web"
	ChannelEmail Channel = "email"
	ChannelPhone Channel = "phone"
	ChannelChat  Channel = "chat"
)

// Channels lists every channel.
var Channels = []Channel{ChannelWeb, ChannelEmail, ChannelPhone, ChannelChat}

// ParseChannel reads a channel.
func ParseChannel(s string) (Channel, bool) {
	for _, c := range Channels {
		if string(c) == s {
			return c, true
		}
	}
	return "", false
}

// Requester is the person who asked: how we answer them.
type Requester struct {
	Name  string
	Email string
	Phone string
}

// Ticket is a service request or complaint.
type Ticket struct {
	ID        string
	Subject   string
	Kind      Kind
	Category  string
	Reference string // the customer's order or reference number
	Channel   Channel
	Priority  sla.Priority
	Status    Status
	Requester Requester
	// CustomerID is the customer record with the requester's email, if one
	// existed when the ticket was opened.
	CustomerID string
	Owner      string // a staff user id; "" is the unassigned queue
	Team       string // the owner's team when assigned
	Custom     map[string]string
	// OpenedBy is the staff user who opened the ticket for a caller; ""
	// for a web form.
	OpenedBy string
	// FollowsID is the closed ticket whose customer answer opened this one.
	FollowsID string

	OpenedAt        time.Time
	UpdatedAt       time.Time
	FirstResponseAt *time.Time // the first public staff reply
	SolvedAt        *time.Time // the latest solve
	ClosedAt        *time.Time
	Reopened        int // times reopened after a solve

	// History is what the SLA clocks are rebuilt from, oldest first: the
	// opening, every status and priority change, the first reply.
	History []Change
	// Timers are the timers the ticket has armed and that have not fallen
	// due yet, by id, with their due instants. Fired lists the ids of
	// those whose instant has passed: a stage fires once, so they are
	// never armed again.
	Timers map[string]time.Time
	Fired  []string

	// NextDeadline and WarningAt are derived from the clocks on every
	// write (Rules.NextDeadline, Rules.WarningAt), so the store can list
	// tickets by deadline and find those at risk; zero when no clock runs.
	NextDeadline time.Time
	WarningAt    time.Time

	Version int64
}

// Change is one entry of a ticket's SLA history.
type Change struct {
	At time.Time
	// Status is the status the ticket moved to, or "".
	Status Status
	// Priority is the priority it took, or "".
	Priority sla.Priority
	// Replied marks the first public staff reply.
	Replied bool
}

// MaxHistory bounds a ticket's SLA history; a ticket changed more often is
// refused further status and priority changes with a conflict, which no
// real ticket meets and which keeps its item far below DynamoDB's 400 KB.
const MaxHistory = 500

// EntryKind says what a timeline entry records.
type EntryKind string

// Timeline entry kinds.
const (
	// EntryMessage is what the requester wrote: the opening message and
	// every answer on the customer page.
	EntryMessage EntryKind = "message"
	// EntryReply is a staff reply the customer is emailed.
	EntryReply EntryKind = "reply"
	// EntryNote is an internal note; customers never see it.
	EntryNote EntryKind = "note"
	// EntryChange records a change of status, priority, owner, kind or
	// category.
	EntryChange EntryKind = "change"
)

// Entry is one item of a ticket's timeline.
type Entry struct {
	ID       string
	TicketID string
	At       time.Time
	Kind     EntryKind
	// Author is the staff user id, or "" for the requester.
	Author string
	Body   string

	FromStatus, ToStatus     Status
	FromPriority, ToPriority sla.Priority
	FromOwner, ToOwner       string
	// Changes names the fields an EntryChange changed.
	Changes []string
}

// Public reports whether the customer sees the entry on their page.
func (e Entry) Public() bool { return e.Kind == EntryMessage || e.Kind == EntryReply }

// Detail is a ticket with its timeline, oldest first, and its clocks.
type Detail struct {
	Ticket        Ticket
	Timeline      []Entry
	FirstResponse sla.Snapshot
	Resolution    sla.Snapshot
}
