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

// EventID is the id of the event the firing of timer id due at due
// publishes: the same for every attempt at that firing, different for the
// next firing of a daily timer or a moved timer.
func EventID(id string, due time.Time) string {
	sum := sha256.Sum256([]byte(id + "|" + due.UTC().Format(time.RFC3339Nano)))
	return "tmr-" + hex.EncodeToString(sum[:16])
}

// Envelope is the event the firing of t publishes.
func (t Timer) Envelope() (events.Envelope, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(t.Detail, &fields); err != nil || fields == nil {
		return events.Envelope{}, fmt.Errorf("timer %s: detail is not a JSON object", t.ID)
	}
	id := EventID(t.ID, t.Due)
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

// Report says what one sweep did.
type Report struct {
	Fired   int       // timers fired by this sweep
	Skipped int       // due timers another sweep fired, moved or cancelled first
	More    bool      // more is due than one batch takes; sweep again
	Through time.Time // everything due up to this instant has been fired
}

// Store keeps timers. Owners arm and cancel timers through their own
// stores, in the transaction of their change; the sweep uses this.
type Store interface {
	// Due returns up to limit unfired timers due at or before now, oldest
	// first, starting from the sweep's checkpoint.
	Due(ctx context.Context, now time.Time, limit int) (timers []Timer, more bool, err error)
	// Fire marks t fired and writes its event to the outbox in one
	// transaction; a daily timer is re-armed for its next day in the same
	// transaction. It returns false, writing nothing, when t is no longer
	// armed as read (fired by another sweep, moved or cancelled).
	Fire(ctx context.Context, t Timer, now time.Time) (bool, error)
	// Checkpoint records that every timer due up to through has fired, so
	// the next sweep starts there.
	Checkpoint(ctx context.Context, through time.Time) error
}
