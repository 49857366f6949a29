// Package faults makes the local stack's functions fail as the fault run
// (`make test-faults`) asks: at random, a share of the relay's and of every
// consumer's invocations fail — half before doing anything, half after
// doing their work, as when a Lambda's answer is lost — the bus loses some
// acknowledgements of publishes it accepted, so the relay publishes them
// again, and some timer sweeps are killed part-way through their batch.
// The handlers inside are the real ones; only the failures are made up.
package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/relay"
)

// ErrInjected is every failure the injector makes.
var ErrInjected = errors.New("injected failure")

// Injector decides the failures. Its zero value injects nothing; set Rate.
type Injector struct {
	// Rate is the share of invocations of the relay and of each consumer
	// that fail (0.3 for 30%), and of timer sweeps that are killed.
	Rate float64
	// Seed makes a run repeatable.
	Seed uint64

	once sync.Once
	mu   sync.Mutex
	rnd  *rand.Rand

	// What was injected, for the run's summary.
	FailedBefore, FailedAfter, RelayFailed, AcksLost, SweepsKilled atomic.Int64
}

func (in *Injector) roll() float64 {
	in.once.Do(func() { in.rnd = rand.New(rand.NewPCG(in.Seed, 0x5eed)) })
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rnd.Float64()
}

// Summary says what was injected.
func (in *Injector) Summary() string {
	return fmt.Sprintf("consumer invocations failed before their work %d, after it %d; relay batches failed %d; publishes accepted but unacknowledged %d; sweeps killed mid-batch %d",
		in.FailedBefore.Load(), in.FailedAfter.Load(), in.RelayFailed.Load(), in.AcksLost.Load(), in.SweepsKilled.Load())
}

// Registry returns r with every stream and event function wrapped to
// fail as the injector decides. HTTP functions are left alone: a form
// post that fails is the caller's to retry, which the lead and ticket
// tests cover with Idempotency-Key.
func (in *Injector) Registry(r local.Registry) local.Registry {
	out := local.Registry{HTTP: r.HTTP, Stream: map[string]func(app.Deps) app.StreamHandler{}, Event: map[string]func(app.Deps) app.EventHandler{}}
	for name, c := range r.Stream {
		out.Stream[name] = func(d app.Deps) app.StreamHandler {
			if d.Publisher != nil {
				d.Publisher = lossyAcks{d.Publisher, in}
			}
			return in.stream(c(d))
		}
	}
	for name, c := range r.Event {
		out.Event[name] = func(d app.Deps) app.EventHandler {
			d.DynamoDB = killable{d.DynamoDB}
			return in.event(c(d))
		}
	}
	return out
}

// event fails Rate of the invocations of h, half before and half after h
// has done its work; a sweep it kills instead, after 1 to 4 writes.
func (in *Injector) event(h app.EventHandler) app.EventHandler {
	return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
		r := in.roll()
		switch {
		case ev.DetailType == manifest.SweepDetailType && r < in.Rate:
			in.SweepsKilled.Add(1)
			budget := &atomic.Int64{}
			budget.Store(1 + int64(r*100)%4)
			if err := h(context.WithValue(ctx, killKey{}, budget), ev); err != nil {
				return err
			}
			return ErrInjected // killed after its last write, before it could answer
		case r < in.Rate/2:
			in.FailedBefore.Add(1)
			return ErrInjected
		case r < in.Rate:
			if err := h(ctx, ev); err != nil {
				return err
			}
			in.FailedAfter.Add(1)
			return ErrInjected
		}
		return h(ctx, ev)
	}
}

// stream fails Rate of the relay's batches, half before and half after
// it has published them.
func (in *Injector) stream(h app.StreamHandler) app.StreamHandler {
	return func(ctx context.Context, ev lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		r := in.roll()
		switch {
		case r < in.Rate/2:
			in.RelayFailed.Add(1)
			return lambdaevents.DynamoDBEventResponse{}, ErrInjected
		case r < in.Rate:
			resp, err := h(ctx, ev)
			if err != nil {
				return resp, err
			}
			in.RelayFailed.Add(1)
			return lambdaevents.DynamoDBEventResponse{}, ErrInjected
		}
		return h(ctx, ev)
	}
}

// lossyAcks is a bus that accepts every event it is given but, for some,
// loses the acknowledgement: the publisher sees an error for an event the
// bus will deliver, and publishes it again.
type lossyAcks struct {
	relay.Publisher
	in *Injector
}

func (p lossyAcks) Publish(ctx context.Context, envs []events.Envelope) []error {
	errs := p.Publisher.Publish(ctx, envs)
	for i := range errs {
		if errs[i] == nil && p.in.roll() < p.in.Rate/2 {
			p.in.AcksLost.Add(1)
			errs[i] = fmt.Errorf("publish %s: %w", envs[i].ID, ErrInjected)
		}
	}
	return errs
}

type killKey struct{}

// killable is a DynamoDB client whose writes fail once the budget in the
// request's context is spent, as when a Lambda is killed mid-batch.
type killable struct{ dynamo.API }

func spent(ctx context.Context) bool {
	b, ok := ctx.Value(killKey{}).(*atomic.Int64)
	return ok && b.Add(-1) < 0
}

func (c killable) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if spent(ctx) {
		return nil, ErrInjected
	}
	return c.API.PutItem(ctx, in, opts...)
}

func (c killable) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if spent(ctx) {
		return nil, ErrInjected
	}
	return c.API.UpdateItem(ctx, in, opts...)
}

func (c killable) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if spent(ctx) {
		return nil, ErrInjected
	}
	return c.API.DeleteItem(ctx, in, opts...)
}

func (c killable) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if spent(ctx) {
		return nil, ErrInjected
	}
	return c.API.TransactWriteItems(ctx, in, opts...)
}
