package survey

import (
	"strconv"
	"strings"
)

// Question is one of the three standard survey questions, each with its own
// answer scale. Its value is the id used in forms, URLs, events and the
// scorecard's counters ("survey_answers_nps_9").
type Question string

// The standard questions.
const (
	// NPS asks how likely the person is to recommend the organisation,
	// 0 (not at all likely) to 10 (extremely likely).
	NPS Question = "nps"
	// CSAT asks how satisfied the person is, 1 (very dissatisfied) to 5
	// (very satisfied).
	CSAT Question = "csat"
	// CES asks how far the person agrees that the organisation made things
	// easy, 1 (strongly disagree) to 7 (strongly agree): higher is less
	// effort.
	CES Question = "ces"
)

// Questions lists every question in the order pages and results show them.
var Questions = []Question{NPS, CSAT, CES}

// ParseQuestion reads a question id as a form, a URL or an event writes it.
func ParseQuestion(s string) (Question, bool) {
	for _, q := range Questions {
		if string(q) == s {
			return q, true
		}
	}
	return "", false
}

// Valid reports whether q is one of the standard questions.
func (q Question) Valid() bool {
	_, ok := ParseQuestion(string(q))
	return ok
}

// Scale returns the lowest and highest score q allows; 0, 0 for an unknown
// question.
func (q Question) Scale() (lo, hi int) {
	switch q {
	case NPS:
		return 0, 10
	case CSAT:
		return 1, 5
	case CES:
		return 1, 7
	}
	return 0, 0
}

// Allows reports whether score is on q's scale.
func (q Question) Allows(score int) bool {
	lo, hi := q.Scale()
	return q.Valid() && score >= lo && score <= hi
}

// Scores lists q's scores, lowest first: the one-click links of an
// invitation email, and the choices on the page.
func (q Question) Scores() []int {
	if !q.Valid() {
		return nil
	}
	lo, hi := q.Scale()
	out := make([]int, 0, hi-lo+1)
	for s := lo; s <= hi; s++ {
		out = append(out, s)
	}
	return out
}

// ParseScore reads a score for q as a form or a one-click link writes it:
// one or two ASCII digits, on q's scale. "+9", "9.0", " 9" and "09" are
// refused, so every score has one spelling.
func ParseScore(q Question, s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 || (len(s) == 2 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	if !q.Allows(n) {
		return 0, false
	}
	return n, true
}

// Wording is what a question says to the person answering it. It is plain
// text: the page and mail templates escape it.
type Wording struct {
	// Question is the page's question, the legend of its choices.
	Question string
	// Email is the line above the one-click answers in the invitation
	// email.
	Email string
	// Low and High name the ends of the scale, shown beside its first and
	// last choice.
	Low, High string
	// Labels names each score, lowest first, for screen readers and the
	// page's choices; NPS names its scores by their numbers.
	Labels []string
}

// Stand-ins for an organisation that has not set its name: "us" inside a
// question, "The company" where the name begins the CES statement.
const (
	defaultOrg     = "us"
	defaultSubject = "The company"
)

// CommentPrompt is the page's invitation to add a comment.
const CommentPrompt = "Is there anything you would like to tell us? (optional)"

// Wording returns q's wording for an invitation sent for reason, naming
// the organisation org. After a ticket, CSAT and CES ask about the request
// that was handled; otherwise about the relationship as a whole.
func (q Question) Wording(org string, reason Reason) Wording {
	org = strings.TrimSpace(org)
	subject := org
	if org == "" {
		org, subject = defaultOrg, defaultSubject
	}
	ticket := reason == AfterTicket
	switch q {
	case NPS:
		w := Wording{
			Question: "How likely are you to recommend " + org + " to a friend or colleague?",
			Email:    "How likely are you to recommend " + org + " to a friend or colleague? Choose a number: 0 is not at all likely, 10 extremely likely.",
			Low:      "Not at all likely", High: "Extremely likely",
		}
		for _, s := range q.Scores() {
			w.Labels = append(w.Labels, strconv.Itoa(s))
		}
		w.Labels[0], w.Labels[10] = "0 – not at all likely", "10 – extremely likely"
		return w
	case CSAT:
		w := Wording{
			Question: "Overall, how satisfied are you with " + org + "?",
			Low:      "Very dissatisfied", High: "Very satisfied",
			Labels: []string{"Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied", "Satisfied", "Very satisfied"},
		}
		if ticket {
			w.Question = "How satisfied are you with how we handled your request?"
		}
		w.Email = w.Question + " Choose from 1 (very dissatisfied) to 5 (very satisfied)."
		return w
	case CES:
		w := Wording{
			Question: subject + " makes it easy for me to get what I need.",
			Low:      "Strongly disagree", High: "Strongly agree",
			Labels: []string{"Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree", "Somewhat agree", "Agree", "Strongly agree"},
		}
		if ticket {
			w.Question = subject + " made it easy for me to handle my issue."
		}
		w.Email = "How far do you agree? \"" + w.Question + "\" Choose from 1 (strongly disagree) to 7 (strongly agree)."
		return w
	}
	return Wording{}
}
