package events

import "time"

// PurchaseRecordedType is the detail type of a customer's purchase. Purchases
// are recorded by the leads function, so they share its source.
const PurchaseRecordedType = "purchase.recorded"

// PurchaseRecorded is published once when staff record a purchase by an
// existing customer. It carries no description: that is free text and may
// name people.
type PurchaseRecorded struct {
	Metadata
	PurchaseID string `json:"purchase_id"`
	CustomerID string `json:"customer_id"`
	Amount     Money  `json:"amount"`
	// PurchasedAt is when the customer bought, which may be before the
	// purchase was recorded (occurred_at).
	PurchasedAt time.Time `json:"purchased_at"`
	// RepeatCustomer is true when the customer had bought before: a
	// converted deal or an earlier purchase.
	RepeatCustomer bool `json:"repeat_customer"`
	// Owner is the staff user who recorded the purchase.
	Owner string `json:"owner,omitempty"`
}

// EventSource implements Detail.
func (PurchaseRecorded) EventSource() string { return SourceLeads }

// DetailType implements Detail.
func (PurchaseRecorded) DetailType() string { return PurchaseRecordedType }
