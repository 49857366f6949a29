package dynamodbserver_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/infra/local/dynamodbserver"
	"github.com/rapportcrm/rapport/infra/local/internal/growth"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// growthShape is one way of writing: what the table has, and how many items
// each write puts.
type growthShape struct {
	name    string
	table   schema.Table
	items   int  // 1: PutItem; more: one TransactWriteItems of that many puts
	noToken bool // send TransactWriteItems without a ClientRequestToken
}

var (
	plainTable = schema.Table{PartitionKey: schema.PK, SortKey: schema.SK}
	gsiTable   = schema.Table{PartitionKey: schema.PK, SortKey: schema.SK, Indexes: schema.Rapport.Indexes}
	ttlTable   = schema.Table{PartitionKey: schema.PK, SortKey: schema.SK, TTLAttribute: schema.ExpiresAt}
	streamed   = schema.Table{PartitionKey: schema.PK, SortKey: schema.SK, Stream: schema.NewAndOldImages}
)

// growthShapes are the writes BenchmarkWriteGrowth compares: a single put
// and a four-item transaction (a new lead is a five-item one) on a plain
// table, then with the indexes, TTL and the stream one at a time, then the
// Rapport table with all of them.
var growthShapes = []growthShape{
	{name: "put", table: plainTable, items: 1},
	{name: "tx4", table: plainTable, items: 4},
	{name: "tx4-no-token", table: plainTable, items: 4, noToken: true},
	{name: "tx4-gsi", table: gsiTable, items: 4},
	{name: "tx4-ttl", table: ttlTable, items: 4},
	{name: "put-stream", table: streamed, items: 1},
	{name: "tx4-stream", table: streamed, items: 4},
	{name: "tx4-rapport", table: schema.Rapport, items: 4},
}

// BenchmarkWriteGrowth pins down which writes get slower as a local server
// holds more data. For each server (dynoxide, DynamoDB Local), each storage
// (a file, as `make dev` runs it; memory, as the tests run it) and each
// write shape it starts a fresh server, makes GROWTH_OPS writes (default
// 2,000) from one client and reports the median latency of the first and
// the last tenth and their ratio. It takes minutes, so `make bench` skips
// it; run it with
//
//	go test -run '^$' -bench WriteGrowth -benchtime 1x ./infra/local/dynamodbserver/
//
// or narrow it, e.g. -bench 'WriteGrowth/server=dynoxide/store=memory/shape=tx4-stream'.
// The findings are in README.md beside this file.
func BenchmarkWriteGrowth(b *testing.B) {
	ops := 2000
	if v, err := strconv.Atoi(os.Getenv("GROWTH_OPS")); err == nil && v >= 10 {
		ops = v
	}
	for _, kind := range []dynamodbserver.Kind{dynamodbserver.Dynoxide, dynamodbserver.DynamoDBLocal} {
		for _, store := range []string{"file", "memory"} {
			for _, sh := range growthShapes {
				b.Run(fmt.Sprintf("server=%s/store=%s/shape=%s", kind, store, sh.name), func(b *testing.B) {
					client := startServer(b, kind, store)
					s := measureShape(b, client, sh, ops)
					s.Report(b)
				})
			}
		}
	}
}

// startServer starts a fresh server for one benchmark and stops it after.
func startServer(b *testing.B, kind dynamodbserver.Kind, store string) *dynamodb.Client {
	b.Helper()
	wd, _ := os.Getwd()
	bin, err := dynamodbserver.Find(kind, wd)
	if err != nil {
		b.Fatal(err)
	}
	o := dynamodbserver.Options{Kind: kind, Binary: bin, Output: io.Discard}
	if store == "file" {
		o.DBPath = filepath.Join(b.TempDir(), "data")
		if kind == dynamodbserver.Dynoxide {
			o.DBPath += ".db"
		}
	}
	srv, err := dynamodbserver.Start(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Stop(context.Background()) })
	b.Logf("%s started in %v", kind, srv.StartupTime().Round(time.Millisecond))
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
		}),
	})
}

// measureShape creates the shape's table and makes ops writes to it.
func measureShape(b *testing.B, c *dynamodb.Client, sh growthShape, ops int) growth.Summary {
	b.Helper()
	ctx := context.Background()
	table := "growth"
	if err := dynamo.EnsureTable(ctx, c, table, sh.table); err != nil {
		b.Fatal(err)
	}
	var opts []func(*dynamodb.Options)
	if sh.noToken {
		opts = append(opts, func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				_, err := s.Initialize.Remove("OperationIdempotencyTokenAutoFill")
				return err
			})
		})
	}
	expires := strconv.FormatInt(time.Now().Add(30*24*time.Hour).Unix(), 10)
	item := func(i, j int) map[string]types.AttributeValue {
		pk := fmt.Sprintf("ITEM#%08d-%d", i, j)
		it := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "ITEM"},
			"name":    &types.AttributeValueMemberS{Value: "Ada Lovelace"},
			"email":   &types.AttributeValueMemberS{Value: fmt.Sprintf("person%d@example.com", i)},
			"company": &types.AttributeValueMemberS{Value: "Analytical Engines"},
			"message": &types.AttributeValueMemberS{Value: "Please call me about the difference engine and its pricing."},
			"at":      &types.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)},
		}
		for _, ix := range sh.table.Indexes {
			it[ix.PartitionKey] = &types.AttributeValueMemberS{Value: "LEADS#" + strconv.Itoa(j)}
			it[ix.SortKey] = &types.AttributeValueMemberS{Value: pk}
		}
		if sh.table.TTLAttribute != "" {
			it[sh.table.TTLAttribute] = &types.AttributeValueMemberN{Value: expires}
		}
		return it
	}
	cond := aws.String("attribute_not_exists(pk)")
	s, err := growth.Run(ops, 1, func(i int) error {
		if sh.items == 1 {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(i, 0), ConditionExpression: cond}, opts...)
			return err
		}
		in := &dynamodb.TransactWriteItemsInput{}
		for j := range sh.items {
			in.TransactItems = append(in.TransactItems, types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(table), Item: item(i, j), ConditionExpression: cond,
			}})
		}
		_, err := c.TransactWriteItems(ctx, in, opts...)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}
