// Package sesmail sends Rapport's email through Amazon SES (API v2). It
// implements email.Sender with SendEmail and "simple" content: SES builds
// the MIME message from the subject, the text and HTML parts and the extra
// headers, so nothing here writes MIME. The local stack implements the same
// interface with its outbox folder (infra/local/mail).
//
// The package is named for what it provides, email over SES, rather than
// "ses", which would read as the SDK's own package of that name.
package sesmail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/rapportcrm/rapport/shared/email"
)

// API is the part of the SES v2 client the Sender uses; *sesv2.Client
// implements it.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ API = (*sesv2.Client)(nil)

// charset is declared on every part, so SES encodes non-ASCII subjects and
// bodies itself.
const charset = "UTF-8"

// Sender sends messages from one address through SES.
type Sender struct {
	api  API
	from *mail.Address
	// ConfigurationSet, when set, names the SES configuration set each
	// message is sent with (event publishing, a dedicated IP pool). The
	// account's default configuration set applies otherwise.
	ConfigurationSet string
}

var _ email.Sender = (*Sender)(nil)

// New returns a Sender sending from from (config's MailFrom, e.g.
// "Rapport <rapport@example.com>"), an address or domain SES has verified.
// An address that does not parse is an error, so a function fails at cold
// start rather than on its first mail.
func New(api API, from string) (*Sender, error) {
	addr, err := email.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("sesmail: the sender (MAIL_FROM): %w", err)
	}
	return &Sender{api: api, from: addr}, nil
}

// Send implements email.Sender: it returns SES's MessageId. Errors are
// those email.Sender names; an error from SES keeps only its code and the
// request id, since SES's messages can quote the addresses ("Email address
// is not verified. The following identities failed the check: …").
func (s *Sender) Send(ctx context.Context, msg email.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := msg.Validate(); err != nil {
		return "", err
	}
	out, err := s.api.SendEmail(ctx, s.toInput(msg))
	if err != nil {
		return "", sendError(err)
	}
	if out == nil || aws.ToString(out.MessageId) == "" {
		return "", errors.New("ses send email: the answer has no message id")
	}
	return *out.MessageId, nil
}

// toInput maps a valid message to SES's request. Addresses are written in
// header form: a display name outside ASCII is RFC 2047-encoded, which SES
// requires.
func (s *Sender) toInput(msg email.Message) *sesv2.SendEmailInput {
	to := make([]string, len(msg.To))
	for i, a := range msg.To {
		addr, _ := email.ParseAddress(a) // validated
		to[i] = addr.String()
	}
	body := &types.Body{}
	if msg.Text != "" {
		body.Text = content(msg.Text)
	}
	if msg.HTML != "" {
		body.Html = content(msg.HTML)
	}
	var headers []types.MessageHeader
	for _, h := range msg.Headers(s.from) {
		headers = append(headers, types.MessageHeader{Name: aws.String(h.Name), Value: aws.String(h.Value)})
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from.String()),
		Destination:      &types.Destination{ToAddresses: to},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: content(msg.Subject),
			Body:    body,
			Headers: headers,
		}},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	return in
}

func content(s string) *types.Content {
	return &types.Content{Data: aws.String(s), Charset: aws.String(charset)}
}

// sendError turns the SDK's error into one without SES's message text.
// MessageRejected (SES refused this message: in the sandbox, a recipient
// not verified) and BadRequestException (a parameter SES will not take,
// such as an address it refuses) wrap email.ErrRejected: sending again
// cannot help. Every other code (throttling, an unverified sender, paused
// sending, a missing configuration set) is left for the caller to retry,
// so that a fault of the account's set-up surfaces in retries and alarms
// instead of dropping the mail.
func sendError(err error) error {
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("ses send email: %w", ctxErr)
		}
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		// Transport and SDK errors: the SDK never quotes the request body
		// in them, so they are kept for their cause.
		return fmt.Errorf("ses send email: %w", err)
	}
	text := "ses send email: " + api.ErrorCode()
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.ServiceRequestID() != "" {
		text += " (request " + resp.ServiceRequestID() + ")"
	}
	var rejected *types.MessageRejected
	var bad *types.BadRequestException
	if errors.As(err, &rejected) || errors.As(err, &bad) {
		return fmt.Errorf("%s: %w", text, email.ErrRejected)
	}
	return errors.New(text)
}
