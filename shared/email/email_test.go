package email_test

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/shared/email"
)

func valid() email.Message {
	return email.Message{To: []string{"Ana Pérez <ana@example.com>"}, Subject: "Leads waiting", Text: "Three."}
}

func TestValidate(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatal(err)
	}
	html := valid()
	html.Text, html.HTML = "", "<p>Three.</p>"
	full := valid()
	full.Thread, full.Unsubscribe = "lead/01JD3V6N2K", "https://crm.example.com/unsubscribe?t=abc%2C1"
	for name, m := range map[string]email.Message{"html only": html, "thread and unsubscribe": full} {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	many := valid()
	for len(many.To) <= email.MaxRecipients {
		many.To = append(many.To, "x@example.com")
	}
	for name, c := range map[string]struct {
		edit func(*email.Message)
		want string
	}{
		"no recipient":             {func(m *email.Message) { m.To = nil }, "no recipient"},
		"too many recipients":      {func(m *email.Message) { m.To = many.To }, "at most 50"},
		"bad address":              {func(m *email.Message) { m.To = append(m.To, "not an address") }, "recipient 2"},
		"CRLF in address":          {func(m *email.Message) { m.To = []string{"a@example.com\r\nBcc: all@example.com"} }, "recipient 1"},
		"LF in display name":       {func(m *email.Message) { m.To = []string{"\"Ana\nBcc: x@example.com\" <a@example.com>"} }, "recipient 1"},
		"no subject":               {func(m *email.Message) { m.Subject = " " }, "no subject"},
		"CRLF in subject":          {func(m *email.Message) { m.Subject = "hi\r\nBcc: all@example.com" }, "line break"},
		"LF in subject":            {func(m *email.Message) { m.Subject = "hi\nthere" }, "line break"},
		"control in subject":       {func(m *email.Message) { m.Subject = "hi\x00" }, "control character"},
		"no body":                  {func(m *email.Message) { m.Text = "" }, "no body"},
		"thread with space":        {func(m *email.Message) { m.Thread = "lead 1" }, "thread"},
		"thread with angle":        {func(m *email.Message) { m.Thread = "a>\r\nX-Evil: 1" }, "thread"},
		"thread with dots":         {func(m *email.Message) { m.Thread = "a..b" }, "thread"},
		"unsubscribe mailto":       {func(m *email.Message) { m.Unsubscribe = "mailto:u@example.com" }, "unsubscribe"},
		"unsubscribe relative":     {func(m *email.Message) { m.Unsubscribe = "/unsubscribe" }, "unsubscribe"},
		"unsubscribe with CRLF":    {func(m *email.Message) { m.Unsubscribe = "https://x.example.com/\r\nBcc: a@example.com" }, "unsubscribe"},
		"unsubscribe with bracket": {func(m *email.Message) { m.Unsubscribe = "https://x.example.com/>, <https://evil.example.com/" }, "unsubscribe"},
	} {
		m := valid()
		c.edit(&m)
		err := m.Validate()
		if !errors.Is(err, email.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", name, err, c.want)
		}
		// An error names the field, never the address.
		if err != nil && strings.Contains(err.Error(), "@") {
			t.Errorf("%s: the error repeats an address: %v", name, err)
		}
	}
}

func TestParseAddress(t *testing.T) {
	a, err := email.ParseAddress("Rapport <rapport@example.com>")
	if err != nil || a.Name != "Rapport" || a.Address != "rapport@example.com" {
		t.Errorf("%v, %v", a, err)
	}
	for _, bad := range []string{"", "rapport", "Rapport <rapport@example.com", "a@example.com\nBcc: b@example.com", "a@example.com\x00"} {
		if _, err := email.ParseAddress(bad); !errors.Is(err, email.ErrInvalid) || strings.Contains(err.Error(), "@") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestHeaders(t *testing.T) {
	from := &mail.Address{Name: "Rapport", Address: "rapport@crm.example.com"}
	m := valid()
	if got := m.Headers(from); len(got) != 1 || got[0] != (email.Header{Name: "Auto-Submitted", Value: "auto-generated"}) {
		t.Errorf("plain message: %v", got)
	}
	m.Thread, m.Unsubscribe = "lead/01JD", "https://crm.example.com/u?t=1"
	want := []email.Header{
		{"Auto-Submitted", "auto-generated"},
		{"References", "<lead/01JD@crm.example.com>"},
		{"List-Unsubscribe", "<https://crm.example.com/u?t=1>"},
		{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
	}
	got := m.Headers(from)
	if len(got) != len(want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("header %d: %v, want %v", i, got[i], want[i])
		}
	}
	// Without a sender the reference still has a domain, a reserved one.
	if got := m.Headers(nil); got[1].Value != "<lead/01JD@rapport.invalid>" {
		t.Errorf("no sender: %v", got[1])
	}
}
