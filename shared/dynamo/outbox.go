package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// Outbox item attributes. The store writes one outbox item per event in the
// same transaction as the change the event describes, so an event exists if
// and only if its change was written. The relay reads the item's INSERT from
// the table's stream and publishes it.
const (
	outboxSK        = "EVT"
	attrEventSource = "event_source"
	attrDetailType  = "detail_type"
	attrEventTime   = "event_time"
	attrDetail      = "detail"
	outboxRetention = 7 * 24 * time.Hour // long enough for any stream retry; TTL removes it after
)

// outboxPut returns the transaction item that stores env in the outbox.
// The condition makes a retried transaction with the same event id fail
// rather than store the event twice.
func outboxPut(table string, env events.Envelope) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			schema.PK:        str(schema.OutboxPrefix + env.ID),
			schema.SK:        str(outboxSK),
			attrEventSource:  str(env.Source),
			attrDetailType:   str(env.DetailType),
			attrEventTime:    str(env.Time.UTC().Format(timeLayout)),
			attrDetail:       str(string(env.Detail)),
			schema.ExpiresAt: num(env.Time.Add(outboxRetention).Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}

// transact writes items and, after them, the outbox and journal puts of
// evs (journal.go) in one transaction, so each event exists exactly when
// its change does. A transaction that lost a race with another wrote
// nothing and is run again (retryConflicts). Cancellation reasons keep the
// items' indexes. More items than one transaction holds is an error,
// before anything is sent.
func transact(ctx context.Context, c API, table string, items []types.TransactWriteItem, evs []events.Envelope) error {
	for _, ev := range evs {
		items = append(items, eventPuts(table, ev)...)
	}
	if len(items) > maxTransacted {
		return fmt.Errorf("%d writes with their events' outbox and journal puts, more than one transaction holds", len(items))
	}
	return retryConflicts(func() error {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	})
}

// str and num build string and number attribute values.
func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
