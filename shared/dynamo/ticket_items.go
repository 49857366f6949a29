package dynamo

import (
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// ticketItem is a ticket as stored.
type ticketItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	GSI1PK string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK string `dynamodbav:"gsi1sk,omitempty"`
	GSI2PK string `dynamodbav:"gsi2pk"`
	GSI2SK string `dynamodbav:"gsi2sk"`
	GSI3PK string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK string `dynamodbav:"gsi3sk,omitempty"`
	GSI4PK string `dynamodbav:"gsi4pk,omitempty"`
	GSI4SK string `dynamodbav:"gsi4sk,omitempty"`

	ID         string            `dynamodbav:"id"`
	Subject    string            `dynamodbav:"subject"`
	Kind       string            `dynamodbav:"kind"`
	Category   string            `dynamodbav:"category,omitempty"`
	Reference  string            `dynamodbav:"reference,omitempty"`
	Channel    string            `dynamodbav:"channel"`
	Priority   string            `dynamodbav:"priority"`
	Status     string            `dynamodbav:"status"`
	Requester  requesterItem     `dynamodbav:"requester"`
	CustomerID string            `dynamodbav:"customer_id,omitempty"`
	Owner      string            `dynamodbav:"owner,omitempty"`
	Team       string            `dynamodbav:"team,omitempty"`
	Custom     map[string]string `dynamodbav:"custom,omitempty"`
	OpenedBy   string            `dynamodbav:"opened_by,omitempty"`
	FollowsID  string            `dynamodbav:"follows_id,omitempty"`

	OpenedAt        string `dynamodbav:"opened_at"`
	UpdatedAt       string `dynamodbav:"updated_at"`
	FirstResponseAt string `dynamodbav:"first_response_at,omitempty"`
	SolvedAt        string `dynamodbav:"solved_at,omitempty"`
	ClosedAt        string `dynamodbav:"closed_at,omitempty"`
	Reopened        int    `dynamodbav:"reopened,omitempty"`

	History      []changeItem      `dynamodbav:"history"`
	Timers       map[string]string `dynamodbav:"timers,omitempty"`
	Fired        []string          `dynamodbav:"fired,omitempty"`
	NextDeadline string            `dynamodbav:"next_deadline,omitempty"`
	WarningAt    string            `dynamodbav:"warning_at,omitempty"`
	Version      int64             `dynamodbav:"version"`
}

type requesterItem struct {
	Name  string `dynamodbav:"name,omitempty"`
	Email string `dynamodbav:"email,omitempty"`
	Phone string `dynamodbav:"phone,omitempty"`
}

// changeItem is one entry of a ticket's SLA history.
type changeItem struct {
	At       string `dynamodbav:"at"`
	Status   string `dynamodbav:"status,omitempty"`
	Priority string `dynamodbav:"priority,omitempty"`
	Replied  bool   `dynamodbav:"replied,omitempty"`
}

// ticketEntryItem is a timeline entry as stored, in its ticket's partition.
type ticketEntryItem struct {
	PK           string   `dynamodbav:"pk"`
	SK           string   `dynamodbav:"sk"`
	Type         string   `dynamodbav:"type"`
	ID           string   `dynamodbav:"id"`
	TicketID     string   `dynamodbav:"ticket_id"`
	At           string   `dynamodbav:"at"`
	Kind         string   `dynamodbav:"kind"`
	Author       string   `dynamodbav:"author,omitempty"`
	Body         string   `dynamodbav:"body,omitempty"`
	FromStatus   string   `dynamodbav:"from_status,omitempty"`
	ToStatus     string   `dynamodbav:"to_status,omitempty"`
	FromPriority string   `dynamodbav:"from_priority,omitempty"`
	ToPriority   string   `dynamodbav:"to_priority,omitempty"`
	FromOwner    string   `dynamodbav:"from_owner,omitempty"`
	ToOwner      string   `dynamodbav:"to_owner,omitempty"`
	Changes      []string `dynamodbav:"changes,omitempty"`
}

// ticketKeyItem makes repeated submissions one ticket: the submission's
// dedupe key names the ticket it opened until expires_at (TTL removes it
// later), and the fingerprint tells a retry from a reused key.
type ticketKeyItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	TicketID    string `dynamodbav:"ticket_id"`
	Fingerprint string `dynamodbav:"fingerprint"`
	ExpiresAt   int64  `dynamodbav:"expires_at"`
}

// queueKey sorts a ticket in its queues: by its next deadline, and after
// every ticket with one, by when it was opened.
func queueKey(t ticket.Ticket) string {
	if t.NextDeadline.IsZero() {
		return noDeadline + formatTime(t.OpenedAt) + "#" + t.ID
	}
	return formatTime(t.NextDeadline) + "#" + t.ID
}

func ownerQueue(owner string) string {
	if owner == "" {
		owner = unassignedOwner
	}
	return ticketsByOwner + owner
}

