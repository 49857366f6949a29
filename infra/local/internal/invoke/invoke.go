// Package invoke calls a function's handler the way the Lambda runtime and
// its AWS callers would: with a Lambda context, with a panic reported as a
// failed invocation, and, for asynchronous callers (EventBridge rules and
// schedules), with bounded retries.
package invoke

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rapportcrm/rapport/infra/local/internal/clock"
)

// Account is the AWS account id the local stack claims to be, as
// LocalStack and DynamoDB Local do.
const Account = "000000000000"

// Context returns ctx carrying the Lambda context the runtime gives each
// invocation: a fresh request id and the function's ARN.
func Context(ctx context.Context, region, function string) context.Context {
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       NewID(),
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:rapport-%s", region, Account, function),
	})
}

// Safely calls f and turns a panic into an error, as the Lambda runtime
// reports a panicking handler as a failed invocation instead of dying.
func Safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return f()
}

// Policy bounds the retries of an asynchronous delivery. EventBridge retries
// a failed target for up to 24 hours with exponential backoff; locally a few
// quick attempts show the same behaviour without hiding a bug for a day.
type Policy struct {
	Attempts int                           // total attempts, at least 1
	Backoff  func(retry int) time.Duration // wait before retry n (1, 2, …)
}

// DefaultPolicy makes 3 attempts, waiting 1 s and then 2 s.
var DefaultPolicy = Policy{
	Attempts: 3,
	Backoff:  func(retry int) time.Duration { return time.Second << (retry - 1) },
}

// Retry calls f until it succeeds, the attempts run out or ctx ends. It
// returns the number of attempts made and the last error.
func Retry(ctx context.Context, clk clock.Clock, p Policy, f func(ctx context.Context) error) (int, error) {
	if p.Attempts < 1 {
		p.Attempts = 1
	}
	var err error
	for attempt := 1; ; attempt++ {
		if err = Safely(func() error { return f(ctx) }); err == nil {
			return attempt, nil
		}
		if attempt >= p.Attempts {
			return attempt, err
		}
		var wait time.Duration
		if p.Backoff != nil {
			wait = p.Backoff(attempt)
		}
		select {
		case <-clk.After(wait):
		case <-ctx.Done():
			return attempt, fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		}
	}
}

// NewID returns a random version 4 UUID, the form of EventBridge event ids
// and Lambda request ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
