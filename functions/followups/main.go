// Command followups is the Lambda that serves the follow-up tasks: the
// plan of the day and the week, and the tasks staff make and work.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/shared/app"
)

func main() {
	d, _, err := app.FromEnvironment(context.Background())
	if err != nil {
		app.Fail(d, err)
	}
	lambda.Start(app.Followups(d))
}
