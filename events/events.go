// Package events is Rapport's event catalogue: one Go type per EventBridge
// detail-type, with a JSON Schema and a sample for each under schemas/ and
// testdata/. It imports only the standard library; the domain builds these
// details, the store writes them to the outbox in the same transaction as the
// change they describe, and the relay publishes them.
//
// Events carry identifiers, sources, statuses, amounts and instants — never a
// person's name, email address, phone number or message.
package events

import (
	"embed"
	"encoding/json"
	"fmt"
	"time"
)

//go:embed schemas/*.json
var schemas embed.FS

// Schema returns the JSON Schema (draft 2020-12) of the detail of
// detailType, as schemas/<detail-type>.json holds it, and whether there is
// one. The local stack's bus checks what it is given against it.
func Schema(detailType string) ([]byte, bool) {
	b, err := schemas.ReadFile("schemas/" + detailType + ".json")
	return b, err == nil
}

// Metadata is embedded in every detail. EventID is unique per event and
// stable across redeliveries, so consumers drop duplicates by it.
type Metadata struct {
	EventID    string    `json:"event_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Meta returns the metadata, so that any detail satisfies Detail.
func (m Metadata) Meta() Metadata { return m }

// Detail is implemented by every detail type in the catalogue.
type Detail interface {
	// EventSource is the EventBridge source, e.g. "rapport.leads".
	EventSource() string
	// DetailType is the EventBridge detail-type, e.g. "lead.captured".
	DetailType() string
	// Meta returns the event's id and time.
	Meta() Metadata
}

// Envelope is one event ready to be stored and published: what PutEvents
// needs, plus the id consumers use to drop duplicates.
type Envelope struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail_type"`
	Time       time.Time       `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// Catalogue returns one zero value of every detail type Rapport publishes, in
// the order docs/events.md lists them. The tests check that each has a schema
// in schemas/ and a sample in testdata/; the local stack's bus and the docs
// read the list, so a new detail type is added here and nowhere else.
func Catalogue() []Detail {
	return []Detail{
		LeadCaptured{}, LeadUpdated{}, LeadConverted{}, PurchaseRecorded{},
		FollowupCreated{}, FollowupDue{}, FollowupOverdue{}, FollowupCompleted{}, FollowupCancelled{},
		StaffDigestDue{},
		TicketOpened{}, TicketUpdated{}, TicketReplied{}, TicketSolved{}, TicketReopened{}, TicketClosed{},
		TicketSLAWarning{}, TicketSLABreached{}, TicketSLAEscalated{}, TicketCloseDue{},
		SurveyInvited{}, SurveyResponded{}, SurveyOptedOut{}, SurveyDue{},
	}
}

// Event is an EventBridge event as a rule's target receives it, with its
// detail decoded into D. A consumer's handler can take Event[LeadCaptured]
// directly; its JSON is that of aws-lambda-go's EventBridgeEvent. Consumers
// drop redeliveries by Detail's EventID, never by ID: the relay may publish
// an event twice after a crash, and EventBridge gives each publication its
// own ID.
type Event[D Detail] struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	AccountID  string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     D         `json:"detail"`
}

// Wrap marshals d into an envelope.
func Wrap(d Detail) (Envelope, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return Envelope{}, fmt.Errorf("marshal %s: %w", d.DetailType(), err)
	}
	m := d.Meta()
	if m.EventID == "" {
		return Envelope{}, fmt.Errorf("%s has no event id", d.DetailType())
	}
	return Envelope{ID: m.EventID, Source: d.EventSource(), DetailType: d.DetailType(), Time: m.OccurredAt.UTC(), Detail: body}, nil
}
