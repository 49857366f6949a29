package dynamo

import (
	"hash/fnv"
	"strconv"

	"github.com/rapportcrm/rapport/shared/survey"
)

// invitationAttrs are an invitation's attributes: flat in its own item,
// and nested, as answered, in each item of its answer, so that a list of
// answers is one query.
type invitationAttrs struct {
	ID           string   `dynamodbav:"id"`
	Email        string   `dynamodbav:"email"`
	CustomerID   string   `dynamodbav:"customer_id,omitempty"`
	TicketID     string   `dynamodbav:"ticket_id,omitempty"`
	Owner        string   `dynamodbav:"owner,omitempty"`
	Team         string   `dynamodbav:"team,omitempty"`
	Questions    []string `dynamodbav:"questions"`
	Reason       string   `dynamodbav:"reason"`
	Status       string   `dynamodbav:"status"`
	CancelReason string   `dynamodbav:"cancel_reason,omitempty"`
	CreatedAt    string   `dynamodbav:"created_at"`
	DueAt        string   `dynamodbav:"due_at"`
	SentAt       string   `dynamodbav:"sent_at,omitempty"`
	// LinkExpiresAt is when the link stops working; not expires_at, the
	// table's TTL attribute: an invitation outlives its link.
	LinkExpiresAt string `dynamodbav:"link_expires_at,omitempty"`
	AnsweredAt    string `dynamodbav:"answered_at,omitempty"`
	Version       int64  `dynamodbav:"version"`
}

// surveyItem is an invitation as stored.
type surveyItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	invitationAttrs
}

// surveyAnswerItem is an invitation's answer as stored: the ANSWER item,
// and a copy under ANSWER#<question> for each further question answered,
// which lists the answer under that question too. Question and Score are
// the question the item lists the answer under and its score to it, for
// the max_score filter.
type surveyAnswerItem struct {
	PK         string          `dynamodbav:"pk"`
	SK         string          `dynamodbav:"sk"`
	Type       string          `dynamodbav:"type"`
	GSI1PK     string          `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK     string          `dynamodbav:"gsi1sk,omitempty"`
	GSI2PK     string          `dynamodbav:"gsi2pk"`
	GSI2SK     string          `dynamodbav:"gsi2sk"`
	GSI4PK     string          `dynamodbav:"gsi4pk,omitempty"`
	GSI4SK     string          `dynamodbav:"gsi4sk,omitempty"`
	Question   string          `dynamodbav:"question"`
	Score      int             `dynamodbav:"score"`
	Ratings    []ratingItem    `dynamodbav:"ratings"`
	Comment    string          `dynamodbav:"comment,omitempty"`
	AnsweredAt string          `dynamodbav:"answered_at"`
	Invitation invitationAttrs `dynamodbav:"invitation"`
}

type ratingItem struct {
	Question string `dynamodbav:"q"`
	Score    int    `dynamodbav:"s"`
}

// surveyPersonItem is a person's survey record, keyed by the hash of
// their normalised address. It is only ever updated in place (opting out
// and the quiet period are separate attributes written by separate
// writes), and every update adds one to its version.
type surveyPersonItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	OptedOut   bool   `dynamodbav:"opted_out,omitempty"`
	OptedOutAt string `dynamodbav:"opted_out_at,omitempty"`
	LastID     string `dynamodbav:"last_id,omitempty"`
	LastAt     string `dynamodbav:"last_at,omitempty"`
	Version    int64  `dynamodbav:"version"`
}

func toInvitationAttrs(inv survey.Invitation) invitationAttrs {
	qs := make([]string, len(inv.Questions))
	for i, q := range inv.Questions {
		qs[i] = string(q)
	}
	return invitationAttrs{
		ID: inv.ID, Email: inv.Email, CustomerID: inv.CustomerID, TicketID: inv.TicketID,
		Owner: inv.Owner, Team: inv.Team, Questions: qs, Reason: string(inv.Reason),
		Status: string(inv.Status), CancelReason: inv.CancelReason,
		CreatedAt: formatTime(inv.CreatedAt), DueAt: formatTime(inv.DueAt),
		SentAt: formatTimePtr(inv.SentAt), LinkExpiresAt: formatTimePtr(inv.ExpiresAt),
		AnsweredAt: formatTimePtr(inv.AnsweredAt), Version: inv.Version,
	}
}

func toInvitation(it invitationAttrs) survey.Invitation {
	qs := make([]survey.Question, len(it.Questions))
	for i, q := range it.Questions {
		qs[i] = survey.Question(q)
	}
	return survey.Invitation{
		ID: it.ID, Email: it.Email, CustomerID: it.CustomerID, TicketID: it.TicketID,
		Owner: it.Owner, Team: it.Team, Questions: qs, Reason: survey.Reason(it.Reason),
		Status: survey.Status(it.Status), CancelReason: it.CancelReason,
		CreatedAt: parseTime(it.CreatedAt), DueAt: parseTime(it.DueAt),
		SentAt: parseTimePtr(it.SentAt), ExpiresAt: parseTimePtr(it.LinkExpiresAt),
		AnsweredAt: parseTimePtr(it.AnsweredAt), Version: it.Version,
	}
}

func toSurveyItem(inv survey.Invitation) surveyItem {
	return surveyItem{PK: surveyPrefix + inv.ID, SK: surveySK, Type: typeSurvey, invitationAttrs: toInvitationAttrs(inv)}
}

// toAnswerItems returns the items of a's answer to inv (answered): the
// ANSWER item, in the list of every answer, its first question's list
// and, with a customer, the customer's; and one copy for each further
// question answered, in that question's list.
func toAnswerItems(inv survey.Invitation, a survey.Answer) []surveyAnswerItem {
	ratings := make([]ratingItem, len(a.Ratings))
	for i, r := range a.Ratings {
		ratings[i] = ratingItem{Question: string(r.Question), Score: r.Score}
	}
	sk := formatTime(a.AnsweredAt) + "#" + inv.ID
	attrs := toInvitationAttrs(inv)
	items := make([]surveyAnswerItem, 0, len(a.Ratings))
	for i, r := range a.Ratings {
		it := surveyAnswerItem{
			PK: surveyPrefix + inv.ID, SK: answerSK, Type: typeSurveyAnswer,
			GSI2PK: answersTo + string(r.Question), GSI2SK: sk,
			Question: string(r.Question), Score: r.Score, Ratings: ratings, Comment: a.Comment,
			AnsweredAt: formatTime(a.AnsweredAt), Invitation: attrs,
		}
		if i == 0 {
			it.GSI1PK, it.GSI1SK = allAnswers, sk
			if inv.CustomerID != "" {
				it.GSI4PK, it.GSI4SK = answersOfCustomer+inv.CustomerID, sk
			}
		} else {
			it.SK, it.Type = answerSK+"#"+string(r.Question), typeSurveyAnswerCopy
		}
		items = append(items, it)
	}
	return items
}

func toResponse(it surveyAnswerItem) survey.Response {
	a := survey.Answer{InvitationID: it.Invitation.ID, Comment: it.Comment, AnsweredAt: parseTime(it.AnsweredAt)}
	for _, r := range it.Ratings {
		a.Ratings = append(a.Ratings, survey.Rating{Question: survey.Question(r.Question), Score: r.Score})
	}
	return survey.Response{Answer: a, Invitation: toInvitation(it.Invitation)}
}

// tallyShards spreads each day's tally of a question over items, so that
// no single item is written by every answer; the shard of an answer is a
// hash of its invitation's id.
const tallyShards = 8

func tallyShard(invitationID string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(invitationID))
	return strconv.Itoa(int(h.Sum32() % tallyShards))
}
