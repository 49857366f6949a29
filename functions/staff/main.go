// Command staff is the Lambda that keeps staff profiles: GET and PUT /me,
// and the admin's /staff routes.
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
	lambda.Start(app.Staff(d))
}
