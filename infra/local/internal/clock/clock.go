// Package clock lets the local stack's timers run on real time in `make dev`
// and on a fake, hand-advanced time in tests, so no test sleeps.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and waits for it.
type Clock interface {
	Now() time.Time
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the system clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now() }

// After implements Clock.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

var _ Clock = Real{}

// Fake is a clock that moves only when told to. Waiters registered with
// After fire when Advance or Set moves the time to or past their deadline.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	running time.Time // when Run was called, by the real clock; zero while stopped
	waiters []waiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock showing t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nowLocked()
}

func (f *Fake) nowLocked() time.Time {
	if f.running.IsZero() {
		return f.now
	}
	return f.now.Add(time.Since(f.running)) // monotonic: immune to wall-clock steps
}

// Run lets the clock run on from the instant it shows at the real clock's
// pace, for good: Now is that instant plus the real time passed since,
// and every waiter, pending or new, fires once its instant has come in
// real time. Set and Advance do nothing afterwards. The local stack uses
// it to live through its demo's past on the movable clock and then carry
// on in real time from where the demo ended.
func (f *Fake) Run() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running.IsZero() {
		return
	}
	f.running = time.Now()
	for _, w := range f.waiters {
		time.AfterFunc(w.at.Sub(f.now), func() { w.ch <- w.at })
	}
	f.waiters = nil
	f.signal()
}

// Running reports whether Run was called.
func (f *Fake) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.running.IsZero()
}

// After implements Clock. A non-positive d fires at once.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running.IsZero() {
		ch := make(chan time.Time, 1)
		at := f.nowLocked().Add(d)
		time.AfterFunc(d, func() { ch <- at })
		return ch
	}
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: f.now.Add(d), ch: ch})
	f.signal()
	return ch
}

// Advance moves the clock forward by d and fires every waiter that is due.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the clock to t (never backwards) and fires every waiter that
// is due, earliest first. A running clock (Run) is not moved.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running.IsZero() {
		return
	}
	if t.After(f.now) {
		f.now = t
	}
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- w.at
	}
	f.waiters = kept
	f.signal()
}

// Waiters returns how many After calls are still pending.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// WaitForWaiters blocks until at least n After calls are pending, so a test
// advances the clock only once the code under test is waiting on it.
func (f *Fake) WaitForWaiters(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		count, changed := len(f.waiters), f.changed
		f.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Watch returns how many After calls are pending and a channel closed at
// the next change to the waiters, for a caller that must wake both on
// that and on other news (WaitForWaiters waits on the count alone).
func (f *Fake) Watch() (waiters int, changed <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters), f.changed
}

// NextDeadline returns the earliest pending waiter's deadline, if any.
func (f *Fake) NextDeadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.waiters) == 0 {
		return time.Time{}, false
	}
	next := f.waiters[0].at
	for _, w := range f.waiters[1:] {
		if w.at.Before(next) {
			next = w.at
		}
	}
	return next, true
}

// signal wakes everyone in WaitForWaiters; f.mu is held.
func (f *Fake) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}
