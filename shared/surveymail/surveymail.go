// Package surveymail is the survey invitation mail: when an invitation is
// sent (survey.invited), its person gets the first question with a
// one-click link for every score of its scale (eleven for NPS, 0–10; five
// for CSAT; seven for CES), a plain link to the survey page and a link to
// unsubscribe. Every link carries the invitation's signed token
// (links.Survey), valid until the invitation expires.
//
// A one-click link only opens the page with that score chosen: the answer
// is recorded when the person confirms it there (see package survey, "Why
// a GET never records an answer"). The mail has no tracking pixel, no
// remote image and no link the person does not need; it tells Rapport
// nothing about whether it was opened.
//
// Each invitation is mailed at most once (reminders.Once, keyed by the
// event). It is pure: the invitations, the signing keys and the mail
// transport come in through interfaces.
package surveymail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/survey"
)

// Invitations reads invitations; *survey.Service implements it.
type Invitations interface {
	// Invitation returns an invitation; ENOTFOUND if none.
	Invitation(ctx context.Context, id string) (survey.Invitation, error)
}

var _ Invitations = (*survey.Service)(nil)

// Notifier sends the invitation mail.
type Notifier struct {
	Invitations Invitations
	// Links signs the invitation's links; without it the mail fails, and
	// is retried.
	Links *links.Keyring
	Mail  email.Sender
	Log   reminders.SendLog
	// AppURL starts every link ("https://crm.example.com"); without it
	// the mail fails, and is retried.
	AppURL string
	// OrgName is the organisation's name as its customers know it, in the
	// question and the subject; "" says "us".
	OrgName string
	// OrgZone is the zone the mail is written in: when the link stops
	// working.
	OrgZone *time.Location
	// Logger, if set, hears of mail the mail service refused for good (an
	// address it will not take): the event is then done, as a retry cannot
	// help. It logs the invitation id only, never the address.
	Logger *slog.Logger
	Now    func() time.Time
}

// Invited mails a sent invitation to its person, once. An invitation that
// is gone, answered or expired by the time the event arrives is not
// mailed: its link could no longer be used.
func (n *Notifier) Invited(ctx context.Context, e events.SurveyInvited) error {
	inv, err := n.Invitations.Invitation(ctx, e.InvitationID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if inv.StatusAt(n.Now()) != survey.StatusSent || inv.Email == "" || len(inv.Questions) == 0 {
		return nil
	}
	msg, err := n.message(inv)
	if err != nil {
		return err
	}
	return n.send(ctx, e.EventID, inv.ID, msg)
}

// message renders the invitation for its person, with its signed links.
func (n *Notifier) message(inv survey.Invitation) (email.Message, error) {
	switch {
	case n.Links == nil:
		return email.Message{}, errors.New("surveymail: no link keyring: the invitation's links cannot be signed")
	case n.AppURL == "":
		return email.Message{}, errors.New("surveymail: no APP_URL: the invitation's links have nowhere to point")
	case inv.ExpiresAt == nil:
		return email.Message{}, errors.New("surveymail: the invitation " + inv.ID + " has no expiry")
	}
	token, err := n.Links.Sign(links.Survey, inv.ID, *inv.ExpiresAt)
	if err != nil {
		return email.Message{}, err
	}
	data := invitationData(inv, n.OrgName, n.AppURL+"/s/"+token, longDay(*inv.ExpiresAt, n.OrgZone))
	m, err := mails.Render("invitation", data)
	if err != nil {
		return email.Message{}, err
	}
	m.To, m.Thread, m.Unsubscribe = []string{inv.Email}, "survey/"+inv.ID, data.Unsubscribe
	return m, nil
}

// send sends msg once per survey.invited. A message the mail service
// refuses for good is logged (the invitation id only) and dropped: a
// retry would be refused again.
func (n *Notifier) send(ctx context.Context, eventID, invitationID string, msg email.Message) error {
	err := reminders.Once{Mail: n.Mail, Log: n.Log, Now: n.Now}.Send(ctx, "survey|invited|"+eventID, msg)
	if email.Refused(err) {
		if n.Logger != nil {
			n.Logger.WarnContext(ctx, "survey invitation refused by the mail service", "invitation_id", invitationID, "error", err.Error())
		}
		return nil
	}
	return err
}

// longDay writes the day of an instant in zone.
func longDay(t time.Time, zone *time.Location) string {
	if zone == nil {
		zone = time.UTC
	}
	return t.In(zone).Format("Monday 2 January 2006")
}
