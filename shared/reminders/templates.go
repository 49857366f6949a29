package reminders

import (
	"embed"

	"github.com/rapportcrm/rapport/shared/email"
)

//go:embed templates
var templateFiles embed.FS

// mails are the kinds of mail reminders send: "due" and "digest".
var mails = email.MustParseFS(templateFiles, "templates")

// render renders kind for one recipient.
func render(kind, to string, data any) (email.Message, error) {
	m, err := mails.Render(kind, data)
	m.To = []string{to}
	return m, err
}

// dueData fills the reminder of a due task.
type dueData struct {
	Name, Subject, Kind, Note, Due, Link, TaskLink string
}

// digestLine is one task or lead in a digest.
type digestLine struct {
	Text, Note, When, Link string
}

// digestData fills a daily digest.
type digestData struct {
	Name, Day, AppURL string
	Overdue, Today    []digestLine
	Leads             []digestLine
}
