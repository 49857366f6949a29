package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
)

// Purchases live in their customer's partition, after its leads, sorted by
// when they were bought: CUSTOMER#<id> PURCHASE#<time>#<purchase id>.
const (
	typePurchase   = "purchase"
	purchasePrefix = "PURCHASE#"
	// purchaseIdemScope keeps purchases' Idempotency-Keys apart from the
	// lead form's, which share the IDEM# partitions.
	purchaseIdemScope = "purchase#"
)

// purchaseItem is a purchase as stored.
type purchaseItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"`
	CustomerID  string    `dynamodbav:"customer_id"`
	Amount      moneyItem `dynamodbav:"amount"`
	PurchasedAt string    `dynamodbav:"purchased_at"`
	Description string    `dynamodbav:"description,omitempty"`
	RecordedBy  string    `dynamodbav:"recorded_by,omitempty"`
	RecordedAt  string    `dynamodbav:"recorded_at"`
}

func purchaseSK(p crm.Purchase) string { return purchasePrefix + formatTime(p.At) + "#" + p.ID }

func toPurchaseItem(p crm.Purchase) purchaseItem {
	return purchaseItem{
		PK: customerPrefix + p.CustomerID, SK: purchaseSK(p), Type: typePurchase,
		ID: p.ID, CustomerID: p.CustomerID, Amount: moneyItem(p.Amount),
		PurchasedAt: formatTime(p.At), Description: p.Description,
		RecordedBy: p.RecordedBy, RecordedAt: formatTime(p.RecordedAt),
	}
}

func toPurchase(it purchaseItem) crm.Purchase {
	return crm.Purchase{
		ID: it.ID, CustomerID: it.CustomerID, Amount: crm.Money(it.Amount),
		At: parseTime(it.PurchasedAt), Description: it.Description,
		RecordedBy: it.RecordedBy, RecordedAt: parseTime(it.RecordedAt),
	}
}

// purchaseIdemItem remembers which purchase an Idempotency-Key recorded,
// for a day.
type purchaseIdemItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	CustomerID  string `dynamodbav:"customer_id"`
	PurchaseSK  string `dynamodbav:"purchase_sk"`
	Fingerprint string `dynamodbav:"fingerprint"`
	ExpiresAt   int64  `dynamodbav:"expires_at"`
}

func purchaseIdemKey(key string) (string, string) {
	return idemPrefix + hashKey(purchaseIdemScope+key), idemPrefix[:len(idemPrefix)-1]
}

// CustomerByID implements crm.LeadStore.
func (s *LeadStore) CustomerByID(ctx context.Context, id string) (crm.Customer, error) {
	return s.customer(ctx, id)
}

// PurchaseByKey implements crm.LeadStore: one consistent read of the key,
// and one of the purchase it names.
func (s *LeadStore) PurchaseByKey(ctx context.Context, key, fingerprint string, now time.Time) (crm.Purchase, bool, error) {
	pk, sk := purchaseIdemKey(key)
	it, err := getItem[purchaseIdemItem](ctx, s.Client, s.Table, pk, sk, "idempotency key")
	switch {
	case crm.ErrorCode(err) == crm.ENOTFOUND:
		return crm.Purchase{}, false, nil
	case err != nil:
		return crm.Purchase{}, false, err
	case it.ExpiresAt <= now.Unix(): // TTL deletes late
		return crm.Purchase{}, false, nil
	case it.Fingerprint != fingerprint:
		return crm.Purchase{}, true, crm.KeyReused()
	}
	p, err := getItem[purchaseItem](ctx, s.Client, s.Table, customerPrefix+it.CustomerID, it.PurchaseSK, "purchase")
	if err != nil {
		return crm.Purchase{}, true, err
	}
	return toPurchase(p), true, nil
}

// RecordPurchase implements crm.LeadStore in one transaction: the customer
// (unchanged since it was read), the purchase, the key's answer and the
// events.
func (s *LeadStore) RecordPurchase(ctx context.Context, r crm.PurchaseRequest) error {
	cust := s.put(toCustomerItem(r.Customer), "deals = :prev")
	cust.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(int64(r.PrevCustomerDeals))}
	cust.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	items := []types.TransactWriteItem{cust, s.put(toPurchaseItem(r.Purchase), "attribute_not_exists(pk)")}
	if r.IdempotencyKey != "" {
		pk, sk := purchaseIdemKey(r.IdempotencyKey)
		items = append(items, s.put(purchaseIdemItem{
			PK: pk, SK: sk, Type: typeIdem, CustomerID: r.Purchase.CustomerID, PurchaseSK: purchaseSK(r.Purchase),
			Fingerprint: r.Fingerprint, ExpiresAt: r.Purchase.RecordedAt.Add(idempotencyRetention).Unix(),
		}, "attribute_not_exists(pk) OR expires_at <= :now"))
		items[2].Put.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(r.Purchase.RecordedAt.Unix())}
	}
	err := transact(ctx, s.Client, s.Table, items, r.Events)
	reasons := cancellation(err)
	switch {
	case err == nil:
		return nil
	case reasonCode(reasons, 2) == "ConditionalCheckFailed" && r.IdempotencyKey != "":
		return crm.Errorf(crm.ECONFLICT, "the Idempotency-Key was used meanwhile")
	case reasonCode(reasons, 0) == "ConditionalCheckFailed" && len(reasons[0].Item) == 0:
		return crm.Errorf(crm.ENOTFOUND, "no customer %s", r.Customer.ID)
	case reasonCode(reasons, 0) == "ConditionalCheckFailed":
		return crm.Errorf(crm.ECONFLICT, "customer %s changed meanwhile", r.Customer.ID)
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return err
	}
	return internal("record purchase for customer "+r.Customer.ID, err)
}

// latestPurchases returns the customer's latest n purchases, the most
// recently bought first: one query, however many there are.
func (s *LeadStore) latestPurchases(ctx context.Context, customerID string, n int) ([]crm.Purchase, error) {
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPrefix + customerID), ":p": str(purchasePrefix),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(n)),
		ConsistentRead:   aws.Bool(true),
	})
	if err != nil {
		return nil, internal("read purchases of customer "+customerID, err)
	}
	ps := make([]crm.Purchase, 0, len(out.Items))
	for _, raw := range out.Items {
		var it purchaseItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, internal("decode purchase", err)
		}
		ps = append(ps, toPurchase(it))
	}
	return ps, nil
}
