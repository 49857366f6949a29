package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local/streams"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/relay"
)

const (
	lease   = 30 * time.Second
	waitFor = 20 * time.Second // bounds waits on the stream; never a sleep
)

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

// clock is the relay's injected clock; tests move it past a lease.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// publisher is a fake bus: it records what it accepts and fails the events
// listed in failOnce, once each.
type publisher struct {
	mu       sync.Mutex
	got      []events.Envelope
	failOnce map[string]bool
	short    bool // return one error too few, as a broken Publisher might
	notify   chan events.Envelope
}

var _ relay.Publisher = (*publisher)(nil)

func (p *publisher) Publish(_ context.Context, envs []events.Envelope) []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := make([]error, len(envs))
	for i, e := range envs {
		if p.failOnce[e.ID] {
			delete(p.failOnce, e.ID)
			errs[i] = errors.New("the bus refused the event")
			continue
		}
		p.got = append(p.got, e)
		if p.notify != nil {
			p.notify <- e
		}
	}
	if p.short {
		return errs[:len(errs)-1]
	}
	return errs
}

// published returns the ids the bus accepted, in order.
func (p *publisher) published() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for _, e := range p.got {
		ids = append(ids, e.ID)
	}
	return ids
}

// counting wraps the DynamoDB client to count the relay's requests and
// the write capacity DynamoDB reports for the successful ones.
type counting struct {
	dynamo.API
	updates atomic.Int64
	mu      sync.Mutex
	wcu     float64
}

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.updates.Add(1)
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.API.UpdateItem(ctx, in, opts...)
	if err == nil && out.ConsumedCapacity != nil {
		c.mu.Lock()
		c.wcu += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		c.mu.Unlock()
	}
	return out, err
}

type fixture struct {
	ddb    *dynamodb.Client
	table  string
	api    *counting
	outbox *dynamo.Outbox
	clock  *clock
	pub    *publisher
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ddb, table := dynamotest.NewTable(t)
	api := &counting{API: ddb}
	return &fixture{
		ddb: ddb, table: table, api: api,
		outbox: dynamo.NewOutbox(api, table),
		clock:  &clock{now: t0},
		pub:    &publisher{failOnce: map[string]bool{}},
	}
}

