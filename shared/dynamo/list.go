package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

// maxQueriesPerPage bounds the reads behind one page when filters drop
// items, so a request's cost has a ceiling; a short page with a cursor is
// the answer then.
const maxQueriesPerPage = 5

// indexQuery is the plan for a filtered list: the index partition that
// answers the most of the filter, the range of its sort keys the filter
// keeps, and the rest of the filter as a filter expression.
type indexQuery struct {
	index  schema.Index
	pk     string
	lo, hi string // inclusive bounds of the sort key; "" for none
	filter []string
	values map[string]types.AttributeValue
	names  map[string]string
}

// input is the query of q's partition from start (a cursor's key, or nil),
// newest (highest sort key) first or oldest first. A start outside the
// sort key range (the range moved with now since the cursor was made)
// begins at the range, which then holds nothing the earlier pages listed.
func (q indexQuery) input(table string, start map[string]types.AttributeValue, newestFirst bool) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(q.index.Name),
		KeyConditionExpression:    aws.String("#ipk = :ipk"),
		ExpressionAttributeNames:  map[string]string{"#ipk": q.index.PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ipk": str(q.pk)},
		ScanIndexForward:          aws.Bool(!newestFirst),
		ExclusiveStartKey:         start,
	}
	if q.lo != "" {
		*in.KeyConditionExpression += " AND #isk BETWEEN :lo AND :hi"
		in.ExpressionAttributeNames["#isk"] = q.index.SortKey
		in.ExpressionAttributeValues[":lo"], in.ExpressionAttributeValues[":hi"] = str(q.lo), str(q.hi)
		if sk, ok := start[q.index.SortKey].(*types.AttributeValueMemberS); ok && sk.Value < q.lo {
			in.ExclusiveStartKey = nil
		}
	}
	if len(q.filter) > 0 {
		in.FilterExpression = aws.String(strings.Join(q.filter, " AND "))
		for k, v := range q.names {
			in.ExpressionAttributeNames[k] = v
		}
		for k, v := range q.values {
			in.ExpressionAttributeValues[k] = v
		}
	}
	return in
}

func planLeadQuery(f crm.LeadFilter) indexQuery {
	q := indexQuery{values: map[string]types.AttributeValue{}, names: map[string]string{}}
	ix := func(name string) schema.Index { i, _ := schema.Rapport.Index(name); return i }
	switch {
	case f.Owner != "":
		q.index, q.pk = ix(schema.GSI3), leadsByOwner+f.Owner
	case f.Status != "":
		q.index, q.pk = ix(schema.GSI2), leadsByStatus+string(f.Status)
	case f.Source != "":
		q.index, q.pk = ix(schema.GSI4), leadsBySource+f.Source
	default:
		q.index, q.pk = ix(schema.GSI1), allLeads
	}
	add := func(attr, val, placeholder string) {
		q.names["#"+placeholder] = attr
		q.values[":"+placeholder] = str(val)
		q.filter = append(q.filter, "#"+placeholder+" = :"+placeholder)
	}
	if f.Status != "" && q.index.Name != schema.GSI2 {
		add("status", string(f.Status), "status")
	}
	if f.Source != "" && q.index.Name != schema.GSI4 {
		add("source", f.Source, "source")
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		q.lo, q.hi = "0", "9"
		if !f.From.IsZero() {
			q.lo = formatTime(f.From)
		}
		if !f.To.IsZero() {
			q.hi = formatTime(f.To) // "<time>#<id>" sorts after "<time>": To is excluded
		}
	}
	return q
}

// Leads implements crm.LeadStore: newest first, by an index, never a scan.
func (s *LeadStore) Leads(ctx context.Context, f crm.LeadFilter) (crm.LeadPage, error) {
	q := planLeadQuery(f)
	fp := filterPrint(f)
	start, err := decodeCursor(f.Cursor, q, fp)
	if err != nil {
		return crm.LeadPage{}, err
	}
	in := q.input(s.Table, start, true)

	var page crm.LeadPage
	page.Items, page.NextCursor, err = listPage(ctx, s.Client, in, q.index, f.Limit, fp, toLead)
	if err != nil {
		return crm.LeadPage{}, internal("list leads", err)
	}
	return page, nil
}

