// Package ticketmail is the mail tickets send: to the requester, the
// acknowledgement of a new ticket, every public staff reply and the solve,
// each with the signed link to their page (/t/{token}); to staff, the
// customer's answers and the SLA warnings, breaches and escalations, each
// with the link to the ticket (/tickets/{id}).
//
// Each mail goes at most once per event and recipient (reminders.Once).
// Staff mail is written in the recipient's time zone, the requester's in
// the organisation's. Mail for a stage that no longer stands (a warning
// for a clock that has stopped, a solve since reopened) is not sent.
//
// It is pure: the tickets, the staff directory, the signing keys and the
// mail transport come in through interfaces.
package ticketmail

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// Tickets reads tickets; *ticket.Service implements it.
type Tickets interface {
	// Ticket returns a ticket; ENOTFOUND if none.
	Ticket(ctx context.Context, id string) (ticket.Ticket, error)
	// Detail returns a ticket with its timeline; ENOTFOUND if none.
	Detail(ctx context.Context, id string) (ticket.Detail, error)
	// StillDue returns the ticket an SLA event names and whether its
	// clock still runs; false for a ticket that is gone.
	StillDue(ctx context.Context, e events.TicketSLA) (ticket.Ticket, bool, error)
}

var _ Tickets = (*ticket.Service)(nil)

// Staff reads the staff that ticket mail goes to.
type Staff interface {
	// Recipient returns a staff member's name, address and zone;
	// ENOTFOUND when they have no profile.
	Recipient(ctx context.Context, sub string) (reminders.Recipient, error)
	// WithRole lists the staff whose role is role ("manager", "admin"),
	// of team when team is not "".
	WithRole(ctx context.Context, role, team string) ([]reminders.Recipient, error)
}

// Roles ticket mail escalates to.
const (
	Manager = "manager"
	Admin   = "admin"
)

// Notifier sends the ticket mail.
type Notifier struct {
	Tickets Tickets
	Staff   Staff
	// Links signs the requester's links; without it requester mail fails
	// (and is retried) while staff mail goes.
	Links *links.Keyring
	Mail  email.Sender
	Log   reminders.SendLog
	// AppURL starts every link ("https://crm.example.com").
	AppURL string
	// OrgZone is the zone requester mail is written in, and staff mail for
	// people without a zone of their own.
	OrgZone *time.Location
	// ReopenWithin is how long after a solve the requester's answer
	// reopens the ticket, as the solve's mail tells them.
	ReopenWithin time.Duration
	// Logger, if set, hears of mail the mail service refused for good (an
	// address it will not take): the event is then done, as a retry
	// cannot help. It logs the kind of mail and the ticket id only.
	Logger *slog.Logger
	Now    func() time.Time
}

// Opened acknowledges a new ticket to its requester, when they gave an
// email address.
func (n *Notifier) Opened(ctx context.Context, e events.TicketOpened) error {
	t, err := n.Tickets.Ticket(ctx, e.TicketID)
	if err != nil || t.Requester.Email == "" {
		return ignoreGone(err)
	}
	return n.toRequester(ctx, "received", e.EventID, t, requesterData{})
}

// Replied mails a staff member's public reply to the requester, and a
// customer's answer to the ticket's owner (the managers while it is
// unassigned). Internal notes mail nobody.
func (n *Notifier) Replied(ctx context.Context, e events.TicketReplied) error {
	if !e.Public {
		return nil
	}
	d, err := n.Tickets.Detail(ctx, e.TicketID)
	if err != nil {
		return ignoreGone(err)
	}
	entry, ok := entryOf(d.Timeline, e.ReplyID)
	if !ok || !entry.Public() {
		return nil
	}
	t := d.Ticket
	if e.By == "customer" {
		return n.answered(ctx, e.EventID, t, entry)
	}
	if t.Requester.Email == "" {
		return nil
	}
	data := requesterData{Body: entry.Body}
	if e.Solved && t.SolvedAt != nil {
		// The reply solved the ticket: it says so, and no solve mail
		// follows.
		data.Within, data.Until = n.reopenWindow(*t.SolvedAt)
	}
	if r, err := n.Staff.Recipient(ctx, entry.Author); err == nil {
		data.From = r.Name
	} else if !gone(err) {
		return err
	}
	return n.toRequester(ctx, "reply", e.EventID, t, data)
}

