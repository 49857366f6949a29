// Command relay is the Lambda that reads the table's stream and publishes
// each event of the outbox onto the EventBridge bus once.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/eventbus"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	fail := func(msg string, err error) { log.Error(msg, "error", err); os.Exit(1) }
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fail("bad configuration", err)
	}
	aws, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fail("load AWS configuration", err)
	}
	bus, err := eventbus.New(eventbridge.NewFromConfig(aws), cfg.EventBusName)
	if err != nil {
		fail("bad configuration", err)
	}
	lambda.Start(app.Relay(app.Deps{
		Config:    cfg,
		DynamoDB:  dynamodb.NewFromConfig(aws),
		Publisher: bus,
		Now:       time.Now,
		Log:       log,
	}))
}
