// Package followup is the domain of follow-up tasks: a staff member's
// promise to get back to a lead or a customer by a due instant, the plan of
// the day and the week built from them, and the tasks Rapport makes by
// itself (first contact with a new lead, a check-in with a new customer,
// getting back to a customer whose survey answer was unhappy).
// Each open task has two timers (package timer): one fires followup.due at
// the due instant, which emails the owner, and one fires followup.overdue a
// day later. Doing, cancelling or moving a task cancels or moves its timers
// in the same write, so a task done before it falls due sends nothing.
//
// It imports only the standard library, the event catalogue, the timer
// package and the domain's error vocabulary (package crm).
package followup

import (
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
)

// SubjectKind says what a task is about.
type SubjectKind string

// Subject kinds.
const (
	SubjectLead     SubjectKind = "lead"
	SubjectCustomer SubjectKind = "customer"
)

// Subject is the lead or customer a task is about.
type Subject struct {
	Kind SubjectKind
	ID   string
}

// String returns the subject as the API writes it: "lead:<id>".
func (s Subject) String() string { return string(s.Kind) + ":" + s.ID }

// ParseSubject reads "lead:<id>" or "customer:<id>".
func ParseSubject(s string) (Subject, bool) {
	kind, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	switch k := SubjectKind(kind); {
	case !ok || !crm.ValidID(id):
		return Subject{}, false
	case k == SubjectLead || k == SubjectCustomer:
		return Subject{Kind: k, ID: id}, true
	}
	return Subject{}, false
}

// Kind says who made a task.
type Kind string

// Task kinds.
const (
	KindTask         Kind = "task"          // made by hand
	KindFirstContact Kind = "first_contact" // made for a new lead; done by its first contact
	KindCheckIn      Kind = "check_in"      // made for a new customer
	KindSurvey       Kind = "survey"        // made for a customer's unhappy survey answer
)

// Status is where a task stands. Done and cancelled are final.
type Status string

// Task statuses.
const (
	StatusOpen      Status = "open"
	StatusDone      Status = "done"
	StatusCancelled Status = "cancelled"
)

// Task is one follow-up task.
type Task struct {
	ID      string
	Subject Subject
	Kind    Kind
	Note    string
	// Owner is the staff user id (the token's sub) it is assigned to; ""
	// is the unassigned queue.
	Owner     string
	DueAt     time.Time
	Status    Status
	DoneAt    *time.Time
	CreatedBy string // "" when Rapport made it
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Open reports whether the task is still to do.
func (t Task) Open() bool { return t.Status == StatusOpen }

// Unassigned names the unassigned queue in lists (owner=unassigned).
const Unassigned = "unassigned"

// When selects a part of an owner's plan, read in the owner's time zone.
type When string

// Parts of the plan.
const (
	WhenOverdue  When = "overdue"  // open and due before now
	WhenToday    When = "today"    // due today, overdue ones from earlier today included
	WhenWeek     When = "week"     // due this ISO week (Monday to Sunday)
	WhenUpcoming When = "upcoming" // due from now on
	WhenAll      When = "all"      // every open task
)

// Filter selects open tasks of one owner, by due instant.
type Filter struct {
	Owner    string    // a staff user id, or "" for the unassigned queue
	From, To time.Time // due in [From, To); zero means unbounded
	Limit    int
	Cursor   string
}

// Page is one page of a plan, ordered by due instant.
type Page struct {
	Tasks []Task
	Next  string // cursor of the next page; "" on the last
}
