package dynamo_test

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"strconv"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/relay"
)

func relayEnvelope(id string) events.Envelope {
	return events.Envelope{
		ID:         id,
		Source:     events.SourceLeads,
		DetailType: events.LeadCapturedType,
		Time:       time.Date(2026, 5, 4, 9, 30, 12, 345e6, time.UTC),
		Detail:     json.RawMessage(`{"event_id":"` + id + `","lead_id":"L1"}`),
	}
}

func avS(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func outboxItemKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": avS("EVT#" + id), "sk": avS("EVT")}
}

// storedOutboxItem puts env in a fresh table's outbox the way the store
// does and returns the item as the table holds it.
func storedOutboxItem(t *testing.T, env events.Envelope) map[string]types.AttributeValue {
	t.Helper()
	c, table := dynamotest.NewTable(t)
	if err := dynamo.PutOutboxEvent(context.Background(), c, table, env); err != nil {
		t.Fatal(err)
	}
	return getOutboxItem(t, c, table, env.ID)
}

func getOutboxItem(t *testing.T, c dynamo.API, table, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: outboxItemKey(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		t.Fatalf("get outbox item %s: %v", id, err)
	}
	return out.Item
}

// outboxStreamImage converts an item as the store writes it into the image a
// stream record carries to Lambda. Outbox items hold strings and numbers.
func outboxStreamImage(t *testing.T, item map[string]types.AttributeValue) map[string]lambdaevents.DynamoDBAttributeValue {
	t.Helper()
	out := map[string]lambdaevents.DynamoDBAttributeValue{}
	for k, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = lambdaevents.NewStringAttribute(v.Value)
		case *types.AttributeValueMemberN:
			out[k] = lambdaevents.NewNumberAttribute(v.Value)
		default:
			t.Fatalf("attribute %s has type %T", k, v)
		}
	}
	return out
}

// outboxInsertRecord is the stream record of the insertion of item.
func outboxInsertRecord(t *testing.T, item map[string]types.AttributeValue) lambdaevents.DynamoDBEventRecord {
	img := outboxStreamImage(t, item)
	return lambdaevents.DynamoDBEventRecord{
		EventName: "INSERT",
		Change: lambdaevents.DynamoDBStreamRecord{
			Keys:           map[string]lambdaevents.DynamoDBAttributeValue{"pk": img["pk"], "sk": img["sk"]},
			NewImage:       img,
			SequenceNumber: "100",
		},
	}
}

func TestOutboxEventDecodesWhatTheStoreWrites(t *testing.T) {
	env := relayEnvelope("E1")
	rec := outboxInsertRecord(t, storedOutboxItem(t, env))
	got, ok, err := dynamo.OutboxEvent(rec)
	if err != nil || !ok {
		t.Fatalf("OutboxEvent = %v, %v", ok, err)
	}
	if !reflect.DeepEqual(got, env) {
		t.Errorf("decoded %+v\nwant    %+v", got, env)
	}
}

func TestOutboxEventIgnoresOtherRecords(t *testing.T) {
	outbox := storedOutboxItem(t, relayEnvelope("E1"))
	lead := map[string]types.AttributeValue{"pk": avS("LEAD#1"), "sk": avS("LEAD")}
	wrongSK := map[string]types.AttributeValue{"pk": avS("EVT#1"), "sk": avS("OTHER")}

	modify := outboxInsertRecord(t, outbox)
	modify.EventName = "MODIFY"
	modify.Change.OldImage = modify.Change.NewImage
	remove := outboxInsertRecord(t, outbox)
	remove.EventName, remove.Change.OldImage, remove.Change.NewImage = "REMOVE", remove.Change.NewImage, nil

	for name, rec := range map[string]lambdaevents.DynamoDBEventRecord{
		"modify of an outbox item (the relay's own claim)": modify,
		"remove of an outbox item (TTL)":                   remove,
		"insert of a lead":                                 outboxInsertRecord(t, lead),
		"insert with an unexpected sort key":               outboxInsertRecord(t, wrongSK),
		"record without keys":                              {EventName: "INSERT"},
	} {
		if _, ok, err := dynamo.OutboxEvent(rec); ok || err != nil {
			t.Errorf("%s: ok %v, err %v; want ignored", name, ok, err)
		}
	}
}

func TestOutboxEventRejectsMalformedItems(t *testing.T) {
	stored := storedOutboxItem(t, relayEnvelope("E1"))
	for name, mutate := range map[string]func(map[string]types.AttributeValue){
		"detail is not JSON":         func(m map[string]types.AttributeValue) { m["detail"] = avS("{not json") },
		"detail is missing":          func(m map[string]types.AttributeValue) { delete(m, "detail") },
		"event time is not RFC 3339": func(m map[string]types.AttributeValue) { m["event_time"] = avS("yesterday") },
		"detail type is missing":     func(m map[string]types.AttributeValue) { delete(m, "detail_type") },
		"source is a number":         func(m map[string]types.AttributeValue) { m["event_source"] = &types.AttributeValueMemberN{Value: "1"} },
		"event id is empty":          func(m map[string]types.AttributeValue) { m["pk"] = avS("EVT#") },
	} {
		item := maps.Clone(stored)
		mutate(item)
		if _, ok, err := dynamo.OutboxEvent(outboxInsertRecord(t, item)); !ok || err == nil {
			t.Errorf("%s: ok %v, err %v; want an outbox record that fails to decode", name, ok, err)
		}
	}
	rec := outboxInsertRecord(t, stored)
	rec.Change.NewImage = nil // a KEYS_ONLY stream
	if _, ok, err := dynamo.OutboxEvent(rec); !ok || err == nil {
		t.Errorf("record without a new image: ok %v, err %v", ok, err)
	}
}

