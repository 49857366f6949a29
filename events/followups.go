package events

import "time"

// Follow-up detail types.
const (
	FollowupCreatedType   = "followup.created"
	FollowupDueType       = "followup.due"
	FollowupOverdueType   = "followup.overdue"
	FollowupCompletedType = "followup.completed"
	FollowupCancelledType = "followup.cancelled"
)

// Followup is what every follow-up event says of its task: ids, kind,
// owner and due instant; never the note, which staff type freely.
type Followup struct {
	FollowupID string `json:"followup_id"`
	// SubjectKind is "lead" or "customer"; SubjectID the lead's or
	// customer's id.
	SubjectKind string `json:"subject_kind"`
	SubjectID   string `json:"subject_id"`
	// Kind is "task" (made by hand), "first_contact" (made for a new
	// lead), "check_in" (made for a new customer) or "survey" (made for a
	// customer's unhappy survey answer).
	Kind string `json:"kind"`
	// Owner is the staff user id the task is assigned to; empty for the
	// unassigned queue.
	Owner string `json:"owner,omitempty"`
	// Team is the owner's team when the event was written (for
	// followup.due and followup.overdue, when the task was given its
	// owner and due time); empty for the unassigned queue or an owner
	// without a team.
	Team  string    `json:"team,omitempty"`
	DueAt time.Time `json:"due_at"`
}

// FollowupCreated is published once when a follow-up task is created, by
// hand or automatically.
type FollowupCreated struct {
	Metadata
	Followup
}

// EventSource implements Detail.
func (FollowupCreated) EventSource() string { return SourceReminders }

// DetailType implements Detail.
func (FollowupCreated) DetailType() string { return FollowupCreatedType }

// FollowupDue is published once when an open task falls due; its owner is
// emailed. A task done, cancelled or moved before then publishes none (a
// moved one publishes at its new time).
type FollowupDue struct {
	Metadata
	Followup
}

// EventSource implements Detail.
func (FollowupDue) EventSource() string { return SourceReminders }

// DetailType implements Detail.
func (FollowupDue) DetailType() string { return FollowupDueType }

// FollowupOverdue is published once when a task is still open one day
// after it fell due.
type FollowupOverdue struct {
	Metadata
	Followup
}

// EventSource implements Detail.
func (FollowupOverdue) EventSource() string { return SourceReminders }

// DetailType implements Detail.
func (FollowupOverdue) DetailType() string { return FollowupOverdueType }

// FollowupCompleted is published once when a task is done.
type FollowupCompleted struct {
	Metadata
	Followup
	DoneAt time.Time `json:"done_at"`
	// OnTime is true when the task was done by its due instant; the
	// scorecard's "follow-ups done on time" counts these.
	OnTime bool `json:"on_time"`
}

// EventSource implements Detail.
func (FollowupCompleted) EventSource() string { return SourceReminders }

// DetailType implements Detail.
func (FollowupCompleted) DetailType() string { return FollowupCompletedType }

// FollowupCancelled is published once when a task is cancelled.
type FollowupCancelled struct {
	Metadata
	Followup
}

// EventSource implements Detail.
func (FollowupCancelled) EventSource() string { return SourceReminders }

// DetailType implements Detail.
func (FollowupCancelled) DetailType() string { return FollowupCancelledType }
