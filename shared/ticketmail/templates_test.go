package ticketmail

import (
	"strings"
	"testing"
	"time"
)

// Every kind renders from its data, escapes what people typed in its HTML
// part and keeps the subject on one line.
func TestTemplates(t *testing.T) {
	hostile := "<b>Ada</b>\r\nBcc: x@example.com"
	requester := requesterData{Name: hostile, Subject: hostile, ID: "01JD", Reference: hostile, Link: "https://crm.example.com/t/tok",
		LinkUntil: "Friday 8 May 2026", Body: hostile, From: hostile, Within: "7 days", Until: "Monday 16 March 2026, 10:00 CET"}
	staff := staffData{Name: hostile, Subject: hostile, ID: "01JD", Kind: "complaint", Priority: "high", Requester: hostile,
		RequesterEmail: "grace@example.com", Owner: hostile, Link: "https://crm.example.com/tickets/01JD", Body: hostile,
		Clock: "first response", Deadline: "Monday 9 March 2026, 12:00 EDT"}
	cases := map[string]any{"received": requester, "reply": requester, "solved": requester, "answered": staff}
	for _, stage := range []string{"warning", "breached", "escalated"} {
		s := staff
		s.Stage = stage
		cases["sla/"+stage] = s
	}
	for name, data := range cases {
		kind, _, _ := strings.Cut(name, "/")
		m, err := render(kind, "grace@example.com", "01JD", data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if strings.Contains(m.HTML, "<b>Ada</b>") || !strings.Contains(m.HTML, "&lt;b&gt;Ada&lt;/b&gt;") {
			t.Errorf("%s: the HTML part does not escape what people typed", name)
		}
		if !strings.Contains(m.Text, "https://crm.example.com/") || !strings.Contains(m.HTML, `href="https://crm.example.com/`) {
			t.Errorf("%s: no link:\n%s", name, m.Text)
		}
		if m.Thread != "ticket/01JD" {
			t.Errorf("%s: thread %q", name, m.Thread)
		}
	}
	for stage, want := range map[string]string{"warning": "At risk", "breached": "SLA breached", "escalated": "Escalation"} {
		m, _ := render("sla", "a@example.com", "01JD", staffData{Stage: stage, Clock: "resolution", Subject: "Printer"})
		if !strings.HasPrefix(m.Subject, want+": resolution, Printer") {
			t.Errorf("%s: subject %q", stage, m.Subject)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		168 * time.Hour: "7 days", 24 * time.Hour: "1 day", 36 * time.Hour: "36 hours", 90 * time.Minute: "90 minutes",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%s) = %q, want %q", d, got, want)
		}
	}
}
