package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/eventbus"
)

// fakeAPI is a function-field fake of the PutEvents client.
type fakeAPI struct {
	putEvents func(ctx context.Context, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error)
	calls     []*eventbridge.PutEventsInput
}

var _ eventbus.API = (*fakeAPI)(nil)

func (f *fakeAPI) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.calls = append(f.calls, in)
	if f.putEvents != nil {
		return f.putEvents(ctx, in)
	}
	return accepted(in), nil
}

// accepted is EventBridge's answer accepting every entry.
func accepted(in *eventbridge.PutEventsInput) *eventbridge.PutEventsOutput {
	out := &eventbridge.PutEventsOutput{}
	for i := range in.Entries {
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("eb-%d", i))})
	}
	return out
}

var at = time.Date(2026, 5, 4, 9, 30, 12, 345e6, time.UTC)

func envelopes(n, detailBytes int) []events.Envelope {
	var out []events.Envelope
	for i := range n {
		detail := fmt.Sprintf(`{"event_id":"E%02d","pad":"%s"}`, i, strings.Repeat("x", detailBytes))
		out = append(out, events.Envelope{
			ID: fmt.Sprintf("E%02d", i), Source: events.SourceLeads, DetailType: events.LeadCapturedType,
			Time: at, Detail: json.RawMessage(detail),
		})
	}
	return out
}

func newPublisher(t *testing.T, api eventbus.API) *eventbus.Publisher {
	t.Helper()
	p, err := eventbus.New(api, "rapport-bus")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublishSendsEntriesInBatchesOfTen(t *testing.T) {
	api := &fakeAPI{}
	envs := envelopes(23, 10)
	errs := newPublisher(t, api).Publish(context.Background(), envs)

	if len(errs) != len(envs) {
		t.Fatalf("%d errors for %d envelopes", len(errs), len(envs))
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("envelope %d: %v", i, err)
		}
	}
	var sizes []int
	k := 0
	for _, in := range api.calls {
		sizes = append(sizes, len(in.Entries))
		for _, e := range in.Entries {
			env := envs[k]
			k++
			if aws.ToString(e.EventBusName) != "rapport-bus" || aws.ToString(e.Source) != env.Source ||
				aws.ToString(e.DetailType) != env.DetailType || aws.ToString(e.Detail) != string(env.Detail) ||
				e.Time == nil || !e.Time.Equal(env.Time) {
				t.Errorf("entry %d = %+v, want envelope %+v on rapport-bus", k-1, e, env)
			}
		}
	}
	if fmt.Sprint(sizes) != "[10 10 3]" {
		t.Errorf("batches of %v, want [10 10 3]", sizes)
	}
}

func TestPublishMapsPartialFailuresToTheirEnvelopes(t *testing.T) {
	call := 0
	api := &fakeAPI{putEvents: func(_ context.Context, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
		call++
		switch call {
		case 1: // the second entry is throttled
			out := accepted(in)
			out.FailedEntryCount = 1
			out.Entries[1] = types.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("Rate exceeded")}
			return out, nil
		case 2: // the whole request fails
			return nil, errors.New("connection reset")
		default: // an answer with fewer results than entries
			out := accepted(in)
			out.Entries = out.Entries[:len(out.Entries)-1]
			return out, nil
		}
	}}
	envs := envelopes(25, 10)
	errs := newPublisher(t, api).Publish(context.Background(), envs)

	for i, err := range errs {
		switch {
		case i == 1:
			var entry *eventbus.EntryError
			if !errors.As(err, &entry) || entry.Code != "ThrottlingException" || entry.EventID != "E01" {
				t.Errorf("envelope 1: %v, want E01's ThrottlingException", err)
			}
		case i >= 10 && i < 20:
			if err == nil || !strings.Contains(err.Error(), "connection reset") || !strings.Contains(err.Error(), envs[i].ID) {
				t.Errorf("envelope %d: %v, want the request's error", i, err)
			}
		case i == 24:
			if err == nil {
				t.Errorf("envelope 24 had no result but no error")
			}
		default:
			if err != nil {
				t.Errorf("envelope %d: %v", i, err)
			}
		}
	}
}

func TestPublishKeepsRequestsUnder256KiB(t *testing.T) {
	api := &fakeAPI{}
	envs := envelopes(5, 100*1024)                                          // about 100 KiB each: two fit in a request
	envs = append(envs[:2], append(envelopes(1, 300*1024), envs[2:]...)...) // one too large for any request
	errs := newPublisher(t, api).Publish(context.Background(), envs)

	for i, err := range errs {
		if (i == 2) != (err != nil) {
			t.Errorf("envelope %d: %v", i, err)
		}
	}
	var sizes []int
	for _, in := range api.calls {
		sizes = append(sizes, len(in.Entries))
		total := 0
		for _, e := range in.Entries {
			total += 14 + len(*e.Source) + len(*e.DetailType) + len(*e.Detail)
		}
		if total > eventbus.MaxRequestBytes {
			t.Errorf("a request of %d bytes", total)
		}
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Errorf("batches of %v, want [2 2 1]", sizes)
	}
}

func TestPublishNothing(t *testing.T) {
	api := &fakeAPI{}
	if errs := newPublisher(t, api).Publish(context.Background(), nil); len(errs) != 0 || len(api.calls) != 0 {
		t.Errorf("errs %v, %d calls", errs, len(api.calls))
	}
}

func TestNewNeedsABusName(t *testing.T) {
	if _, err := eventbus.New(&fakeAPI{}, ""); err == nil {
		t.Error("New accepted an empty bus name")
	}
}
