package relay_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local/streams"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
)

// TestLocalStackPublishesOutboxEventsOnce runs what the local stack runs:
// events written to a dynoxide table's outbox reach the stream poller, which
// feeds app.Relay, which puts each on the (fake) bus once — also after the
// relay's own claim and mark records come round on the stream.
func TestLocalStackPublishesOutboxEventsOnce(t *testing.T) {
	f := newFixture(t)
	f.pub.notify = make(chan events.Envelope, 10)
	handler := app.Relay(app.Deps{
		Config:    config.Config{TableName: f.table},
		DynamoDB:  f.api,
		Publisher: f.pub,
		Now:       f.clock.Now,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})

	// seen counts the stream records the relay was handed, so the test can
	// wait until the MODIFY records of claim and mark have been through it.
	var mu sync.Mutex
	seen := 0
	seenMore := make(chan struct{}, 100)
	counted := func(ctx context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		resp, err := handler(ctx, e)
		mu.Lock()
		seen += len(e.Records)
		mu.Unlock()
		seenMore <- struct{}{}
		return resp, err
	}

	arn, err := streams.StreamARN(context.Background(), f.ddb, f.table)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- streams.New(streams.NewClient(dynamotest.Config(t), f.ddb), arn, counted, streams.Options{
			Interval: 5 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}).Run(ctx)
	}()

	envs := f.putEvents(t, "E", 2)
	for range envs {
		select {
		case <-f.pub.notify:
		case <-time.After(waitFor):
			t.Fatalf("published %v, want %v", f.pub.published(), ids(envs))
		}
	}
	// 2 inserts, then a claim and a mark each: 6 records in all.
	for {
		mu.Lock()
		n := seen
		mu.Unlock()
		if n >= 3*len(envs) {
			break
		}
		select {
		case <-seenMore:
		case <-time.After(waitFor):
			t.Fatalf("the relay was handed %d records, want %d", n, 3*len(envs))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	got := f.pub.published()
	if len(got) != len(envs) || got[0] != envs[0].ID || got[1] != envs[1].ID {
		t.Fatalf("published %v, want %v once each", got, ids(envs))
	}
}
