package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rapportcrm/rapport/infra/local/bus"
	"github.com/rapportcrm/rapport/infra/local/internal/activity"
	"github.com/rapportcrm/rapport/infra/local/internal/clock"
	"github.com/rapportcrm/rapport/infra/local/scheduler"
	"github.com/rapportcrm/rapport/infra/local/streams"
)

// The movable clock, local only: the Lambdas and the CDK stack have nothing
// of it. Started with RAPPORT_CLOCK, the stack's time — the handlers' Now,
// the authorizer's, the schedules' and the retries' — stands still at that
// instant until it is moved, and moving it lives through what happens on
// the way, in order:
//
//   - Every run of every schedule that falls due is fired, in time order
//     (two due at one instant in manifest order), with the clock set to
//     that run's instant.
//   - After each, the mover waits until the stack is quiet: the streams
//     poller has handed every record written so far to the relay, and the
//     bus has no delivery under way. Consumers may write more outbox
//     events, so it waits in rounds until a round starts and ends nothing.
//   - Retries run on the same clock: a failed delivery waits for its
//     backoff in simulated time. A delivery asleep on the clock counts as
//     quiet, and its retry instant is a stop on the way like a schedule's
//     run, so a failing consumer is retried at +1 s and +3 s of simulated
//     time and a long move never waits for real seconds. A retry due after
//     the move's end waits for the next move.
//
// Between moves nothing timed happens: requests are served and their
// events delivered at once, but a retry waits for the clock to move.

// ClockVar is the setting that starts the stack with its clock frozen at an
// RFC 3339 instant.
const ClockVar = "RAPPORT_CLOCK"

// DefaultSettleTimeout bounds each wait for the stack to fall quiet while
// the clock moves.
const DefaultSettleTimeout = 30 * time.Second

// Errors of moving the clock.
var (
	// ErrClockReal: the stack runs on real time, which cannot be moved.
	ErrClockReal = errors.New("the stack's clock is real time and cannot be moved: start the stack with " +
		ClockVar + "=2026-03-02T08:00:00Z (any RFC 3339 instant) to freeze it there and move it")
	// ErrClockBackwards: the clock only moves forward.
	ErrClockBackwards = errors.New("the clock only moves forward")
	// ErrNotSettled: work set off by a run did not finish in time; the
	// clock stays at that run's instant.
	ErrNotSettled = errors.New("the stack did not fall quiet")
	// ErrSeeding: the demo is being seeded and moves the clock itself.
	ErrSeeding = errors.New("the demo data is being seeded, which moves the clock itself from the history's start to now; " +
		"wait for the banner's Ready line (the clock then runs in real time)")
)

// Move reports what moving the clock did.
type Move struct {
	From, To time.Time
	// Fired counts the runs of each schedule that fell due, by name.
	Fired map[string]int
	// Retrying counts the runs and deliveries that failed and wait for a
	// retry due after To; the next move runs them, from NextRetry on.
	Retrying  int
	NextRetry time.Time
}

// frozenClock returns the frozen clock RAPPORT_CLOCK asks for, nil when it
// is unset.
func frozenClock(o Options) (*clock.Fake, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	v := strings.TrimSpace(getenv(ClockVar))
	if v == "" {
		return nil, nil
	}
	if o.Clock != nil {
		return nil, fmt.Errorf("%s is set and Options.Clock is given: use one", ClockVar)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q is not an RFC 3339 instant such as 2026-03-02T08:00:00Z (UTC) or 2026-03-02T09:00:00+01:00", ClockVar, v)
	}
	return clock.NewFake(t.UTC()), nil
}

// MaxRunsPerMove bounds the runs of a schedule that catches up
// (manifest.Schedule.CatchesUp, such as the minute's timer sweep) in one
// move of the clock: a move of a year runs the sweep a thousand times,
// about every nine hours, rather than half a million times. Moves of up
// to 16 hours run it every minute.
const MaxRunsPerMove = 1000

// mover moves a frozen clock and fires what falls due on the way.
type mover struct {
	clk      *clock.Fake
	sched    *scheduler.Scheduler
	pollers  []*streams.Poller
	activity *activity.Tracker
	runCtx   context.Context // the firings run in it; it ends at shutdown
	stopping context.Context // ends when the stack begins to stop
	spawn    func(func())    // runs a firing so that shutdown waits for it
	timeout  time.Duration   // per settle
	log      *slog.Logger
	turn     chan struct{} // one move at a time
	// live is set once the clock runs on in real time (Stack.RunClock):
	// the scheduler then runs on its own and the clock cannot be moved.
	live atomic.Bool
}

