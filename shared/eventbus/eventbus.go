// Package eventbus puts Rapport's events on an Amazon EventBridge bus. It
// implements relay.Publisher with PutEvents; the local stack implements the
// same interface with its in-process bus.
package eventbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/relay"
)

// PutEvents limits: at most 10 entries and 256 KiB per request, an entry's
// size counted as EventBridge counts it (entrySize).
const (
	MaxEntries      = 10
	MaxRequestBytes = 256 * 1024
)

// API is the part of the EventBridge client the publisher uses;
// *eventbridge.Client implements it.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ API = (*eventbridge.Client)(nil)

// Publisher puts envelopes on one event bus.
type Publisher struct {
	api API
	bus string
}

var _ relay.Publisher = (*Publisher)(nil)

// New returns a publisher to the bus called busName (config's
// EventBusName). An empty name is an error, so a function without the
// setting fails at cold start rather than publishing to the default bus.
func New(api API, busName string) (*Publisher, error) {
	if busName == "" {
		return nil, errors.New("eventbus: no event bus name (EVENT_BUS_NAME)")
	}
	return &Publisher{api: api, bus: busName}, nil
}

// EntryError is EventBridge's refusal of one entry of a PutEvents request.
// Code is EventBridge's error code: InternalFailure and
// ThrottlingException are worth retrying, the others are not.
type EntryError struct {
	EventID string // the envelope's id, not EventBridge's
	Code    string
	Message string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("put event %s: %s: %s", e.EventID, e.Code, e.Message)
}

// Publish implements relay.Publisher. It sends envs in order, in requests
// of at most MaxEntries entries and MaxRequestBytes, and maps each entry's
// result back to its envelope: a refused entry gets an *EntryError, a failed
// request gives its error to each of its entries, and an envelope too large
// for EventBridge is refused without being sent.
func (p *Publisher) Publish(ctx context.Context, envs []events.Envelope) []error {
	errs := make([]error, len(envs))
	var batch []int // indexes into envs
	size := 0
	flush := func() {
		if len(batch) > 0 {
			p.put(ctx, envs, batch, errs)
		}
		batch, size = batch[:0], 0
	}
	for i, env := range envs {
		n := entrySize(env)
		if n > MaxRequestBytes {
			errs[i] = fmt.Errorf("put event %s: %d bytes is more than EventBridge accepts (%d)", env.ID, n, MaxRequestBytes)
			continue
		}
		if len(batch) == MaxEntries || size+n > MaxRequestBytes {
			flush()
		}
		batch = append(batch, i)
		size += n
	}
	flush()
	return errs
}

// put sends one request and records each entry's outcome in errs.
func (p *Publisher) put(ctx context.Context, envs []events.Envelope, batch []int, errs []error) {
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
	for k, i := range batch {
		in.Entries[k] = p.entry(envs[i])
	}
	out, err := p.api.PutEvents(ctx, in)
	for k, i := range batch {
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("put event %s: %w", envs[i].ID, err)
		case out == nil || k >= len(out.Entries):
			errs[i] = fmt.Errorf("put event %s: EventBridge returned no result for it", envs[i].ID)
		case out.Entries[k].ErrorCode != nil:
			errs[i] = &EntryError{EventID: envs[i].ID, Code: aws.ToString(out.Entries[k].ErrorCode), Message: aws.ToString(out.Entries[k].ErrorMessage)}
		}
	}
}

// entry is env as EventBridge takes it: its detail is the envelope's detail
// JSON, unchanged.
func (p *Publisher) entry(env events.Envelope) types.PutEventsRequestEntry {
	return types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(env.Source),
		DetailType:   aws.String(env.DetailType),
		Detail:       aws.String(string(env.Detail)),
		Time:         aws.Time(env.Time.UTC()),
	}
}

// entrySize is an entry's size as EventBridge counts it against the
// request limit: 14 bytes for the time, plus source, detail type and detail
// (and resources, which Rapport does not use).
func entrySize(env events.Envelope) int {
	const timeBytes = 14
	return timeBytes + len(env.Source) + len(env.DetailType) + len(env.Detail)
}
