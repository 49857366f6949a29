// Command leads is the Lambda that captures leads from web forms and serves
// the staff routes for leads and customers.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "error", err)
		os.Exit(1)
	}
	aws, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(app.Leads(app.Deps{
		Config:   cfg,
		DynamoDB: dynamodb.NewFromConfig(aws),
		Now:      time.Now,
		Log:      log,
	}))
}