// moveTo moves the clock to target, firing every schedule run due on the
// way and waiting after each until the stack is quiet.
//
// every, when positive, is the least simulated time between two runs of a
// schedule that catches up (such as the minute's timer sweep): a demo
// living through months runs the sweep hourly rather than every minute,
// and each run still does all the work due by its instant.
func (m *mover) moveTo(ctx context.Context, target time.Time, every time.Duration) (Move, error) {
	select {
	case m.turn <- struct{}{}:
		defer func() { <-m.turn }()
	case <-ctx.Done():
		return Move{}, ctx.Err()
	}
	if m.live.Load() {
		return Move{}, ErrClockReal
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(m.stopping, cancel)() // Ctrl-C ends a long move at once

	mv := Move{From: m.clk.Now(), Fired: map[string]int{}}
	if target.Before(mv.From) {
		return mv, fmt.Errorf("%w: %s is before the stack's time, %s", ErrClockBackwards, stamp(target), stamp(mv.From))
	}
	// Work begun before the move (a request's events) is finished first,
	// so that a run sees what was there when its instant came.
	if err := m.settle(ctx, "before moving"); err != nil {
		mv.To = m.clk.Now()
		return mv, err
	}
	for {
		f, haveRun := m.sched.Next()
		retry, haveRetry := m.clk.NextDeadline()
		haveRun = haveRun && !f.At.After(target)
		haveRetry = haveRetry && !retry.After(target)
		var after string
		switch {
		case haveRetry && (!haveRun || !f.At.Before(retry)):
			// A retry due with a run goes first: it was set earlier.
			m.clk.Set(retry)
			after = "retries due at " + stamp(retry)
		case haveRun:
			if gap := max(target.Sub(mv.From)/MaxRunsPerMove, every); m.sched.CatchesUp(f) && gap > 0 {
				m.sched.TakeUntil(f, f.At.Add(gap))
			} else {
				m.sched.Take(f)
			}
			m.clk.Set(f.At)
			m.activity.Start()
			m.spawn(func() {
				defer m.activity.Done()
				m.sched.Fire(m.runCtx, f)
			})
			mv.Fired[f.Schedule]++
			after = "the run of " + f.Schedule + " at " + stamp(f.At)
		default:
			m.clk.Set(target)
			mv.To = m.clk.Now()
			mv.Retrying, _, _ = m.activity.State() // all asleep: settled above
			mv.NextRetry, _ = m.clk.NextDeadline()
			m.log.Info("clock moved", "from", stamp(mv.From), "to", stamp(mv.To), "runs", total(mv.Fired), "retrying", mv.Retrying)
			return mv, nil
		}
		if err := m.settle(ctx, "after "+after); err != nil {
			mv.To = m.clk.Now()
			return mv, err
		}
	}
}

// settle waits until the stack is quiet: the pollers have handed every
// record written so far to their handlers and every unit of work (a run, a
// delivery) has ended or sleeps on the clock. It waits in rounds — settle
// the units, sync the pollers, settle the units again — until a round in
// which no unit started or ended, because a consumer's writes may publish
// further events. Each call is bounded by m.timeout.
func (m *mover) settle(ctx context.Context, when string) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	for {
		if err := m.unitsAsleep(ctx); err != nil {
			return m.unsettled(ctx, when, "deliveries or runs still under way", err)
		}
		_, gen, _ := m.activity.State()
		for _, p := range m.pollers {
			if err := p.Sync(ctx); err != nil {
				return m.unsettled(ctx, when, "the stream poller has not caught up (is a batch failing? see the log)", err)
			}
		}
		if err := m.unitsAsleep(ctx); err != nil {
			return m.unsettled(ctx, when, "deliveries or runs still under way", err)
		}
		if _, now, _ := m.activity.State(); now == gen {
			return nil
		}
	}
}