// listPage reads one page of a list through queryPage, decoding each item
// as an I and handing it to conv, and returns the page's entries and the
// cursor of the next page, which names ix and the filter print fp ("" when
// the list ends there).
func listPage[I, T any](ctx context.Context, c API, in *dynamodb.QueryInput, ix schema.Index, limit int, fp string, conv func(I) T) ([]T, string, error) {
	var out []T
	next, err := queryPage(ctx, c, in, ix, limit, func(raw map[string]types.AttributeValue) error {
		var it I
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return err
		}
		out = append(out, conv(it))
		return nil
	})
	if err != nil || next == nil {
		return out, "", err
	}
	return out, encodeCursor(ix.Name, fp, next), nil
}

// queryPage reads one page of a list through the index query in: at most
// limit items, handed to fn in order. Filters drop items after the read,
// so it reads on until the page is full or the partition ends, in at most
// maxQueriesPerPage requests, and a short page is the answer when they run
// out. It asks for one item more than the page needs, so the last page has
// no next key. It returns the key to resume after: the page's last item,
// or where the reads stopped; nil when the partition is done.
func queryPage(ctx context.Context, c API, in *dynamodb.QueryInput, ix schema.Index, limit int, fn func(raw map[string]types.AttributeValue) error) (map[string]types.AttributeValue, error) {
	n := 0
	var last map[string]types.AttributeValue
	for range maxQueriesPerPage {
		in.Limit = aws.Int32(int32(limit - n + 1))
		out, err := c.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, raw := range out.Items {
			if n == limit {
				return keyOf(last, ix), nil
			}
			if err := fn(raw); err != nil {
				return nil, err
			}
			n, last = n+1, raw
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return in.ExclusiveStartKey, nil
}

// keyOf picks an item's table and index key attributes: what DynamoDB
// needs to resume a query of that index after the item.
func keyOf(raw map[string]types.AttributeValue, ix schema.Index) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{}
	for _, a := range []string{schema.PK, schema.SK, ix.PartitionKey, ix.SortKey} {
		k[a] = raw[a]
	}
	return k
}

// cursor is what a list's next_cursor carries: where to resume, and a print
// of the filters so a cursor is not used with others.
type cursor struct {
	Index  string            `json:"i"`
	Filter string            `json:"f"`
	Key    map[string]string `json:"k"`
}

func filterPrint(f crm.LeadFilter) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		string(f.Status), f.Source, f.Owner, formatTime(f.From), formatTime(f.To),
	}, "\x00")))
	return hex.EncodeToString(sum[:6])
}

func encodeCursor(index, filter string, k map[string]types.AttributeValue) string {
	c := cursor{Index: index, Filter: filter, Key: map[string]string{}}
	for name, v := range k {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			c.Key[name] = sv.Value
		}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, q indexQuery, filter string) (map[string]types.AttributeValue, error) {
	return decodeIndexCursor(s, q.index, q.pk, filter)
}

// decodeIndexCursor reads a cursor encodeCursor made for a query of the
// index partition pk with the filters printed as filter.
func decodeIndexCursor(s string, ix schema.Index, pk, filter string) (map[string]types.AttributeValue, error) {
	if s == "" {
		return nil, nil
	}
	bad := &crm.Error{Code: crm.EINVALID, Message: "invalid cursor",
		Fields: []crm.FieldError{{Field: "cursor", Reason: "is not a next_cursor from a list with these filters"}}}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Index != ix.Name || c.Filter != filter ||
		c.Key[ix.PartitionKey] != pk {
		return nil, bad
	}
	k := map[string]types.AttributeValue{}
	for _, a := range []string{schema.PK, schema.SK, ix.PartitionKey, ix.SortKey} {
		v, ok := c.Key[a]
		if !ok || v == "" {
			return nil, bad
		}
		k[a] = str(v)
	}
	// Four attributes for an index, two for the table's own key.
	if len(c.Key) != len(k) {
		return nil, bad
	}
	return k, nil
}
