package streams_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/rapportcrm/rapport/infra/local/streams"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
)

// waitFor bounds every wait on the poller; the tests wait on what the
// handler receives, and this only turns a hang into a failure.
const waitFor = 20 * time.Second

// fixture is a fresh table on the local server and a way to poll its stream.
type fixture struct {
	ddb   *dynamodb.Client
	table string
	arn   string
	api   streams.API
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ddb, table := dynamotest.NewTable(t)
	arn, err := streams.StreamARN(context.Background(), ddb, table)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{ddb: ddb, table: table, arn: arn, api: streams.NewClient(dynamotest.Config(t), ddb)}
}

// run starts a poller of the fixture's stream and returns it with a
// function that stops it and waits for Run to return, as a stack's
// shutdown does; the test's end stops it too. Run must return after
// cancellation, or the test fails.
func (f fixture) run(t *testing.T, h streams.Handler, o streams.Options) (*streams.Poller, func()) {
	t.Helper()
	if o.Interval == 0 {
		o.Interval = 5 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 20 * time.Millisecond
	}
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	p := streams.New(f.api, f.arn, h, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	t.Cleanup(stop)
	return p, stop
}

func (f fixture) put(t *testing.T, pk string, extra map[string]types.AttributeValue) {
	t.Helper()
	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: "X"},
	}
	for k, v := range extra {
		item[k] = v
	}
	if _, err := f.ddb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// recorder is a handler that passes every batch to the test and answers
// what the test's respond function says.
type recorder struct {
	batches chan []lambdaevents.DynamoDBEventRecord
	respond func(call int, recs []lambdaevents.DynamoDBEventRecord) (lambdaevents.DynamoDBEventResponse, error)
	mu      sync.Mutex
	calls   int
}

func newRecorder(respond func(int, []lambdaevents.DynamoDBEventRecord) (lambdaevents.DynamoDBEventResponse, error)) *recorder {
	return &recorder{batches: make(chan []lambdaevents.DynamoDBEventRecord, 1000), respond: respond}
}

func (r *recorder) handle(_ context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	r.mu.Lock()
	call := r.calls
	r.calls++
	r.mu.Unlock()
	r.batches <- e.Records
	if r.respond == nil {
		return lambdaevents.DynamoDBEventResponse{}, nil
	}
	return r.respond(call, e.Records)
}

// next returns the next batch the handler received.
func (r *recorder) next(t *testing.T) []lambdaevents.DynamoDBEventRecord {
	t.Helper()
	select {
	case b := <-r.batches:
		return b
	case <-time.After(waitFor):
		t.Fatal("the handler received no batch")
		return nil
	}
}

// records collects batches until it has n records.
func (r *recorder) records(t *testing.T, n int) []lambdaevents.DynamoDBEventRecord {
	t.Helper()
	var out []lambdaevents.DynamoDBEventRecord
	for len(out) < n {
		out = append(out, r.next(t)...)
	}
	return out
}

func pkOf(r lambdaevents.DynamoDBEventRecord) string { return r.Change.Keys["pk"].String() }

func pks(recs []lambdaevents.DynamoDBEventRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, pkOf(r))
	}
	return out
}

