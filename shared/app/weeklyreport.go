package app

import (
	"context"
	"errors"
	"slices"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/scorecardmail"
	"github.com/rapportcrm/rapport/shared/staff"
)

// weeklyReport is the reminders function's weekly-report schedule, Monday
// 08:00 in the organisation's zone: last week's organisation scorecard —
// the week's snapshot when the kpis function stored it, else computed
// now — mailed to each manager whose profile has an email address
// (shared/scorecardmail). Each mail goes once under the key of the week
// and the manager (reminders.Once), so a retried run, a second firing or
// an overlapping run mails nobody twice; the week is that of the firing's
// scheduled instant, so a retry on Tuesday still reports last week.
func weeklyReport(d Deps) func(context.Context, lambdaevents.EventBridgeEvent) error {
	svc := scoringService(d, readRollups(d))
	store := &dynamo.SnapshotStore{Client: d.DynamoDB, Table: d.Config.TableName}
	people := StaffService(d)
	once := reminders.Once{Mail: d.Mail, Log: &dynamo.MailLog{Client: d.DynamoDB, Table: d.Config.TableName}, Now: d.Now}
	return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
		at := ev.Time
		if at.IsZero() {
			at = d.Now()
		}
		week := period.Containing(at, period.Week, d.Config.TimeZone).Previous()
		managers, err := everyone(ctx, people, staff.Filter{Role: "manager"})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(managers, func(m staff.Profile) bool { return m.Email != "" }) {
			return nil // nobody to mail: no card to read
		}
		card, stored, err := svc.SnapshotOrCard(ctx, store, week)
		if err != nil {
			return err
		}
		var errs []error
		sent := 0
		for _, m := range managers {
			if m.Email == "" {
				continue
			}
			msg, err := scorecardmail.Render(scorecardmail.Report{Card: card, Stored: stored, Name: m.Name, Email: m.Email, AppURL: d.Config.AppURL})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if err := once.Send(ctx, "weekly-report#"+week.ID()+"#"+m.Subject, msg); err != nil {
				errs = append(errs, err)
				continue
			}
			sent++
		}
		d.Log.InfoContext(ctx, "weekly report", "week", week.ID(), "managers", len(managers), "mailed_or_already", sent,
			"at", at.UTC().Format(time.RFC3339))
		return errors.Join(errs...) // the retry mails only those not mailed
	}
}
