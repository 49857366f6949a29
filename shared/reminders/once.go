package reminders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/shared/email"
)

// SendLog makes each mail go out once. Claim reserves a key until a lease
// ends; the mail is sent; Sent records it. A sender that crashes after
// the mail server accepted the mail and before Sent leaves a claim whose
// lease runs out, and a retry after that sends the mail again: that is the
// one window in which a mail goes twice. A crash before the mail server
// accepted it sends it once, after the lease. Release gives a claim back
// when sending failed, so the retry need not wait.
type SendLog interface {
	Claim(ctx context.Context, key string, now, until time.Time) (Claim, error)
	Sent(ctx context.Context, key, messageID string, at time.Time) error
	Release(ctx context.Context, key string) error
}

// Claim is the answer to a claim on a mail.
type Claim int

// Claims.
const (
	Claimed     Claim = iota // this sender sends it now
	AlreadySent              // it went out; nothing to do
	Busy                     // another sender holds a live claim
)

// lease is how long a claim keeps others from sending: longer than any
// send takes, shorter than the first retry of an invocation.
const lease = 2 * time.Minute

// ErrBusy means another sender holds the mail's claim; the caller's retry
// will find it sent, or the claim's lease run out.
var ErrBusy = errors.New("another sender is sending this mail")

// Once sends each mail at most once under the key its caller names (an
// event's id and a recipient, a person's digest day), through Log: the
// reminders here and the ticket mail (shared/ticketmail) both send
// through it, so a retried or redelivered consumer mails nobody twice.
type Once struct {
	Mail email.Sender
	Log  SendLog
	Now  func() time.Time
}

// Send sends msg unless the mail under key was sent or is being sent. It
// returns ErrBusy while another sender holds the key's live claim, so the
// caller fails and is retried; a failed send gives the claim back and
// returns the Sender's error, wrapped.
func (o Once) Send(ctx context.Context, key string, msg email.Message) error {
	now := o.Now()
	claim, err := o.Log.Claim(ctx, key, now, now.Add(lease))
	switch {
	case err != nil:
		return err
	case claim == AlreadySent:
		return nil
	case claim == Busy:
		// Fail, so the invocation is retried: by then the other sender
		// has recorded the mail, or its lease has run out and this one
		// sends it.
		return ErrBusy
	}
	id, err := o.Mail.Send(ctx, msg)
	if err != nil {
		if rerr := o.Log.Release(ctx, key); rerr != nil {
			return errors.Join(err, rerr)
		}
		return fmt.Errorf("send mail: %w", err)
	}
	return o.Log.Sent(ctx, key, id, o.Now())
}
