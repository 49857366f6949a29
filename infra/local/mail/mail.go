// Package mail delivers Rapport's email. Locally it writes each message into
// an outbox folder as an RFC 5322 .eml file a person can open in a mail
// program or read as plain text; in AWS the same Mailer is backed by SES.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
)

// Message is one email. To and Subject are required, and at least one of
// Text and HTML; when both are given the message offers both.
type Message struct {
	To      []string // addresses, e.g. "ana@example.com" or "Ana <ana@example.com>"
	Subject string
	Text    string // plain-text body
	HTML    string // optional HTML body
}

// Mailer sends email.
type Mailer interface {
	// Send delivers msg and returns its Message-ID. It fails, sending
	// nothing, when msg has no recipient, an address that does not parse,
	// a subject with a line break, or no body.
	Send(ctx context.Context, msg Message) (id string, err error)
}

// ErrInvalid is wrapped by Send's errors for a message that cannot be sent.
var ErrInvalid = errors.New("invalid message")

// DefaultFrom is the sender of the local stack's mail.
const DefaultFrom = "Rapport <rapport@localhost>"

// Outbox is a Mailer that writes each message to Dir as
// <UTC time>-<id>.eml. A message is written aside and renamed into place,
// so a reader never sees half of one.
type Outbox struct {
	Dir  string
	From string           // default DefaultFrom
	Now  func() time.Time // default time.Now
	Log  *slog.Logger     // logs the file name only: addresses are personal data
}

var _ Mailer = (*Outbox)(nil)

// Send implements Mailer.
func (o *Outbox) Send(ctx context.Context, msg Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := validate(msg); err != nil {
		return "", err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	from := o.From
	if from == "" {
		from = DefaultFrom
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

func validate(msg Message) error {
	if len(msg.To) == 0 {
		return fmt.Errorf("%w: no recipient", ErrInvalid)
	}
	for i, to := range msg.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("%w: recipient %d is not an address", ErrInvalid, i+1)
		}
	}
	if strings.TrimSpace(msg.Subject) == "" {
		return fmt.Errorf("%w: no subject", ErrInvalid)
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return fmt.Errorf("%w: the subject has a line break", ErrInvalid)
	}
	if msg.Text == "" && msg.HTML == "" {
		return fmt.Errorf("%w: no body", ErrInvalid)
	}
	return nil
}

// render writes the message in RFC 5322 form with CRLF line ends: headers,
// then a quoted-printable text part, an HTML part, or both as
// multipart/alternative.
func render(msg Message, from, id string, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	to := make([]string, len(msg.To))
	for i, a := range msg.To {
		addr, _ := mail.ParseAddress(a) // validated
		to[i] = addr.String()
	}
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", from)
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	header("Date", at.Format(time.RFC1123Z))
	header("Message-ID", id)
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