// instant formats t, or "" for the zero time (parseTime reads "" back as
// the zero time).
func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func toTicketItem(t ticket.Ticket) ticketItem {
	qk := queueKey(t)
	it := ticketItem{
		PK: ticketPrefix + t.ID, SK: ticketSK, Type: typeTicket,
		GSI2PK: ticketsByStatus + string(t.Status), GSI2SK: qk,
		ID: t.ID, Subject: t.Subject, Kind: string(t.Kind), Category: t.Category, Reference: t.Reference,
		Channel: string(t.Channel), Priority: string(t.Priority), Status: string(t.Status),
		Requester:  requesterItem{Name: t.Requester.Name, Email: t.Requester.Email, Phone: t.Requester.Phone},
		CustomerID: t.CustomerID, Owner: t.Owner, Team: t.Team, Custom: t.Custom,
		OpenedBy: t.OpenedBy, FollowsID: t.FollowsID,
		OpenedAt: formatTime(t.OpenedAt), UpdatedAt: formatTime(t.UpdatedAt),
		FirstResponseAt: formatTimePtr(t.FirstResponseAt), SolvedAt: formatTimePtr(t.SolvedAt),
		ClosedAt: formatTimePtr(t.ClosedAt), Reopened: t.Reopened,
		History:      make([]changeItem, len(t.History)),
		NextDeadline: instant(t.NextDeadline), WarningAt: instant(t.WarningAt), Version: t.Version,
	}
	if t.Status.Active() {
		it.GSI1PK, it.GSI1SK = activeTickets, qk
		it.GSI3PK, it.GSI3SK = ownerQueue(t.Owner), qk
	}
	if t.CustomerID != "" {
		it.GSI4PK, it.GSI4SK = ticketsOfCustomer+t.CustomerID, formatTime(t.OpenedAt)+"#"+t.ID
	}
	for i, c := range t.History {
		it.History[i] = changeItem{At: formatTime(c.At), Status: string(c.Status), Priority: string(c.Priority), Replied: c.Replied}
	}
	if len(t.Timers) > 0 {
		it.Timers = make(map[string]string, len(t.Timers))
		for id, due := range t.Timers {
			it.Timers[ownTimer(t.ID, id)] = formatTime(due)
		}
	}
	for _, id := range t.Fired {
		it.Fired = append(it.Fired, ownTimer(t.ID, id))
	}
	return it
}

// A ticket's timer ids start with "ticket#<id>#"; its item stores them
// without it, which keeps the item of a fresh ticket under 1 KB, where
// each of its writes (and of its three index entries) costs half.
const timerOfTicket = "ticket#"

func ownTimer(ticketID, timerID string) string {
	return strings.TrimPrefix(timerID, timerOfTicket+ticketID+"#")
}

func ticketTimer(ticketID, stored string) string {
	if strings.HasPrefix(stored, timerOfTicket) {
		return stored
	}
	return timerOfTicket + ticketID + "#" + stored
}

func toTicket(it ticketItem) ticket.Ticket {
	t := ticket.Ticket{
		ID: it.ID, Subject: it.Subject, Kind: ticket.Kind(it.Kind), Category: it.Category, Reference: it.Reference,
		Channel: ticket.Channel(it.Channel), Priority: sla.Priority(it.Priority), Status: ticket.Status(it.Status),
		Requester:  ticket.Requester{Name: it.Requester.Name, Email: it.Requester.Email, Phone: it.Requester.Phone},
		CustomerID: it.CustomerID, Owner: it.Owner, Team: it.Team, Custom: it.Custom,
		OpenedBy: it.OpenedBy, FollowsID: it.FollowsID,
		OpenedAt: parseTime(it.OpenedAt), UpdatedAt: parseTime(it.UpdatedAt),
		FirstResponseAt: parseTimePtr(it.FirstResponseAt), SolvedAt: parseTimePtr(it.SolvedAt),
		ClosedAt: parseTimePtr(it.ClosedAt), Reopened: it.Reopened,
		History: make([]ticket.Change, len(it.History)), Timers: make(map[string]time.Time, len(it.Timers)),
		NextDeadline: parseTime(it.NextDeadline), WarningAt: parseTime(it.WarningAt), Version: it.Version,
	}
	for i, c := range it.History {
		t.History[i] = ticket.Change{At: parseTime(c.At), Status: ticket.Status(c.Status), Priority: sla.Priority(c.Priority), Replied: c.Replied}
	}
	for id, due := range it.Timers {
		t.Timers[ticketTimer(it.ID, id)] = parseTime(due)
	}
	for _, id := range it.Fired {
		t.Fired = append(t.Fired, ticketTimer(it.ID, id))
	}
	return t
}

// toTicketEntryItem stores e as the n-th entry of its write, so entries
// written together at one instant keep their order.
func toTicketEntryItem(e ticket.Entry, n int) ticketEntryItem {
	return ticketEntryItem{
		PK: ticketPrefix + e.TicketID, SK: timelinePrefix + formatTime(e.At) + "#" + strconv.Itoa(n) + "#" + e.ID,
		Type: typeTicketEntry, ID: e.ID, TicketID: e.TicketID, At: formatTime(e.At), Kind: string(e.Kind),
		Author: e.Author, Body: e.Body,
		FromStatus: string(e.FromStatus), ToStatus: string(e.ToStatus),
		FromPriority: string(e.FromPriority), ToPriority: string(e.ToPriority),
		FromOwner: e.FromOwner, ToOwner: e.ToOwner, Changes: e.Changes,
	}
}

func toTicketEntry(it ticketEntryItem) ticket.Entry {
	return ticket.Entry{
		ID: it.ID, TicketID: it.TicketID, At: parseTime(it.At), Kind: ticket.EntryKind(it.Kind),
		Author: it.Author, Body: it.Body,
		FromStatus: ticket.Status(it.FromStatus), ToStatus: ticket.Status(it.ToStatus),
		FromPriority: sla.Priority(it.FromPriority), ToPriority: sla.Priority(it.ToPriority),
		FromOwner: it.FromOwner, ToOwner: it.ToOwner, Changes: it.Changes,
	}
}
