// Package dynamo is Rapport's DynamoDB store. It owns the item shapes, the
// key composition and the translation of SDK errors into the domain's error
// codes; nothing outside it sees an AttributeValue. It speaks to DynamoDB
// through aws-sdk-go-v2 only, locally and in AWS: the endpoint is chosen by
// the SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB), never here.
//
// Item layout in the single table (see schema.Rapport):
//
//	pk                     sk                        what
//	LEAD#<id>              LEAD                      a lead
//	LEAD#<id>              TL#<rfc3339>#<id>         a lead's timeline entry
//	LEADKEY#<key>          LEADKEY                   who submitted: email or phone → lead id, for duplicates
//	IDEM#<hash>            IDEM                      an Idempotency-Key's answer
//	CUSTOMER#<id>          CUSTOMER                  a customer
//	CUSTOMER#<id>          CUSTOMER#VALUE            its value rank, in index partition CUSTOMERS#VALUE (customer_value.go)
//	CUSTOMER#<id>          LEAD#<lead id>            a lead that became this customer's deal
//	CUSTOMER#<id>          PURCHASE#<rfc3339>#<id>   a purchase by this customer, at when it was bought (purchases.go)
//	CUSTKEY#<key>          CUSTKEY                   email or phone → customer id
//	TICKET#<id>            TICKET                    a ticket, its SLA history and its timers' instants (tickets.go)
//	TICKET#<id>            TL#<rfc3339>#<n>#<id>     a ticket's timeline entry, n-th of those written together
//	TICKETKEY#<hash>       TICKETKEY                 a ticket submission's dedupe key → ticket id, until expires_at
//	EVT#<event id>         EVT                       an event in the outbox, published by the relay
//	STAT#<name>#<day>      SHARD#<n>                 a sharded counter
//	STAFF#<sub>            STAFF                     a staff profile, by the token's subject (staff.go)
//	TIMER#<id>             TIMER                     a timer, e.g. digest#<sub> (timers.go)
//	SWEEP                  SWEEP                     the timer sweep's checkpoint
//	SURVEY#<id>            SURVEY                    a survey invitation; the address an attribute, never a key (surveys.go)
//	SURVEY#<id>            ANSWER[#<question>]       its one answer, and a copy for each further question answered
//	SURVEYPERSON#<hash>    PERSON                    a person's opt-out and the invitation holding their quiet period
//	SURVEYTALLY#<yyyy-mm>  <day>#<q or sent>#<n>     a day's survey answers per score and responses, or invitations sent, in shard n
//	ROLLUP#<scope>#<month> <day>#<family>#…          a day's rollup for the organisation or a team, sharded (rollup_items.go)
//	ROLLUPSEEN#<event id>  ROLLUPSEEN                an event counted in the rollups, until expires_at
//	ROLLUPONCE#<key>       ROLLUPONCE                a thing counted once however many events report it (followup#<id>)
//	JOURNAL#<date>#<n>     <event id>                a counted event, kept for good, on a UTC date it counts on, in shard n of 8 (journal.go)
package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// API is the part of the DynamoDB client the store uses. *dynamodb.Client
// implements it; tests wrap it to count requests and capacity.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)
