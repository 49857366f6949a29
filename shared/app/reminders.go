package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/staff"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Reminders builds the reminders function's handler for its schedule and
// its bus rules: the minute's timer sweep, the automatic follow-up tasks
// from lead events, the mail for due tasks and daily digests, the ticket
// mail (shared/ticketmail), the auto-close of solved tickets, and the
// surveys' automatic work (surveyDomain): the invitation after a solved
// ticket (cancelled if it is reopened first), a new customer's
// relationship rhythm, sending invitations when their timers fire, their
// mail (shared/surveymail), a follow-up task for an unhappy answer, and
// on Monday mornings the managers' weekly scorecard report (weeklyReport).
// Every case is safe to run twice: tasks and automatic invitations have
// ids derived from what made them, the sweep fires each timer once, each
// mail is sent once (see reminders.SendLog), and a ticket closes only if
// still solved since the solve that armed its timer. A missing mailer is
// a wiring error and panics here, at cold start; without Deps.Links the
// requesters' ticket mail and the survey invitations fail, and are
// retried, while the rest goes.
func Reminders(d Deps) EventHandler {
	if d.Mail == nil {
		panic("app.Reminders: Deps.Mail is nil")
	}
	tasks := followupService(d)
	leads := &dynamo.LeadStore{Client: d.DynamoDB, Table: d.Config.TableName}
	sweeper := timer.Sweeper{Store: &dynamo.TimerStore{Client: d.DynamoDB, Table: d.Config.TableName}, Now: d.Now}
	notifier := &reminders.Notifier{
		Tasks:      tasks,
		Profiles:   staffRecipients{StaffService(d)},
		Subjects:   subjects{leads},
		NewLeads:   newLeads{leads},
		Mail:       d.Mail,
		Log:        &dynamo.MailLog{Client: d.DynamoDB, Table: d.Config.TableName},
		AppURL:     d.Config.AppURL,
		SalesQueue: d.Config.SalesQueueEmail,
		OrgZone:    d.Config.TimeZone,
		Now:        d.Now,
	}
	tickets := ticketDomain(d)
	ticketMail := ticketNotifier(d, tickets)
	surveys := surveyDomain(d)
	surveyMail := surveyNotifier(d, surveys)
	report := weeklyReport(d)
	return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
		switch ev.DetailType {
		case manifest.WeeklyReportDetailType:
			return report(ctx, ev)
		case manifest.SweepDetailType:
			rep, err := sweeper.Sweep(ctx)
			if rep.Fired > 0 || rep.More || err != nil {
				d.Log.InfoContext(ctx, "sweep", "fired", rep.Fired, "skipped", rep.Skipped, "batches", rep.Batches, "more", rep.More)
			}
			return err
		case events.LeadCapturedType:
			return on(ctx, ev, tasks.LeadCaptured)
		case events.LeadUpdatedType:
			return on(ctx, ev, tasks.LeadUpdated)
		case events.LeadConvertedType:
			return on(ctx, ev, all(tasks.LeadConverted, surveys.CustomerConverted))
		case events.FollowupDueType:
			return on(ctx, ev, notifier.FollowupDue)
		case events.StaffDigestDueType:
			return on(ctx, ev, func(ctx context.Context, e events.StaffDigestDue) error {
				return notifier.Digest(ctx, e.Subject, e.OccurredAt)
			})
		case events.TicketOpenedType:
			return on(ctx, ev, ticketMail.Opened)
		case events.TicketRepliedType:
			return on(ctx, ev, ticketMail.Replied)
		case events.TicketSolvedType:
			return on(ctx, ev, all(ticketMail.Solved, surveys.AfterTicketSolved))
		case events.TicketReopenedType:
			return on(ctx, ev, surveys.TicketReopened)
		case events.TicketSLAWarningType:
			return on(ctx, ev, ticketMail.SLAWarning)
		case events.TicketSLABreachedType:
			return on(ctx, ev, ticketMail.SLABreached)
		case events.TicketSLAEscalatedType:
			return on(ctx, ev, ticketMail.SLAEscalated)
		case events.TicketCloseDueType:
			return on(ctx, ev, tickets.CloseDue)
		case events.SurveyDueType:
			return on(ctx, ev, surveys.Due)
		case events.SurveyInvitedType:
			return on(ctx, ev, surveyMail.Invited)
		case events.SurveyRespondedType:
			return on(ctx, ev, surveys.CloseTheLoop)
		}
		d.Log.WarnContext(ctx, "event ignored: no rule should send it here", "detail_type", ev.DetailType, "source", ev.Source)
		return nil
	}
}

