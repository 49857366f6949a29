// Command tickets is the Lambda that takes support and complaint forms,
// serves the agents' ticket routes and each customer's signed ticket page.
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
	lambda.Start(app.Tickets(d))
}
