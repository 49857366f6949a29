// Package bus is the local stand-in for the EventBridge bus: the relay
// publishes to it, it logs each event, and it delivers each one to the
// handler of every manifest rule that matches the event's source and detail
// type — one rule per consumer, asynchronously and with bounded retries, as
// EventBridge does.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local/internal/activity"
	"github.com/rapportcrm/rapport/infra/local/internal/clock"
	"github.com/rapportcrm/rapport/infra/local/internal/invoke"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/relay"
)

// Options configure a Bus.
type Options struct {
	// Rules route events to consumers; usually manifest.Rules.
	Rules []manifest.Rule
	// Handlers holds each consumer function's handler by name. Every
	// rule's function must have one.
	Handlers map[string]app.EventHandler
	// Retry bounds the attempts per rule and event; default
	// invoke.DefaultPolicy.
	Retry invoke.Policy
	// Clock times the retries; default the real clock.
	Clock clock.Clock
	// Log receives one line per event and per failed delivery: ids, source
	// and detail type only, never the detail.
	Log *slog.Logger
	// Region stamps the events; default us-east-1.
	Region string
	// Activity, when set, counts each delivery from the moment its event
	// is accepted until its consumer has succeeded or the retries are
	// spent, so the local stack's movable clock can wait for the bus to
	// fall quiet.
	Activity *activity.Tracker
}

// Bus is an in-process event bus. It implements relay.Publisher.
type Bus struct {
	o       Options
	ctx     context.Context // ends deliveries still retrying at Close
	cancel  context.CancelFunc
	mu      sync.Mutex
	closed  bool
	pending sync.WaitGroup
	dead    []deadLetter // deliveries whose retries were spent, oldest first
}

// deadLetter is a delivery that failed for good, kept as the rule's
// dead-letter queue keeps it in AWS until someone redrives it.
type deadLetter struct {
	rule    manifest.Rule
	ev      lambdaevents.EventBridgeEvent
	eventID string
}

var _ relay.Publisher = (*Bus)(nil)

// ErrClosed is returned for events published after Close.
var ErrClosed = errors.New("the event bus is closed")

// New checks that every rule has a handler and returns a running Bus.
func New(o Options) (*Bus, error) {
	if o.Retry.Attempts == 0 {
		o.Retry = invoke.DefaultPolicy
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	names := map[string]bool{}
	for _, r := range o.Rules {
		if names[r.Name] {
			return nil, fmt.Errorf("rule %s is declared twice", r.Name)
		}
		names[r.Name] = true
		if o.Handlers[r.Function] == nil {
			return nil, fmt.Errorf("rule %s targets function %q, which has no handler", r.Name, r.Function)
		}
	}
	b := &Bus{o: o}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// Publish implements relay.Publisher: each envelope that is well formed is
// accepted, logged and handed to the matching rules' consumers in the
// background; its error is nil even if a consumer later fails, as with
// PutEvents. An envelope without an id, source or detail type, or whose
// detail is not a JSON object, is refused, as PutEvents refuses an entry.
func (b *Bus) Publish(ctx context.Context, envs []events.Envelope) []error {
	errs := make([]error, len(envs))
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, env := range envs {
		switch {
		case b.closed:
			errs[i] = ErrClosed
		case ctx.Err() != nil:
			errs[i] = ctx.Err()
		default:
			errs[i] = b.accept(env)
		}
	}
	return errs
}

// accept logs env and starts a delivery per matching rule; b.mu is held.
func (b *Bus) accept(env events.Envelope) error {
	if err := check(env); err != nil {
		b.o.Log.Warn("event refused", "source", env.Source, "detail_type", env.DetailType, "event_id", env.ID, "err", err)
		return err
	}
	ev := lambdaevents.EventBridgeEvent{
		Version:    "0",
		ID:         invoke.NewID(),
		DetailType: env.DetailType,
		Source:     env.Source,
		AccountID:  invoke.Account,
		Time:       env.Time.UTC().Truncate(time.Second),
		Region:     b.o.Region,
		Resources:  []string{},
		Detail:     append(json.RawMessage(nil), env.Detail...),
	}
	if env.Time.IsZero() {
		ev.Time = b.o.Clock.Now().UTC().Truncate(time.Second)
	}
	var rules []string
	for _, r := range b.o.Rules {
		if r.Source != env.Source || !slices.Contains(r.DetailTypes, env.DetailType) {
			continue
		}
		rules = append(rules, r.Name)
		b.pending.Add(1)
		b.o.Activity.Start()
		go b.deliver(r, ev, env.ID)
	}
	b.o.Log.Info("event", "source", env.Source, "detail_type", env.DetailType, "event_id", env.ID, "rules", len(rules))
	return nil
}

// deliver calls the rule's consumer with retries and logs a delivery that
// failed for good; in AWS it would go to the rule's dead-letter queue.
func (b *Bus) deliver(r manifest.Rule, ev lambdaevents.EventBridgeEvent, eventID string) {
	defer b.pending.Done()
	defer b.o.Activity.Done()
	h := b.o.Handlers[r.Function]
	attempts, err := invoke.Retry(b.ctx, b.o.Clock, b.o.Retry, func(ctx context.Context) error {
		return h(invoke.Context(ctx, b.o.Region, r.Function), ev)
	})
	if err != nil {
		b.o.Log.Error("event not delivered: kept in the dead-letter queue", "rule", r.Name, "function", r.Function, "event_id", eventID, "attempts", attempts, "err", err)
		b.mu.Lock()
		b.dead = append(b.dead, deadLetter{r, ev, eventID})
		b.mu.Unlock()
		return
	}
	if attempts > 1 {
		b.o.Log.Info("event delivered after retries", "rule", r.Name, "event_id", eventID, "attempts", attempts)
	}
}

// check refuses what PutEvents would refuse.
func check(env events.Envelope) error {
	switch {
	case env.ID == "":
		return errors.New("the event has no id")
	case env.Source == "":
		return errors.New("the event has no source")
	case env.DetailType == "":
		return errors.New("the event has no detail type")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(env.Detail, &obj); err != nil || obj == nil {
		return errors.New("the event's detail is not a JSON object")
	}
	return nil
}

// Close refuses further events and waits for the deliveries under way to
// finish; when ctx ends first it stops their retries and waits for the
// attempts in progress.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.pending.Wait(); close(done) }()
	select {
	case <-done:
		b.cancel()
		return nil
	case <-ctx.Done():
		b.cancel()
		<-done
		return fmt.Errorf("event deliveries cut short: %w", ctx.Err())
	}
}

// DeadLetters returns how many deliveries failed for good and wait in the
// dead-letter queue.
func (b *Bus) DeadLetters() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.dead)
}

// Redrive hands every dead letter to its consumer again, as a person does
// with a dead-letter queue's redrive in AWS: the same event, with the
// same retries; one that fails for good again returns to the queue. It
// returns how many it redrove.
func (b *Bus) Redrive() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	dead := b.dead
	b.dead = nil
	for _, d := range dead {
		b.pending.Add(1)
		b.o.Activity.Start()
		go b.deliver(d.rule, d.ev, d.eventID)
	}
	return len(dead)
}

// Wait blocks until no delivery is under way. Tests use it after Publish.
func (b *Bus) Wait() { b.pending.Wait() }
