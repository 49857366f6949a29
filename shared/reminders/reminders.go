// Package reminders turns due follow-ups and digest timers into email to
// the people they concern: a reminder when a task falls due, and each
// staff member's daily digest in their own time zone. Each mail is sent at
// most once per firing through Once, which the ticket mail shares (see
// SendLog for the one crash window that could send one twice).
//
// It is pure: the stores, the profiles and the mail transport come in
// through interfaces.
package reminders

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/followup"
)

// Recipient is a staff member as mail needs them.
type Recipient struct {
	Name  string
	Email string
	Zone  *time.Location
	// Digest says whether they want the daily digest.
	Digest bool
}

// ZoneOr is the zone r's mail is written in: theirs, else org (the
// organisation's).
func (r Recipient) ZoneOr(org *time.Location) *time.Location {
	if r.Zone == nil {
		return org
	}
	return r.Zone
}

// Profiles reads staff profiles. ENOTFOUND when a person has none.
type Profiles interface {
	Recipient(ctx context.Context, sub string) (Recipient, error)
}

// Subjects names a task's lead or customer for a person to read, e.g.
// "Ada Lovelace (Analytical Engines)". ENOTFOUND when it is gone.
type Subjects interface {
	Describe(ctx context.Context, s followup.Subject) (string, error)
}

// Lead is a new lead as the digest lists it.
type Lead struct {
	ID         string
	Name       string
	CapturedAt time.Time
}

// NewLeads lists the new, not yet contacted leads assigned to a person.
type NewLeads interface {
	NewLeadsOf(ctx context.Context, owner string, limit int) ([]Lead, error)
}

// Tasks reads follow-up tasks.
type Tasks interface {
	Task(ctx context.Context, id string) (followup.Task, error)
	Plan(ctx context.Context, q followup.PlanQuery) (followup.Page, error)
}

// digestLimit bounds each list of a digest; the rest is counted.
const digestLimit = 20

// Notifier sends reminders and digests.
type Notifier struct {
	Tasks    Tasks
	Profiles Profiles
	Subjects Subjects
	NewLeads NewLeads
	Mail     email.Sender
	Log      SendLog
	// AppURL starts the links in the mail ("https://crm.example.com").
	AppURL string
	// SalesQueue receives the reminders of unassigned tasks; empty sends
	// none.
	SalesQueue string
	// OrgZone is used for people without a profile.
	OrgZone *time.Location
	Now     func() time.Time
}

// FollowupDue emails a task's owner (the sales queue for an unassigned
// task) that it is due. A task done, moved or reassigned since the event
// was written gets no mail: the event is stale.
func (n *Notifier) FollowupDue(ctx context.Context, e events.FollowupDue) error {
	t, err := n.Tasks.Task(ctx, e.FollowupID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if !t.Open() || !t.DueAt.Equal(e.DueAt) || t.Owner != e.Owner {
		return nil
	}
	to, zone, name, err := n.recipientOf(ctx, t.Owner)
	if err != nil || to == "" {
		return err
	}
	subject, err := n.Subjects.Describe(ctx, t.Subject)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		subject = "(deleted)"
	} else if err != nil {
		return err
	}
	msg, err := render("due", to, dueData{
		Name: name, Subject: subject, Kind: kindLabel(t.Kind), Note: t.Note,
		Due:  t.DueAt.In(zone).Format("Monday 2 January 2006, 15:04 MST"),
		Link: n.AppURL + subjectPath(t.Subject), TaskLink: n.AppURL + "/followups/" + t.ID,
	})
	if err != nil {
		return err
	}
	return n.sendOnce(ctx, "due|"+e.EventID, msg)
}

// recipientOf returns the address, zone and name to remind an owner at:
// their profile's, or the sales queue's for an unassigned task. An owner
// without a profile or address gets no mail ("" and no error).
func (n *Notifier) recipientOf(ctx context.Context, owner string) (string, *time.Location, string, error) {
	if owner == "" {
		return n.SalesQueue, n.OrgZone, "sales team", nil
	}
	r, err := n.Profiles.Recipient(ctx, owner)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return "", nil, "", nil
	}
	if err != nil {
		return "", nil, "", err
	}
	return r.Email, n.zoneOf(r), r.Name, nil
}

// Digest sends sub the digest of the local day of at: overdue tasks,
// today's tasks, and new leads assigned to them not yet contacted. None
// when there is nothing to say, or they turned digests off; at most one
// per person and local day, whatever the retries or the DST day.
func (n *Notifier) Digest(ctx context.Context, sub string, at time.Time) error {
	r, err := n.Profiles.Recipient(ctx, sub)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil || !r.Digest || r.Email == "" {
		return err
	}
	zone := n.zoneOf(r)
	day := at.In(zone).Format(time.DateOnly)
	d := digestData{Name: r.Name, Day: at.In(zone).Format("Monday 2 January 2006"), AppURL: n.AppURL}
	overdue, err := n.Tasks.Plan(ctx, followup.PlanQuery{Owner: sub, When: followup.WhenOverdue, Limit: digestLimit})
	if err != nil {
		return err
	}
	today, err := n.Tasks.Plan(ctx, followup.PlanQuery{Owner: sub, When: followup.WhenToday, Limit: digestLimit})
	if err != nil {
		return err
	}
	for _, t := range overdue.Tasks {
		if t.DueAt.In(zone).Format(time.DateOnly) != day { // today's are in the today list
			d.Overdue = append(d.Overdue, n.line(ctx, t, zone))
		}
	}
	for _, t := range today.Tasks {
		d.Today = append(d.Today, n.line(ctx, t, zone))
	}
	leads, err := n.NewLeads.NewLeadsOf(ctx, sub, digestLimit)
	if err != nil {
		return err
	}
	for _, l := range leads {
		d.Leads = append(d.Leads, digestLine{Text: l.Name, When: l.CapturedAt.In(zone).Format("Mon 2 Jan 15:04"), Link: n.AppURL + "/leads/" + l.ID})
	}
	if len(d.Overdue)+len(d.Today)+len(d.Leads) == 0 {
		return nil
	}
	msg, err := render("digest", r.Email, d)
	if err != nil {
		return err
	}
	return n.sendOnce(ctx, "digest|"+sub+"|"+day, msg)
}

func (n *Notifier) line(ctx context.Context, t followup.Task, zone *time.Location) digestLine {
	subject, err := n.Subjects.Describe(ctx, t.Subject)
	if err != nil {
		subject = t.Subject.String()
	}
	return digestLine{Text: kindLabel(t.Kind) + ": " + subject, Note: t.Note,
		When: t.DueAt.In(zone).Format("Mon 2 Jan 15:04"), Link: n.AppURL + subjectPath(t.Subject)}
}

// sendOnce sends msg unless the mail under key was sent or is being sent.
func (n *Notifier) sendOnce(ctx context.Context, key string, msg email.Message) error {
	return Once{Mail: n.Mail, Log: n.Log, Now: n.Now}.Send(ctx, key, msg)
}

// zoneOf is the zone a person's mail is written in: theirs, else the
// organisation's.
func (n *Notifier) zoneOf(r Recipient) *time.Location { return r.ZoneOr(n.OrgZone) }

func subjectPath(s followup.Subject) string {
	if s.Kind == followup.SubjectCustomer {
		return "/customers/" + s.ID
	}
	return "/leads/" + s.ID
}

func kindLabel(k followup.Kind) string {
	switch k {
	case followup.KindFirstContact:
		return "First contact"
	case followup.KindCheckIn:
		return "Check-in"
	case followup.KindSurvey:
		return "Survey follow-up"
	}
	return "Follow-up"
}
