package app

import (
	"context"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/staff"
	"github.com/rapportcrm/rapport/shared/ticket"
	"github.com/rapportcrm/rapport/shared/ticketmail"
)

// ticketDomain is the tickets domain over the table, with the SLA
// targets, calendar and auto-close settings of the configuration, reading
// owners' teams from their staff profiles.
func ticketDomain(d Deps) *ticket.Service {
	return &ticket.Service{
		Store:        &dynamo.TicketStore{Client: d.DynamoDB, Table: d.Config.TableName},
		Rules:        ticket.Rules{Policies: d.Config.SLAPolicies, Calendar: d.Config.Calendar},
		Teams:        teamsOfStaff{StaffService(d)},
		CloseAfter:   d.Config.TicketCloseAfter,
		ReopenWithin: d.Config.TicketReopenWithin,
		Now:          d.Now,
	}
}

// ticketNotifier is the ticket mail the reminders function sends, over
// the tickets domain, the staff profiles and the link keyring.
func ticketNotifier(d Deps, tickets *ticket.Service) *ticketmail.Notifier {
	return &ticketmail.Notifier{
		Tickets:      tickets,
		Staff:        staffRecipients{StaffService(d)},
		Links:        d.Links,
		Mail:         d.Mail,
		Log:          &dynamo.MailLog{Client: d.DynamoDB, Table: d.Config.TableName},
		AppURL:       d.Config.AppURL,
		OrgZone:      d.Config.TimeZone,
		ReopenWithin: d.Config.TicketReopenWithin,
		Logger:       d.Log,
		Now:          d.Now,
	}
}

// teamsOfStaff gives an owner's team from their staff profile; "" when
// they have none.
type teamsOfStaff struct{ staff *staff.Service }

func (t teamsOfStaff) TeamOf(ctx context.Context, sub string) (string, error) {
	p, err := t.staff.Profile(ctx, sub)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return "", nil
	}
	return p.Team, err
}

// maxEscalation bounds the staff of one role a ticket mail goes to.
const maxEscalation = 500

// WithRole lists the staff of role, of team when team is not "", with an
// address, for the ticket mail.
func (r staffRecipients) WithRole(ctx context.Context, role, team string) ([]reminders.Recipient, error) {
	var out []reminders.Recipient
	f := staff.Filter{Role: role, Team: team, Limit: staff.MaxPage}
	for {
		page, err := r.staff.List(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if p.Email != "" {
				out = append(out, toRecipient(p))
			}
		}
		if page.NextCursor == "" || len(out) >= maxEscalation {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}
