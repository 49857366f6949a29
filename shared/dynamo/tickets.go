package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// Tickets:
//
//	pk                 sk                  what
//	TICKET#<id>        TICKET              the ticket, its SLA history and the timers it armed
//	TICKET#<id>        TL#<at>#<n>#<id>    a timeline entry; n is its place among the entries written with it
//	TICKETKEY#<hash>   TICKETKEY           a submission's dedupe key → ticket id, until expires_at
//
// and where the ticket item shows in the indexes:
//
//	gsi1pk TICKETS#ACTIVE                    active only      gsi1sk <queue key>
//	gsi2pk TICKETS#STATUS#<status>                            gsi2sk <queue key>
//	gsi3pk TICKETS#OWNER#<owner, ~ if none>  active only      gsi3sk <queue key>
//	gsi4pk TICKETS#CUSTOMER#<customer id>    with a customer  gsi4sk <opened>#<id>
//
// The queue key is <next deadline>#<id>, or ~<opened>#<id> for a ticket
// without a running deadline, so a queue lists the most pressing first and
// the tickets no clock presses after them, oldest first. Deadline keys
// start with a digit: "breached" is the keys before now, "at risk" those
// from now on whose warning has passed.
const (
	ticketPrefix      = "TICKET#"
	ticketSK          = "TICKET"
	ticketKeyPrefix   = "TICKETKEY#"
	ticketKeySK       = "TICKETKEY"
	typeTicket        = "ticket"
	typeTicketEntry   = "ticket_entry"
	typeTicketKey     = "ticket_key"
	activeTickets     = "TICKETS#ACTIVE"
	ticketsByStatus   = "TICKETS#STATUS#"
	ticketsByOwner    = "TICKETS#OWNER#"
	ticketsOfCustomer = "TICKETS#CUSTOMER#"
	// noDeadline starts the queue key of a ticket no clock presses; it
	// sorts after every digit.
	noDeadline = "~"
)

// TicketStore keeps tickets, their timelines and their timers.
type TicketStore struct {
	Client API
	Table  string
}

var _ ticket.Store = (*TicketStore)(nil)

// Open implements ticket.Store. A new ticket is one consistent read of its
// dedupe key (when it has one) and one transaction: the key first, the
// ticket, its first entry, its timers and its events. A repeated
// submission costs the read alone. When submissions with one key race, the
// key's condition lets exactly one write, and its cancellation reason
// names the winner to the others.
func (s *TicketStore) Open(ctx context.Context, o ticket.Opening) (ticket.OpenResult, error) {
	now := o.Ticket.OpenedAt
	if o.DedupeKey != "" {
		k, err := s.dedupeKey(ctx, o.DedupeKey)
		if err != nil {
			return ticket.OpenResult{}, err
		}
		if res, held, err := heldBy(k, o.Fingerprint, now); held || err != nil {
			return res, err
		}
	}
	items := []types.TransactWriteItem{
		putItem(s.Table, toTicketItem(o.Ticket), "attribute_not_exists(pk)"),
		putItem(s.Table, toTicketEntryItem(o.Entry, 0), "attribute_not_exists(pk)"),
	}
	items = append(items, timerWrites(s.Table, o.Timers.Arm, o.Timers.Cancel)...)
	if o.DedupeKey != "" {
		// The key goes first: its cancellation reason carries the winner.
		p := putItem(s.Table, ticketKeyItem{
			PK: ticketKeyPrefix + hashKey(o.DedupeKey), SK: ticketKeySK, Type: typeTicketKey,
			TicketID: o.Ticket.ID, Fingerprint: o.Fingerprint, ExpiresAt: o.DedupeUntil.Unix(),
		}, "attribute_not_exists(pk) OR expires_at <= :now")
		p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(now.Unix())}
		p.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		items = append([]types.TransactWriteItem{p}, items...)
	}
	err := transact(ctx, s.Client, s.Table, items, o.Events)
	reasons := cancellation(err)
	switch {
	case err == nil:
		return ticket.OpenResult{TicketID: o.Ticket.ID}, nil
	case o.DedupeKey != "" && reasonCode(reasons, 0) == "ConditionalCheckFailed":
		var k ticketKeyItem
		if err := attributevalue.UnmarshalMap(reasons[0].Item, &k); err != nil || k.TicketID == "" {
			return ticket.OpenResult{}, internal("decode winning ticket key", err)
		}
		res, _, err := heldBy(k, o.Fingerprint, now)
		return res, err
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return ticket.OpenResult{}, err
	}
	return ticket.OpenResult{}, internal("open ticket "+o.Ticket.ID, err)
}

