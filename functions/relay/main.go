// Command relay is the Lambda that reads the table's stream and publishes
// each event of the outbox onto the EventBridge bus once.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/eventbus"
)

func main() {
	d, aws, err := app.FromEnvironment(context.Background())
	if err != nil {
		app.Fail(d, err)
	}
	if d.Publisher, err = eventbus.New(eventbridge.NewFromConfig(aws), d.Config.EventBusName); err != nil {
		app.Fail(d, err)
	}
	lambda.Start(app.Relay(d))
}