func TestPollerDeliversInsertModifyRemoveWithImages(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder(nil)
	f.run(t, rec.handle, streams.Options{})
	ctx := context.Background()

	f.put(t, "ITEM#1", map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "text"},
		"n":    &types.AttributeValueMemberN{Value: "12.5"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"bool": &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "3"}}},
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberBOOL{Value: false}}},
	})
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ITEM#1"}, "sk": &types.AttributeValueMemberS{Value: "X"}}
	if _, err := f.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(f.table), Key: key, UpdateExpression: aws.String("SET s = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "changed"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(f.table), Key: key}); err != nil {
		t.Fatal(err)
	}

	recs := rec.records(t, 3)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3", len(recs))
	}
	var names []string
	for _, r := range recs {
		names = append(names, r.EventName)
		if r.EventSourceArn != f.arn || r.EventSource != "aws:dynamodb" || r.Change.SequenceNumber == "" {
			t.Errorf("record %+v lacks the stream ARN, source or sequence number", r)
		}
		if r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" {
			t.Errorf("stream view %q", r.Change.StreamViewType)
		}
		if pkOf(r) != "ITEM#1" || r.Change.Keys["sk"].String() != "X" {
			t.Errorf("keys %v", r.Change.Keys)
		}
	}
	if want := []string{"INSERT", "MODIFY", "REMOVE"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("event names %v, want %v", names, want)
	}

	wantImage := map[string]lambdaevents.DynamoDBAttributeValue{
		"pk":   lambdaevents.NewStringAttribute("ITEM#1"),
		"sk":   lambdaevents.NewStringAttribute("X"),
		"s":    lambdaevents.NewStringAttribute("text"),
		"n":    lambdaevents.NewNumberAttribute("12.5"),
		"b":    lambdaevents.NewBinaryAttribute([]byte{0, 1, 2}),
		"bool": lambdaevents.NewBooleanAttribute(true),
		"null": lambdaevents.NewNullAttribute(),
		"ss":   lambdaevents.NewStringSetAttribute([]string{"a", "b"}),
		"ns":   lambdaevents.NewNumberSetAttribute([]string{"1", "2"}),
		"bs":   lambdaevents.NewBinarySetAttribute([][]byte{{1}, {2}}),
		"l":    lambdaevents.NewListAttribute([]lambdaevents.DynamoDBAttributeValue{lambdaevents.NewStringAttribute("x"), lambdaevents.NewNumberAttribute("3")}),
		"m":    lambdaevents.NewMapAttribute(map[string]lambdaevents.DynamoDBAttributeValue{"k": lambdaevents.NewBooleanAttribute(false)}),
	}
	assertImage(t, "INSERT new image", recs[0].Change.NewImage, wantImage)
	if recs[0].Change.OldImage != nil {
		t.Errorf("INSERT has an old image: %v", recs[0].Change.OldImage)
	}
	assertImage(t, "MODIFY old image", recs[1].Change.OldImage, wantImage)
	if got := recs[1].Change.NewImage["s"].String(); got != "changed" {
		t.Errorf("MODIFY new image s = %q", got)
	}
	if recs[2].Change.NewImage != nil || recs[2].Change.OldImage["s"].String() != "changed" {
		t.Errorf("REMOVE images: new %v old %v", recs[2].Change.NewImage, recs[2].Change.OldImage)
	}
}

// assertImage compares images by their Lambda JSON, which is how the
// handler in AWS receives them (sets may come back in any order).
func assertImage(t *testing.T, what string, got, want map[string]lambdaevents.DynamoDBAttributeValue) {
	t.Helper()
	norm := func(m map[string]lambdaevents.DynamoDBAttributeValue) any {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		for _, av := range v {
			for typ, x := range av {
				if l, ok := x.([]any); ok && (typ == "SS" || typ == "NS" || typ == "BS") {
					s := make([]string, len(l))
					for i := range l {
						s[i] = l[i].(string)
					}
					slices.Sort(s)
					av[typ] = s
				}
			}
		}
		return v
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\ngot  %v\nwant %v", what, g, w)
	}
}

func TestPollerRetriesFromTheFirstFailedRecord(t *testing.T) {
	f := newFixture(t)
	for _, pk := range []string{"ITEM#1", "ITEM#2", "ITEM#3"} {
		f.put(t, pk, nil)
	}
	rec := newRecorder(func(call int, recs []lambdaevents.DynamoDBEventRecord) (lambdaevents.DynamoDBEventResponse, error) {
		var resp lambdaevents.DynamoDBEventResponse
		if call > 0 {
			return resp, nil
		}
		// Fail ITEM#2 and ITEM#3 on the first delivery: the retry must
		// start at ITEM#2, the lowest failed sequence number.
		for i := len(recs) - 1; i >= 0; i-- {
			if p := pkOf(recs[i]); p == "ITEM#2" || p == "ITEM#3" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: recs[i].Change.SequenceNumber})
			}
		}
		return resp, nil
	})
	f.run(t, rec.handle, streams.Options{BatchSize: 10})

	first := rec.records(t, 3)
	if got := pks(first); !reflect.DeepEqual(got, []string{"ITEM#1", "ITEM#2", "ITEM#3"}) {
		t.Fatalf("first delivery %v (the test needs all three in the first batch)", got)
	}
	retry := rec.records(t, 2)
	if got := pks(retry); !reflect.DeepEqual(got, []string{"ITEM#2", "ITEM#3"}) {
		t.Fatalf("retry delivered %v, want ITEM#2, ITEM#3", got)
	}
	if retry[0].Change.SequenceNumber != first[1].Change.SequenceNumber {
		t.Errorf("retry starts at %s, want %s", retry[0].Change.SequenceNumber, first[1].Change.SequenceNumber)
	}

	// Nothing is delivered a third time: a later write comes next.
	f.put(t, "ITEM#4", nil)
	if got := pks(rec.next(t)); !reflect.DeepEqual(got, []string{"ITEM#4"}) {
		t.Fatalf("after the retry the handler got %v, want ITEM#4", got)
	}
}