// TestOutboxClaims walks one event through every claim state on the local
// server: the conditions are the relay's guarantee, so they are tested
// where they are evaluated.
func TestOutboxClaims(t *testing.T) {
	c, table := dynamotest.NewTable(t)
	ctx := context.Background()
	o := dynamo.NewOutbox(c, table)
	env := relayEnvelope("E1")
	if err := dynamo.PutOutboxEvent(ctx, c, table, env); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.PutOutboxEvent(ctx, c, table, env); err == nil {
		t.Error("PutOutboxEvent stored the same event twice")
	}
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	lease := 30 * time.Second

	claim := func(token string, now time.Time, want relay.ClaimResult) {
		t.Helper()
		got, err := o.Claim(ctx, env.ID, token, now, now.Add(lease))
		if err != nil || got != want {
			t.Fatalf("claim by %s at %s = %v, %v; want %v", token, now.Format(time.TimeOnly), got, err, want)
		}
	}
	claim("A", t0, relay.Claimed)
	claim("B", t0.Add(lease-time.Millisecond), relay.HeldElsewhere)
	claim("A", t0.Add(time.Second), relay.HeldElsewhere) // a token does not renew its own claim
	claim("B", t0.Add(lease+time.Millisecond), relay.Claimed)
	assertClaim(t, c, table, env.ID, "B", t0.Add(2*lease+time.Millisecond), "")

	if err := o.Release(ctx, env.ID, "A"); err != nil {
		t.Fatal(err)
	}
	assertClaim(t, c, table, env.ID, "B", t0.Add(2*lease+time.Millisecond), "") // A's release leaves B's claim
	if err := o.Release(ctx, env.ID, "B"); err != nil {
		t.Fatal(err)
	}
	assertClaim(t, c, table, env.ID, "", time.Time{}, "")
	claim("C", t0.Add(lease+2*time.Millisecond), relay.Claimed) // released: claimable at once

	at := t0.Add(lease + time.Second)
	if err := o.MarkPublished(ctx, env.ID, at); err != nil {
		t.Fatal(err)
	}
	assertClaim(t, c, table, env.ID, "", time.Time{}, "2026-05-04T10:00:31.000Z")
	claim("D", t0.Add(time.Hour), relay.Published)
	if err := o.MarkPublished(ctx, env.ID, at.Add(time.Minute)); err != nil {
		t.Errorf("marking a published event again: %v", err)
	}

	// An event whose item is gone cannot be claimed, and the relay's
	// updates must not bring the item back.
	if got, err := o.Claim(ctx, "GONE", "A", t0, t0.Add(lease)); err != nil || got != relay.Missing {
		t.Errorf("claim of a missing event = %v, %v; want missing", got, err)
	}
	if err := o.MarkPublished(ctx, "GONE", at); err != nil {
		t.Errorf("mark of a missing event: %v", err)
	}
	if err := o.Release(ctx, "GONE", "A"); err != nil {
		t.Errorf("release of a missing event: %v", err)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: outboxItemKey("GONE")})
	if err != nil || out.Item != nil {
		t.Errorf("the relay's updates created an item: %v, %v", out.Item, err)
	}
}

// assertClaim checks the relay's bookkeeping on event id's outbox item.
func assertClaim(t *testing.T, c dynamo.API, table, id, token string, until time.Time, publishedAt string) {
	t.Helper()
	item := getOutboxItem(t, c, table, id)
	var gotUntil time.Time
	if v, ok := item["claimed_until"].(*types.AttributeValueMemberN); ok {
		ms, _ := strconv.ParseInt(v.Value, 10, 64)
		gotUntil = time.UnixMilli(ms).UTC()
	}
	var gotToken, gotPublished string
	if v, ok := item["claim_token"].(*types.AttributeValueMemberS); ok {
		gotToken = v.Value
	}
	if v, ok := item["published_at"].(*types.AttributeValueMemberS); ok {
		gotPublished = v.Value
	}
	if gotToken != token || !gotUntil.Equal(until) || gotPublished != publishedAt {
		t.Errorf("outbox item %s: token %q until %v published %q; want %q %v %q", id, gotToken, gotUntil, gotPublished, token, until, publishedAt)
	}
	// The event itself is untouched.
	if _, ok := item["detail"]; !ok {
		t.Errorf("outbox item %s lost its detail", id)
	}
}
