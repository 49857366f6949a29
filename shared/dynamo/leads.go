package dynamo

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// LeadStore keeps leads, timelines and customers in the single table.
type LeadStore struct {
	Client API
	Table  string
}

var _ crm.LeadStore = (*LeadStore)(nil)

// Capture implements crm.LeadStore. A new person costs one consistent read
// of their key and one transaction (lead, key, first entry, event); a
// duplicate costs the read and one put of the entry. When two submissions by
// the same person race, the key's condition lets exactly one create the lead
// and turns the other into a duplicate.
func (s *LeadStore) Capture(ctx context.Context, c crm.CaptureRequest) (crm.CaptureResult, error) {
	now := c.Lead.CapturedAt
	if c.IdempotencyKey != "" {
		if res, seen, err := s.idempotentAnswer(ctx, c); seen || err != nil {
			return res, err
		}
	}
	var res crm.CaptureResult
	err := retryConflicts(func() error {
		existing, err := s.leadForPerson(ctx, c.Lead.PersonKey(), now)
		if err != nil {
			return err
		}
		if existing == "" {
			existing, err = s.create(ctx, c)
			if err != nil || existing == "" {
				res = crm.CaptureResult{LeadID: c.Lead.ID}
				return err
			}
		}
		res = crm.CaptureResult{LeadID: existing, Duplicate: true}
		return s.addSubmission(ctx, c, existing)
	})
	if cancelled := cancellation(err); cancelled != nil && reasonCode(cancelled, len(cancelled)-1) == "ConditionalCheckFailed" && c.IdempotencyKey != "" {
		// The same key raced us and won: answer as it did.
		res, _, err = s.idempotentAnswer(ctx, c)
	}
	return res, err
}

// leadForPerson returns the id of the lead that holds the person's key, or
// "" when none holds it or its window has passed (TTL deletes late).
func (s *LeadStore) leadForPerson(ctx context.Context, personKey string, now time.Time) (string, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            key(leadKeyPrefix+hashKey(personKey), leadKeyPrefix[:len(leadKeyPrefix)-1]),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", internal("get lead key", err)
	}
	var k leadKeyItem
	if err := attributevalue.UnmarshalMap(out.Item, &k); err != nil {
		return "", internal("decode lead key", err)
	}
	if k.LeadID == "" || k.ExpiresAt <= now.Unix() {
		return "", nil
	}
	return k.LeadID, nil
}

// create writes a new lead. When the person's key was taken meanwhile it
// writes nothing and returns the lead that took it.
func (s *LeadStore) create(ctx context.Context, c crm.CaptureRequest) (string, error) {
	now := c.Lead.CapturedAt
	items := []types.TransactWriteItem{
		s.put(toLeadItem(c.Lead), "attribute_not_exists(pk)"),
		s.put(toTimelineItem(c.Entry), "attribute_not_exists(pk)"),
	}
	for _, ev := range c.Events {
		items = append(items, eventPuts(s.Table, ev)...)
	}
	if c.IdempotencyKey != "" {
		items = append(items, s.put(s.idemItem(c, crm.CaptureResult{LeadID: c.Lead.ID}), "attribute_not_exists(pk)"))
	}
	// The key goes first: its cancellation reason carries the winner's id.
	keyPut := s.put(leadKeyItem{
		PK: leadKeyPrefix + hashKey(c.Lead.PersonKey()), SK: leadKeyPrefix[:len(leadKeyPrefix)-1], Type: typeLeadKey,
		LeadID: c.Lead.ID, ExpiresAt: now.Add(c.Window).Unix(),
	}, "attribute_not_exists(pk) OR expires_at <= :now")
	keyPut.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(now.Unix())}
	keyPut.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	items = append([]types.TransactWriteItem{keyPut}, items...)

	_, err := s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	reasons := cancellation(err)
	if reasonCode(reasons, 0) != "ConditionalCheckFailed" {
		if err != nil && !conflicted(err) && reasons == nil {
			return "", internal("create lead", err)
		}
		return "", err
	}
	var k leadKeyItem
	if err := attributevalue.UnmarshalMap(reasons[0].Item, &k); err != nil || k.LeadID == "" {
		return "", internal("decode winning lead key", err)
	}
	return k.LeadID, nil
}

