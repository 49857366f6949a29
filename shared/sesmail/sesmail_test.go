package sesmail_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/sesmail"
)

// fakeSES stands in for the SES client: the mapping is pure logic.
type fakeSES struct {
	send  func(*sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error)
	calls int
}

var _ sesmail.API = (*fakeSES)(nil)

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.calls++
	return f.send(in)
}

func newSender(t *testing.T, f *fakeSES) *sesmail.Sender {
	t.Helper()
	s, err := sesmail.New(f, "Rapport CRM <rapport@crm.example.com>")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSendMapsTheMessage(t *testing.T) {
	var got *sesv2.SendEmailInput
	f := &fakeSES{send: func(in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
		got = in
		return &sesv2.SendEmailOutput{MessageId: aws.String("0100018f-abc")}, nil
	}}
	s := newSender(t, f)
	s.ConfigurationSet = "rapport"
	id, err := s.Send(context.Background(), email.Message{
		To:          []string{"Ana Pérez <ana@example.com>", "team@example.com"},
		Subject:     "Leads waiting — Montag",
		Text:        "Three leads.\n",
		HTML:        "<p>Three leads.</p>",
		Thread:      "lead/01JD",
		Unsubscribe: "https://crm.example.com/u?t=1",
	})
	if err != nil || id != "0100018f-abc" {
		t.Fatalf("id %q, err %v", id, err)
	}
	if aws.ToString(got.FromEmailAddress) != `"Rapport CRM" <rapport@crm.example.com>` {
		t.Errorf("from %q", aws.ToString(got.FromEmailAddress))
	}
	if to := got.Destination.ToAddresses; len(to) != 2 || to[0] != "=?utf-8?q?Ana_P=C3=A9rez?= <ana@example.com>" || to[1] != "<team@example.com>" {
		t.Errorf("to %q", to)
	}
	if got.Destination.CcAddresses != nil || got.Destination.BccAddresses != nil {
		t.Errorf("cc/bcc %v", got.Destination)
	}
	if aws.ToString(got.ConfigurationSetName) != "rapport" {
		t.Errorf("configuration set %v", got.ConfigurationSetName)
	}
	simple := got.Content.Simple
	if simple == nil || got.Content.Raw != nil || got.Content.Template != nil {
		t.Fatalf("content %+v", got.Content)
	}
	for name, c := range map[string]struct {
		c    *types.Content
		want string
	}{
		"subject": {simple.Subject, "Leads waiting — Montag"},
		"text":    {simple.Body.Text, "Three leads.\n"},
		"html":    {simple.Body.Html, "<p>Three leads.</p>"},
	} {
		if c.c == nil || aws.ToString(c.c.Data) != c.want || aws.ToString(c.c.Charset) != "UTF-8" {
			t.Errorf("%s: %+v", name, c.c)
		}
	}
	var headers []string
	for _, h := range simple.Headers {
		headers = append(headers, aws.ToString(h.Name)+": "+aws.ToString(h.Value))
	}
	want := "Auto-Submitted: auto-generated|References: <lead/01JD@crm.example.com>|" +
		"List-Unsubscribe: <https://crm.example.com/u?t=1>|List-Unsubscribe-Post: List-Unsubscribe=One-Click"
	if strings.Join(headers, "|") != want {
		t.Errorf("headers %q", headers)
	}
}

func TestSendTextOnly(t *testing.T) {
	var got *sesv2.SendEmailInput
	f := &fakeSES{send: func(in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
		got = in
		return &sesv2.SendEmailOutput{MessageId: aws.String("m")}, nil
	}}
	if _, err := newSender(t, f).Send(context.Background(), email.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got.Content.Simple.Body.Html != nil || got.ConfigurationSetName != nil {
		t.Errorf("unasked parts: %+v", got)
	}
}

func TestInvalidMessagesAreNotSent(t *testing.T) {
	f := &fakeSES{send: func(*sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) { return &sesv2.SendEmailOutput{}, nil }}
	s := newSender(t, f)
	for name, m := range map[string]email.Message{
		"no recipient":     {Subject: "s", Text: "t"},
		"header injection": {To: []string{"a@example.com"}, Subject: "hi\r\nBcc: all@example.com", Text: "t"},
		"no body":          {To: []string{"a@example.com"}, Subject: "s"},
	} {
		if _, err := s.Send(context.Background(), m); !errors.Is(err, email.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, email.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if f.calls != 0 {
		t.Errorf("SES was called %d times", f.calls)
	}
}

func TestNewRefusesABadSender(t *testing.T) {
	for _, from := range []string{"", "rapport", "Rapport <rapport@example.com>\r\nBcc: x@example.com"} {
		if _, err := sesmail.New(&fakeSES{}, from); err == nil || !strings.Contains(err.Error(), "MAIL_FROM") {
			t.Errorf("%q: %v", from, err)
		}
	}
}

// sdkError wraps an SES exception as the SDK returns it: an operation error
// around a response error carrying the request id.
func sdkError(apiErr error) error {
	return &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: apiErr},
		RequestID:     "req-7",
	}}
}

// SES's messages can quote the addresses; what Send returns never does.
func TestSESErrorsCarryNoAddresses(t *testing.T) {
	const notVerified = "Email address is not verified. The following identities failed the check in region EU-WEST-1: ana@example.com, Rapport CRM <rapport@crm.example.com>"
	for name, c := range map[string]struct {
		err      error
		rejected bool
		want     string
	}{
		"sandbox":     {sdkError(&types.MessageRejected{Message: aws.String(notVerified)}), true, "ses send email: MessageRejected (request req-7)"},
		"bad request": {sdkError(&types.BadRequestException{Message: aws.String("Illegal address: ana@example.com")}), true, "BadRequestException"},
		"throttled":   {sdkError(&types.TooManyRequestsException{Message: aws.String("slow down")}), false, "TooManyRequestsException"},
		"unverified sender": {sdkError(&types.MailFromDomainNotVerifiedException{Message: aws.String("crm.example.com: " + notVerified)}),
			false, "MailFromDomainNotVerifiedException"},
		"paused":       {sdkError(&types.SendingPausedException{Message: aws.String("paused")}), false, "SendingPausedException"},
		"generic code": {sdkError(&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to send from rapport@crm.example.com"}), false, "AccessDeniedException"},
	} {
		f := &fakeSES{send: func(*sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) { return nil, c.err }}
		_, err := newSender(t, f).Send(context.Background(), email.Message{To: []string{"ana@example.com"}, Subject: "s", Text: "t"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to say %q", name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "@") || strings.Contains(err.Error(), "verified") {
			t.Errorf("%s: the error keeps SES's text: %v", name, err)
		}
		if errors.Is(err, email.ErrRejected) != c.rejected {
			t.Errorf("%s: rejected = %v, want %v", name, !c.rejected, c.rejected)
		}
		// Nothing below the returned error can be unwrapped to SES's text.
		var api smithy.APIError
		if errors.As(err, &api) {
			t.Errorf("%s: the SDK's error is still reachable", name)
		}
	}
}

func TestOtherErrors(t *testing.T) {
	for name, c := range map[string]struct {
		err  error
		want error
	}{
		"deadline": {&smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: fmt.Errorf("send: %w", context.DeadlineExceeded)}, context.DeadlineExceeded},
		"network":  {&smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: errors.New("dial tcp: connection refused")}, nil},
	} {
		f := &fakeSES{send: func(*sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) { return nil, c.err }}
		_, err := newSender(t, f).Send(context.Background(), email.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"})
		if err == nil || errors.Is(err, email.ErrRejected) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	f := &fakeSES{send: func(*sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) { return &sesv2.SendEmailOutput{}, nil }}
	if _, err := newSender(t, f).Send(context.Background(), email.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}); err == nil {
		t.Error("an answer without a message id was taken as sent")
	}
}
