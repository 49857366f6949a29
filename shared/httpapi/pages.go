package httpapi

import (
	"html/template"
	"strings"

	"github.com/rapportcrm/rapport/shared/crm"
)

// Pages for people who post a plain HTML form with no JavaScript.
var pages = template.Must(template.New("thanks").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Thank you</title><style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>Thank you</h1><p>We have your message and will be in touch soon.</p>
{{if .Back}}<p><a href="{{.Back}}">Back to the site</a></p>{{end}}</body></html>
`))

var _ = template.Must(pages.New("invalid").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Please check the form</title><style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>Please check the form</h1><ul>{{range .Fields}}<li><strong>{{.Field}}</strong> {{.Reason}}</li>{{end}}</ul>
<p>Go back, correct {{if eq (len .Fields) 1}}it{{else}}them{{end}} and send the form again.</p></body></html>
`))

func render(name string, data any) string {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		panic("render " + name + ": " + err.Error()) // the templates and their data are fixed
	}
	return b.String()
}

func thanksPage(back string) string { return render("thanks", struct{ Back string }{back}) }

func invalidPage(e *crm.Error) string { return render("invalid", e) }