func (f *fixture) relay(outbox relay.Outbox) *relay.Relay {
	if outbox == nil {
		outbox = f.outbox
	}
	return relay.New(outbox, f.pub, relay.Options{Now: f.clock.Now, Lease: lease, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// putEvents stores n lead.captured events in the outbox as the store does
// and returns them.
func (f *fixture) putEvents(t *testing.T, prefix string, n int) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	for i := range n {
		env, err := events.Wrap(events.LeadCaptured{
			Metadata:    events.Metadata{EventID: fmt.Sprintf("%s%02d", prefix, i), OccurredAt: t0},
			LeadID:      fmt.Sprintf("LEAD%02d", i),
			Attribution: events.Attribution{Source: "website"},
			CapturedAt:  t0,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := dynamo.PutOutboxEvent(context.Background(), f.ddb, f.table, env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// putItem writes an item that is not in the outbox.
func (f *fixture) putItem(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := f.ddb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// records reads the table's stream from its start with the local stack's
// poller until it has n records and returns them: real stream records, as
// Lambda would hand them to the relay.
func (f *fixture) records(t *testing.T, n int) []lambdaevents.DynamoDBEventRecord {
	t.Helper()
	arn, err := streams.StreamARN(context.Background(), f.ddb, f.table)
	if err != nil {
		t.Fatal(err)
	}
	batches := make(chan []lambdaevents.DynamoDBEventRecord, 100)
	ctx, cancel := context.WithCancel(context.Background())
	p := streams.New(streams.NewClient(dynamotest.Config(t), f.ddb), arn,
		func(_ context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
			// The event journal's items, written beside each counted
			// event's outbox item, are not the relay's: in AWS its event
			// source mapping filters them out (infra/cdk/events.go).
			var recs []lambdaevents.DynamoDBEventRecord
			for _, r := range e.Records {
				if !strings.HasPrefix(r.Change.Keys["pk"].String(), "JOURNAL#") {
					recs = append(recs, r)
				}
			}
			batches <- recs
			return lambdaevents.DynamoDBEventResponse{}, nil
		}, streams.Options{Interval: 5 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var out []lambdaevents.DynamoDBEventRecord
	for len(out) < n {
		select {
		case b := <-batches:
			out = append(out, b...)
		case <-time.After(waitFor):
			t.Fatalf("the stream delivered %d records, want %d", len(out), n)
		}
	}
	if len(out) != n {
		t.Fatalf("the stream delivered %d records, want %d", len(out), n)
	}
	return out
}

func handle(t *testing.T, r *relay.Relay, recs []lambdaevents.DynamoDBEventRecord) []string {
	t.Helper()
	resp, err := r.Handle(context.Background(), lambdaevents.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func ids(envs []events.Envelope) []string {
	var out []string
	for _, e := range envs {
		out = append(out, e.ID)
	}
	return out
}

func TestRelayPublishesEachOutboxEventOnce(t *testing.T) {
	f := newFixture(t)
	envs := f.putEvents(t, "E", 2)
	f.putItem(t, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "LEAD#1"}, "sk": &types.AttributeValueMemberS{Value: "LEAD"}})
	envs = append(envs, f.putEvents(t, "F", 1)...)
	recs := f.records(t, 4)
	r := f.relay(nil)

	if failed := handle(t, r, recs); failed != nil {
		t.Fatalf("failed records %v", failed)
	}
	if got := f.pub.published(); !reflect.DeepEqual(got, ids(envs)) {
		t.Fatalf("published %v, want %v", got, ids(envs))
	}
	for i, got := range f.pub.got {
		want := envs[i]
		if got.ID != want.ID || got.Source != want.Source || got.DetailType != want.DetailType || !got.Time.Equal(want.Time) || !jsonEqual(got.Detail, want.Detail) {
			t.Errorf("published %+v\nwant      %+v", got, want)
		}
	}
	// Two conditional updates per published event: the claim and the mark.
	if n := f.api.updates.Load(); n != 2*int64(len(envs)) {
		t.Errorf("%d UpdateItem requests for %d events, want %d", n, len(envs), 2*len(envs))
	}
	t.Logf("publishing %d events: %d UpdateItem requests, %.1f write capacity units", len(envs), f.api.updates.Load(), f.api.wcu)

	// Lambda redelivers the batch: nothing is published again, and each
	// event costs one failed conditional update.
	f.api.updates.Store(0)
	if failed := handle(t, r, recs); failed != nil {
		t.Fatalf("redelivery: failed records %v", failed)
	}
	if got := f.pub.published(); len(got) != len(envs) {
		t.Fatalf("redelivery published again: %v", got)
	}
	if n := f.api.updates.Load(); n != int64(len(envs)) {
		t.Errorf("redelivery made %d UpdateItem requests, want %d", n, len(envs))
	}

	// The whole stream now also holds the MODIFY records of the claims and
	// marks; the relay ignores them.
	all := f.records(t, 4+2*len(envs))
	f.api.updates.Store(0)
	if failed := handle(t, f.relay(nil), all); failed != nil {
		t.Fatalf("whole stream: failed records %v", failed)
	}
	if got := f.pub.published(); len(got) != len(envs) {
		t.Fatalf("the MODIFY records published again: %v", got)
	}
}

func TestRelayRetriesOnlyTheEventThePublisherFailed(t *testing.T) {
	f := newFixture(t)
	envs := f.putEvents(t, "E", 3)
	recs := f.records(t, 3)
	f.pub.failOnce[envs[1].ID] = true
	r := f.relay(nil)

	failed := handle(t, r, recs)
	if want := []string{recs[1].Change.SequenceNumber}; !reflect.DeepEqual(failed, want) {
		t.Fatalf("failed records %v, want %v (E01's)", failed, want)
	}
	if got := f.pub.published(); !reflect.DeepEqual(got, []string{"E00", "E02"}) {
		t.Fatalf("published %v", got)
	}

	// Lambda retries from the failed record: E01 and, again, E02.
	if failed := handle(t, r, recs[1:]); failed != nil {
		t.Fatalf("retry: failed records %v", failed)
	}
	if got := f.pub.published(); !reflect.DeepEqual(got, []string{"E00", "E02", "E01"}) {
		t.Fatalf("after the retry published %v, want each event once", got)
	}
}

func TestRelayRetriesAnEventClaimedByAnotherInvocation(t *testing.T) {
	f := newFixture(t)
	envs := f.putEvents(t, "E", 1)
	recs := f.records(t, 1)
	// An invocation that claimed the event and then crashed.
	if got, err := f.outbox.Claim(context.Background(), envs[0].ID, "crashed", t0, t0.Add(lease)); err != nil || got != relay.Claimed {
		t.Fatalf("claim: %v, %v", got, err)
	}
	r := f.relay(nil)

	if failed := handle(t, r, recs); !reflect.DeepEqual(failed, []string{recs[0].Change.SequenceNumber}) {
		t.Fatalf("failed records %v, want the claimed event's", failed)
	}
	if got := f.pub.published(); got != nil {
		t.Fatalf("published %v while another invocation held the claim", got)
	}

	f.clock.Advance(lease + time.Millisecond)
	if failed := handle(t, r, recs); failed != nil {
		t.Fatalf("after the lease: failed records %v", failed)
	}
	if got := f.pub.published(); !reflect.DeepEqual(got, []string{"E00"}) {
		t.Fatalf("after the lease published %v", got)
	}
}

// TestConcurrentRelaysPublishEachEventOnce runs several invocations on the
// same batch at once, for real, against the local server.
func TestConcurrentRelaysPublishEachEventOnce(t *testing.T) {
	f := newFixture(t)
	envs := f.putEvents(t, "E", 20)
	recs := f.records(t, len(envs))

	const invocations = 6
	start := make(chan struct{})
	failures := make([][]string, invocations)
	claims := &claimCounter{Outbox: f.outbox, results: map[relay.ClaimResult]int{}}
	var wg sync.WaitGroup
	for i := range invocations {
		r := f.relay(claims)
		wg.Go(func() {
			<-start
			resp, err := r.Handle(context.Background(), lambdaevents.DynamoDBEvent{Records: recs})
			if err != nil {
				t.Errorf("invocation %d: %v", i, err)
			}
			for _, f := range resp.BatchItemFailures {
				failures[i] = append(failures[i], f.ItemIdentifier)
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("claim outcomes of %d concurrent invocations: %v", invocations, claims.results)
	if claims.results[relay.Claimed] != len(envs) {
		t.Errorf("%d successful claims for %d events", claims.results[relay.Claimed], len(envs))
	}
	if n := claims.results[relay.Claimed] + claims.results[relay.HeldElsewhere] + claims.results[relay.Published]; n != invocations*len(envs) {
		t.Errorf("%d claims, want one per event and invocation (%d)", n, invocations*len(envs))
	}

	// Each invocation whose records failed is retried from its first
	// failure, as Lambda would; by now every event is published.
	for i, failed := range failures {
		if failed == nil {
			continue
		}
		from := 0
		for from < len(recs) && recs[from].Change.SequenceNumber != failed[0] {
			from++
		}
		if again := handle(t, f.relay(nil), recs[from:]); again != nil {
			t.Errorf("invocation %d's retry failed %v", i, again)
		}
	}
	counts := map[string]int{}
	for _, id := range f.pub.published() {
		counts[id]++
	}
	for _, e := range envs {
		if counts[e.ID] != 1 {
			t.Errorf("%s published %d times", e.ID, counts[e.ID])
		}
	}
	if len(counts) != len(envs) {
		t.Errorf("published %d distinct events, want %d", len(counts), len(envs))
	}
}

func TestRelayReportsAnUndecodableOutboxItem(t *testing.T) {
	f := newFixture(t)
	f.putItem(t, map[string]types.AttributeValue{
		"pk":           &types.AttributeValueMemberS{Value: "EVT#BAD"},
		"sk":           &types.AttributeValueMemberS{Value: "EVT"},
		"event_source": &types.AttributeValueMemberS{Value: events.SourceLeads},
		"detail_type":  &types.AttributeValueMemberS{Value: events.LeadCapturedType},
		"event_time":   &types.AttributeValueMemberS{Value: "2026-05-04T10:00:00.000Z"},
		"detail":       &types.AttributeValueMemberS{Value: "{not json"},
	})
	f.putEvents(t, "E", 1)
	recs := f.records(t, 2)

	if failed := handle(t, f.relay(nil), recs); !reflect.DeepEqual(failed, []string{recs[0].Change.SequenceNumber}) {
		t.Fatalf("failed records %v, want the malformed one's", failed)
	}
	if got := f.pub.published(); !reflect.DeepEqual(got, []string{"E00"}) {
		t.Fatalf("published %v", got)
	}
}

func TestRelaySkipsAnEventWhoseItemIsGone(t *testing.T) {
	f := newFixture(t)
	envs := f.putEvents(t, "E", 1)
	recs := f.records(t, 1)
	if _, err := f.ddb.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{
		TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "EVT#" + envs[0].ID}, "sk": &types.AttributeValueMemberS{Value: "EVT"},
		},
	}); err != nil {
		t.Fatal(err)
	}
	if failed := handle(t, f.relay(nil), recs); failed != nil {
		t.Fatalf("failed records %v", failed)
	}
	if got := f.pub.published(); got != nil {
		t.Fatalf("published %v without a claim", got)
	}
}

func TestRelayFailsEventsThePublisherGaveNoAnswerFor(t *testing.T) {
	f := newFixture(t)
	f.putEvents(t, "E", 2)
	recs := f.records(t, 2)
	f.pub.short = true
	if failed := handle(t, f.relay(nil), recs); !reflect.DeepEqual(failed, []string{recs[1].Change.SequenceNumber}) {
		t.Fatalf("failed records %v, want the second", failed)
	}
}

// claimCounter counts the outcomes of the claims made through it.
type claimCounter struct {
	*dynamo.Outbox
	mu      sync.Mutex
	results map[relay.ClaimResult]int
}

func (c *claimCounter) Claim(ctx context.Context, id, token string, now, until time.Time) (relay.ClaimResult, error) {
	res, err := c.Outbox.Claim(ctx, id, token, now, until)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[res]++
	return res, err
}

// lostMark is an outbox whose published marks never arrive, as when the
// relay crashes between the publish and the mark.
type lostMark struct{ *dynamo.Outbox }

func (lostMark) MarkPublished(context.Context, string, time.Time) error {
	return errors.New("connection reset")
}

// TestRelayCanPublishTwiceOnlyWhenTheMarkIsLost pins down the one duplicate
// the design allows, which consumers drop by detail.event_id: the event is
// on the bus but not marked, and the batch is redelivered after the lease.
func TestRelayCanPublishTwiceOnlyWhenTheMarkIsLost(t *testing.T) {
	f := newFixture(t)
	f.putEvents(t, "E", 1)
	recs := f.records(t, 1)
	r := f.relay(lostMark{f.outbox})

	// The record is not failed: failing it would surely publish it again.
	if failed := handle(t, r, recs); failed != nil {
		t.Fatalf("failed records %v", failed)
	}
	// A redelivery within the lease waits for the claim to run out...
	if failed := handle(t, r, recs); len(failed) != 1 {
		t.Fatalf("redelivery within the lease: failed records %v, want 1", failed)
	}
	// ...and then publishes the event a second time.
	f.clock.Advance(lease + time.Millisecond)
	if failed := handle(t, f.relay(nil), recs); failed != nil {
		t.Fatalf("failed records %v", failed)
	}
	if got := f.pub.published(); !reflect.DeepEqual(got, []string{"E00", "E00"}) {
		t.Fatalf("published %v", got)
	}
	if got := f.pub.got[0].Detail; !jsonEqual(got, f.pub.got[1].Detail) {
		t.Fatalf("the two publications differ: consumers could not drop the second by event_id")
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
