package survey

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Store keeps invitations, answers, each person's record (their quiet
// period and opt-out, keyed by normalised email) and the day tallies the
// results are read from. Every write is one transaction with the events it
// publishes.
type Store interface {
	// Person returns the record of the person with that normalised email:
	// a zero History but for Email when there is none yet. Version is the
	// record's version, 0 when it does not exist.
	Person(ctx context.Context, email string) (History, int64, error)
	// Schedule writes a new scheduled invitation and arms its send timer,
	// taking its person's quiet period (History.LastID/LastAt become the
	// invitation's) if the person's record is still at personVersion.
	// ECONFLICT when an invitation with that id exists (a redelivered
	// event: nothing to do) or when the record changed meanwhile (read it
	// again and decide again).
	Schedule(ctx context.Context, inv Invitation, personVersion int64, send timer.Timer) error
	// Invitation returns an invitation; ENOTFOUND when there is none.
	Invitation(ctx context.Context, id string) (Invitation, error)
	// Settle writes an invitation sent or cancelled, if it is still at
	// version prev (else EPRECONDITION), with its events. A cancelled
	// invitation that holds its person's quiet period gives it back; a
	// sent one adds one to the day's invitations sent (Day, the date in
	// the organisation's zone, "2026-12-07"); cancel names timers to
	// cancel.
	Settle(ctx context.Context, s Settlement) error
	// Answer records the invitation's one answer if it is still sent and
	// at version prev, adds it to the day's tally in the same write, and
	// writes its events. ECONFLICT (ErrAnswered) when another answer won.
	Answer(ctx context.Context, inv Invitation, prev int64, a Answer, day string, evs []events.Envelope) error
	// AnswerOf returns an invitation's answer; ENOTFOUND when it has none.
	AnswerOf(ctx context.Context, invitationID string) (Answer, error)
	// OptOut records that the person with that email opted out, with its
	// events; opting out twice changes nothing and writes no event.
	OptOut(ctx context.Context, email string, at time.Time, evs []events.Envelope) error
	// Tally returns the sum of the day tallies of days first to last
	// (dates in the organisation's zone, inclusive) and the invitations
	// sent on them, at a cost that depends on the number of days, never on
	// the number of answers.
	Tally(ctx context.Context, first, last string) (Tally, int64, error)
	// Responses lists answers newest first.
	Responses(ctx context.Context, q ResponseQuery) (ResponsePage, error)
	// OfCustomer returns a customer's latest answers, newest first.
	OfCustomer(ctx context.Context, customerID string, limit int) ([]Response, error)
}

// Settlement is an invitation sent or cancelled.
type Settlement struct {
	Invitation Invitation
	Prev       int64
	// Day is the organisation's date of the sending, for the invitations
	// sent count; "" for a cancellation.
	Day          string
	CancelTimers []string
	Events       []events.Envelope
}

// Response is an answer with what the list shows of its invitation.
type Response struct {
	Answer     Answer
	Invitation Invitation
}

// ResponseQuery selects answers for GET /surveys/responses: those to
// Question (every answer when empty) answered from From up to To, with a
// score to Question of at most MaxScore when MaxScoreSet.
type ResponseQuery struct {
	Question    Question
	From, To    time.Time
	MaxScore    int
	MaxScoreSet bool
	Limit       int
	Cursor      string
}

// ResponsePage is one page of answers and the cursor of the next.
type ResponsePage struct {
	Responses []Response
	Next      string
}
