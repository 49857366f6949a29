package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/reminders"
)

// Sent mail is recorded under a key the sender chooses (a reminder's event
// id, a person's digest day), so a retried or redelivered consumer does not
// mail twice:
//
//	pk          sk     state
//	MAIL#<key>  MAIL   sending (until lease_until) → sent
//
// The key is hashed: it may hold a person's id.
const (
	mailPrefix    = "MAIL#"
	mailSK        = "MAIL"
	typeMail      = "mail"
	mailSending   = "sending"
	mailSent      = "sent"
	mailRetention = 45 * 24 * time.Hour // longer than any redelivery
)

// MailLog records which mail was sent.
type MailLog struct {
	Client API
	Table  string
}

var _ reminders.SendLog = (*MailLog)(nil)

// Claim implements reminders.SendLog: it reserves the mail for one sender
// until until, unless it was sent or another sender holds a live claim. A
// claim whose lease ran out (its sender crashed) is taken over.
func (l *MailLog) Claim(ctx context.Context, mailKey string, now, until time.Time) (reminders.Claim, error) {
	_, err := l.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.Table),
		Item: map[string]types.AttributeValue{
			"pk": str(mailPrefix + hashKey(mailKey)), "sk": str(mailSK), "type": str(typeMail),
			"state": str(mailSending), "lease_until": str(formatTime(until)),
			"expires_at": num(now.Add(mailRetention).Unix()),
		},
		ConditionExpression:                 aws.String("attribute_not_exists(pk) OR (#state = :sending AND lease_until < :now)"),
		ExpressionAttributeNames:            map[string]string{"#state": "state"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":sending": str(mailSending), ":now": str(formatTime(now))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		if state, ok := failed.Item["state"].(*types.AttributeValueMemberS); ok && state.Value == mailSent {
			return reminders.AlreadySent, nil
		}
		return reminders.Busy, nil
	case err != nil:
		return reminders.Busy, internal("claim mail", err)
	}
	return reminders.Claimed, nil
}

// Sent records that the mail under key went out.
func (l *MailLog) Sent(ctx context.Context, mailKey, messageID string, at time.Time) error {
	_, err := l.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       key(mailPrefix+hashKey(mailKey), mailSK),
		UpdateExpression:          aws.String("SET #state = :sent, sent_at = :at, message_id = :id REMOVE lease_until"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sent": str(mailSent), ":at": str(formatTime(at)), ":id": str(messageID)},
	})
	if err != nil {
		return internal("record sent mail", err)
	}
	return nil
}

// Release gives up a claim whose mail could not be sent, so a retry can
// send it at once instead of waiting for the lease to run out.
func (l *MailLog) Release(ctx context.Context, mailKey string) error {
	_, err := l.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       key(mailPrefix+hashKey(mailKey), mailSK),
		ConditionExpression:       aws.String("#state = :sending"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sending": str(mailSending)},
	})
	if err != nil && !conditionFailed(err) {
		return internal("release mail claim", err)
	}
	return nil
}
