package mail_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local/mail"
	"github.com/rapportcrm/rapport/shared/email"
)

var sent = time.Date(2026, 11, 22, 10, 4, 5, 0, time.UTC)

func onlyFile(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("outbox holds %d files, want 1", len(entries))
	}
	data, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	return entries[0].Name(), data
}

func TestOutboxWritesAReadableMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := &mail.Outbox{Dir: dir, Now: func() time.Time { return sent }}
	text := "Hello Ana,\n\nThree leads are waiting for a first contact. Größe: ok.\n" + strings.Repeat("long line ", 20)
	id, err := o.Send(context.Background(), email.Message{
		To:      []string{"Ana Pérez <ana@example.com>", "team@example.com"},
		Subject: "Leads waiting — Montag",
		Text:    text,
	})
	if err != nil {
		t.Fatal(err)
	}
	name, data := onlyFile(t, dir)
	if !regexp.MustCompile(`^20261122T100405\.000000000Z-[0-9a-f]{16}\.eml$`).MatchString(name) {
		t.Errorf("file name %q", name)
	}
	if !strings.Contains(string(data), "\r\n") || strings.Contains(strings.ReplaceAll(string(data), "\r\n", ""), "\n") {
		t.Error("lines should end in CRLF")
	}
	for _, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78: %q", line)
		}
	}
	msg, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Leads waiting — Montag" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "ana@example.com" || to[0].Name != "Ana Pérez" || to[1].Address != "team@example.com" {
		t.Errorf("to %v (%v)", to, err)
	}
	if msg.Header.Get("From") != mail.DefaultFrom || msg.Header.Get("Message-Id") != id || msg.Header.Get("Mime-Version") != "1.0" {
		t.Errorf("headers %v, id %q", msg.Header, id)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(sent) {
		t.Errorf("date %v (%v)", d, err)
	}
	if msg.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("content type %q", msg.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); strings.TrimSuffix(got, "\n") != text {
		t.Errorf("body %q, want %q", got, text)
	}
	// A person reading the file sees the words.
	if !strings.Contains(string(data), "Three leads are waiting for a first contact.") {
		t.Error("the plain text is not readable in the file")
	}
}

func TestTextAndHTMLMakeAnAlternative(t *testing.T) {
	dir := t.TempDir()
	o := &mail.Outbox{Dir: dir, From: "Reports <reports@localhost>"}
	if _, err := o.Send(context.Background(), email.Message{
		To: []string{"m@example.com"}, Subject: "Weekly scorecard", Text: "Score 72", HTML: "<p>Score <b>72</b></p>",
	}); err != nil {
		t.Fatal(err)
	}
	_, data := onlyFile(t, dir)
	msg, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type")+" | "+strings.TrimSpace(string(b)))
	}
	want := []string{"text/plain; charset=utf-8 | Score 72", "text/html; charset=utf-8 | <p>Score <b>72</b></p>"}
	if strings.Join(parts, "\n") != strings.Join(want, "\n") {
		t.Errorf("parts:\n%s\nwant:\n%s", strings.Join(parts, "\n"), strings.Join(want, "\n"))
	}
}

func TestInvalidMessagesWriteNothing(t *testing.T) {
	dir := t.TempDir()
	o := &mail.Outbox{Dir: dir}
	for name, m := range map[string]email.Message{
		"no recipient":     {Subject: "s", Text: "t"},
		"bad address":      {To: []string{"not an address"}, Subject: "s", Text: "t"},
		"header injection": {To: []string{"a@example.com"}, Subject: "hi\r\nBcc: all@example.com", Text: "t"},
		"no subject":       {To: []string{"a@example.com"}, Text: "t"},
		"no body":          {To: []string{"a@example.com"}, Subject: "s"},
	} {
		if _, err := o.Send(context.Background(), m); !errors.Is(err, email.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the outbox holds %d files", len(entries))
	}
}

// The outbox writes the same extra headers SES sends, and a sender with a
// name outside ASCII in encoded form.
func TestOutboxWritesThreadAndUnsubscribeHeaders(t *testing.T) {
	dir := t.TempDir()
	o := &mail.Outbox{Dir: dir, From: "Équipe Rapport <rapport@crm.example.com>"}
	if _, err := o.Send(context.Background(), email.Message{
		To: []string{"a@example.com"}, Subject: "s", Text: "t",
		Thread: "lead/01JD", Unsubscribe: "https://crm.example.com/u?t=1",
	}); err != nil {
		t.Fatal(err)
	}
	_, data := onlyFile(t, dir)
	msg, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Auto-Submitted":        "auto-generated",
		"References":            "<lead/01JD@crm.example.com>",
		"List-Unsubscribe":      "<https://crm.example.com/u?t=1>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"From":                  "=?utf-8?q?=C3=89quipe_Rapport?= <rapport@crm.example.com>",
	} {
		if got := msg.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || from[0].Name != "Équipe Rapport" {
		t.Errorf("from %v (%v)", from, err)
	}

	bad := &mail.Outbox{Dir: dir, From: "not an address"}
	if _, err := bad.Send(context.Background(), email.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}); err == nil || !strings.Contains(err.Error(), "MAIL_FROM") {
		t.Errorf("bad sender: %v", err)
	}
}