// addSubmission records a duplicate submission on the existing lead.
func (s *LeadStore) addSubmission(ctx context.Context, c crm.CaptureRequest, leadID string) error {
	e := c.Entry
	e.LeadID = leadID
	entry := s.put(toTimelineItem(e), "attribute_not_exists(pk)")
	if c.IdempotencyKey == "" {
		return s.putOne(ctx, entry, "add submission")
	}
	idem := s.put(s.idemItem(c, crm.CaptureResult{LeadID: leadID, Duplicate: true}), "attribute_not_exists(pk)")
	_, err := s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{entry, idem},
	})
	if err != nil && cancellation(err) == nil {
		return internal("add submission", err)
	}
	return err
}

// idempotentAnswer returns the stored answer for the request's key.
func (s *LeadStore) idempotentAnswer(ctx context.Context, c crm.CaptureRequest) (crm.CaptureResult, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            key(idemPrefix+hashKey(c.IdempotencyKey), idemPrefix[:len(idemPrefix)-1]),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return crm.CaptureResult{}, false, internal("get idempotency key", err)
	}
	var it idemItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return crm.CaptureResult{}, false, internal("decode idempotency key", err)
	}
	if it.LeadID == "" || it.ExpiresAt <= c.Lead.CapturedAt.Unix() {
		return crm.CaptureResult{}, false, nil
	}
	if it.Fingerprint != c.Fingerprint {
		return crm.CaptureResult{}, true, keyReused()
	}
	return crm.CaptureResult{LeadID: it.LeadID, Duplicate: it.Duplicate}, true, nil
}

// keyReused is the answer to an Idempotency-Key sent again with another
// submission than the one it first came with.
func keyReused() error {
	return &crm.Error{Code: crm.ECONFLICT,
		Message: "this Idempotency-Key was used for a different submission",
		Fields:  []crm.FieldError{{Field: "Idempotency-Key", Reason: "was used for a different submission"}}}
}

func (s *LeadStore) idemItem(c crm.CaptureRequest, res crm.CaptureResult) idemItem {
	return idemItem{
		PK: idemPrefix + hashKey(c.IdempotencyKey), SK: idemPrefix[:len(idemPrefix)-1], Type: typeIdem,
		LeadID: res.LeadID, Duplicate: res.Duplicate, Fingerprint: c.Fingerprint,
		ExpiresAt: c.Lead.CapturedAt.Add(idempotencyRetention).Unix(),
	}
}

// spamShards spreads the spam counter over items so that a flood of bots
// does not write one hot item.
const spamShards = 10

// CountSpam implements crm.LeadStore: one sharded counter per day.
func (s *LeadStore) CountSpam(ctx context.Context, at time.Time) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.Table),
		Key:              key(statPrefix+"spam#"+at.UTC().Format(time.DateOnly), "SHARD#"+strconv.Itoa(rand.IntN(spamShards))),
		UpdateExpression: aws.String("ADD #count :one SET #type = :type"),
		ExpressionAttributeNames: map[string]string{
			"#count": "count", "#type": "type",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":type": str(typeCounter),
		},
	})
	if err != nil {
		return internal("count spam", err)
	}
	return nil
}

// SpamCount returns the spam submissions counted on the UTC day of at.
func (s *LeadStore) SpamCount(ctx context.Context, at time.Time) (int64, error) {
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(statPrefix + "spam#" + at.UTC().Format(time.DateOnly)),
		},
	})
	if err != nil {
		return 0, internal("read spam count", err)
	}
	var total int64
	for _, it := range out.Items {
		var c struct {
			Count int64 `dynamodbav:"count"`
		}
		if err := attributevalue.UnmarshalMap(it, &c); err != nil {
			return 0, internal("decode spam count", err)
		}
		total += c.Count
	}
	return total, nil
}

// Lead implements crm.LeadStore.
func (s *LeadStore) Lead(ctx context.Context, id string) (crm.Lead, error) {
	it, err := getItem[leadItem](ctx, s.Client, s.Table, leadPrefix+id, leadSK, "lead "+id)
	return toLead(it), err
}

