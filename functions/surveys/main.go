// Command surveys is the Lambda that serves the survey page each invited
// person answers by their signed link, unsubscribing, and the managers'
// invitations, results and answers.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/shared/app"
)

func main() {
	ctx := context.Background()
	d, awsCfg, err := app.FromEnvironment(ctx)
	if err != nil {
		app.Fail(d, err)
	}
	if err := app.LoadLinks(ctx, awsCfg, &d); err != nil {
		app.Fail(d, err)
	}
	lambda.Start(app.Surveys(d))
}