// all runs each fn, even after one fails, and returns their errors joined.
// Each is safe to run twice, so the retry of an event that one of them
// failed runs the others again harmlessly: the mail goes once, and the
// task or invitation made is found made.
func all[D any](fns ...func(context.Context, D) error) func(context.Context, D) error {
	return func(ctx context.Context, detail D) error {
		errs := make([]error, 0, len(fns))
		for _, fn := range fns {
			errs = append(errs, fn(ctx, detail))
		}
		return errors.Join(errs...)
	}
}

// on decodes the event's detail into D and hands it to fn.
func on[D any](ctx context.Context, ev lambdaevents.EventBridgeEvent, fn func(context.Context, D) error) error {
	var detail D
	if err := json.Unmarshal(ev.Detail, &detail); err != nil {
		// A retry will not decode it either: the failure lands the event in
		// the dead-letter queue, whose alarm brings it to a person.
		return fmt.Errorf("decode %s detail: %w", ev.DetailType, err)
	}
	return fn(ctx, detail)
}

// staffZones gives an owner's time zone from their profile, else the
// organisation's.
type staffZones struct{ staff *staff.Service }

func (z staffZones) Zone(ctx context.Context, sub string) (*time.Location, error) {
	if sub == "" {
		return z.staff.OrgZone, nil
	}
	p, err := z.staff.Profile(ctx, sub)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return z.staff.OrgZone, nil
	}
	if err != nil {
		return nil, err
	}
	return p.Location(), nil
}

// staffRecipients reads mail recipients from staff profiles.
type staffRecipients struct{ staff *staff.Service }

func (r staffRecipients) Recipient(ctx context.Context, sub string) (reminders.Recipient, error) {
	p, err := r.staff.Profile(ctx, sub)
	if err != nil {
		return reminders.Recipient{}, err
	}
	return toRecipient(p), nil
}

func toRecipient(p staff.Profile) reminders.Recipient {
	return reminders.Recipient{Name: p.Name, Email: p.Email, Zone: p.Location(), Digest: p.DigestEnabled}
}

// subjects names leads and customers for mail.
type subjects struct{ leads *dynamo.LeadStore }

func (s subjects) Describe(ctx context.Context, subject followup.Subject) (string, error) {
	if subject.Kind == followup.SubjectCustomer {
		c, err := s.leads.Customer(ctx, subject.ID)
		if err != nil {
			return "", err
		}
		return nameAndCompany(c.Customer.Name, c.Customer.Company, "customer"), nil
	}
	l, err := s.leads.Lead(ctx, subject.ID)
	if err != nil {
		return "", err
	}
	return nameAndCompany(l.Name, l.Company, "lead"), nil
}

func nameAndCompany(name, company, kind string) string {
	switch {
	case name != "" && company != "":
		return name + " (" + company + ")"
	case name != "":
		return name
	case company != "":
		return company
	}
	return "an unnamed " + kind
}

// newLeads lists a person's new leads for the digest.
type newLeads struct{ leads *dynamo.LeadStore }

func (n newLeads) NewLeadsOf(ctx context.Context, owner string, limit int) ([]reminders.Lead, error) {
	page, err := n.leads.Leads(ctx, crm.LeadFilter{Owner: owner, Status: crm.StatusNew, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]reminders.Lead, len(page.Items))
	for i, l := range page.Items {
		out[i] = reminders.Lead{ID: l.ID, Name: nameAndCompany(l.Name, l.Company, "lead"), CapturedAt: l.CapturedAt}
	}
	return out, nil
}
