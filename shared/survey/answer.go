package survey

import (
	"errors"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
)

// MaxComment is the longest comment accepted, in characters after markup
// is stripped.
const MaxComment = 2000

// CommentField is the form field of the comment; each question's score is
// the field named by the question's id ("nps", "csat", "ces").
const CommentField = "comment"

// Rating is one question's score in an answer.
type Rating struct {
	Question Question
	Score    int
}

// Answer is the one answer to an invitation.
type Answer struct {
	InvitationID string
	// Ratings holds a score for each question answered, in the order the
	// invitation asks them; the first question asked is always there.
	Ratings []Rating
	// Comment is plain text, markup stripped; "" when none.
	Comment    string
	AnsweredAt time.Time
}

// Score returns the answer's score to q, and false when it has none.
func (a Answer) Score(q Question) (int, bool) {
	for _, r := range a.Ratings {
		if r.Question == q {
			return r.Score, true
		}
	}
	return 0, false
}

var (
	// ErrAnswered is CheckAnswer's answer to an invitation answered
	// before: a double click, a second device, a replay. It is ECONFLICT
	// ("already answered"); the page thanks the person again and nothing
	// is counted twice. The store returns it too when its conditional
	// write finds the invitation answered by a concurrent request.
	ErrAnswered = &crm.Error{Code: crm.ECONFLICT, Message: "already answered"}
	// ErrExpired is CheckAnswer's answer to an invitation whose link has
	// run out. The page serves it as 410 Gone with the friendly page;
	// match it with errors.Is before mapping codes. Its code is ECONFLICT
	// so that an adapter that does not know it still answers 409, never
	// 500.
	ErrExpired = &crm.Error{Code: crm.ECONFLICT, Message: "this survey has closed"}
	// ErrNotSent is CheckAnswer's answer to an invitation that was never
	// sent (scheduled or cancelled): no genuine link names it, so the page
	// serves the same 404 as for a forged one.
	ErrNotSent = &crm.Error{Code: crm.ENOTFOUND, Message: "no such survey"}
)

// CheckAnswer reads what the person submitted for inv — form values or a
// JSON body turned into the same shape: each question's score under its
// id, and the comment — and returns the answer at now. It writes nothing;
// the caller stores the answer with a conditional write that refuses a
// second one (ErrAnswered).
//
// The state is checked first: ErrAnswered, ErrExpired or ErrNotSent. Then
// EINVALID names every field at fault: a score off its scale or not a
// number, a question the invitation did not ask, the first question left
// unanswered, a field given twice, a comment over MaxComment characters or
// not text. Other fields are ignored: the HTTP layer owns the form's
// shape (honeypot, submit button). An empty score for a question other
// than the first means "not answered".
func CheckAnswer(inv Invitation, values map[string][]string, now time.Time) (Answer, error) {
	switch inv.StatusAt(now) {
	case StatusAnswered:
		return Answer{}, ErrAnswered
	case StatusExpired:
		return Answer{}, ErrExpired
	case StatusSent:
	default:
		return Answer{}, ErrNotSent
	}
	var v crm.Invalid
	a := Answer{InvitationID: inv.ID, AnsweredAt: now.UTC()}
	for i, q := range inv.Questions {
		raw, ok := single(values, string(q), &v)
		if !ok {
			continue
		}
		if raw == "" {
			if i == 0 {
				v.Add(string(q), "is required: choose a score")
			}
			continue
		}
		score, ok := ParseScore(q, raw)
		if !ok {
			lo, hi := q.Scale()
			v.Add(string(q), "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
			continue
		}
		a.Ratings = append(a.Ratings, Rating{q, score})
	}
	for _, q := range Questions {
		if _, given := values[string(q)]; given && !inv.Asks(q) {
			v.Add(string(q), "was not asked")
		}
	}
	if raw, ok := single(values, CommentField, &v); ok {
		a.Comment = crm.CleanText(raw, MaxComment, CommentField, &v)
	}
	if err := v.Err(); err != nil {
		return Answer{}, err
	}
	return a, nil
}

// single returns the one value of field, "" when it is absent, and false
// (with an error for field) when it was given more than once.
func single(values map[string][]string, field string, v *crm.Invalid) (string, bool) {
	vs := values[field]
	switch len(vs) {
	case 0:
		return "", true
	case 1:
		return vs[0], true
	}
	v.Add(field, "is given more than once")
	return "", false
}

// IsClosed reports whether err says the invitation can take no answer —
// answered before, expired or never sent — rather than that the form was
// wrong.
func IsClosed(err error) bool {
	return errors.Is(err, ErrAnswered) || errors.Is(err, ErrExpired) || errors.Is(err, ErrNotSent)
}
