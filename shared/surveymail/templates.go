package surveymail

import (
	"embed"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/survey"
)

//go:embed templates
var templateFiles embed.FS

// mails holds the one kind, "invitation".
var mails = email.MustParseFS(templateFiles, "templates")

// data fills the invitation mail.
type data struct {
	// Org is the organisation's name; "" when it has none.
	Org string
	// AfterTicket says the invitation follows the solve of ticket
	// TicketID.
	AfterTicket bool
	TicketID    string
	// Question is the first question's email wording; Low and High name
	// the ends of its scale.
	Question, Low, High string
	// Choices are the one-click links, lowest score first.
	Choices []choice
	// More counts the further, optional questions the page asks.
	More int
	// Link opens the page with nothing chosen; Unsubscribe asks to opt
	// out. Until is the last day they work.
	Link, Unsubscribe, Until string
}

// choice is one one-click answer.
type choice struct {
	Score int
	// Name says the score and what it means: "1 – Very dissatisfied",
	// "10 – extremely likely", "7".
	Name string
	Link string
}

// invitationData is what the mail says of inv, whose page is at page.
func invitationData(inv survey.Invitation, org, page, until string) data {
	q := inv.Questions[0]
	w := q.Wording(org, inv.Reason)
	d := data{
		Org: strings.TrimSpace(org), AfterTicket: inv.Reason == survey.AfterTicket && inv.TicketID != "", TicketID: inv.TicketID,
		Question: w.Email, Low: w.Low, High: w.High, More: len(inv.Questions) - 1,
		Link: page, Unsubscribe: page + "/unsubscribe", Until: until,
	}
	for i, s := range q.Scores() {
		n := strconv.Itoa(s)
		name := n
		if i < len(w.Labels) {
			name = w.Labels[i]
		}
		if !strings.HasPrefix(name, n) {
			name = n + " – " + name
		}
		d.Choices = append(d.Choices, choice{Score: s, Name: name, Link: page + "?score=" + n})
	}
	return d
}
