// Package timer is Rapport's one mechanism for "at instant T, do X, once":
// follow-up reminders, overdue notices, daily digests, and later SLA
// warnings and breaches, delayed survey invitations and auto-close.
//
// A timer publishes an event when it falls due. Its owner (a follow-up, a
// staff profile, a ticket) writes, moves and cancels its timers in the same
// write as its own change, under a stable id it chooses, so a task done
// before it falls due has nothing left to fire. A sweep, run every minute,
// fires what is due: firing writes the event into the outbox in the same
// transaction that marks the timer fired, so delivery rides the relay's
// exactly-once path and consumers receive ordinary events.
//
// The package is pure: the store (shared/dynamo) keeps timers and runs the
// sweep's reads and writes.
package timer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/calendar"
)

// Timer is "at Due, publish an event of DetailType from Source with
// Detail, once".
type Timer struct {
	// ID is chosen by the owner so it can move or cancel the timer, e.g.
	// "followup#01J…#due". Arming a timer with an existing id replaces it.
	ID string
	// Due is the instant it fires (stored in UTC).
	Due time.Time
	// Source, DetailType and Detail are the event firing publishes. Detail
	// is a JSON object without event_id and occurred_at: firing sets those,
	// the id from the timer's id and due instant (so a firing has one id
	// however often it is attempted) and occurred_at to Due.
	Source     string
	DetailType string
	Detail     json.RawMessage
	// Daily, when set, re-arms the timer for the next day at the same wall
	// time in the same zone in the transaction that fires it (digests).
	Daily *Daily
	// Arming is set by the store each time the timer is armed. It goes into
	// the event id, so re-arming a timer for an instant it already fired
	// at publishes again, while every attempt at one firing has one id.
	Arming string
}

// Daily repeats a timer every day at Hour:Minute in Zone.
type Daily struct {
	Zone         *time.Location
	Hour, Minute int
}

// Next returns the first daily instant after t. A wall time that a DST
// change skips gives the instant of the change; one that happens twice
// fires once, at the first.
func (d Daily) Next(t time.Time) time.Time {
	local := t.In(d.Zone)
	y, m, day := local.Date()
	for i := 0; ; i++ {
		at := calendar.At(d.Zone, y, m, day+i, d.Hour, d.Minute)
		if at.After(t) {
			return at
		}
	}
}

// EventID is the id of the event a firing publishes: the same for every
// attempt at that firing, different for the next firing of a daily timer
// and for a timer armed again.
func (t Timer) EventID() string {
	sum := sha256.Sum256([]byte(t.ID + "|" + t.Due.UTC().Format(time.RFC3339Nano) + "|" + t.Arming))
	return "tmr-" + hex.EncodeToString(sum[:16])
}

// Envelope is the event the firing of t publishes.
func (t Timer) Envelope() (events.Envelope, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(t.Detail, &fields); err != nil || fields == nil {
		return events.Envelope{}, fmt.Errorf("timer %s: detail is not a JSON object", t.ID)
	}
	id := t.EventID()
	meta, _ := json.Marshal(events.Metadata{EventID: id, OccurredAt: t.Due.UTC()})
	var m map[string]json.RawMessage
	_ = json.Unmarshal(meta, &m)
	for k, v := range m {
		fields[k] = v
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("timer %s: %w", t.ID, err)
	}
	return events.Envelope{ID: id, Source: t.Source, DetailType: t.DetailType, Time: t.Due.UTC(), Detail: body}, nil
}

// Arm returns a timer that publishes d at due under id.
func Arm(id string, due time.Time, d events.Detail) (Timer, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return Timer{}, fmt.Errorf("timer %s: %w", id, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return Timer{}, fmt.Errorf("timer %s: %w", id, err)
	}
	delete(fields, "event_id")
	delete(fields, "occurred_at")
	body, _ = json.Marshal(fields)
	return Timer{ID: id, Due: due.UTC(), Source: d.EventSource(), DetailType: d.DetailType(), Detail: body}, nil
}

// MaxFire is the most timers Store.Fire takes at once: two writes each,
// within DynamoDB's 100 items a transaction, and few enough that a race
// with another sweep costs little.
const MaxFire = 25

// Store keeps timers for the sweep. Owners arm, move and cancel timers
// through their own stores, in the transaction of their change.
type Store interface {
	// Due returns up to limit armed timers due at or before now, oldest
	// first, and whether more are due.
	Due(ctx context.Context, now time.Time, limit int) (timers []Timer, more bool, err error)
	// Fire marks up to MaxFire timers fired and writes their events to the
	// outbox in one transaction; a daily timer is armed for its next day
	// in the same transaction. fired[i] is false, and nothing was written
	// for ts[i], when it is no longer armed as it was read (another sweep
	// fired it, its owner moved or cancelled it) or was being written by
	// another at that moment; then, if it is still armed, the next sweep
	// fires it.
	Fire(ctx context.Context, ts []Timer, now time.Time) (fired []bool, err error)
}
