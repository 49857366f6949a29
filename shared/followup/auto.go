package followup

import (
	"context"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
)

// The tasks Rapport makes by itself, from lead and survey events. Each
// gets an id derived from the lead or the answer, so an event delivered
// twice makes one task, and a duplicate form submission — which publishes
// no lead.captured — makes none.

// firstContactID and checkInID are the ids of a lead's automatic tasks.
func firstContactID(e events.LeadCaptured) string {
	return crm.DerivedID(e.CapturedAt, "first_contact|"+e.LeadID)
}

func checkInID(e events.LeadConverted) string {
	return crm.DerivedID(e.ConvertedAt, "check_in|"+e.LeadID)
}

// Notes of the automatic tasks, shown to staff.
const (
	firstContactNote = "First contact with this new lead."
	checkInNote      = "Check in with this new customer: how is it going?"
)

// LeadCaptured makes the new lead's first-contact task, due
// FirstContactWithin working time after capture, in the unassigned queue.
func (s *Service) LeadCaptured(ctx context.Context, e events.LeadCaptured) error {
	now := s.Now().UTC()
	return ignoreExisting(s.create(ctx, s.firstContact(e, now), now))
}

// LeadUpdated keeps the first-contact task in step with its lead: the
// lead's first contact completes it (on time or not, by the contact's
// instant), and a new owner takes it over.
func (s *Service) LeadUpdated(ctx context.Context, e events.LeadUpdated) error {
	contacted := slices.Contains(e.Changes, "first_contact") && e.FirstContactAt != nil
	reassigned := slices.Contains(e.Changes, "owner")
	if !contacted && !reassigned {
		return nil
	}
	captured := events.LeadCaptured{LeadID: e.LeadID, CapturedAt: e.CapturedAt}
	for range 3 { // a concurrent edit of the task: read it again
		now := s.Now().UTC()
		t, err := s.Store.Task(ctx, firstContactID(captured))
		missing := crm.ErrorCode(err) == crm.ENOTFOUND
		if err != nil && !missing {
			return err
		}
		if missing {
			// Events are not ordered: this update overtook lead.captured,
			// whose task is not made yet. Make it now, as it stands after
			// this update; the late lead.captured then finds it.
			t = s.firstContact(captured, now)
		}
		if !t.Open() {
			return nil
		}
		next := t
		if contacted {
			at := e.FirstContactAt.UTC()
			next.Status, next.DoneAt = StatusDone, &at
		}
		if reassigned {
			next.Owner = e.Owner
		}
		if missing {
			err = s.createAs(ctx, next, now)
		} else {
			_, err = s.save(ctx, t, next, now)
		}
		if code := crm.ErrorCode(err); code != crm.EPRECONDITION && code != crm.ECONFLICT {
			return err
		}
	}
	return crm.Errorf(crm.ECONFLICT, "follow-up of lead %s is being changed by others", e.LeadID)
}

// firstContact is the first-contact task of a captured lead.
func (s *Service) firstContact(e events.LeadCaptured, now time.Time) Task {
	return Task{
		ID: firstContactID(e), Subject: Subject{Kind: SubjectLead, ID: e.LeadID}, Kind: KindFirstContact,
		Note: firstContactNote, DueAt: s.Calendar.Add(e.CapturedAt, s.FirstContactWithin).UTC(),
		Status: StatusOpen, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
}

// createAs makes a task that may already be done: it publishes
// followup.created and, for a done task, followup.completed, and arms
// timers only while open.
func (s *Service) createAs(ctx context.Context, t Task, now time.Time) error {
	if t.Open() {
		return s.create(ctx, t, now)
	}
	d, err := s.describe(ctx, t)
	if err != nil {
		return err
	}
	created, err := events.Wrap(events.FollowupCreated{Metadata: s.meta(now), Followup: d})
	if err != nil {
		return err
	}
	done, err := events.Wrap(events.FollowupCompleted{Metadata: s.meta(now), Followup: d, DoneAt: *t.DoneAt, OnTime: !t.DoneAt.After(t.DueAt)})
	if err != nil {
		return err
	}
	return s.Store.Create(ctx, t, nil, []events.Envelope{created, done})
}

// LeadConverted makes the new customer's check-in task, due CheckInAfter
// the conversion, for the lead's owner.
func (s *Service) LeadConverted(ctx context.Context, e events.LeadConverted) error {
	now := s.Now().UTC()
	t := Task{
		ID: checkInID(e), Subject: Subject{Kind: SubjectCustomer, ID: e.CustomerID}, Kind: KindCheckIn,
		Note: checkInNote, Owner: e.Owner, DueAt: e.ConvertedAt.Add(s.CheckInAfter).UTC(),
		Status: StatusOpen, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	return ignoreExisting(s.create(ctx, t, now))
}

// ignoreExisting treats "the task exists" as done: the event was seen.
func ignoreExisting(err error) error {
	if crm.ErrorCode(err) == crm.ECONFLICT {
		return nil
	}
	return err
}

// UnhappyAnswer is the task that closes the loop with a customer whose
// survey answer was unhappy (a detractor's NPS, a dissatisfied CSAT), as
// the surveys domain describes it (survey.FollowUp).
type UnhappyAnswer struct {
	// ID is derived from the answer: however often its event is
	// delivered, there is one task.
	ID         string
	CustomerID string
	// Owner is who gets back to the customer; "" is the unassigned queue.
	Owner string
	DueAt time.Time
	// Note says what the customer answered and wrote, at most MaxNote
	// characters.
	Note string
}

// UnhappyAnswer makes the task of an unhappy survey answer: about the
// customer, for u.Owner, due u.DueAt, with u.Note; it falls due and goes
// overdue like any other task. Made twice under one id, it is one task.
// EINVALID names the field at fault, "subject" when the customer does not
// exist.
func (s *Service) UnhappyAnswer(ctx context.Context, u UnhappyAnswer) error {
	var v crm.Invalid
	if !crm.ValidID(u.ID) {
		v.Add("id", "must be an id")
	}
	if !crm.ValidID(u.CustomerID) {
		v.Add("subject", "must be a customer's id")
	}
	note := cleanText(u.Note, MaxNote, "note", &v)
	if u.Owner != "" {
		cleanOwner(u.Owner, &v)
	}
	if u.DueAt.IsZero() {
		v.Add("due_at", "is required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	now := s.Now().UTC()
	t := Task{
		ID: u.ID, Subject: Subject{Kind: SubjectCustomer, ID: u.CustomerID}, Kind: KindSurvey,
		Note: note, Owner: u.Owner, DueAt: u.DueAt.UTC(),
		Status: StatusOpen, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	return ignoreExisting(s.create(ctx, t, now))
}
