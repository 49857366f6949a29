package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// The JSON shapes of tickets, as documented in docs/openapi.json.

type requesterJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// clockJSON is one SLA clock as it stands.
type clockJSON struct {
	// TargetAt is null while the clock is paused before its deadline (the
	// deadline moves on when it resumes).
	TargetAt               *time.Time `json:"target_at"`
	Status                 sla.Status `json:"status"`
	ElapsedBusinessSeconds int64      `json:"elapsed_business_seconds"`
	StoppedAt              *time.Time `json:"stopped_at"`
}

func toClockJSON(s sla.Snapshot) clockJSON {
	return clockJSON{TargetAt: timeOrNil(s.TargetAt), Status: s.Status,
		ElapsedBusinessSeconds: int64(s.Elapsed / time.Second), StoppedAt: timeOrNil(s.StoppedAt)}
}

type slaJSON struct {
	FirstResponse clockJSON `json:"first_response"`
	Resolution    clockJSON `json:"resolution"`
}

type ticketJSON struct {
	ID              string            `json:"id"`
	Subject         string            `json:"subject"`
	Kind            ticket.Kind       `json:"kind"`
	Category        string            `json:"category"`
	Reference       string            `json:"reference"`
	Channel         ticket.Channel    `json:"channel"`
	Priority        sla.Priority      `json:"priority"`
	Status          ticket.Status     `json:"status"`
	Requester       requesterJSON     `json:"requester"`
	CustomerID      *string           `json:"customer_id"`
	Owner           *string           `json:"owner"`
	Team            *string           `json:"team"`
	Custom          map[string]string `json:"custom"`
	OpenedBy        *string           `json:"opened_by"`
	FollowsID       *string           `json:"follows_id"`
	OpenedAt        time.Time         `json:"opened_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	FirstResponseAt *time.Time        `json:"first_response_at"`
	SolvedAt        *time.Time        `json:"solved_at"`
	ClosedAt        *time.Time        `json:"closed_at"`
	Reopened        int               `json:"reopened"`
	SLA             slaJSON           `json:"sla"`
	Version         int64             `json:"version"`
}

func toTicketJSON(t ticket.Ticket, first, resolution sla.Snapshot) ticketJSON {
	custom := t.Custom
	if custom == nil {
		custom = map[string]string{}
	}
	return ticketJSON{
		ID: t.ID, Subject: t.Subject, Kind: t.Kind, Category: t.Category, Reference: t.Reference,
		Channel: t.Channel, Priority: t.Priority, Status: t.Status,
		Requester:  requesterJSON{Name: t.Requester.Name, Email: t.Requester.Email, Phone: t.Requester.Phone},
		CustomerID: orNil(t.CustomerID), Owner: orNil(t.Owner), Team: orNil(t.Team), Custom: custom,
		OpenedBy: orNil(t.OpenedBy), FollowsID: orNil(t.FollowsID),
		OpenedAt: t.OpenedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
		FirstResponseAt: utcOrNil(t.FirstResponseAt), SolvedAt: utcOrNil(t.SolvedAt), ClosedAt: utcOrNil(t.ClosedAt),
		Reopened: t.Reopened, SLA: slaJSON{FirstResponse: toClockJSON(first), Resolution: toClockJSON(resolution)},
		Version: t.Version,
	}
}

// ticketEntryJSON is one item of a ticket's timeline.
type ticketEntryJSON struct {
	ID   string           `json:"id"`
	At   time.Time        `json:"at"`
	Kind ticket.EntryKind `json:"kind"`
	// Author is the staff user id; null for the requester.
	Author  *string      `json:"author"`
	Body    string       `json:"body"`
	Changes []changeJSON `json:"changes"`
}

// changeJSON is one field a change entry changed. For status, priority
// and owner it shows from and to (an owner of null is the unassigned
// queue); for kind and category the timeline keeps only that they changed.
type changeJSON struct {
	Field    string
	From, To *string
}

// MarshalJSON writes from and to only for the fields that record them.
func (c changeJSON) MarshalJSON() ([]byte, error) {
	switch c.Field {
	case "status", "priority", "owner":
		return json.Marshal(struct {
			Field string  `json:"field"`
			From  *string `json:"from"`
			To    *string `json:"to"`
		}{c.Field, c.From, c.To})
	}
	return json.Marshal(struct {
		Field string `json:"field"`
	}{c.Field})
}

func toTicketEntryJSON(e ticket.Entry) ticketEntryJSON {
	j := ticketEntryJSON{ID: e.ID, At: e.At.UTC(), Kind: e.Kind, Author: orNil(e.Author), Body: e.Body, Changes: []changeJSON{}}
	for _, f := range e.Changes {
		c := changeJSON{Field: f}
		switch f {
		case "status":
			c.From, c.To = orNil(string(e.FromStatus)), orNil(string(e.ToStatus))
		case "priority":
			c.From, c.To = orNil(string(e.FromPriority)), orNil(string(e.ToPriority))
		case "owner":
			c.From, c.To = orNil(e.FromOwner), orNil(e.ToOwner)
		}
		j.Changes = append(j.Changes, c)
	}
	return j
}

type ticketDetailJSON struct {
	ticketJSON
	Timeline []ticketEntryJSON `json:"timeline"`
}

func toTicketDetailJSON(d ticket.Detail) ticketDetailJSON {
	j := ticketDetailJSON{ticketJSON: toTicketJSON(d.Ticket, d.FirstResponse, d.Resolution), Timeline: make([]ticketEntryJSON, len(d.Timeline))}
	for i, e := range d.Timeline {
		j.Timeline[i] = toTicketEntryJSON(e)
	}
	return j
}

// CustomerTickets reads a customer's latest tickets, newest first, to show
// with the customer.
type CustomerTickets interface {
	OfCustomer(ctx context.Context, customerID string, limit int) ([]ticket.Ticket, error)
}

// customerTicketsShown is how many of a customer's tickets their record
// shows.
const customerTicketsShown = 20

// customerTicketJSON is a ticket as a customer's record lists it.
type customerTicketJSON struct {
	ID       string        `json:"id"`
	Subject  string        `json:"subject"`
	Kind     ticket.Kind   `json:"kind"`
	Status   ticket.Status `json:"status"`
	Priority sla.Priority  `json:"priority"`
	OpenedAt time.Time     `json:"opened_at"`
}

// customerTicketsJSON lists a customer's latest tickets; none when the
// handler has no reader.
func customerTicketsJSON(ctx context.Context, r CustomerTickets, customerID string) ([]customerTicketJSON, error) {
	out := []customerTicketJSON{}
	if r == nil {
		return out, nil
	}
	tickets, err := r.OfCustomer(ctx, customerID, customerTicketsShown)
	if err != nil {
		return nil, err
	}
	for _, t := range tickets {
		out = append(out, customerTicketJSON{ID: t.ID, Subject: t.Subject, Kind: t.Kind, Status: t.Status,
			Priority: t.Priority, OpenedAt: t.OpenedAt.UTC()})
	}
	return out, nil
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return timeOrNil(*t)
}
