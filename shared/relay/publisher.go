// Package relay publishes the events the store writes to its outbox: it reads
// the table's stream, puts each new outbox event on the event bus once, and
// reports the records it could not publish so the stream retries only those.
package relay

import (
	"context"

	"github.com/rapportcrm/rapport/events"
)

// Publisher puts events on the event bus: EventBridge in AWS, the local
// stack's in-process bus on one machine.
type Publisher interface {
	// Publish puts envs on the bus in order. It returns one error per
	// envelope, nil for each one that was accepted, so that a partial
	// failure retries only what failed. It never returns a shorter slice.
	Publish(ctx context.Context, envs []events.Envelope) []error
}