// unitsAsleep waits until every unit of work in flight sleeps on the clock
// (waits for a retry's backoff) or none is in flight. In a frozen stack
// only the runs and deliveries the activity tracker counts wait on the
// clock, so comparing the counts tells.
func (m *mover) unitsAsleep(ctx context.Context) error {
	for {
		inFlight, _, busy := m.activity.State()
		waiters, clockChanged := m.clk.Watch()
		if inFlight <= waiters {
			return nil
		}
		select {
		case <-busy:
		case <-clockChanged:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// closeBus closes the bus at shutdown, once nothing can publish any more.
// On a frozen clock a delivery asleep until a retry would wait for ever,
// as the clock will not move again: once the deliveries still running have
// ended, those asleep are dropped, as the frozen time itself is. A nil
// mover (real time) just closes the bus.
func (m *mover) closeBus(ctx context.Context, b *bus.Bus, log *slog.Logger) error {
	if m == nil || m.live.Load() || m.unitsAsleep(ctx) != nil {
		return b.Close(ctx)
	}
	if n, _, _ := m.activity.State(); n > 0 {
		log.Warn("dropping deliveries that wait for a retry on the frozen clock", "deliveries", n)
		cut, cancel := context.WithCancel(ctx)
		cancel()
		_ = b.Close(cut) // says they were cut short: that is the point
		return nil
	}
	return b.Close(ctx)
}

// unsettled says what the stack was still doing when ctx ended.
func (m *mover) unsettled(ctx context.Context, when, what string, err error) error {
	if m.stopping.Err() != nil {
		return errors.New("the stack is stopping")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	inFlight, _, _ := m.activity.State()
	return fmt.Errorf("%w within %s %s: %s (%d in flight); the clock stands at %s",
		ErrNotSettled, m.timeout, when, what, inFlight, stamp(m.clk.Now()))
}

// Now returns the stack's time: the frozen clock's, or the real time.
func (s *Stack) Now() time.Time { return s.now() }

// Frozen reports whether the stack's clock stands still until moved: it
// was started with RAPPORT_CLOCK or with a fake Options.Clock.
// A clock switched to real time by RunClock is not frozen any more.
func (s *Stack) Frozen() bool { return s.mover != nil && !s.mover.live.Load() }

// Advance moves the frozen clock forward by d, firing every schedule run
// that falls due in order and returning once the work each set off —
// and the events it published — has been handled. It returns ErrClockReal
// on real time, ErrClockBackwards for a negative d, and ErrNotSettled when
// a run's work does not finish within the settle timeout (the clock then
// stays at that run's instant).
func (s *Stack) Advance(ctx context.Context, d time.Duration) (Move, error) {
	if s.mover == nil {
		return Move{}, ErrClockReal
	}
	if d < 0 {
		return Move{}, fmt.Errorf("%w: cannot advance by %s", ErrClockBackwards, d)
	}
	return s.mover.moveTo(ctx, s.mover.clk.Now().Add(d), 0)
}

// SetClock moves the frozen clock to t, as Advance does.
func (s *Stack) SetClock(ctx context.Context, t time.Time) (Move, error) {
	if s.mover == nil {
		return Move{}, ErrClockReal
	}
	return s.mover.moveTo(ctx, t, 0)
}

// SetClockEvery moves the frozen clock to t as SetClock does, but runs the
// schedules that catch up (the timer sweep) at most once per every of
// simulated time: coarser, and much faster over days. Timers then fire up
// to every late, as they would after a short outage.
func (s *Stack) SetClockEvery(ctx context.Context, t time.Time, every time.Duration) (Move, error) {
	if s.mover == nil {
		return Move{}, ErrClockReal
	}
	return s.mover.moveTo(ctx, t, every)
}

// RunClock lets a frozen clock run on in real time from the instant it
// shows, for good: the schedules then fire on real timers, as on a stack
// started on real time, and the clock can no longer be moved (ErrClockReal).
// It waits for the stack to fall quiet first. On a real clock it does
// nothing.
func (s *Stack) RunClock(ctx context.Context) error {
	m := s.mover
	if m == nil {
		return nil
	}
	select {
	case m.turn <- struct{}{}:
		defer func() { <-m.turn }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if m.live.Load() {
		return nil
	}
	if err := m.settle(ctx, "before running on in real time"); err != nil {
		return err
	}
	m.live.Store(true)
	m.clk.Run()
	m.spawn(func() { m.sched.Run(m.runCtx) })
	m.log.Info("clock runs on in real time", "from", stamp(m.clk.Now()))
	return nil
}

// stamp writes an instant as the clock's API does: RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// total is the number of runs in fired.
func total(fired map[string]int) int {
	n := 0
	for _, c := range fired {
		n += c
	}
	return n
}
