package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/shared/config"
)

// FromEnvironment builds what every Lambda's main starts from, once per cold
// start: the settings from the environment, the SDK's configuration (which
// also chooses the endpoint), a DynamoDB client, JSON logs on stdout and the
// real clock. The returned aws.Config builds any further client.
func FromEnvironment(ctx context.Context) (Deps, aws.Config, error) {
	d := Deps{Log: slog.New(slog.NewJSONHandler(os.Stdout, nil)), Now: time.Now}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return d, aws.Config{}, fmt.Errorf("bad configuration: %w", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return d, aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	d.Config, d.DynamoDB = cfg, dynamodb.NewFromConfig(awsCfg)
	return d, awsCfg, nil
}

// Fail logs why the function cannot start and ends the process, so a bad
// setting fails the cold start, not a customer's request.
func Fail(d Deps, err error) {
	d.Log.Error("cannot start", "error", err.Error())
	os.Exit(1)
}
