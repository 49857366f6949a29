// Package dynamotest gives tests a fresh table on the local DynamoDB server
// that `make test` starts (dynoxide, or DynamoDB Local with
// `make test-ddblocal`), found through the SDK's own AWS_ENDPOINT_URL_DYNAMODB.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// Config loads the SDK configuration the tests use. It fails the test when
// no local server is configured: tests never reach a real AWS account.
func Config(t testing.TB) aws.Config {
	t.Helper()
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`, which starts a local DynamoDB server")
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

// Client returns a DynamoDB client for the local server.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(Config(t))
}

// NewTable creates a table with a unique name from the production
// definition and deletes it when the test ends.
func NewTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	c := Client(t)
	name := "test-" + randomHex(6)
	ctx := context.Background()
	if err := dynamo.EnsureTable(ctx, c, name, schema.Rapport); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return c, name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