func TestPollerRetriesTheWholeBatchWhenTheHandlerErrs(t *testing.T) {
	f := newFixture(t)
	f.put(t, "ITEM#1", nil)
	f.put(t, "ITEM#2", nil)
	rec := newRecorder(func(call int, _ []lambdaevents.DynamoDBEventRecord) (lambdaevents.DynamoDBEventResponse, error) {
		if call == 0 {
			return lambdaevents.DynamoDBEventResponse{}, errors.New("boom")
		}
		return lambdaevents.DynamoDBEventResponse{}, nil
	})
	f.run(t, rec.handle, streams.Options{})

	a := rec.records(t, 2)
	b := rec.records(t, 2)
	if !reflect.DeepEqual(pks(a), pks(b)) || a[0].Change.SequenceNumber != b[0].Change.SequenceNumber {
		t.Fatalf("first delivery %v, retry %v: want the same records again", pks(a), pks(b))
	}
}

func TestPollerDropsABatchAfterMaxRetries(t *testing.T) {
	f := newFixture(t)
	f.put(t, "POISON#1", nil)
	rec := newRecorder(func(_ int, recs []lambdaevents.DynamoDBEventRecord) (lambdaevents.DynamoDBEventResponse, error) {
		var resp lambdaevents.DynamoDBEventResponse
		for _, r := range recs {
			if pkOf(r) == "POISON#1" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
		}
		return resp, nil
	})
	f.run(t, rec.handle, streams.Options{MaxRetries: 2})

	for i := range 3 { // the first delivery and two retries
		if got := pks(rec.next(t)); !reflect.DeepEqual(got, []string{"POISON#1"}) {
			t.Fatalf("delivery %d: %v", i, got)
		}
	}
	f.put(t, "ITEM#2", nil)
	if got := pks(rec.next(t)); !reflect.DeepEqual(got, []string{"ITEM#2"}) {
		t.Fatalf("after the retries ran out the handler got %v, want ITEM#2", got)
	}
}

func TestPollerStartsAtTheOldestRecord(t *testing.T) {
	f := newFixture(t)
	f.put(t, "BEFORE#1", nil) // written before the poller starts, as while the local stack was down
	rec := newRecorder(nil)
	f.run(t, rec.handle, streams.Options{})
	if got := pks(rec.next(t)); !reflect.DeepEqual(got, []string{"BEFORE#1"}) {
		t.Fatalf("got %v", got)
	}
}

func TestStreamARNOfAMissingTable(t *testing.T) {
	f := newFixture(t)
	if _, err := streams.StreamARN(context.Background(), f.ddb, f.table+"-missing"); err == nil {
		t.Fatal("StreamARN of a table that does not exist returned no error")
	}
}

