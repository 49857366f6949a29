package surveymail

import (
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/survey"
)

// The organisation's name is escaped in the HTML part and cannot break
// the subject's line, for every reason and first question.
func TestTemplatesEscape(t *testing.T) {
	hostile := "<b>Acme</b>\r\nBcc: x@example.com"
	at := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	for _, reason := range survey.Reasons {
		for _, q := range survey.Questions {
			inv := survey.Invitation{ID: "01KN", Reason: reason, TicketID: "01KT", Questions: []survey.Question{q}, ExpiresAt: &at}
			m, err := mails.Render("invitation", invitationData(inv, hostile, "https://crm.example.com/s/tok", "Wednesday 8 April 2026"))
			if err != nil {
				t.Fatalf("%s %s: %v", reason, q, err)
			}
			m.To = []string{"grace@example.com"}
			if err := m.Validate(); err != nil {
				t.Errorf("%s %s: %v", reason, q, err)
			}
			if strings.Contains(m.HTML, "<b>Acme</b>") {
				t.Errorf("%s %s: the HTML part does not escape the name", reason, q)
			}
			lo, hi := q.Scale()
			if got := strings.Count(m.Text, "?score="); got != hi-lo+1 {
				t.Errorf("%s %s: %d one-click answers, want %d", reason, q, got, hi-lo+1)
			}
		}
	}
}