// LeadDetail implements crm.LeadStore with one query of the lead's
// partition: the lead item and its timeline entries sort together.
func (s *LeadStore) LeadDetail(ctx context.Context, id string) (crm.LeadDetail, error) {
	var d crm.LeadDetail
	found := false
	err := eachInPartition(ctx, s.Client, s.Table, leadPrefix+id, func(kind string, raw map[string]types.AttributeValue) error {
		switch kind {
		case typeLead:
			var it leadItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			d.Lead, found = toLead(it), true
		case typeTimeline:
			var it timelineItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			d.Timeline = append(d.Timeline, toTimelineEntry(it))
		}
		return nil
	})
	if err != nil {
		return crm.LeadDetail{}, internal("read lead "+id, err)
	}
	if !found {
		return crm.LeadDetail{}, crm.Errorf(crm.ENOTFOUND, "no lead %s", id)
	}
	return d, nil
}

// eachInPartition reads every item under pk, in sort key order, with
// strong consistency, and hands each to fn with its type.
func eachInPartition(ctx context.Context, c API, table, pk string, fn func(kind string, raw map[string]types.AttributeValue) error) error {
	return eachInPartitionBelow(ctx, c, table, pk, "", fn)
}

// eachInPartitionBelow is eachInPartition for the items whose sort key is
// below below (all of them when it is "").
func eachInPartitionBelow(ctx context.Context, c API, table, pk, below string, fn func(kind string, raw map[string]types.AttributeValue) error) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ConsistentRead:            aws.Bool(true),
	}
	if below != "" {
		in.KeyConditionExpression = aws.String("pk = :pk AND sk < :below")
		in.ExpressionAttributeValues[":below"] = str(below)
	}
	p := dynamodb.NewQueryPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, raw := range page.Items {
			if err := fn(itemType(raw), raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// UpdateLead implements crm.LeadStore.
func (s *LeadStore) UpdateLead(ctx context.Context, l crm.Lead, prev int64, entries []crm.TimelineEntry, evs []events.Envelope) error {
	items := []types.TransactWriteItem{s.versioned(toLeadItem(l), prev)}
	for _, e := range entries {
		items = append(items, s.put(toTimelineItem(e), "attribute_not_exists(pk)"))
	}
	err := transact(ctx, s.Client, s.Table, items, evs)
	return leadWriteError(l.ID, err)
}

// AddEntry implements crm.LeadStore.
func (s *LeadStore) AddEntry(ctx context.Context, e crm.TimelineEntry) error {
	return s.putOne(ctx, s.put(toTimelineItem(e), "attribute_not_exists(pk)"), "add timeline entry to "+e.LeadID)
}

// putOne writes a single put on its own, without a transaction's double
// cost.
func (s *LeadStore) putOne(ctx context.Context, w types.TransactWriteItem, op string) error {
	_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: w.Put.TableName, Item: w.Put.Item, ConditionExpression: w.Put.ConditionExpression,
	})
	if err != nil {
		return internal(op, err)
	}
	return nil
}

// versioned puts a lead only if the stored one is still at version prev; on
// failure it returns the stored item, which tells a missing lead from a
// stale version.
func (s *LeadStore) versioned(it leadItem, prev int64) types.TransactWriteItem {
	p := s.put(it, "version = :prev")
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(prev)}
	p.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	return p
}

// leadWriteError translates the failure of a transaction whose first item
// is a versioned lead put.
func leadWriteError(id string, err error) error { return versionedWriteError("lead", id, err) }

// put marshals it into a transaction put with a condition.
func (s *LeadStore) put(it any, condition string) types.TransactWriteItem {
	return putItem(s.Table, it, condition)
}

// putItem marshals it into a transaction put into table with a condition.
func putItem(table string, it any, condition string) types.TransactWriteItem {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		// The item types are fixed structs of strings, numbers and maps;
		// marshalling them cannot fail.
		panic("marshal item: " + err.Error())
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(table), Item: av, ConditionExpression: aws.String(condition),
	}}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{schema.PK: str(pk), schema.SK: str(sk)}
}

func itemType(raw map[string]types.AttributeValue) string {
	if v, ok := raw["type"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
