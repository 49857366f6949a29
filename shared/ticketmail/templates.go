package ticketmail

import (
	"embed"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/ticket"
)

//go:embed templates
var templateFiles embed.FS

// mails are the kinds of ticket mail: to the requester "received",
// "reply" and "solved"; to staff "answered" and "sla".
var mails = email.MustParseFS(templateFiles, "templates")

// render renders kind for one recipient, in the ticket's thread so a mail
// program groups a ticket's mail.
func render(kind, to, ticketID string, data any) (email.Message, error) {
	m, err := mails.Render(kind, data)
	m.To, m.Thread = []string{to}, "ticket/"+ticketID
	return m, err
}

// requesterData fills the mail to a ticket's requester.
type requesterData struct {
	// Name, Subject, ID and Reference are the requester's name, the
	// ticket's subject, its id and the requester's own reference.
	Name, Subject, ID, Reference string
	// Link opens their page until LinkUntil.
	Link, LinkUntil string
	// Body and From are a staff reply and its author's name.
	Body, From string
	// Within and Until say how long an answer reopens a solved ticket.
	Within, Until string
}

// staffData fills the mail to staff about a ticket.
type staffData struct {
	// Name is the recipient's.
	Name string
	// Subject, ID, Kind and Priority describe the ticket; Requester and
	// RequesterEmail who asked; Owner the owner's name, Unassigned when
	// there is none.
	Subject, ID, Kind, Priority string
	Requester, RequesterEmail   string
	Owner                       string
	Unassigned                  bool
	// Link opens the ticket in Rapport.
	Link string
	// Body is the customer's answer.
	Body string
	// Stage (warning, breached, escalated), Clock (first response,
	// resolution) and Deadline, in the recipient's zone, describe an SLA
	// stage.
	Stage, Clock, Deadline string
	deadline               time.Time
}

// fill completes d for recipient r, in zone.
func (d *staffData) fill(t ticket.Ticket, r reminders.Recipient, appURL, owner string, zone *time.Location) {
	d.Name, d.Subject, d.ID, d.Kind, d.Priority = r.Name, t.Subject, t.ID, string(t.Kind), string(t.Priority)
	d.Requester, d.RequesterEmail = t.Requester.Name, t.Requester.Email
	d.Owner, d.Unassigned = owner, t.Owner == ""
	d.Link = appURL + "/tickets/" + t.ID
	if !d.deadline.IsZero() {
		d.Deadline = longTime(d.deadline, zone)
	}
}

// longTime writes an instant for a person in zone.
func longTime(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("Monday 2 January 2006, 15:04 MST")
}

// longDay writes the day of an instant in zone.
func longDay(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("Monday 2 January 2006")
}

// span writes a duration as people say it: "7 days", "36 hours".
func span(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d%day == 0:
		return plural(int(d/day), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/time.Minute), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
