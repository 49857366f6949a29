// Command scorecard is the Lambda that serves the balanced scorecard of a
// period, for the organisation or a team, as JSON, CSV or a page.
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
	lambda.Start(app.Scorecard(d))
}
