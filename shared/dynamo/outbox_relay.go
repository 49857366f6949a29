package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/relay"
)

// The relay's bookkeeping on an outbox item (see relay.Outbox). It lives on
// the item itself rather than in a separate ledger so that a claim costs one
// conditional update and the item's TTL removes both together.
const (
	attrClaimedUntil = "claimed_until" // epoch milliseconds until which claim_token holds the event
	attrClaimToken   = "claim_token"   // the claiming relay invocation's random token
	attrPublishedAt  = "published_at"  // when the event was published, RFC 3339 milliseconds UTC
)

// OutboxStreamFilter is a Lambda event filter pattern that passes only the
// stream records the relay acts on: INSERTs of outbox items. With it on the
// event source mapping, the MODIFY records of the relay's own claims and
// marks, and every other item's change, never invoke the relay (and are not
// billed). The relay filters again, so it is an optimisation only.
const OutboxStreamFilter = `{"eventName":["INSERT"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"` + schema.OutboxPrefix + `"}]}}}}`

// Outbox gives the relay the table's outbox items. It implements
// relay.Outbox.
type Outbox struct {
	api   API
	table string
}

var _ relay.Outbox = (*Outbox)(nil)

// NewOutbox returns the outbox of table.
func NewOutbox(api API, table string) *Outbox { return &Outbox{api: api, table: table} }

// Event implements relay.Outbox: see OutboxEvent.
func (o *Outbox) Event(rec lambdaevents.DynamoDBEventRecord) (events.Envelope, bool, error) {
	return OutboxEvent(rec)
}

// OutboxEvent decodes the event a stream record inserted into the outbox.
// ok is false for every record that is not an INSERT of an outbox item; an
// outbox INSERT that does not decode is an error. The record must carry the
// new image (stream view NEW_IMAGE or NEW_AND_OLD_IMAGES).
func OutboxEvent(rec lambdaevents.DynamoDBEventRecord) (env events.Envelope, ok bool, err error) {
	if rec.EventName != string(lambdaevents.DynamoDBOperationTypeInsert) {
		return events.Envelope{}, false, nil
	}
	pk, _ := stringAttr(rec.Change.Keys, schema.PK)
	sk, _ := stringAttr(rec.Change.Keys, schema.SK)
	id, isOutbox := strings.CutPrefix(pk, schema.OutboxPrefix)
	if !isOutbox || sk != outboxSK {
		return events.Envelope{}, false, nil
	}
	img := rec.Change.NewImage
	if img == nil {
		return events.Envelope{}, true, fmt.Errorf("outbox record %s has no new image: the stream must carry new images", rec.Change.SequenceNumber)
	}
	if id == "" {
		return events.Envelope{}, true, errors.New("outbox item has an empty event id")
	}
	env.ID = id
	var at string
	for _, f := range []struct {
		attr string
		dst  *string
	}{{attrEventSource, &env.Source}, {attrDetailType, &env.DetailType}, {attrEventTime, &at}} {
		v, present := stringAttr(img, f.attr)
		if !present || v == "" {
			return events.Envelope{}, true, fmt.Errorf("outbox item %s: %s is missing", id, f.attr)
		}
		*f.dst = v
	}
	if env.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return events.Envelope{}, true, fmt.Errorf("outbox item %s: %s: %w", id, attrEventTime, err)
	}
	env.Time = env.Time.UTC()
	detail, present := stringAttr(img, attrDetail)
	if !present || !json.Valid([]byte(detail)) {
		return events.Envelope{}, true, fmt.Errorf("outbox item %s: %s is not JSON", id, attrDetail)
	}
	env.Detail = json.RawMessage(detail)
	return env, true, nil
}

// stringAttr returns m[name] if it is a string attribute.
func stringAttr(m map[string]lambdaevents.DynamoDBAttributeValue, name string) (string, bool) {
	v, ok := m[name]
	if !ok || v.DataType() != lambdaevents.DataTypeString {
		return "", false
	}
	return v.String(), true
}

// Claim implements relay.Outbox with one conditional UpdateItem. On a
// failed condition DynamoDB returns the item as it is
// (ReturnValuesOnConditionCheckFailure), which says why at no extra cost.
func (o *Outbox) Claim(ctx context.Context, id, token string, now, until time.Time) (relay.ClaimResult, error) {
	_, err := o.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(o.table),
		Key:              outboxKey(id),
		UpdateExpression: aws.String("SET #until = :until, #token = :token"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#published)" +
			" AND (attribute_not_exists(#until) OR #until < :now)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": schema.PK, "#until": attrClaimedUntil, "#token": attrClaimToken, "#published": attrPublishedAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": num(until.UnixMilli()), ":now": num(now.UnixMilli()), ":token": str(token),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return relay.Claimed, nil
	}
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		return 0, fmt.Errorf("claim event %s: %w", id, err)
	}
	switch item := failed.Item; {
	case len(item) == 0:
		return relay.Missing, nil
	case item[attrPublishedAt] != nil:
		return relay.Published, nil
	default:
		return relay.HeldElsewhere, nil
	}
}

// MarkPublished implements relay.Outbox. The condition only keeps the
// update from recreating an item that TTL or a person deleted.
func (o *Outbox) MarkPublished(ctx context.Context, id string, at time.Time) error {
	_, err := o.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(o.table),
		Key:                 outboxKey(id),
		UpdateExpression:    aws.String("SET #published = :at REMOVE #until, #token"),
		ConditionExpression: aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": schema.PK, "#until": attrClaimedUntil, "#token": attrClaimToken, "#published": attrPublishedAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(at.UTC().Format(timeLayout))},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("mark event %s published: %w", id, err)
	}
	return nil
}

// Release implements relay.Outbox.
func (o *Outbox) Release(ctx context.Context, id, token string) error {
	_, err := o.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(o.table),
		Key:                       outboxKey(id),
		UpdateExpression:          aws.String("REMOVE #until, #token"),
		ConditionExpression:       aws.String("#token = :token"),
		ExpressionAttributeNames:  map[string]string{"#until": attrClaimedUntil, "#token": attrClaimToken},
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": str(token)},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("release event %s: %w", id, err)
	}
	return nil
}

// PutOutboxEvent stores env in the outbox and the journal on its own,
// exactly as the store does inside the transaction of a change. Tests and
// local tools use it to put an event on the stream; an event already in
// the outbox is an error.
func PutOutboxEvent(ctx context.Context, api API, table string, env events.Envelope) error {
	if _, err := api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: eventPuts(table, env),
	}); err != nil {
		return fmt.Errorf("put event %s in the outbox: %w", env.ID, err)
	}
	return nil
}

func outboxKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{schema.PK: str(schema.OutboxPrefix + id), schema.SK: str(outboxSK)}
}
