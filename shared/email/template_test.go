package email_test

import (
	"embed"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rapportcrm/rapport/shared/email"
)

// testdata/mail holds one example kind, "newlead", the shape the real
// templates take.
//
//go:embed testdata/mail
var templateFiles embed.FS

var templates = email.MustParseFS(templateFiles, "testdata/mail")

type newLead struct{ Agent, Name, Message, URL string }

func TestRenderFillsSubjectTextAndHTML(t *testing.T) {
	m, err := templates.Render("newlead", newLead{
		Agent: "Ana", Name: "Ada Lovelace", Message: "Please call me.", URL: "https://crm.example.com/leads/01J",
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "New lead: Ada Lovelace" {
		t.Errorf("subject %q", m.Subject)
	}
	wantText := "Hello Ana,\n\nAda Lovelace wrote:\n\nPlease call me.\n\nOpen the lead: https://crm.example.com/leads/01J\n"
	if m.Text != wantText {
		t.Errorf("text %q, want %q", m.Text, wantText)
	}
	for _, want := range []string{
		`<title>New lead: Ada Lovelace</title>`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<strong>Ada Lovelace</strong> wrote:`,
		`<a href="https://crm.example.com/leads/01J"`,
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
		}
	}
	// No images, nothing fetched from elsewhere: nothing tracks the reader.
	for _, banned := range []string{"<img", "<link", "<script", "url(", "src="} {
		if strings.Contains(m.HTML, banned) {
			t.Errorf("HTML holds %q", banned)
		}
	}
	if m.To != nil || m.Thread != "" || m.Unsubscribe != "" {
		t.Errorf("Render set fields the caller owns: %+v", m)
	}
	if err := (email.Message{To: []string{"ana@example.com"}, Subject: m.Subject, Text: m.Text, HTML: m.HTML}).Validate(); err != nil {
		t.Errorf("a rendered message is not valid: %v", err)
	}
}

// A lead named <script> reaches the agent as text: escaped in the HTML part,
// as typed in the plain-text part (where markup does nothing).
func TestRenderEscapesHTMLOnly(t *testing.T) {
	m, err := templates.Render("newlead", newLead{
		Agent:   "Ana",
		Name:    `<script>alert("x")</script>`,
		Message: `Tom & Jerry <b>bold</b> " ' `,
		URL:     "javascript:alert(1)",
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, "<b>bold") || strings.Contains(m.HTML, "javascript:") {
		t.Errorf("markup from the data reached the HTML:\n%s", m.HTML)
	}
	for _, want := range []string{
		`<title>New lead: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</title>`,
		`<strong>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</strong>`,
		`Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; &#34; &#39;`,
		`href="#ZgotmplZ"`, // html/template's mark for a refused URL
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
		}
	}
	if m.Subject != `New lead: <script>alert("x")</script>` {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, `<script>alert("x")</script> wrote:`) || !strings.Contains(m.Text, `Tom & Jerry <b>bold</b> " '`) {
		t.Errorf("text %q", m.Text)
	}
}

// A line break in the data cannot add a header: the subject is folded onto
// one line.
func TestRenderFoldsTheSubject(t *testing.T) {
	m, err := templates.Render("newlead", newLead{Name: "Ada\r\nBcc: all@example.com\n\tLovelace"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "New lead: Ada Bcc: all@example.com Lovelace" {
		t.Errorf("subject %q", m.Subject)
	}
	if err := (email.Message{To: []string{"a@example.com"}, Subject: m.Subject, Text: m.Text}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := templates.Render("nosuchkind", nil); err == nil || !strings.Contains(err.Error(), "nosuchkind") {
		t.Errorf("unknown kind: %v", err)
	}
	// A field the data lacks is an error, not an empty string in a mail.
	if _, err := templates.Render("newlead", struct{ Name string }{"Ada"}); err == nil {
		t.Error("missing field rendered")
	}
	if _, err := templates.Render("newlead", map[string]string{"Name": "Ada"}); err == nil {
		t.Error("missing map key rendered")
	}

	blank := email.MustParseFS(fstest.MapFS{
		"t/blank.txt":  {Data: []byte(`{{define "subject"}}{{.}}{{end}}{{.}}`)},
		"t/blank.html": {Data: []byte(`<p>{{.}}</p>`)},
	}, "t")
	if _, err := blank.Render("blank", " \n "); !errors.Is(err, email.ErrInvalid) {
		t.Errorf("empty subject: %v", err)
	}
}

// A kind missing a part, or a text template without a subject, fails the
// parse, naming the file.
func TestParseRefusesMissingParts(t *testing.T) {
	for name, c := range map[string]struct {
		files fstest.MapFS
		want  string
	}{
		"no html": {fstest.MapFS{
			"t/a.txt": {Data: []byte(`{{define "subject"}}s{{end}}body`)},
		}, "t/a.html is missing"},
		"no text": {fstest.MapFS{
			"t/a.html": {Data: []byte(`<p>body</p>`)},
		}, "t/a.txt is missing"},
		"no subject": {fstest.MapFS{
			"t/a.txt":  {Data: []byte(`body`)},
			"t/a.html": {Data: []byte(`<p>body</p>`)},
		}, `a.txt: no {{define "subject"}}`},
		"bad syntax": {fstest.MapFS{
			"t/a.txt":  {Data: []byte(`{{define "subject"}}s{{end}}body`)},
			"t/a.html": {Data: []byte(`<p>{{.Name</p>`)},
		}, "a.html"},
		"empty folder": {fstest.MapFS{"t/README": {}}, "no .txt or .html"},
		"no folder":    {fstest.MapFS{}, "mail templates"},
	} {
		_, err := email.ParseFS(c.files, "t")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, c.want)
		}
	}
	if got := templates.Kinds(); strings.Join(got, ",") != "newlead" {
		t.Errorf("kinds %v", got)
	}
}
