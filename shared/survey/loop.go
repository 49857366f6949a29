package survey

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
)

// Detractor reports whether an answer asks for someone to get back to the
// person: an NPS of 0–6 (a detractor) or a CSAT of 1–2 (dissatisfied). A
// CES alone never does: effort is a process measure, read in aggregate.
func Detractor(a Answer) bool {
	if s, ok := a.Score(NPS); ok && s <= 6 {
		return true
	}
	if s, ok := a.Score(CSAT); ok && s <= 2 {
		return true
	}
	return false
}

// MaxNote is the longest follow-up note, as the follow-up domain accepts it
// (followup.MaxNote).
const MaxNote = 2000

// FollowUp is the task a detractor's answer makes, for the follow-up
// domain to create.
type FollowUp struct {
	// ID is derived from the invitation, so however often the answer's
	// event is delivered there is one task.
	ID string
	// CustomerID is the task's subject; the invitation's customer.
	CustomerID string
	// Owner is the staff user id to do it: the invitation's owner, or ""
	// for the unassigned queue the managers watch.
	Owner string
	// DueAt is the next working morning after the answer.
	DueAt time.Time
	// Note says what the person answered and wrote, within MaxNote.
	Note string
}

// CloseTheLoop returns the follow-up task for a detractor's answer to inv,
// due the next working morning on cal after the answer, and false when the
// answer is not a detractor's or the invitation names no customer (an
// address invited by hand is followed up from the list of responses).
func CloseTheLoop(inv Invitation, a Answer, cal calendar.Calendar) (FollowUp, bool) {
	if !Detractor(a) || inv.CustomerID == "" {
		return FollowUp{}, false
	}
	return FollowUp{
		ID:         crm.DerivedID(a.AnsweredAt, "survey|followup|"+inv.ID),
		CustomerID: inv.CustomerID,
		Owner:      inv.Owner,
		DueAt:      cal.NextWorkingMorning(a.AnsweredAt).UTC(),
		Note:       FollowUpNote(inv, a),
	}, true
}

// FollowUpNote says, for the staff member following up, what the person
// answered and wrote: "Unhappy survey answer after ticket 01…: CSAT 2/5,
// CES 3/7. Comment: …". A comment that would take the note past MaxNote
// characters is cut, with "…".
func FollowUpNote(inv Invitation, a Answer) string {
	var b strings.Builder
	b.WriteString("Unhappy survey answer")
	if inv.Reason == AfterTicket && inv.TicketID != "" {
		b.WriteString(" after ticket " + inv.TicketID)
	}
	b.WriteString(":")
	for i, r := range a.Ratings {
		if i > 0 {
			b.WriteString(",")
		}
		_, hi := r.Question.Scale()
		b.WriteString(" " + strings.ToUpper(string(r.Question)) + " " + strconv.Itoa(r.Score) + "/" + strconv.Itoa(hi))
	}
	b.WriteString(".")
	if a.Comment == "" {
		b.WriteString(" No comment.")
		return b.String()
	}
	b.WriteString(" Comment: ")
	room := MaxNote - utf8.RuneCountInString(b.String())
	b.WriteString(cut(a.Comment, room))
	return b.String()
}

// cut returns s if it has at most n characters, else its first n−1 and "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " \n\t") + "…"
}
