// Command leads is the Lambda that captures leads from web forms and serves
// the staff routes for leads and customers.
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
	lambda.Start(app.Leads(d))
}