func TestRecordConversion(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 30, 12, 0, time.UTC)
	got := streams.Record("arn:stream", "eu-west-1", streamtypes.Record{
		EventID:      aws.String("e1"),
		EventName:    streamtypes.OperationTypeRemove,
		EventSource:  aws.String("aws:dynamodb"),
		EventVersion: aws.String("1.1"),
		UserIdentity: &streamtypes.Identity{Type: aws.String("Service"), PrincipalId: aws.String("dynamodb.amazonaws.com")},
		Dynamodb: &streamtypes.StreamRecord{
			ApproximateCreationDateTime: &at,
			Keys:                        map[string]streamtypes.AttributeValue{"pk": &streamtypes.AttributeValueMemberS{Value: "EVT#1"}},
			OldImage:                    map[string]streamtypes.AttributeValue{"expires_at": &streamtypes.AttributeValueMemberN{Value: "1"}},
			SequenceNumber:              aws.String("100"),
			SizeBytes:                   aws.Int64(42),
			StreamViewType:              streamtypes.StreamViewTypeNewAndOldImages,
		},
	})
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	// The JSON Lambda sends for a TTL deletion.
	want := `{"awsRegion":"eu-west-1","dynamodb":{"ApproximateCreationDateTime":1777887012,"Keys":{"pk":{"S":"EVT#1"}},
		"OldImage":{"expires_at":{"N":"1"}},"SequenceNumber":"100","SizeBytes":42,"StreamViewType":"NEW_AND_OLD_IMAGES"},
		"eventID":"e1","eventName":"REMOVE","eventSource":"aws:dynamodb","eventVersion":"1.1","eventSourceARN":"arn:stream",
		"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`
	var g, w any
	_ = json.Unmarshal(b, &g)
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if unknown := streams.Attribute(&streamtypes.UnknownUnionMember{Tag: "X"}); !unknown.IsNull() {
		t.Errorf("an unknown member converts to %v, want NULL", unknown)
	}
}

// TestSyncReturnsOnceEveryEarlierRecordIsHandled writes items and calls
// Sync: when it returns, the handler has had every one of them, even when
// the first batch failed and had to be retried; Sync after the poller
// stopped says so.
func TestSyncReturnsOnceEveryEarlierRecordIsHandled(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	handled := map[string]bool{}
	h := func(_ context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(handled) == 0 && pkOf(e.Records[0]) == "SYNC#0" && !handled["failed once"] {
			handled["failed once"] = true
			return lambdaevents.DynamoDBEventResponse{}, errors.New("the first batch fails")
		}
		for _, r := range e.Records {
			handled[pkOf(r)] = true
		}
		return lambdaevents.DynamoDBEventResponse{}, nil
	}
	p, stopPoller := f.run(t, h, streams.Options{Interval: time.Hour, MaxBackoff: 5 * time.Millisecond})

	wait, stop := context.WithTimeout(context.Background(), waitFor)
	defer stop()
	for round := range 3 {
		for i := range 5 {
			f.put(t, fmt.Sprintf("SYNC#%d", round*5+i), nil)
		}
		// The poller idles for an hour between passes: only Sync wakes it.
		if err := p.Sync(wait); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		for i := range (round + 1) * 5 {
			if !handled[fmt.Sprintf("SYNC#%d", i)] {
				t.Errorf("round %d: Sync returned before SYNC#%d was handled", round, i)
			}
		}
		mu.Unlock()
	}
	if !handled["failed once"] {
		t.Error("the first batch was never failed: the retry was not exercised")
	}

	stopPoller() // fails the test if Run returns an error
	if err := p.Sync(wait); !errors.Is(err, streams.ErrStopped) {
		t.Errorf("Sync after Run returned: %v, want ErrStopped", err)
	}
}

// describeCounter counts the poller's DescribeStream calls.
type describeCounter struct {
	streams.API
	n atomic.Int64
}

func (c *describeCounter) DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	c.n.Add(1)
	return c.API.DescribeStream(ctx, in, opts...)
}

// Listing the shards costs the local servers time that grows with the
// stream, so the passes a Sync wakes read the open shard without listing
// the shards again; every record still arrives.
func TestSyncPassesDoNotListTheShardsEachTime(t *testing.T) {
	f := newFixture(t)
	api := &describeCounter{API: f.api}
	var handled atomic.Int64
	counted := f
	counted.api = api
	p, _ := counted.run(t, func(_ context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		handled.Add(int64(len(e.Records)))
		return lambdaevents.DynamoDBEventResponse{}, nil
	}, streams.Options{Interval: time.Hour})
	wait, stop := context.WithTimeout(context.Background(), waitFor)
	defer stop()
	for i := range 20 {
		f.put(t, fmt.Sprintf("QUIET#%d", i), nil)
		if err := p.Sync(wait); err != nil {
			t.Fatal(err)
		}
	}
	if handled.Load() != 20 {
		t.Errorf("handled %d records, want 20", handled.Load())
	}
	if n := api.n.Load(); n > 2 {
		t.Errorf("20 Syncs listed the shards %d times, want at most 2 (at the start, and once if %v passed)", n, 5*time.Second)
	}
}
