package httpapi

import (
	"context"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/survey"
)

// The JSON shapes of the surveys routes, as documented in
// docs/openapi.json. No shape carries a token: a link is signed when it is
// mailed, and only its person holds it.

// invitationJSON is an invitation as the manager who sent it reads it.
type invitationJSON struct {
	ID         string            `json:"id"`
	Email      string            `json:"email"`
	CustomerID *string           `json:"customer_id"`
	TicketID   *string           `json:"ticket_id"`
	Owner      *string           `json:"owner"`
	Questions  []survey.Question `json:"questions"`
	Reason     survey.Reason     `json:"reason"`
	Status     survey.Status     `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	SentAt     *time.Time        `json:"sent_at"`
	ExpiresAt  *time.Time        `json:"expires_at"`
	AnsweredAt *time.Time        `json:"answered_at"`
}

func toInvitationJSON(inv survey.Invitation, now time.Time) invitationJSON {
	return invitationJSON{
		ID: inv.ID, Email: inv.Email, CustomerID: orNil(inv.CustomerID), TicketID: orNil(inv.TicketID), Owner: orNil(inv.Owner),
		Questions: inv.Questions, Reason: inv.Reason, Status: inv.StatusAt(now), CreatedAt: inv.CreatedAt.UTC(),
		SentAt: utcOrNil(inv.SentAt), ExpiresAt: utcOrNil(inv.ExpiresAt), AnsweredAt: utcOrNil(inv.AnsweredAt),
	}
}

// periodJSON names a period and the instants it spans, [start, end).
type periodJSON struct {
	Label string    `json:"label"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func toPeriodJSON(p period.Period) periodJSON {
	return periodJSON{Label: p.ID(), Start: p.Start(), End: p.End()}
}

// resultJSON is one question's result in one period. The rate and the
// score are null, not zero, when there is nothing to compute them from.
type resultJSON struct {
	Question        survey.Question  `json:"question"`
	Period          periodJSON       `json:"period"`
	Counts          map[string]int64 `json:"counts"`
	Answers         int64            `json:"answers"`
	Responses       int64            `json:"responses"`
	InvitationsSent int64            `json:"invitations_sent"`
	ResponseRate    *float64         `json:"response_rate"`
	Score           *float64         `json:"score"`
}

func toResultJSON(r survey.Result, p period.Period) resultJSON {
	j := resultJSON{Question: r.Question, Period: toPeriodJSON(p), Counts: map[string]int64{}, Answers: r.Answers,
		Responses: r.Responses, InvitationsSent: r.Invitations, ResponseRate: r.ResponseRate, Score: r.Score}
	for i, s := range r.Question.Scores() {
		if i < len(r.Counts) {
			j.Counts[strconv.Itoa(s)] = r.Counts[i]
		}
	}
	return j
}

// responseJSON is one answer with what a manager needs to follow it up:
// who answered (the address, the customer), about what (the ticket), and
// whose work it judges.
type responseJSON struct {
	InvitationID string            `json:"invitation_id"`
	Reason       survey.Reason     `json:"reason"`
	Questions    []survey.Question `json:"questions"`
	Scores       map[string]int    `json:"scores"`
	Comment      *string           `json:"comment"`
	Email        string            `json:"email"`
	CustomerID   *string           `json:"customer_id"`
	TicketID     *string           `json:"ticket_id"`
	Owner        *string           `json:"owner"`
	Team         *string           `json:"team"`
	AnsweredAt   time.Time         `json:"answered_at"`
}

func toResponseJSON(r survey.Response) responseJSON {
	inv, a := r.Invitation, r.Answer
	j := responseJSON{InvitationID: a.InvitationID, Reason: inv.Reason, Questions: inv.Questions, Scores: map[string]int{},
		Comment: orNil(a.Comment), Email: inv.Email, CustomerID: orNil(inv.CustomerID), TicketID: orNil(inv.TicketID),
		Owner: orNil(inv.Owner), Team: orNil(inv.Team), AnsweredAt: a.AnsweredAt.UTC()}
	if j.InvitationID == "" {
		j.InvitationID = inv.ID
	}
	if j.Questions == nil {
		j.Questions = []survey.Question{}
	}
	for _, rt := range a.Ratings {
		j.Scores[string(rt.Question)] = rt.Score
	}
	return j
}

// CustomerSurveys reads a customer's latest survey answers, newest first,
// to show with the customer; *survey.Service and the store implement it.
type CustomerSurveys interface {
	OfCustomer(ctx context.Context, customerID string, limit int) ([]survey.Response, error)
}

var _ CustomerSurveys = (*survey.Service)(nil)

// customerSurveysShown is how many of a customer's answers their record
// shows.
const customerSurveysShown = 20

// customerSurveysJSON lists a customer's latest answers; none when the
// handler has no reader.
func customerSurveysJSON(ctx context.Context, r CustomerSurveys, customerID string) ([]responseJSON, error) {
	out := []responseJSON{}
	if r == nil {
		return out, nil
	}
	answers, err := r.OfCustomer(ctx, customerID, customerSurveysShown)
	if err != nil {
		return nil, err
	}
	for _, a := range answers {
		out = append(out, toResponseJSON(a))
	}
	return out, nil
}
