package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
)

// The requests each capture makes are part of its contract: a new lead is
// one consistent read and one transaction, a duplicate one read and one put.
// Capacity units are measured by BenchmarkCaptureCost.
func TestCaptureRequestCounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.calls.Reset()
	if _, err := f.svc.Capture(ctx, ada(), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Cost().Requests; fmt.Sprint(got) != "map[GetItem:1 TransactWriteItems:1]" {
		t.Errorf("new lead made %v", got)
	}
	f.calls.Reset()
	if _, err := f.svc.Capture(ctx, ada(), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Cost().Requests; fmt.Sprint(got) != "map[GetItem:1 PutItem:1]" {
		t.Errorf("duplicate made %v", got)
	}
}

// BenchmarkCaptureCost reports DynamoDB requests and capacity units per
// capture, and the same per plain PutItem of one lead-sized item measured
// in the same run, so the figures read as ratios against that baseline.
func BenchmarkCaptureCost(b *testing.B) {
	ctx := context.Background()
	b.Run("baseline=PutItem", func(b *testing.B) {
		f := newFixture(b)
		item := leadSizedItem()
		f.calls.Reset()
		for b.Loop() {
			if _, err := f.calls.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.store.Table), Item: item}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("new-lead", func(b *testing.B) {
		f := newFixture(b)
		f.calls.Reset()
		i := 0
		for b.Loop() {
			sub := ada()
			sub.Email = fmt.Sprintf("person%d@example.com", i)
			i++
			if _, err := f.svc.Capture(ctx, sub, ""); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("duplicate", func(b *testing.B) {
		f := newFixture(b)
		if _, err := f.svc.Capture(ctx, ada(), ""); err != nil {
			b.Fatal(err)
		}
		f.calls.Reset()
		for b.Loop() {
			if res, err := f.svc.Capture(ctx, ada(), ""); err != nil || !res.Duplicate {
				b.Fatal(res, err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("list-25", func(b *testing.B) {
		f := newFixture(b)
		for i := range 60 {
			sub := ada()
			sub.Email = fmt.Sprintf("person%d@example.com", i)
			if _, err := f.svc.Capture(ctx, sub, ""); err != nil {
				b.Fatal(err)
			}
		}
		f.calls.Reset()
		for b.Loop() {
			if _, err := f.svc.Leads(ctx, crm.LeadFilter{Limit: 25}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
}

// leadSizedItem is the baselines' item: one lead's fields, in one item.
func leadSizedItem() map[string]types.AttributeValue {
	item, _ := attributevalue.MarshalMap(map[string]any{
		"pk": "BASE#1", "sk": "BASE", "name": "Ada Lovelace", "email": "ada@example.com",
		"company": "Analytical Engines", "source": "newsletter",
	})
	return item
}

func report(b *testing.B, c dynamotest.Cost) {
	n := float64(b.N)
	b.ReportMetric(float64(c.Total())/n, "requests/op")
	b.ReportMetric(c.RCU/n, "RCU/op")
	b.ReportMetric(c.WCU/n, "WCU/op")
}
