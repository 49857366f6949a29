// Command kpis is the Lambda that adds every Rapport event to the day
// rollups the scorecard is computed from, each event once.
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
	lambda.Start(app.KPIs(d))
}
