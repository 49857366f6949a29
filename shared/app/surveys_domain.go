package app

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/survey"
	"github.com/rapportcrm/rapport/shared/surveymail"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// surveyDomain is the surveys domain over the table, with the survey
// rules and the business calendar of the configuration: it finds the
// people it invites through the tickets domain and the customers, closes
// the loop with unhappy customers through follow-up tasks, and arms the
// customers' relationship timers. The reminders function runs it on its
// events; the surveys function serves its pages and results.
func surveyDomain(d Deps) *survey.Service {
	table := d.Config.TableName
	return &survey.Service{
		Store:  &dynamo.SurveyStore{Client: d.DynamoDB, Table: table},
		Policy: survey.Policy{Settings: d.Config.Surveys},
		Directory: surveyDirectory{
			tickets: ticketDomain(d),
			leads:   &dynamo.LeadStore{Client: d.DynamoDB, Table: table},
			teams:   teamsOfStaff{StaffService(d)},
		},
		Followups: surveyFollowups{followupService(d)},
		Timers:    &dynamo.TimerStore{Client: d.DynamoDB, Table: table},
		Calendar:  d.Config.Calendar,
		Now:       d.Now,
	}
}

// surveyNotifier is the invitation mail the reminders function sends, over
// the surveys domain and the link keyring.
func surveyNotifier(d Deps, surveys *survey.Service) *surveymail.Notifier {
	return &surveymail.Notifier{
		Invitations: surveys,
		Links:       d.Links,
		Mail:        d.Mail,
		Log:         &dynamo.MailLog{Client: d.DynamoDB, Table: d.Config.TableName},
		AppURL:      d.Config.AppURL,
		OrgName:     d.Config.OrgName,
		OrgZone:     d.Config.TimeZone,
		Logger:      d.Log,
		Now:         d.Now,
	}
}

// surveyDirectory finds the people survey invitations go to: a ticket's
// requester through the tickets domain, a customer through the customer
// records.
type surveyDirectory struct {
	tickets *ticket.Service
	leads   *dynamo.LeadStore
	teams   teamsOfStaff
}

var _ survey.Directory = surveyDirectory{}

// TicketRequester is the ticket's requester's address, with the ticket's
// customer, owner and team.
func (s surveyDirectory) TicketRequester(ctx context.Context, ticketID string) (survey.Contact, error) {
	t, err := s.tickets.Ticket(ctx, ticketID)
	if err != nil {
		return survey.Contact{}, err
	}
	return survey.Contact{Email: t.Requester.Email, CustomerID: t.CustomerID, Owner: t.Owner, Team: t.Team}, nil
}

// Customer is the customer's address, with their owner and the owner's
// team. A customer record has no owner of its own: it is the owner of the
// lead that converted last, who won the customer and got their check-in
// task (followup.Service.LeadConverted), or "" — the unassigned queue the
// managers watch — when that lead has none.
func (s surveyDirectory) Customer(ctx context.Context, customerID string) (survey.Contact, error) {
	c, err := s.leads.Customer(ctx, customerID)
	if err != nil {
		return survey.Contact{}, err
	}
	contact := survey.Contact{Email: c.Customer.Email, CustomerID: customerID, Owner: lastConverter(c)}
	if contact.Owner != "" {
		if contact.Team, err = s.teams.TeamOf(ctx, contact.Owner); err != nil {
			return survey.Contact{}, err
		}
	}
	return contact, nil
}

// lastConverter is the owner of the customer's lead that converted last.
func lastConverter(c crm.CustomerDetail) string {
	var owner string
	var last time.Time
	for _, l := range c.Leads {
		if at := l.Lead.ConvertedAt; at != nil && at.After(last) {
			owner, last = l.Lead.Owner, *at
		}
	}
	return owner
}

// surveyFollowups makes the follow-up task of an unhappy answer.
type surveyFollowups struct{ tasks *followup.Service }

var _ survey.Followups = surveyFollowups{}

// CloseTheLoop makes f's task about its customer; made twice, it is one.
func (s surveyFollowups) CloseTheLoop(ctx context.Context, f survey.FollowUp) error {
	return s.tasks.UnhappyAnswer(ctx, followup.UnhappyAnswer{ID: f.ID, CustomerID: f.CustomerID, Owner: f.Owner, DueAt: f.DueAt, Note: f.Note})
}
