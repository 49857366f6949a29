// Package scheduler is the local stand-in for EventBridge Scheduler: it
// fires each manifest schedule on its timer and delivers an EventBridge
// event with the schedule's detail type to the function's handler, with
// bounded retries. Its clock is injected, so tests move time by hand.
package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/local/internal/clock"
	"github.com/rapportcrm/rapport/infra/local/internal/invoke"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

// Source is the source of every scheduled event.
const Source = "aws.scheduler"

// Options configure a Scheduler.
type Options struct {
	// Schedules to fire; usually manifest.Schedules.
	Schedules []manifest.Schedule
	// Handlers holds each target function's handler by name. Every
	// schedule's function must have one.
	Handlers map[string]app.EventHandler
	// Location is the time zone cron fields are read in; default UTC.
	Location *time.Location
	// Clock drives the timers; default the real clock.
	Clock clock.Clock
	// Retry bounds the attempts per firing; default invoke.DefaultPolicy.
	Retry invoke.Policy
	// Log receives a line per firing that fails, and one per start.
	Log *slog.Logger
	// Region stamps the events; default us-east-1.
	Region string
}

// Scheduler fires schedules: by itself on its clock's timers until Run's
// context ends, or one firing at a time for a caller that moves the clock
// (Next, Take and Fire).
type Scheduler struct {
	o     Options
	plans []plan

	mu   sync.Mutex
	next []time.Time // each plan's next firing not yet taken; zero for none
}

type plan struct {
	manifest.Schedule
	when Schedule
}

// New parses every schedule's expression and checks its handler.
func New(o Options) (*Scheduler, error) {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Retry.Attempts == 0 {
		o.Retry = invoke.DefaultPolicy
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	s := &Scheduler{o: o}
	names := map[string]bool{}
	for _, sc := range o.Schedules {
		if names[sc.Name] {
			return nil, fmt.Errorf("schedule %s is declared twice", sc.Name)
		}
		names[sc.Name] = true
		when, err := Parse(sc.Expression, o.Location)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %w", sc.Name, err)
		}
		if o.Handlers[sc.Function] == nil {
			return nil, fmt.Errorf("schedule %s targets function %q, which has no handler", sc.Name, sc.Function)
		}
		if sc.DetailType == "" {
			return nil, fmt.Errorf("schedule %s has no detail type", sc.Name)
		}
		s.plans = append(s.plans, plan{Schedule: sc, when: when})
		s.next = append(s.next, when.Next(o.Clock.Now()))
	}
	return s, nil
}

// Firing is one run of a schedule.
type Firing struct {
	Schedule string    // the schedule's name
	At       time.Time // when it falls due
	plan     int
}

// Next returns the earliest firing not yet taken, counted from the clock's
// time when New was called; of two due at one instant, the schedule listed
// first in Options.Schedules comes first. It reports false when no
// schedule runs again. Next, Take and Fire serve a caller that moves the
// clock itself and fires each run in turn — the local stack's movable
// clock — instead of Run; every run is taken, so nothing is skipped
// however far the clock jumps.
func (s *Scheduler) Next() (Firing, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := -1
	for i, at := range s.next {
		if !at.IsZero() && (best < 0 || at.Before(s.next[best])) {
			best = i
		}
	}
	if best < 0 {
		return Firing{}, false
	}
	return Firing{Schedule: s.plans[best].Name, At: s.next[best], plan: best}, true
}

// Take marks f, as Next returned it, taken: its schedule's next firing
// becomes the one after f.
func (s *Scheduler) Take(f Firing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.plan < len(s.next) && s.next[f.plan].Equal(f.At) {
		s.next[f.plan] = s.plans[f.plan].when.Next(f.At)
	}
}

// TakeUntil marks f taken and skips its schedule's runs before until, for
// a schedule whose runs catch up with what they missed.
func (s *Scheduler) TakeUntil(f Firing, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.plan >= len(s.next) || !s.next[f.plan].Equal(f.At) {
		return
	}
	next := s.plans[f.plan].when.Next(f.At)
	for !next.IsZero() && next.Before(until) {
		next = s.plans[f.plan].when.Next(next)
	}
	s.next[f.plan] = next
}

// CatchesUp reports whether f's schedule catches up with missed runs.
func (s *Scheduler) CatchesUp(f Firing) bool {
	return f.plan < len(s.plans) && s.plans[f.plan].CatchesUp
}

// Fire delivers f's event to its function and returns once the function
// has succeeded or the retries, timed on the clock, are spent.
func (s *Scheduler) Fire(ctx context.Context, f Firing) {
	s.fire(ctx, s.plans[f.plan], f.At)
}

// Run fires the schedules until ctx ends, then waits for the firings under
// way (their context is ctx, so retries stop) and returns.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range s.plans {
		wg.Go(func() { s.loop(ctx, p, &wg) })
	}
	wg.Wait()
}

// loop waits for each firing time of p and fires it in the background, so
// a slow run overlaps the next as it can in AWS. After a pause (a laptop
// asleep) it fires once and resumes from now rather than catching up.
func (s *Scheduler) loop(ctx context.Context, p plan, wg *sync.WaitGroup) {
	next := p.when.Next(s.o.Clock.Now())
	for !next.IsZero() {
		select {
		case <-s.o.Clock.After(next.Sub(s.o.Clock.Now())):
		case <-ctx.Done():
			return
		}
		at := next
		wg.Go(func() { s.fire(ctx, p, at) })
		next = p.when.Next(at)
		if now := s.o.Clock.Now(); next.Before(now) {
			next = p.when.Next(now)
		}
	}
	s.o.Log.Info("schedule has no further runs", "schedule", p.Name)
}

// fire delivers one scheduled event.
func (s *Scheduler) fire(ctx context.Context, p plan, at time.Time) {
	ev := Event(p.Schedule, at, s.o.Region)
	h := s.o.Handlers[p.Function]
	attempts, err := invoke.Retry(ctx, s.o.Clock, s.o.Retry, func(ctx context.Context) error {
		return h(invoke.Context(ctx, s.o.Region, p.Function), ev)
	})
	if err != nil {
		s.o.Log.Error("scheduled run failed", "schedule", p.Name, "function", p.Function, "attempts", attempts, "err", err)
		return
	}
	s.o.Log.Info("schedule", "schedule", p.Name, "function", p.Function, "at", at.UTC().Format(time.RFC3339))
}

// Event is the event a schedule's target receives for the firing at at.
func Event(sc manifest.Schedule, at time.Time, region string) lambdaevents.EventBridgeEvent {
	return lambdaevents.EventBridgeEvent{
		Version:    "0",
		ID:         invoke.NewID(),
		DetailType: sc.DetailType,
		Source:     Source,
		AccountID:  invoke.Account,
		Time:       at.UTC().Truncate(time.Second),
		Region:     region,
		Resources:  []string{fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", region, invoke.Account, sc.Name)},
		Detail:     json.RawMessage(`{}`),
	}
}
