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
