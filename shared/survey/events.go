package survey

import (
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
)

// The events below have ids derived from the invitation, so a write that
// is retried carries the same event and consumers drop the copy.

// InvitedEvent returns the survey.invited of a sent invitation.
func InvitedEvent(inv Invitation) (events.SurveyInvited, error) {
	if inv.SentAt == nil || inv.ExpiresAt == nil {
		return events.SurveyInvited{}, fmt.Errorf("survey.invited of invitation %s: not sent", inv.ID)
	}
	return events.SurveyInvited{
		Metadata:         meta(*inv.SentAt, "survey.invited|"+inv.ID),
		SurveyInvitation: described(inv),
		ExpiresAt:        inv.ExpiresAt.UTC(),
	}, nil
}

// RespondedEvent returns the survey.responded of a's answer to inv: the
// scores, and whether there is a comment, never its words.
func RespondedEvent(inv Invitation, a Answer) (events.SurveyResponded, error) {
	if inv.SentAt == nil {
		return events.SurveyResponded{}, fmt.Errorf("survey.responded of invitation %s: not sent", inv.ID)
	}
	e := events.SurveyResponded{
		Metadata:         meta(a.AnsweredAt, "survey.responded|"+inv.ID),
		SurveyInvitation: described(inv),
		Answers:          make([]events.SurveyAnswer, 0, len(a.Ratings)),
		Commented:        a.Comment != "",
		AnsweredAt:       a.AnsweredAt.UTC(),
	}
	for _, r := range a.Ratings {
		e.Answers = append(e.Answers, events.SurveyAnswer{Question: string(r.Question), Score: r.Score})
	}
	return e, nil
}

// OptedOutEvent returns the survey.opted_out of the person of inv, who
// used its unsubscribe link at at.
func OptedOutEvent(inv Invitation, at time.Time) events.SurveyOptedOut {
	return events.SurveyOptedOut{
		Metadata:     meta(at, "survey.opted_out|"+inv.ID),
		InvitationID: inv.ID,
		CustomerID:   inv.CustomerID,
		OptedOutAt:   at.UTC(),
	}
}

func meta(at time.Time, seed string) events.Metadata {
	return events.Metadata{EventID: crm.DerivedID(at, seed), OccurredAt: at.UTC()}
}

// described is what every survey event says of its invitation.
func described(inv Invitation) events.SurveyInvitation {
	qs := make([]string, len(inv.Questions))
	for i, q := range inv.Questions {
		qs[i] = string(q)
	}
	return events.SurveyInvitation{
		InvitationID: inv.ID, Reason: string(inv.Reason), Questions: qs,
		CustomerID: inv.CustomerID, TicketID: inv.TicketID, Owner: inv.Owner, Team: inv.Team,
		SentAt: inv.SentAt.UTC(),
	}
}
