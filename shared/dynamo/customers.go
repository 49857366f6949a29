package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
)

const (
	custKeySK    = "CUSTKEY"
	custLeadPref = "LEAD#"
)

// CustomerByPerson implements crm.LeadStore: the person's key names the
// customer, then the customer is read.
func (s *LeadStore) CustomerByPerson(ctx context.Context, personKey string) (crm.Customer, error) {
	id, err := customerIDOf(ctx, s.Client, s.Table, personKey)
	if err != nil {
		return crm.Customer{}, err
	}
	if id == "" {
		return crm.Customer{}, crm.Errorf(crm.ENOTFOUND, "no customer for that person")
	}
	return s.customer(ctx, id)
}

// customerIDOf returns the id of the customer the person's key names, or
// "" when it names none.
func customerIDOf(ctx context.Context, c API, table, personKey string) (string, error) {
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            key(custKeyPrefix+hashKey(personKey), custKeySK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", internal("get customer key", err)
	}
	var k custKeyItem
	if err := attributevalue.UnmarshalMap(out.Item, &k); err != nil {
		return "", internal("decode customer key", err)
	}
	return k.CustomerID, nil
}

func (s *LeadStore) customer(ctx context.Context, id string) (crm.Customer, error) {
	it, err := getItem[customerItem](ctx, s.Client, s.Table, customerPrefix+id, customerSK, "customer "+id)
	return toCustomer(it), err
}

// Convert implements crm.LeadStore in one transaction: the lead (versioned),
// its conversion entry, the customer (new, or unchanged since it was read),
// the customer's link to the lead, and the events.
func (s *LeadStore) Convert(ctx context.Context, c crm.ConvertRequest) error {
	items := []types.TransactWriteItem{
		s.versioned(toLeadItem(c.Lead), c.Prev),
		s.put(toTimelineItem(c.Entry), "attribute_not_exists(pk)"),
		s.put(custLeadItem{
			PK: customerPrefix + c.Customer.ID, SK: custLeadPref + c.Lead.ID, Type: typeCustLead,
			LeadID: c.Lead.ID, At: formatTime(c.Customer.UpdatedAt),
		}, "attribute_not_exists(pk)"),
	}
	if c.NewCustomer {
		items = append(items,
			s.put(toCustomerItem(c.Customer), "attribute_not_exists(pk)"),
			s.put(custKeyItem{
				PK: custKeyPrefix + hashKey(c.Customer.PersonKey()), SK: custKeySK, Type: typeCustKey,
				CustomerID: c.Customer.ID,
			}, "attribute_not_exists(pk)"))
	} else {
		p := s.put(toCustomerItem(c.Customer), "deals = :prev")
		p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(int64(c.PrevCustomerDeals))}
		items = append(items, p)
	}
	err := transact(ctx, s.Client, s.Table, items, c.Events)
	reasons := cancellation(err)
	for i := 1; i < len(reasons); i++ {
		if reasonCode(reasons, i) == "ConditionalCheckFailed" && reasonCode(reasons, 0) != "ConditionalCheckFailed" {
			return crm.Errorf(crm.ECONFLICT, "customer %s changed meanwhile", c.Customer.ID)
		}
	}
	return leadWriteError(c.Lead.ID, err)
}

// Customer implements crm.LeadStore: one query of the customer's partition
// finds the customer, its value rank and its leads (stopping before its
// purchases), one
// query per lead its history, and one its latest purchases.
func (s *LeadStore) Customer(ctx context.Context, id string) (crm.CustomerDetail, error) {
	var d crm.CustomerDetail
	var leadIDs []string
	found := false
	err := eachInPartitionBelow(ctx, s.Client, s.Table, customerPrefix+id, purchasePrefix, func(kind string, raw map[string]types.AttributeValue) error {
		switch kind {
		case typeCustomer:
			var it customerItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			d.Customer, found = toCustomer(it), true
		case typeCustLead:
			var it custLeadItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			leadIDs = append(leadIDs, it.LeadID)
		case typeCustomerValue:
			var it customerValueItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			v := toValueRank(it)
			d.Value = &v
		}
		return nil
	})
	if err != nil {
		return crm.CustomerDetail{}, internal("read customer "+id, err)
	}
	if !found {
		return crm.CustomerDetail{}, crm.Errorf(crm.ENOTFOUND, "no customer %s", id)
	}
	for _, lid := range leadIDs {
		ld, err := s.LeadDetail(ctx, lid)
		if err != nil {
			return crm.CustomerDetail{}, err
		}
		d.Leads = append(d.Leads, ld)
	}
	if d.Purchases, err = s.latestPurchases(ctx, id, crm.LatestPurchases); err != nil {
		return crm.CustomerDetail{}, err
	}
	return d, nil
}
