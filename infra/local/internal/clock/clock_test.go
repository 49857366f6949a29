package clock

import (
	"context"
	"testing"
	"time"
)

func TestFakeFiresWaitersWhenDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	if got := <-f.After(0); !got.Equal(start) {
		t.Errorf("After(0) fired at %v", got)
	}
	a, b := f.After(time.Minute), f.After(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.WaitForWaiters(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if next, ok := f.NextDeadline(); !ok || !next.Equal(start.Add(time.Minute)) {
		t.Errorf("next deadline %v %v", next, ok)
	}
	f.Advance(time.Minute)
	select {
	case got := <-a:
		if !got.Equal(start.Add(time.Minute)) {
			t.Errorf("a fired with %v", got)
		}
	default:
		t.Fatal("a did not fire")
	}
	select {
	case <-b:
		t.Fatal("b fired early")
	default:
	}
	f.Set(start) // never backwards
	if !f.Now().Equal(start.Add(time.Minute)) || f.Waiters() != 1 {
		t.Errorf("now %v waiters %d", f.Now(), f.Waiters())
	}
	f.Advance(time.Hour)
	<-b
}

func TestRunCarriesOnInRealTimeFromWhereTheClockStood(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	pending := f.After(20 * time.Millisecond)
	later := f.After(time.Hour)
	f.Run()
	if !f.Running() {
		t.Fatal("Running is false after Run")
	}
	// The pending waiter fires in real time, with its own instant.
	if got := <-pending; !got.Equal(start.Add(20 * time.Millisecond)) {
		t.Errorf("pending waiter fired with %v", got)
	}
	if now := f.Now(); !now.After(start.Add(20*time.Millisecond)) || now.After(start.Add(time.Minute)) {
		t.Errorf("now %v: not running on from %v at the real pace", now, start)
	}
	// New waiters fire after real durations too.
	before := f.Now()
	if got := <-f.After(10 * time.Millisecond); got.Before(before.Add(10 * time.Millisecond)) {
		t.Errorf("new waiter fired at %v, before %v", got, before.Add(10*time.Millisecond))
	}
	if f.Now().Before(before.Add(10 * time.Millisecond)) {
		t.Error("the clock did not run on while a waiter waited")
	}
	// A running clock is not moved by hand, and the hour's waiter has not fired.
	now := f.Now()
	f.Set(now.Add(48 * time.Hour))
	if f.Now().After(now.Add(time.Hour)) {
		t.Errorf("Set moved a running clock to %v", f.Now())
	}
	select {
	case <-later:
		t.Fatal("a waiter an hour away fired")
	default:
	}
	if f.Waiters() != 0 {
		t.Errorf("%d waiters still pending on the fake's list", f.Waiters())
	}
}
