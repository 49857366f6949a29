package email

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"
)

// Templates are the kinds of mail a function sends. Each kind NAME is two
// files in one folder:
//
//   - NAME.txt, a text/template: the subject line inside
//     {{define "subject"}}…{{end}}, and the plain-text body (the rest);
//   - NAME.html, an html/template: the content of the HTML body, which the
//     shared layout wraps (page, inline CSS, the subject as the heading
//     and title).
//
// The HTML is escaped by html/template for where each value lands (text,
// attribute, URL), so a lead called <script> is shown, not run; the text
// part is plain text, where markup is inert. Templates are parsed once, at
// cold start, so a broken one fails the start and not a send.
type Templates struct {
	kinds map[string]kind
}

type kind struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

//go:embed layout.html
var layoutSource string

var layout = htmltemplate.Must(htmltemplate.New("layout").Parse(layoutSource))

// layoutData is what the layout renders: the kind's content, already
// rendered and escaped by html/template, is trusted as HTML.
type layoutData struct {
	Subject string
	Body    htmltemplate.HTML
}

// ParseFS parses every kind in folder dir of fsys (an embed.FS, usually).
// Each NAME.txt needs its NAME.html and the other way round, and each text
// template must define "subject". Executing a template with a field or map
// key the data lacks is an error, not an empty string.
func ParseFS(fsys fs.FS, dir string) (*Templates, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	files := map[string][]string{} // kind → extensions found
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".txt" && ext != ".html") {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ext)
		files[name] = append(files[name], ext)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("mail templates: no .txt or .html files in %s", dir)
	}
	t := &Templates{kinds: map[string]kind{}}
	var errs []error
	for name, exts := range files {
		for _, want := range []string{".txt", ".html"} {
			if !slices.Contains(exts, want) {
				errs = append(errs, fmt.Errorf("mail template %s: %s is missing", name, path.Join(dir, name+want)))
			}
		}
		if len(exts) != 2 {
			continue
		}
		k, err := parseKind(fsys, dir, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t.kinds[name] = k
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// MustParseFS is ParseFS for a package-level variable: it panics on a
// broken template, which a test of the package then catches.
func MustParseFS(fsys fs.FS, dir string) *Templates {
	t, err := ParseFS(fsys, dir)
	if err != nil {
		panic(err)
	}
	return t
}

func parseKind(fsys fs.FS, dir, name string) (kind, error) {
	read := func(ext string) (string, error) {
		b, err := fs.ReadFile(fsys, path.Join(dir, name+ext))
		if err != nil {
			return "", fmt.Errorf("mail template %s: %w", name, err)
		}
		return string(b), nil
	}
	txt, err := read(".txt")
	if err != nil {
		return kind{}, err
	}
	html, err := read(".html")
	if err != nil {
		return kind{}, err
	}
	text, err := texttemplate.New(name).Option("missingkey=error").Parse(txt)
	if err != nil {
		return kind{}, fmt.Errorf("mail template %s.txt: %w", name, err)
	}
	if text.Lookup("subject") == nil {
		return kind{}, fmt.Errorf(`mail template %s.txt: no {{define "subject"}}…{{end}}`, name)
	}
	h, err := htmltemplate.New(name).Option("missingkey=error").Parse(html)
	if err != nil {
		return kind{}, fmt.Errorf("mail template %s.html: %w", name, err)
	}
	return kind{text: text, html: h}, nil
}

// Kinds lists the kinds, sorted.
func (t *Templates) Kinds() []string {
	names := make([]string, 0, len(t.kinds))
	for name := range t.kinds {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Render renders kind with data into a Message with Subject, Text and HTML
// set; the caller adds To and, if wanted, Thread and Unsubscribe. The
// subject's white space, line breaks included, is folded into single
// spaces, so a value with a line break cannot add a header. A subject or
// text body that renders empty is an error wrapping ErrInvalid.
func (t *Templates) Render(kind string, data any) (Message, error) {
	k, ok := t.kinds[kind]
	if !ok {
		return Message{}, fmt.Errorf("mail template %q does not exist", kind)
	}
	var subject, text, content, page bytes.Buffer
	if err := k.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Message{}, fmt.Errorf("render %s subject: %w", kind, err)
	}
	if err := k.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", kind, err)
	}
	if err := k.html.Execute(&content, data); err != nil {
		return Message{}, fmt.Errorf("render %s html: %w", kind, err)
	}
	m := Message{
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
	}
	if m.Subject == "" {
		return Message{}, fmt.Errorf("render %s: %w: the subject is empty", kind, ErrInvalid)
	}
	if m.Text == "\n" {
		return Message{}, fmt.Errorf("render %s: %w: the text body is empty", kind, ErrInvalid)
	}
	// The content was escaped as it was rendered; the layout inserts it as is.
	if err := layout.Execute(&page, layoutData{Subject: m.Subject, Body: htmltemplate.HTML(content.String())}); err != nil {
		return Message{}, fmt.Errorf("render %s layout: %w", kind, err)
	}
	m.HTML = page.String()
	return m, nil
}
