package app

import (
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/relay"
)

// Relay builds the relay function's handler for the table's stream: it
// publishes each event the store wrote to its outbox onto d.Publisher once
// (see package relay for how), and reports the records it could not
// publish as batch item failures. The local stack's stream poller calls the
// same handler.
//
// The event source mapping must report batch item failures
// (FunctionResponseTypes ReportBatchItemFailures) and may filter with
// dynamo.OutboxStreamFilter. A missing publisher is a wiring error and
// panics here, at cold start, not on the first batch.
func Relay(d Deps) StreamHandler {
	if d.Publisher == nil {
		panic("app.Relay: Deps.Publisher is nil")
	}
	outbox := dynamo.NewOutbox(d.DynamoDB, d.Config.TableName)
	return relay.New(outbox, d.Publisher, relay.Options{Now: d.Now, Log: d.Log}).Handle
}
