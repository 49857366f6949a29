package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// planTicketQuery plans a ticket list: the queue whose partition answers
// the most of the filter, the range of its sort keys the SLA filter keeps,
// and the rest of the filter as a filter expression.
func planTicketQuery(f ticket.Filter) indexQuery {
	ix := func(name string) schema.Index { i, _ := schema.Rapport.Index(name); return i }
	q := indexQuery{names: map[string]string{}, values: map[string]types.AttributeValue{}}
	switch {
	case f.Status != "":
		q.index, q.pk = ix(schema.GSI2), ticketsByStatus+string(f.Status)
	case f.OwnerSet:
		q.index, q.pk = ix(schema.GSI3), ownerQueue(f.Owner)
	default:
		q.index, q.pk = ix(schema.GSI1), activeTickets
	}
	add := func(attr, cond string, val string) {
		q.names["#"+attr] = attr
		if val != "" {
			q.values[":"+attr] = str(val)
		}
		q.filter = append(q.filter, cond)
	}
	if f.Priority != "" {
		add("priority", "#priority = :priority", string(f.Priority))
	}
	if f.Kind != "" {
		add("kind", "#kind = :kind", string(f.Kind))
	}
	if f.OwnerSet && q.index.Name != schema.GSI3 {
		if f.Owner == "" {
			add("owner", "attribute_not_exists(#owner)", "")
		} else {
			add("owner", "#owner = :owner", f.Owner)
		}
	}
	now := formatTime(f.Now)
	switch f.SLA {
	case ticket.Breached:
		// Deadline keys before now; a key is "<deadline>#<id>", so one at
		// now itself sorts after now and is not breached yet.
		q.lo, q.hi = "0", now
	case ticket.AtRisk:
		q.lo, q.hi = now, "9"
		add("warning_at", "#warning_at <= :warning_at", now)
	}
	return q
}

// List implements ticket.Store: one queue of an index, most pressing
// first, never a scan. A status chooses the status queue, else an owner
// the owner's queue, else the queue of every active ticket; the other
// filters read on through the queue (see queryPage).
func (s *TicketStore) List(ctx context.Context, f ticket.Filter) (ticket.Page, error) {
	q := planTicketQuery(f)
	owner := ""
	if f.OwnerSet {
		owner = "=" + f.Owner
	}
	fp := printOf("tickets", q.index.Name, q.pk, string(f.Priority), string(f.Kind), owner, string(f.SLA))
	start, err := decodeIndexCursor(f.Cursor, q.index, q.pk, fp)
	if err != nil {
		return ticket.Page{}, err
	}
	var page ticket.Page
	if sk, ok := start[q.index.SortKey].(*types.AttributeValueMemberS); ok && q.hi != "" && sk.Value > q.hi {
		return page, nil // the range moved back before the cursor: nothing after it
	}
	page.Tickets, page.Next, err = listPage(ctx, s.Client, q.input(s.Table, start, false), q.index, f.Limit, fp, toTicket)
	if err != nil {
		return ticket.Page{}, internal("list tickets", err)
	}
	return page, nil
}

// OfCustomer implements ticket.Store: one query of the customer's
// partition of GSI4, newest first. A limit outside 1..ticket.MaxLimit is
// ticket.DefaultLimit.
func (s *TicketStore) OfCustomer(ctx context.Context, customerID string, limit int) ([]ticket.Ticket, error) {
	if limit < 1 || limit > ticket.MaxLimit {
		limit = ticket.DefaultLimit
	}
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(schema.GSI4),
		KeyConditionExpression:    aws.String("gsi4pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(ticketsOfCustomer + customerID)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, internal("list tickets of customer "+customerID, err)
	}
	tickets := make([]ticket.Ticket, 0, len(out.Items))
	for _, raw := range out.Items {
		var it ticketItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, internal("decode ticket", err)
		}
		tickets = append(tickets, toTicket(it))
	}
	return tickets, nil
}
