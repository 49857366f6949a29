package survey

import (
	"context"
	"errors"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Contact is who an invitation goes to, as the tickets or customers
// domain knows them: the address, the customer record and whose work the
// answer judges.
type Contact struct {
	Email      string
	CustomerID string
	Owner      string
	Team       string
}

// Directory finds the people invitations go to. ENOTFOUND when the ticket
// or customer is gone.
type Directory interface {
	// TicketRequester is a ticket's requester, with the ticket's owner.
	TicketRequester(ctx context.Context, ticketID string) (Contact, error)
	// Customer is a customer, with their owner.
	Customer(ctx context.Context, customerID string) (Contact, error)
}

// Followups makes the task that closes the loop with an unhappy person;
// making one twice under one id makes one.
type Followups interface {
	CloseTheLoop(ctx context.Context, f FollowUp) error
}

// Timers arms timers outside an invitation's own write: a customer's next
// relationship timer.
type Timers interface {
	Arm(ctx context.Context, timers ...timer.Timer) error
}

// Service is what Rapport, managers and the people answering do with
// surveys.
type Service struct {
	Store     Store
	Policy    Policy
	Directory Directory
	Followups Followups
	Timers    Timers
	// Calendar is the organisation's business calendar (follow-ups are
	// due the next working morning); its zone is the zone of the results'
	// periods and days.
	Calendar calendar.Calendar
	Now      func() time.Time
}

// AfterTicketSolved schedules the CSAT invitation of a solved ticket,
// Policy.Settings.Delay later. A person Rapport may not invite is skipped;
// a redelivered event finds its invitation made.
func (s *Service) AfterTicketSolved(ctx context.Context, e events.TicketSolved) error {
	c, err := s.Directory.TicketRequester(ctx, e.TicketID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	c.CustomerID, c.Owner, c.Team = e.CustomerID, e.Owner, e.Team
	return s.schedule(ctx, Request{ID: AfterTicketID(e.TicketID, e.SolvedAt), Reason: AfterTicket,
		CustomerID: c.CustomerID, TicketID: e.TicketID, Owner: c.Owner, Team: c.Team,
		DueAt: s.Policy.AfterTicketDue(e.SolvedAt)}, c.Email)
}

// TicketReopened cancels the invitation of the solve the ticket was
// reopened from, if it has not gone out.
func (s *Service) TicketReopened(ctx context.Context, e events.TicketReopened) error {
	inv, err := s.Store.Invitation(ctx, AfterTicketID(e.TicketID, e.SolvedAt))
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil || inv.Status != StatusScheduled {
		return err
	}
	prev := inv.Version
	if inv, err = inv.Cancel(TicketReopened); err != nil {
		return err
	}
	return s.Store.Settle(ctx, Settlement{Invitation: inv, Prev: prev, CancelTimers: []string{sendTimerID(inv.ID)}})
}

// CustomerConverted arms a new customer's relationship timer: their first
// NPS invitation Policy.Settings.RelationshipFirst after the conversion.
// A repeat customer's rhythm is already running.
func (s *Service) CustomerConverted(ctx context.Context, e events.LeadConverted) error {
	if e.RepeatCustomer || e.CustomerID == "" {
		return nil
	}
	return s.armRelationship(ctx, e.CustomerID, s.Policy.RelationshipDue(e.ConvertedAt, time.Time{}))
}

// relationshipTimerID is a customer's one relationship timer.
func relationshipTimerID(customerID string) string { return "survey#relationship#" + customerID }

// sendTimerID is an invitation's send timer.
func sendTimerID(invitationID string) string { return "survey#" + invitationID + "#send" }

func (s *Service) armRelationship(ctx context.Context, customerID string, due time.Time) error {
	t, err := timer.Arm(relationshipTimerID(customerID), due,
		events.SurveyDue{InvitationID: RelationshipID(customerID, due), CustomerID: customerID})
	if err != nil {
		return err
	}
	return s.Timers.Arm(ctx, t)
}

// Due handles an invitation's timer: it sends the invitation, or cancels
// it when its person can no longer be invited. A relationship timer first
// makes its invitation and arms the customer's next one; its retry, which
// finds the invitation made, still arms the next one.
func (s *Service) Due(ctx context.Context, e events.SurveyDue) error {
	if e.CustomerID != "" {
		return s.relationshipDue(ctx, e)
	}
	inv, err := s.Store.Invitation(ctx, e.InvitationID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	return s.send(ctx, inv)
}

// relationshipDue makes a customer's relationship invitation, due now or
// at the end of their quiet period, and arms the next one
// RelationshipEvery after it. Each step is safe to repeat, so a retry
// after any of them failed finishes the others.
func (s *Service) relationshipDue(ctx context.Context, e events.SurveyDue) error {
	c, err := s.Directory.Customer(ctx, e.CustomerID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.schedule(ctx, Request{ID: e.InvitationID, Reason: Relationship, CustomerID: e.CustomerID,
		Owner: c.Owner, Team: c.Team, DueAt: e.OccurredAt}, c.Email); err != nil {
		return err
	}
	if inv, err := s.Store.Invitation(ctx, e.InvitationID); err == nil && inv.Status == StatusScheduled && !now.Before(inv.DueAt) {
		if err := s.send(ctx, inv); err != nil {
			return err
		}
	}
	return s.armRelationship(ctx, e.CustomerID, s.Policy.RelationshipDue(time.Time{}, e.OccurredAt))
}

// attempts bounds the retries of a write that lost a race.
const attempts = 3

// schedule makes the invitation r for the person with email and arms its
// send timer, taking their quiet period. A refused person is skipped; an
// invitation made already is left as it is.
func (s *Service) schedule(ctx context.Context, r Request, email string) error {
	_, err := s.make(ctx, r, email)
	if Refused(err) != "" || errors.Is(err, errMade) {
		return nil
	}
	return err
}

// errMade says the invitation exists already: a redelivered event.
var errMade = crm.Errorf(crm.ECONFLICT, "the invitation exists")

// make makes and stores invitation r for the person with email.
func (s *Service) make(ctx context.Context, r Request, email string) (Invitation, error) {
	if r.ID != "" {
		if _, err := s.Store.Invitation(ctx, r.ID); err == nil {
			return Invitation{}, errMade
		}
	}
	for range attempts {
		h, version, err := s.Store.Person(ctx, normalised(email))
		if err != nil {
			return Invitation{}, err
		}
		h.Email = normalised(email)
		inv, err := s.Policy.Invite(r, h, s.now())
		if err != nil {
			return Invitation{}, err
		}
		t, err := timer.Arm(sendTimerID(inv.ID), inv.DueAt, events.SurveyDue{InvitationID: inv.ID})
		if err != nil {
			return Invitation{}, err
		}
		err = s.Store.Schedule(ctx, inv, version, t)
		if crm.ErrorCode(err) == crm.ECONFLICT {
			if _, gerr := s.Store.Invitation(ctx, inv.ID); gerr == nil {
				return Invitation{}, errMade
			}
			continue // the person's record moved: decide again
		}
		return inv, err
	}
	return Invitation{}, crm.Errorf(crm.ECONFLICT, "the person's invitations are being changed by others; try again")
}

// send sends a scheduled invitation that is due, or cancels it.
func (s *Service) send(ctx context.Context, inv Invitation) error {
	if inv.Status != StatusScheduled {
		return nil // a timer fired twice
	}
	now := s.now()
	h, _, err := s.Store.Person(ctx, inv.Email)
	if err != nil {
		return err
	}
	h.Email = inv.Email
	prev := inv.Version
	next, err := s.Policy.Send(inv, h, now)
	if err != nil {
		return err
	}
	st := Settlement{Invitation: next, Prev: prev, CancelTimers: []string{sendTimerID(inv.ID)}}
	if next.Status == StatusSent {
		ev, err := InvitedEvent(next)
		if err != nil {
			return err
		}
		env, err := events.Wrap(ev)
		if err != nil {
			return err
		}
		st.Day, st.Events = s.day(now), []events.Envelope{env}
	}
	err = s.Store.Settle(ctx, st)
	if crm.ErrorCode(err) == crm.EPRECONDITION {
		return nil // another delivery settled it
	}
	return err
}

// ByHand is an invitation a manager sends: to a customer, or to an email
// address.
type ByHand struct {
	CustomerID string
	Email      string
	Questions  []Question
}

// Invite sends an invitation at once, by hand. EINVALID names the field at
// fault; a person who may not be invited is ECONFLICT saying why.
func (s *Service) Invite(ctx context.Context, m ByHand) (Invitation, error) {
	var v crm.Invalid
	c := Contact{Email: m.Email}
	switch {
	case m.CustomerID != "" && m.Email != "":
		v.Add("customer_id", "give customer_id or email, not both")
	case m.CustomerID == "" && m.Email == "":
		v.Add("customer_id", "give customer_id or email")
	case m.CustomerID != "":
		found, err := s.Directory.Customer(ctx, m.CustomerID)
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			v.Add("customer_id", "no such customer")
		} else if err != nil {
			return Invitation{}, err
		}
		c = found
		c.CustomerID = m.CustomerID
	default:
		crm.NormaliseEmail(m.Email, &v) // a malformed address is the manager's typo, not a person without one
	}
	if err := v.Err(); err != nil {
		return Invitation{}, err
	}
	inv, err := s.make(ctx, Request{Reason: Manual, CustomerID: c.CustomerID, Owner: c.Owner, Team: c.Team, Questions: m.Questions}, c.Email)
	if err != nil {
		return Invitation{}, err
	}
	if err := s.send(ctx, inv); err != nil {
		return Invitation{}, err
	}
	return s.Store.Invitation(ctx, inv.ID)
}

// Invitation returns an invitation, for its page.
func (s *Service) Invitation(ctx context.Context, id string) (Invitation, error) {
	if !crm.ValidID(id) {
		return Invitation{}, crm.Errorf(crm.ENOTFOUND, "no invitation %s", id)
	}
	return s.Store.Invitation(ctx, id)
}

// Answer records the one answer to invitation id from the page's form
// values. A second answer, from a double click or another device, is
// ErrAnswered; an expired link ErrExpired.
func (s *Service) Answer(ctx context.Context, id string, values map[string][]string) (Answer, error) {
	inv, err := s.Invitation(ctx, id)
	if err != nil {
		return Answer{}, err
	}
	a, err := CheckAnswer(inv, values, s.now())
	if err != nil {
		return Answer{}, err
	}
	ev, err := RespondedEvent(inv, a)
	if err != nil {
		return Answer{}, err
	}
	env, err := events.Wrap(ev)
	if err != nil {
		return Answer{}, err
	}
	err = s.Store.Answer(ctx, inv.Record(a), inv.Version, a, s.day(a.AnsweredAt), []events.Envelope{env})
	switch crm.ErrorCode(err) {
	case crm.ECONFLICT, crm.EPRECONDITION:
		return Answer{}, ErrAnswered
	}
	return a, err
}

// CloseTheLoop makes the follow-up task of an unhappy answer: a
// detractor's NPS or an unsatisfied CSAT. Safe to run twice.
func (s *Service) CloseTheLoop(ctx context.Context, e events.SurveyResponded) error {
	inv, err := s.Store.Invitation(ctx, e.InvitationID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	a, err := s.Store.AnswerOf(ctx, e.InvitationID)
	if err != nil {
		return err
	}
	f, ok := CloseTheLoop(inv, a, s.Calendar)
	if !ok {
		return nil
	}
	return s.Followups.CloseTheLoop(ctx, f)
}

// OptOut records that the person invitation id went to wants no more
// surveys.
func (s *Service) OptOut(ctx context.Context, id string) error {
	inv, err := s.Invitation(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	env, err := events.Wrap(OptedOutEvent(inv, now))
	if err != nil {
		return err
	}
	return s.Store.OptOut(ctx, inv.Email, now, []events.Envelope{env})
}

// Results returns question q's result in period p, read from the day
// tallies of its days.
func (s *Service) Results(ctx context.Context, q Question, p period.Period) (Result, error) {
	loc := s.Calendar.Location()
	first := p.Start().In(loc).Format(time.DateOnly)
	last := p.End().Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
	t, sent, err := s.Store.Tally(ctx, first, last)
	if err != nil {
		return Result{}, err
	}
	return t.Result(q, sent), nil
}

// Responses lists answers newest first.
func (s *Service) Responses(ctx context.Context, q ResponseQuery) (ResponsePage, error) {
	var v crm.Invalid
	switch {
	case q.Limit == 0:
		q.Limit = 25
	case q.Limit < 1 || q.Limit > 100:
		v.Add("limit", "must be between 1 and 100")
	}
	if q.MaxScoreSet && q.Question != "" && !q.Question.Allows(q.MaxScore) {
		v.Add("max_score", "is off the question's scale")
	}
	if err := v.Err(); err != nil {
		return ResponsePage{}, err
	}
	return s.Store.Responses(ctx, q)
}

// OfCustomer returns a customer's latest answers.
func (s *Service) OfCustomer(ctx context.Context, customerID string, limit int) ([]Response, error) {
	return s.Store.OfCustomer(ctx, customerID, limit)
}

// day is the organisation's date of t.
func (s *Service) day(t time.Time) string { return t.In(s.Calendar.Location()).Format(time.DateOnly) }

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// normalised lower-cases a stored address; a bad one is no address.
func normalised(email string) string {
	var v crm.Invalid
	return crm.NormaliseEmail(email, &v)
}
