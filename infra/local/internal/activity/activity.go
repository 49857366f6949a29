// Package activity counts the local stack's asynchronous work — a
// scheduled run, an event's delivery to a rule's consumer — so that the
// movable clock can tell when everything a firing set off has finished
// before it moves on.
package activity

import "sync"

// Tracker counts units of work in flight. The zero value is ready to use;
// a nil *Tracker counts nothing, so code that does not need counting
// passes none.
type Tracker struct {
	mu       sync.Mutex
	inFlight int
	gen      uint64        // bumped by every Start and Done
	changed  chan struct{} // closed and replaced on every change
}

// Start records that a unit of work has begun.
func (t *Tracker) Start() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight++
	t.bump()
}

// Done records that a unit of work begun with Start has ended.
func (t *Tracker) Done() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inFlight > 0 {
		t.inFlight--
	}
	t.bump()
}

// State returns the units in flight, a generation that changes whenever a
// unit starts or ends (equal generations mean nothing started or ended in
// between), and a channel closed at the next change.
func (t *Tracker) State() (inFlight int, gen uint64, changed <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changed == nil {
		t.changed = make(chan struct{})
	}
	return t.inFlight, t.gen, t.changed
}

// bump marks a change and wakes the watchers; t.mu is held.
func (t *Tracker) bump() {
	t.gen++
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}