// Solved tells the requester their ticket is solved and how long their
// answer reopens it, unless it was reopened since.
// A solve that came with a public reply was said in the reply's mail.
func (n *Notifier) Solved(ctx context.Context, e events.TicketSolved) error {
	if e.ReplyID != "" {
		return nil
	}
	t, err := n.Tickets.Ticket(ctx, e.TicketID)
	if err != nil || t.Requester.Email == "" {
		return ignoreGone(err)
	}
	if t.Status != ticket.StatusSolved || t.SolvedAt == nil || !t.SolvedAt.Equal(e.SolvedAt) {
		return nil
	}
	data := requesterData{}
	data.Within, data.Until = n.reopenWindow(e.SolvedAt)
	return n.toRequester(ctx, "solved", e.EventID, t, data)
}

// reopenWindow says, for the requester, how long after a solve at
// solvedAt their answer reopens the ticket, and until when.
func (n *Notifier) reopenWindow(solvedAt time.Time) (within, until string) {
	w := n.ReopenWithin
	if w <= 0 {
		w = ticket.DefaultReopenWithin
	}
	return span(w), longTime(solvedAt.Add(w), n.OrgZone)
}

// entryOf finds entry id in a timeline.
func entryOf(timeline []ticket.Entry, id string) (ticket.Entry, bool) {
	for _, en := range timeline {
		if en.ID == id {
			return en, true
		}
	}
	return ticket.Entry{}, false
}

// toRequester renders kind for t's requester, in the organisation's zone,
// with the link to their page, and sends it once per event.
func (n *Notifier) toRequester(ctx context.Context, kind, eventID string, t ticket.Ticket, data requesterData) error {
	if n.Links == nil {
		return errors.New("ticketmail: no link keyring: the requester's link cannot be signed")
	}
	now := n.Now()
	until := now.Add(ticket.LinkTTL)
	link, err := ticket.PageLink(n.Links, n.AppURL, t.ID, until)
	if err != nil {
		return err
	}
	data.Name, data.Subject, data.ID, data.Reference = t.Requester.Name, t.Subject, t.ID, t.Reference
	data.Link = link
	data.LinkUntil = longDay(until, n.OrgZone)
	msg, err := render(kind, t.Requester.Email, t.ID, data)
	if err != nil {
		return err
	}
	return n.send(ctx, kind, eventID, t.ID, msg)
}

// send sends msg once under the event and its recipient. A message the
// mail service refuses for good is logged (kind and ticket only) and
// dropped: a retry would be refused again.
func (n *Notifier) send(ctx context.Context, kind, eventID, ticketID string, msg email.Message) error {
	key := "ticket|" + kind + "|" + eventID + "|" + strings.ToLower(msg.To[0])
	err := reminders.Once{Mail: n.Mail, Log: n.Log, Now: n.Now}.Send(ctx, key, msg)
	if email.Refused(err) {
		if n.Logger != nil {
			n.Logger.WarnContext(ctx, "ticket mail refused by the mail service", "mail", kind, "ticket_id", ticketID, "error", err.Error())
		}
		return nil
	}
	return err
}

// gone reports whether err says the thing read no longer exists.
func gone(err error) bool { return crm.ErrorCode(err) == crm.ENOTFOUND }

// ignoreGone is err, or nil when it says the thing read no longer exists:
// there is nobody left to mail about it.
func ignoreGone(err error) error {
	if gone(err) {
		return nil
	}
	return err
}
