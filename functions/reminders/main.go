// Command reminders is the Lambda behind the timer sweep (every minute),
// the automatic follow-up tasks made from lead events, the mail for due
// tasks and daily digests, the ticket mail and the auto-close of solved
// tickets.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/sesmail"
)

func main() {
	ctx := context.Background()
	d, aws, err := app.FromEnvironment(ctx)
	if err != nil {
		app.Fail(d, err)
	}
	// Ticket mail carries the customer's signed link to the ticket page.
	if err := app.LoadLinks(ctx, aws, &d); err != nil {
		app.Fail(d, err)
	}
	if d.Mail, err = sesmail.New(sesv2.NewFromConfig(aws), d.Config.MailFrom); err != nil {
		app.Fail(d, err)
	}
	lambda.Start(app.Reminders(d))
}
