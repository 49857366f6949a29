package events

import "time"

// SourceSurveys is the EventBridge source of every survey event.
const SourceSurveys = "rapport.surveys"

// Survey detail types.
const (
	SurveyInvitedType   = "survey.invited"
	SurveyRespondedType = "survey.responded"
	SurveyOptedOutType  = "survey.opted_out"
)

// SurveyInvitation is what every survey event but survey.opted_out says of its
// invitation: ids, why it was made and what it asks; never the person's
// email address or name.
type SurveyInvitation struct {
	InvitationID string `json:"invitation_id"`
	// Reason is after_ticket, relationship or manual.
	Reason string `json:"reason"`
	// Questions are the questions asked, in order: nps, csat, ces.
	Questions []string `json:"questions"`
	// CustomerID is the customer the person is, if known; TicketID the
	// ticket the invitation follows, for after_ticket.
	CustomerID string `json:"customer_id,omitempty"`
	TicketID   string `json:"ticket_id,omitempty"`
	// Owner and Team are the staff user id and team whose work the
	// answers judge (the ticket's or the customer's owner when the
	// invitation was made); empty when none.
	Owner  string    `json:"owner,omitempty"`
	Team   string    `json:"team,omitempty"`
	SentAt time.Time `json:"sent_at"`
}

// SurveyInvited is published once per invitation, when it is emailed.
// Invitations cancelled before sending publish nothing.
type SurveyInvited struct {
	Metadata
	SurveyInvitation
	// ExpiresAt is when the invitation's link stops working.
	ExpiresAt time.Time `json:"expires_at"`
}

// EventSource implements Detail.
func (SurveyInvited) EventSource() string { return SourceSurveys }

// DetailType implements Detail.
func (SurveyInvited) DetailType() string { return SurveyInvitedType }

// SurveyAnswer is one question's score in a response.
type SurveyAnswer struct {
	// Question is nps (score 0–10), csat (1–5) or ces (1–7).
	Question string `json:"question"`
	Score    int    `json:"score"`
}

// SurveyResponded is published once per invitation, when its one answer
// is recorded. It carries the scores, never the comment.
type SurveyResponded struct {
	Metadata
	SurveyInvitation
	// Answers holds a score for each question answered, in the order
	// asked; at least the first question's.
	Answers []SurveyAnswer `json:"answers"`
	// Commented says whether the person left a comment; its words are
	// read through the API.
	Commented  bool      `json:"commented"`
	AnsweredAt time.Time `json:"answered_at"`
}

// EventSource implements Detail.
func (SurveyResponded) EventSource() string { return SourceSurveys }

// DetailType implements Detail.
func (SurveyResponded) DetailType() string { return SurveyRespondedType }

// SurveyOptedOut is published when a person opts out of surveys from an
// invitation's unsubscribe link. It names the invitation and customer,
// never the address that opted out.
type SurveyOptedOut struct {
	Metadata
	InvitationID string    `json:"invitation_id"`
	CustomerID   string    `json:"customer_id,omitempty"`
	OptedOutAt   time.Time `json:"opted_out_at"`
}

// EventSource implements Detail.
func (SurveyOptedOut) EventSource() string { return SourceSurveys }

// DetailType implements Detail.
func (SurveyOptedOut) DetailType() string { return SurveyOptedOutType }

// SurveyDueType is the detail type of an invitation's send timer.
const SurveyDueType = "survey.due"

// SurveyDue is fired by an invitation's timer when it is due to be sent;
// the surveys domain sends it, or cancels it when the person can no longer
// be invited. Nothing but the domain consumes it.
type SurveyDue struct {
	Metadata
	InvitationID string `json:"invitation_id"`
	// CustomerID is set on a customer's relationship timer, which fires
	// before its invitation exists: the domain then makes it, sends it
	// and arms the next one.
	CustomerID string `json:"customer_id,omitempty"`
}

// EventSource implements Detail.
func (SurveyDue) EventSource() string { return SourceSurveys }

// DetailType implements Detail.
func (SurveyDue) DetailType() string { return SurveyDueType }
