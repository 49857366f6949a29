// Package mail delivers Rapport's email. Locally it writes each message into
// an outbox folder as an RFC 5322 .eml file a person can open in a mail
// program or read as plain text. It implements shared/email's Sender; in AWS
// shared/sesmail implements it with SES.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/email"
)

// DefaultFrom is the sender of the local stack's mail: the functions'
// own default MAIL_FROM.
const DefaultFrom = config.DefaultMailFrom

// Outbox is the local stack's email.Sender: it writes each message to Dir
// as <UTC time>-<id>.eml, with the headers SES would send
// (email.Message.Headers). A message is written aside and renamed into
// place, so a reader never sees half of one.
type Outbox struct {
	Dir  string
	From string           // the sender (MAIL_FROM); default DefaultFrom
	Now  func() time.Time // default time.Now
	Log  *slog.Logger     // logs the file name only: addresses are personal data
}

var _ email.Sender = (*Outbox)(nil)

// Send implements email.Sender; its id is the Message-ID header.
func (o *Outbox) Send(ctx context.Context, msg email.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := msg.Validate(); err != nil {
		return "", err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	from, err := sender(o.From)
	if err != nil {
		return "", err
	}
	at := now().UTC()
	token := randomHex(8)
	id := fmt.Sprintf("<%s.%s@rapport.localhost>", at.Format("20060102T150405"), token)
	data, err := render(msg, from, id, at)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return "", fmt.Errorf("create outbox: %w", err)
	}
	name := fmt.Sprintf("%s-%s.eml", at.Format("20060102T150405.000000000Z"), token)
	tmp, err := os.CreateTemp(o.Dir, ".writing-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(o.Dir, name)); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if o.Log != nil {
		o.Log.Info("mail", "file", name, "recipients", len(msg.To))
	}
	return id, nil
}

// sender parses the From address. It is written as configured when that is
// ASCII, as a person typed it, and RFC 2047-encoded otherwise.
func sender(from string) (fromAddress, error) {
	if from == "" {
		from = DefaultFrom
	}
	addr, err := email.ParseAddress(from)
	if err != nil {
		return fromAddress{}, fmt.Errorf("outbox sender (MAIL_FROM): %w", err)
	}
	text := strings.TrimSpace(from)
	if strings.ContainsFunc(text, func(r rune) bool { return r > 0x7e }) {
		text = addr.String()
	}
	return fromAddress{addr, text}, nil
}

// fromAddress is the sender, parsed and in header form.
type fromAddress struct {
	addr *mail.Address
	text string
}

// render writes the message in RFC 5322 form with CRLF line ends: headers,
// then a quoted-printable text part, an HTML part, or both as
// multipart/alternative.
func render(msg email.Message, from fromAddress, id string, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	to := make([]string, len(msg.To))
	for i, a := range msg.To {
		addr, _ := mail.ParseAddress(a) // validated
		to[i] = addr.String()
	}
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", from.text)
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	header("Date", at.Format(time.RFC1123Z))
	header("Message-ID", id)
	for _, h := range msg.Headers(from.addr) {
		header(h.Name, h.Value)
	}
	header("MIME-Version", "1.0")

	if msg.Text == "" || msg.HTML == "" {
		body, ctype := msg.Text, "text/plain; charset=utf-8"
		if body == "" {
			body, ctype = msg.HTML, "text/html; charset=utf-8"
		}
		header("Content-Type", ctype)
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, body); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}

	mw := multipart.NewWriter(&b)
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", msg.Text},
		{"text/html; charset=utf-8", msg.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("render message: %w", err)
		}
		if err := writeQP(w, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("render message: %w", err)
	}
	return b.Bytes(), nil
}

// writeQP writes body quoted-printable with CRLF line ends.
func writeQP(w interface{ Write([]byte) (int, error) }, body string) error {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\n", "\r\n")
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(body)); err != nil {
		return fmt.Errorf("render message: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("render message: %w", err)
	}
	_, err := w.Write([]byte("\r\n"))
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
