// Package schema describes Rapport's single DynamoDB table: its key attributes,
// global secondary indexes, TTL attribute and stream. It imports nothing from
// AWS so that the store, the local stack and the CDK app read one definition,
// and a key or an index cannot exist in one place and not in another.
package schema

// Attribute names shared by every item in the table.
const (
	PK        = "pk"         // partition key, e.g. "LEAD#01J…"
	SK        = "sk"         // sort key, e.g. "LEAD" or "TL#2026-11-22T10:00:00Z#01J…"
	ExpiresAt = "expires_at" // epoch seconds; DynamoDB's TTL deletes the item some time after
)

// OutboxPrefix starts the partition key of every outbox item: the events
// the store writes with each change. The relay's stream filter matches it.
const OutboxPrefix = "EVT#"

// Index is one global secondary index. All of Rapport's indexes project every
// attribute and use string keys.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
}

// StreamView names what a stream record carries; the relay needs both images.
type StreamView string

// NewAndOldImages is the stream view the table is created with.
const NewAndOldImages StreamView = "NEW_AND_OLD_IMAGES"

// Table is the whole definition of the table. Attributes other than keys are
// schemaless, as in DynamoDB itself.
type Table struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	TTLAttribute string
	Stream       StreamView
}

// Generic, overloaded index names. Each entity documents what it puts in them
// (see shared/dynamo); items without the index's key attributes are simply
// absent from it (sparse indexes), which is how an owner index holds only
// leads that have an owner.
const (
	GSI1 = "gsi1" // by collection and time: every lead, newest first
	GSI2 = "gsi2" // by status and time
	GSI3 = "gsi3" // by owner and time
	GSI4 = "gsi4" // by source and time
)

// Rapport is the table every function reads and writes.
var Rapport = Table{
	PartitionKey: PK,
	SortKey:      SK,
	Indexes: []Index{
		{Name: GSI1, PartitionKey: "gsi1pk", SortKey: "gsi1sk"},
		{Name: GSI2, PartitionKey: "gsi2pk", SortKey: "gsi2sk"},
		{Name: GSI3, PartitionKey: "gsi3pk", SortKey: "gsi3sk"},
		{Name: GSI4, PartitionKey: "gsi4pk", SortKey: "gsi4sk"},
	},
	TTLAttribute: ExpiresAt,
	Stream:       NewAndOldImages,
}

// Index returns the index called name and whether the table has it.
func (t Table) Index(name string) (Index, bool) {
	for _, ix := range t.Indexes {
		if ix.Name == name {
			return ix, true
		}
	}
	return Index{}, false
}
