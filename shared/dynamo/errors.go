package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/rapportcrm/rapport/shared/crm"
)

// cancellation returns the per-item reasons of a cancelled transaction, or
// nil when err is something else.
func cancellation(err error) []types.CancellationReason {
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		return tc.CancellationReasons
	}
	return nil
}

// reasonCode returns the code of item i's cancellation reason ("" for none).
func reasonCode(reasons []types.CancellationReason, i int) string {
	if i < len(reasons) && reasons[i].Code != nil {
		return *reasons[i].Code
	}
	return ""
}

// conflicted reports whether a transaction lost a race with another one
// touching the same items; such a transaction changed nothing and is safe to
// run again.
func conflicted(err error) bool {
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return true
	}
	reasons := cancellation(err)
	for i := range reasons {
		if reasonCode(reasons, i) == "TransactionConflict" {
			return true
		}
	}
	return false
}

// maxAttempts bounds how often a conflicted transaction is tried.
const maxAttempts = 8

// retryConflicts runs write until it does not conflict, backing off with
// jitter between attempts so that racing writers spread out.
func retryConflicts(write func() error) error {
	var err error
	for attempt := range maxAttempts {
		if err = write(); !conflicted(err) {
			return err
		}
		backoff := time.Duration(5<<attempt) * time.Millisecond
		time.Sleep(backoff/2 + rand.N(backoff/2))
	}
	return crm.Errorf(crm.ECONFLICT, "too many concurrent changes; try again")
}

// internal wraps an SDK error with what the store was doing. The HTTP
// adapter logs it and shows the caller nothing of it. DynamoDB throttling
// or a fault of its own that outlasted the SDK's retries is also
// crm.EUNAVAILABLE, so callers are told to come back (503 and Retry-After)
// instead of that the request was wrong.
func internal(op string, err error) error {
	if transient(err) {
		return fmt.Errorf("%s: %w: %w", op, err, errUnavailable)
	}
	return fmt.Errorf("%s: %w", op, err)
}

var errUnavailable = crm.Errorf(crm.EUNAVAILABLE, "the database is busy; try again shortly")

// transientCodes are DynamoDB's error codes for throttling and for its own
// passing faults.
var transientCodes = []string{
	"ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException",
	"InternalServerError", "ServiceUnavailable",
}

func transient(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && slices.Contains(transientCodes, ae.ErrorCode())
}

func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// getItem reads the item at pk and sk with a consistent read and decodes
// it into a T. A missing item is ENOTFOUND "no <what>", never a zero T.
func getItem[T any](ctx context.Context, c API, table, pk, sk, what string) (T, error) {
	var it T
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return it, internal("get "+what, err)
	}
	if out.Item == nil {
		return it, crm.Errorf(crm.ENOTFOUND, "no %s", what)
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return it, internal("decode "+what, err)
	}
	return it, nil
}

// versionedWriteError translates the failure of a transaction whose first
// item is a versioned put of the record what id, made with
// ReturnValuesOnConditionCheckFailure ALL_OLD: no stored item is ENOTFOUND,
// a stored one at another version EPRECONDITION.
func versionedWriteError(what, id string, err error) error {
	reasons := cancellation(err)
	switch {
	case err == nil:
		return nil
	case reasonCode(reasons, 0) == "ConditionalCheckFailed" && len(reasons[0].Item) == 0:
		return crm.Errorf(crm.ENOTFOUND, "no %s %s", what, id)
	case reasonCode(reasons, 0) == "ConditionalCheckFailed":
		return crm.Errorf(crm.EPRECONDITION, "%s %s has changed; read it again", what, id)
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return err
	}
	return internal("write "+what+" "+id, err)
}