// dedupeKey reads a submission's dedupe key, consistently: a retry right
// after the first submission must find it.
func (s *TicketStore) dedupeKey(ctx context.Context, dedupe string) (ticketKeyItem, error) {
	var k ticketKeyItem
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: key(ticketKeyPrefix+hashKey(dedupe), ticketKeySK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return k, internal("get ticket key", err)
	}
	if err := attributevalue.UnmarshalMap(out.Item, &k); err != nil {
		return k, internal("decode ticket key", err)
	}
	return k, nil
}

// heldBy answers a submission whose dedupe key k may hold: with the ticket
// that holds it, or a conflict when the key came with another submission.
// held is false when no ticket holds it or its window has passed (TTL
// deletes late).
func heldBy(k ticketKeyItem, fingerprint string, now time.Time) (res ticket.OpenResult, held bool, err error) {
	switch {
	case k.TicketID == "" || k.ExpiresAt <= now.Unix():
		return ticket.OpenResult{}, false, nil
	case k.Fingerprint != fingerprint:
		return ticket.OpenResult{}, true, keyReused()
	}
	return ticket.OpenResult{TicketID: k.TicketID, Duplicate: true}, true, nil
}

// Ticket implements ticket.Store.
func (s *TicketStore) Ticket(ctx context.Context, id string) (ticket.Ticket, error) {
	it, err := getItem[ticketItem](ctx, s.Client, s.Table, ticketPrefix+id, ticketSK, "ticket "+id)
	return toTicket(it), err
}

// Detail implements ticket.Store with one query of the ticket's
// partition: the ticket and its timeline sort together.
func (s *TicketStore) Detail(ctx context.Context, id string) (ticket.Ticket, []ticket.Entry, error) {
	var t ticket.Ticket
	var timeline []ticket.Entry
	found := false
	err := eachInPartition(ctx, s.Client, s.Table, ticketPrefix+id, func(kind string, raw map[string]types.AttributeValue) error {
		switch kind {
		case typeTicket:
			var it ticketItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			t, found = toTicket(it), true
		case typeTicketEntry:
			var it ticketEntryItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			timeline = append(timeline, toTicketEntry(it))
		}
		return nil
	})
	if err != nil {
		return ticket.Ticket{}, nil, internal("read ticket "+id, err)
	}
	if !found {
		return ticket.Ticket{}, nil, crm.Errorf(crm.ENOTFOUND, "no ticket %s", id)
	}
	return t, timeline, nil
}

// Save implements ticket.Store in one transaction: the ticket if still at
// version w.Prev, its entries, its timers armed and cancelled, and its
// events.
func (s *TicketStore) Save(ctx context.Context, w ticket.Write) error {
	p := putItem(s.Table, toTicketItem(w.Ticket), "version = :prev")
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(w.Prev)}
	p.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	items := []types.TransactWriteItem{p}
	for i, e := range w.Entries {
		items = append(items, putItem(s.Table, toTicketEntryItem(e, i), "attribute_not_exists(pk)"))
	}
	items = append(items, timerWrites(s.Table, w.Timers.Arm, w.Timers.Cancel)...)
	err := transact(ctx, s.Client, s.Table, items, w.Events)
	return versionedWriteError("ticket", w.Ticket.ID, err)
}

// AddEntry implements ticket.Store: the entry and its events in one
// transaction. The ticket item is not touched, so a note costs the note.
func (s *TicketStore) AddEntry(ctx context.Context, e ticket.Entry, evs []events.Envelope) error {
	err := transact(ctx, s.Client, s.Table,
		[]types.TransactWriteItem{putItem(s.Table, toTicketEntryItem(e, 0), "attribute_not_exists(pk)")}, evs)
	if crm.ErrorCode(err) == crm.EINTERNAL {
		return internal("add entry to ticket "+e.TicketID, err)
	}
	return err
}

// CustomerByEmail implements ticket.Store through the customer key a
// conversion writes (LeadStore.Convert).
func (s *TicketStore) CustomerByEmail(ctx context.Context, email string) (string, error) {
	if email == "" {
		return "", nil
	}
	return customerIDOf(ctx, s.Client, s.Table, crm.PersonKeyOf(email, ""))
}
