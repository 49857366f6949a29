package followup

import (
	"time"

	"context"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Store keeps tasks with their timers and events: each write stores the
// task, arms or cancels its timers and writes its events in one
// transaction.
type Store interface {
	// Create stores a new task. EINVALID (field "subject") when the lead or
	// customer does not exist; ECONFLICT when a task with t.ID exists.
	Create(ctx context.Context, t Task, arm []timer.Timer, evs []events.Envelope) error
	// Task returns a task. ENOTFOUND.
	Task(ctx context.Context, id string) (Task, error)
	// Update stores t if the stored task is still at version prev, arming
	// and cancelling timers (by id) and writing evs with it. ENOTFOUND;
	// EPRECONDITION when stale.
	Update(ctx context.Context, t Task, prev int64, arm []timer.Timer, cancel []string, evs []events.Envelope) error
	// Plan lists an owner's open tasks by due instant. EINVALID for a
	// cursor it did not make.
	Plan(ctx context.Context, f Filter) (Page, error)
	// OpenFor lists the open tasks about a subject, by due instant.
	OpenFor(ctx context.Context, s Subject) ([]Task, error)
}

// Teams gives a staff member's team, "" when they have none or no
// profile: follow-up events carry the owner's team when written, so the
// scorecard can count them per team.
type Teams interface {
	TeamOf(ctx context.Context, sub string) (string, error)
}

// Zones tells a staff member's time zone; the organisation's when they
// have no profile.
type Zones interface {
	Zone(ctx context.Context, sub string) (*time.Location, error)
}
