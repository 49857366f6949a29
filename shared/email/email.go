// Package email is how Rapport sends mail: the Message every function
// composes, the Sender interface it hands messages to, their validation, and
// templates that render a kind of mail (subject, plain text, HTML) from data.
//
// Two Senders implement it: shared/sesmail (Amazon SES v2) in AWS and
// infra/local/mail (.eml files in .rapport/outbox/) in the local stack. The
// package imports only the standard library, so a domain package may depend
// on it.
//
// Messages carry personal data (addresses, names in the body); neither this
// package's errors nor its Senders' logs contain any of it.
package email

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Message is one email. To and Subject are required, and at least one of
// Text and HTML; when both are given the message offers both and the mail
// program picks. Render fills Subject, Text and HTML from a template; the
// caller sets the rest.
type Message struct {
	// To lists the recipients, e.g. "ana@example.com" or
	// "Ana Pérez <ana@example.com>"; at most MaxRecipients.
	To      []string
	Subject string
	Text    string // plain-text body
	HTML    string // HTML body

	// Thread, when set, names the conversation this message belongs to,
	// e.g. "lead/01JD3V6N2K": every message with the same Thread carries the
	// same References header, so mail programs group them (all reminders
	// about one lead in one thread). Letters, digits and . _ - / + = only.
	Thread string
	// Unsubscribe, when set, is an http(s) URL that unsubscribes the
	// recipient with one POST (RFC 8058), sent as List-Unsubscribe and
	// List-Unsubscribe-Post so mail programs offer an unsubscribe button.
	// Bulk mail such as survey invitations needs it.
	Unsubscribe string
}

// Sender sends email from the sender it was configured with (MAIL_FROM).
type Sender interface {
	// Send delivers msg and returns the id the mail service gave it: SES's
	// MessageId in AWS, the Message-ID header locally. Its errors:
	//   - ErrInvalid: msg fails Validate; nothing was sent.
	//   - ErrRejected: the mail service refused this message (in the SES
	//     sandbox, a recipient that is not verified); sending it again
	//     will not help.
	//   - any other error may pass (throttling, the network, an account
	//     setting, ctx ending), so the caller may retry; a retry after an
	//     answer was lost can deliver the message twice.
	// No error's text contains an address or any other part of msg.
	Send(ctx context.Context, msg Message) (id string, err error)
}

// Errors a Sender wraps; test with errors.Is.
var (
	ErrInvalid  = errors.New("invalid message")
	ErrRejected = errors.New("message rejected by the mail service")
)

// Refused reports whether err says the mail service will never take the
// message — it is invalid, or was rejected — so a retry is pointless.
func Refused(err error) bool { return errors.Is(err, ErrRejected) || errors.Is(err, ErrInvalid) }

// MaxRecipients is the most addresses one message may have: SES's limit.
const MaxRecipients = 50

// Validate reports why msg cannot be sent, as an error wrapping ErrInvalid
// that names the field (and a recipient by its position, never its
// address), or nil. A line break in the subject or an address is refused
// rather than cleaned, since it can only be an attempt to add headers.
func (m Message) Validate() error {
	if len(m.To) == 0 {
		return fmt.Errorf("%w: no recipient", ErrInvalid)
	}
	if len(m.To) > MaxRecipients {
		return fmt.Errorf("%w: %d recipients, at most %d", ErrInvalid, len(m.To), MaxRecipients)
	}
	for i, to := range m.To {
		if _, err := ParseAddress(to); err != nil {
			return fmt.Errorf("%w: recipient %d is not an address", ErrInvalid, i+1)
		}
	}
	if strings.TrimSpace(m.Subject) == "" {
		return fmt.Errorf("%w: no subject", ErrInvalid)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: the subject has a line break", ErrInvalid)
	}
	if hasControl(m.Subject) {
		return fmt.Errorf("%w: the subject has a control character", ErrInvalid)
	}
	if m.Text == "" && m.HTML == "" {
		return fmt.Errorf("%w: no body", ErrInvalid)
	}
	if m.Thread != "" && !validThread(m.Thread) {
		return fmt.Errorf("%w: thread may hold only letters, digits and . _ - / + =", ErrInvalid)
	}
	if m.Unsubscribe != "" && !validURL(m.Unsubscribe) {
		return fmt.Errorf("%w: unsubscribe is not an http(s) URL", ErrInvalid)
	}
	return nil
}

// ParseAddress parses one address as Message.To and MAIL_FROM take it
// ("ana@example.com", "Ana Pérez <ana@example.com>"). Besides what
// net/mail refuses it refuses control characters, which net/mail lets
// through in some places and which have no business in a header. Its error
// wraps ErrInvalid and does not repeat the text.
func ParseAddress(s string) (*mail.Address, error) {
	if hasControl(s) {
		return nil, fmt.Errorf("%w: an address has a control character", ErrInvalid)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not an address", ErrInvalid)
	}
	return a, nil
}

// Header is one header field.
type Header struct{ Name, Value string }

// Headers returns the header fields a Sender adds to m besides From, To,
// Subject and those the transport writes itself (Date, Message-ID, MIME).
// from is the sender's address: the thread's reference is made in its
// domain. Every Sender sends the same fields, so what a person sees in the
// local outbox is what SES sends.
func (m Message) Headers(from *mail.Address) []Header {
	// Rapport's mail is all sent by machine; saying so (RFC 3834) keeps
	// out-of-office replies from answering it.
	hs := []Header{{"Auto-Submitted", "auto-generated"}}
	if m.Thread != "" {
		domain := "rapport.invalid"
		if from != nil {
			if at := strings.LastIndexByte(from.Address, '@'); at >= 0 && at < len(from.Address)-1 {
				domain = from.Address[at+1:]
			}
		}
		hs = append(hs, Header{"References", "<" + m.Thread + "@" + domain + ">"})
	}
	if m.Unsubscribe != "" {
		hs = append(hs,
			Header{"List-Unsubscribe", "<" + m.Unsubscribe + ">"},
			Header{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"})
	}
	return hs
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// validThread keeps Thread inside the dot-atom of a msg-id (RFC 5322 3.6.4).
func validThread(s string) bool {
	if len(s) > 200 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', strings.ContainsRune("._-/+=", r):
		default:
			return false
		}
	}
	return true
}

// validURL accepts an absolute http(s) URL in printable ASCII without the
// characters that end a List-Unsubscribe entry.
func validURL(s string) bool {
	if len(s) > 900 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`<>",`, r) }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
