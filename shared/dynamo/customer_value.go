package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// A customer's value rank is an item of its own in the customer's
// partition, beside the customer rather than on it:
//
//	pk              sk               gsi1pk            gsi1sk
//	CUSTOMER#<id>   CUSTOMER#VALUE   CUSTOMERS#VALUE   <revenue, 19 digits>#<id>
//
// The customer item is rewritten whole by every conversion and purchase
// (a Put conditioned on its deals), which would erase a rank kept on it or
// race with the daily ranking; this item is written by the ranking alone.
// Its sort key sorts between CUSTOMER and LEAD#, so the one query that
// reads a customer's detail reads its rank too. The index partition holds
// exactly the ranked customers, sorted by revenue: it lists them by value
// and tells the ranking whom to clear, without a scan. The name is copied
// from the customer when it is first ranked (a customer's name never
// changes), so the list needs no read of the customers.
const (
	typeCustomerValue = "customer_value"
	customerValueSK   = "CUSTOMER#VALUE"
	customersByValue  = "CUSTOMERS#VALUE"
	valueFilterPrint  = "value"
)

// customerValueItem is a customer's value rank as stored.
type customerValueItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	GSI1PK     string `dynamodbav:"gsi1pk"`
	GSI1SK     string `dynamodbav:"gsi1sk"`
	CustomerID string `dynamodbav:"customer_id"`
	Name       string `dynamodbav:"name,omitempty"`
	Rank       int    `dynamodbav:"value_rank"`
	TTMMinor   int64  `dynamodbav:"ttm_minor"`
	Currency   string `dynamodbav:"ttm_currency"`
	RankedAt   string `dynamodbav:"ranked_at"`
}

// valueSortKey sorts by revenue: fixed-width digits hold any int64.
func valueSortKey(minor int64, id string) string { return fmt.Sprintf("%019d#%s", minor, id) }

func toCustomerValueItem(r crm.ValueRank) customerValueItem {
	return customerValueItem{
		PK: customerPrefix + r.CustomerID, SK: customerValueSK, Type: typeCustomerValue,
		GSI1PK: customersByValue, GSI1SK: valueSortKey(r.Revenue.Minor, r.CustomerID),
		CustomerID: r.CustomerID, Name: r.Name, Rank: r.Rank,
		TTMMinor: r.Revenue.Minor, Currency: r.Revenue.Currency, RankedAt: formatTime(r.RankedAt),
	}
}

func toValueRank(it customerValueItem) crm.ValueRank {
	return crm.ValueRank{CustomerID: it.CustomerID, Name: it.Name, Rank: it.Rank,
		Revenue: crm.Money{Minor: it.TTMMinor, Currency: it.Currency}, RankedAt: parseTime(it.RankedAt)}
}

// ValueStore keeps the customers' value ranks.
type ValueStore struct {
	Client API
	Table  string
}

var _ crm.ValueStore = (*ValueStore)(nil)

// SaveValueRanks implements crm.ValueStore: one query of the index
// partition of the ranked customers (a page per 1 MB, some 5,000 ranks),
// a read of each customer ranked for the first time (for its name), a put
// of each rank that changed and a delete of each rank no longer held. A
// day on which nothing changed costs the query alone.
func (s *ValueStore) SaveValueRanks(ctx context.Context, ranks []crm.ValueRank, at time.Time) (crm.ValueReport, error) {
	stored := map[string]customerValueItem{}
	ix, _ := schema.Rapport.Index(schema.GSI1)
	p := dynamodb.NewQueryPaginator(s.Client, &dynamodb.QueryInput{
		TableName: aws.String(s.Table), IndexName: aws.String(ix.Name),
		KeyConditionExpression:    aws.String("#ipk = :ipk"),
		ExpressionAttributeNames:  map[string]string{"#ipk": ix.PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ipk": str(customersByValue)},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return crm.ValueReport{}, internal("read value ranks", err)
		}
		for _, raw := range page.Items {
			var it customerValueItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return crm.ValueReport{}, internal("decode value rank", err)
			}
			stored[it.CustomerID] = it
		}
	}
	rep := crm.ValueReport{}
	for _, r := range ranks {
		old, had := stored[r.CustomerID]
		delete(stored, r.CustomerID)
		if had && old.Rank == r.Rank && old.TTMMinor == r.Revenue.Minor && old.Currency == r.Revenue.Currency {
			rep.Ranked++
			rep.Unchanged++
			continue
		}
		r.RankedAt, r.Name = at, old.Name
		if !had {
			c, err := getItem[customerItem](ctx, s.Client, s.Table, customerPrefix+r.CustomerID, customerSK, "customer "+r.CustomerID)
			if crm.ErrorCode(err) == crm.ENOTFOUND {
				continue // revenue of a customer that is not in the table
			} else if err != nil {
				return rep, err
			}
			r.Name = c.Name
		}
		item, err := attributevalue.MarshalMap(toCustomerValueItem(r))
		if err != nil {
			return rep, internal("encode value rank", err)
		}
		if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
			return rep, internal("put value rank of customer "+r.CustomerID, err)
		}
		rep.Ranked++
		rep.Written++
	}
	for id := range stored {
		if _, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(s.Table), Key: key(customerPrefix+id, customerValueSK),
		}); err != nil {
			return rep, internal("clear value rank of customer "+id, err)
		}
		rep.Cleared++
	}
	return rep, nil
}

// CustomersByValue implements crm.LeadStore: one query of the index
// partition of the ranked customers, the highest revenue first.
func (s *LeadStore) CustomersByValue(ctx context.Context, f crm.ValueFilter) (crm.ValuePage, error) {
	ix, _ := schema.Rapport.Index(schema.GSI1)
	q := indexQuery{index: ix, pk: customersByValue}
	start, err := decodeIndexCursor(f.Cursor, ix, customersByValue, valueFilterPrint)
	if err != nil {
		return crm.ValuePage{}, err
	}
	var page crm.ValuePage
	page.Items, page.NextCursor, err = listPage(ctx, s.Client, q.input(s.Table, start, true), ix, f.Limit, valueFilterPrint, toValueRank)
	if err != nil {
		return crm.ValuePage{}, internal("list customers by value", err)
	}
	return page, nil
}
