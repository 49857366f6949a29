// Package streams feeds a DynamoDB table's stream to a stream handler on one
// machine, as Lambda's event source mapping does in AWS: it reads every
// shard with DynamoDB Streams' own API (DescribeStream, GetShardIterator,
// GetRecords), converts each batch into the DynamoDBEvent Lambda would send,
// and honours the handler's BatchItemFailures by retrying from the first
// failed record. The local stack runs the relay's handler behind it, so the
// code that publishes events is the code that runs in AWS.
package streams

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Handler handles a batch of stream records and names the records that
// failed. It is app.StreamHandler's type, spelled out so that this package
// does not depend on the handlers it runs.
type Handler = func(context.Context, lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error)

// API is the part of the DynamoDB Streams client the poller uses;
// *dynamodbstreams.Client implements it.
type API interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

var _ API = (*dynamodbstreams.Client)(nil)

// TableAPI is the part of the DynamoDB client that finds a table's stream.
type TableAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// NewClient returns a DynamoDB Streams client for the server ddb talks to.
// The SDK resolves the Streams endpoint from its own variable,
// AWS_ENDPOINT_URL_DYNAMODB_STREAMS; when that is unset, the Streams API
// is taken to be served where DynamoDB is (AWS_ENDPOINT_URL_DYNAMODB), as
// dynoxide and DynamoDB Local serve both on one port.
func NewClient(cfg aws.Config, ddb *dynamodb.Client) *dynamodbstreams.Client {
	endpoint := ddb.Options().BaseEndpoint
	return dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
		if o.BaseEndpoint == nil {
			o.BaseEndpoint = endpoint
		}
	})
}

// StreamARN returns the ARN of table's current stream.
func StreamARN(ctx context.Context, api TableAPI, table string) (string, error) {
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("describe table %s: %w", table, err)
	}
	if out.Table == nil || out.Table.LatestStreamArn == nil {
		return "", fmt.Errorf("table %s has no stream", table)
	}
	return *out.Table.LatestStreamArn, nil
}

// Defaults of Options.
const (
	DefaultInterval   = 250 * time.Millisecond // Lambda polls each shard about four times a second
	DefaultMaxBackoff = 30 * time.Second
	DefaultBatchSize  = 100 // Lambda's default batch size for DynamoDB streams
)

// Options tune a Poller. The zero value is Lambda's defaults.
type Options struct {
	// Interval is how long the poller waits when no shard had new records
	// (DefaultInterval). Tests make it short and wait on what the handler
	// receives, never on time.
	Interval time.Duration
	// MaxBackoff caps the wait before a failed batch is retried; the wait
	// starts at Interval and doubles with each failure (DefaultMaxBackoff).
	MaxBackoff time.Duration
	// BatchSize is the most records handed to the handler at once
	// (DefaultBatchSize, at most 1000).
	BatchSize int32
	// MaxRetries is how often a failing batch is retried before its records
	// are skipped, logged as dropped. Zero or less retries until the
	// handler succeeds, as Lambda does by default; in AWS a dead-letter
	// queue catches what the limit drops, locally only the log does.
	MaxRetries int
	// StartingPosition is where a shard is first read
	// (types.ShardIteratorTypeTrimHorizon: everything the stream still
	// holds, so events written while the stack was down are published when
	// it starts; the relay skips those already published).
	StartingPosition types.ShardIteratorType
	// Checkpoints, when set, keep where each shard was read to across
	// restarts: a shard with a checkpoint is read on after it, one
	// without from StartingPosition.
	Checkpoints Checkpoints
	// Region fills awsRegion when the server leaves it out.
	Region string
	// Log receives failures and dropped records (slog.Default()).
	Log *slog.Logger
}

// Poller reads one stream and hands its records to a handler.
type Poller struct {
	api       API
	streamARN string
	handle    Handler
	o         Options
	shards    map[string]*shard
	syncs     chan chan struct{} // Sync calls, received by Run
	stopped   chan struct{}      // closed when Run returns
	// discovered is when the shards were last listed. DescribeStream
	// costs the local servers time that grows with the stream, so the
	// poller lists the shards again only when one it reads has closed (its
	// children are then new) or discoverEvery has passed.
	discovered time.Time
	stopOnce   sync.Once
	saved      map[string]string // the checkpoints found at the start
}

// shard is the poller's position in one shard. pos and posType say where
// the next iterator starts: AFTER the last record handled, or AT the first
// record to retry.
type shard struct {
	id, parent string
	pos        string
	posType    types.ShardIteratorType
	iterator   string
	done       bool // closed and read to its end
	attempts   int  // handler failures of the batch starting at pos
	errs       int  // request errors in a row
	retryAt    time.Time
}

// New returns a Poller of streamARN that calls handle.
func New(api API, streamARN string, handle Handler, o Options) *Poller {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	o.BatchSize = min(o.BatchSize, 1000)
	if o.StartingPosition == "" {
		o.StartingPosition = types.ShardIteratorTypeTrimHorizon
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Poller{
		api: api, streamARN: streamARN, handle: handle, o: o, shards: map[string]*shard{},
		syncs: make(chan chan struct{}), stopped: make(chan struct{}),
	}
}

// Run polls until ctx is cancelled, then returns nil once no handler call
// is in flight. It returns an error only if the stream cannot be described
// at the start; later failures are logged and retried, as in AWS.
func (p *Poller) Run(ctx context.Context) error {
	defer p.stopOnce.Do(func() { close(p.stopped) })
	if p.o.Checkpoints != nil {
		saved, err := p.o.Checkpoints.Load(p.streamARN)
		if err != nil {
			return err
		}
		p.saved = saved
	}
	if err := p.discover(ctx); err != nil {
		return err
	}
	var waiting []chan struct{} // Sync calls not answered yet
	for {
		// The Sync calls received so far are answered by this pass if it
		// reads every shard to its end without finding anything.
		waiting = p.collect(waiting)
		covered := len(waiting)
		busy := false
		for _, sh := range p.ready() {
			if ctx.Err() != nil {
				return nil
			}
			if p.poll(ctx, sh) {
				busy = true
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if busy {
			continue // drain backlogs without waiting, as Lambda does
		}
		if covered > 0 && p.caughtUp() {
			for _, w := range waiting[:covered] {
				close(w)
			}
			waiting = slices.Delete(waiting, 0, covered)
		}
		t := time.NewTimer(p.idle())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case w := <-p.syncs:
			t.Stop()
			waiting = append(waiting, w)
		}
		if !p.shouldDiscover() {
			continue
		}
		if err := p.discover(ctx); err != nil && ctx.Err() == nil {
			p.o.Log.Warn("streams: describe stream", "error", err)
		}
	}
}

// ErrStopped is Sync's answer once the poller's Run has returned.
var ErrStopped = errors.New("the stream poller has stopped")

// Sync returns once the poller has read every shard to its end, in a pass
// begun after the call, and the handler has succeeded on everything it
// found: every record written before the call has then been handled. A
// batch waiting for a retry holds Sync until the retry succeeds. Sync
// returns ctx's error when ctx ends first, and ErrStopped when Run returns.
// The local stack's movable clock uses it to know the relay has published
// every event written so far.
func (p *Poller) Sync(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case p.syncs <- done:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stopped:
		return ErrStopped
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stopped:
		return ErrStopped
	}
}

// idle is how long to wait before the next pass: Interval, or less when a
// shard's retry falls due sooner.
func (p *Poller) idle() time.Duration {
	d := p.o.Interval
	now := time.Now()
	for _, sh := range p.shards {
		if !sh.done && sh.retryAt.After(now) {
			d = min(d, sh.retryAt.Sub(now))
		}
	}
	return d
}

// collect adds the Sync calls waiting to be received to waiting.
func (p *Poller) collect(waiting []chan struct{}) []chan struct{} {
	for {
		select {
		case w := <-p.syncs:
			waiting = append(waiting, w)
		default:
			return waiting
		}
	}
}

// caughtUp reports whether the last pass read every open shard to its end:
// none lacks an iterator (not read yet, or read again from a checkpoint)
// and none waits to retry a failed batch or request.
func (p *Poller) caughtUp() bool {
	for _, sh := range p.shards {
		if sh.done {
			continue
		}
		if sh.iterator == "" || sh.attempts > 0 || sh.errs > 0 {
			return false
		}
	}
	return true
}

// discover adds the shards the stream has that the poller does not know.
func (p *Poller) discover(ctx context.Context) error {
	p.discovered = time.Now()
	var start *string
	for {
		out, err := p.api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(p.streamARN), ExclusiveStartShardId: start,
		})
		if err != nil {
			return fmt.Errorf("describe stream %s: %w", p.streamARN, err)
		}
		if out.StreamDescription == nil {
			return nil
		}
		for _, s := range out.StreamDescription.Shards {
			id := aws.ToString(s.ShardId)
			if _, known := p.shards[id]; !known && id != "" {
				sh := &shard{id: id, parent: aws.ToString(s.ParentShardId), posType: p.o.StartingPosition}
				if seq := p.saved[id]; seq != "" {
					sh.pos, sh.posType = seq, types.ShardIteratorTypeAfterSequenceNumber
				}
				p.shards[id] = sh
			}
		}
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return nil
		}
	}
}

// discoverEvery bounds how long a shard made other than by a parent's
// closing (a stream enabled anew) can go unseen.
const discoverEvery = 5 * time.Second

// shouldDiscover reports whether to list the shards again: a shard read
// to its end has no child known yet, or discoverEvery has passed.
func (p *Poller) shouldDiscover() bool {
	if time.Since(p.discovered) >= discoverEvery {
		return true
	}
	for _, sh := range p.shards {
		if sh.done && !p.hasChild(sh.id) {
			return true
		}
	}
	return false
}

func (p *Poller) hasChild(id string) bool {
	for _, sh := range p.shards {
		if sh.parent == id {
			return true
		}
	}
	return false
}

// ready returns the shards to poll now, oldest first. A child shard waits
// until its parent is read to its end, so an item's changes reach the
// handler in order even across a shard split.
func (p *Poller) ready() []*shard {
	now := time.Now()
	var out []*shard
	for _, sh := range p.shards {
		if sh.done || now.Before(sh.retryAt) {
			continue
		}
		if parent, ok := p.shards[sh.parent]; ok && !parent.done {
			continue
		}
		out = append(out, sh)
	}
	slices.SortFunc(out, func(a, b *shard) int { return cmp.Compare(a.id, b.id) })
	return out
}

// poll reads one batch from sh and hands it to the handler. It reports
// whether the shard had records, so the caller polls again at once.
func (p *Poller) poll(ctx context.Context, sh *shard) bool {
	if sh.iterator == "" {
		in := &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(p.streamARN), ShardId: aws.String(sh.id), ShardIteratorType: sh.posType,
		}
		if sh.pos != "" {
			in.SequenceNumber = aws.String(sh.pos)
		}
		out, err := p.api.GetShardIterator(ctx, in)
		var trimmed *types.TrimmedDataAccessException
		switch {
		case errors.As(err, &trimmed):
			// The records after pos are gone from the stream; start from
			// the oldest still there, as Lambda does.
			p.o.Log.Warn("streams: position trimmed; reading from the oldest record", "shard", sh.id)
			sh.pos, sh.posType = "", types.ShardIteratorTypeTrimHorizon
			return false
		case err != nil:
			p.fail(ctx, sh, "get shard iterator", err)
			return false
		case out.ShardIterator == nil:
			sh.done = true
			return false
		}
		sh.iterator = *out.ShardIterator
	}

	out, err := p.api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
		ShardIterator: aws.String(sh.iterator), Limit: aws.Int32(p.o.BatchSize),
	})
	if err != nil {
		// An expired iterator or anything else: get a new one from pos.
		sh.iterator = ""
		var expired *types.ExpiredIteratorException
		if !errors.As(err, &expired) {
			p.fail(ctx, sh, "get records", err)
		}
		return false
	}
	sh.errs = 0
	next := aws.ToString(out.NextShardIterator)
	if len(out.Records) == 0 {
		sh.iterator, sh.done = next, next == ""
		return false
	}

	batch := lambdaevents.DynamoDBEvent{Records: make([]lambdaevents.DynamoDBEventRecord, len(out.Records))}
	for i, r := range out.Records {
		batch.Records[i] = Record(p.streamARN, p.o.Region, r)
	}
	resp, err := p.handle(ctx, batch)
	if ctx.Err() != nil {
		// Stopped mid-batch: the next start reads it again from pos.
		return false
	}
	first := batch.Records[0].Change.SequenceNumber
	last := batch.Records[len(batch.Records)-1].Change.SequenceNumber
	retryFrom := ""
	if err != nil {
		retryFrom = first
		p.o.Log.Error("streams: handler failed the batch", "shard", sh.id, "records", len(batch.Records), "error", err)
	} else if retryFrom = firstFailure(batch, resp); retryFrom != "" {
		p.o.Log.Warn("streams: handler reported failed records", "shard", sh.id, "failed", len(resp.BatchItemFailures), "retry_from", retryFrom)
	}

	if retryFrom == "" {
		p.advance(sh, last, next)
		return true
	}
	sh.attempts++
	if p.o.MaxRetries > 0 && sh.attempts > p.o.MaxRetries {
		p.o.Log.Error("streams: retries exhausted; dropping records", "shard", sh.id, "from", retryFrom, "to", last, "attempts", sh.attempts)
		p.advance(sh, last, next)
		return true
	}
	// Lambda checkpoints the records before the first failure and retries
	// from it; the records after it are delivered again too.
	sh.pos, sh.posType, sh.iterator = retryFrom, types.ShardIteratorTypeAtSequenceNumber, ""
	sh.retryAt = time.Now().Add(p.backoff(sh.attempts))
	return false
}

// advance moves sh past the batch ending at last, whose records are done
// with, and checkpoints it.
func (p *Poller) advance(sh *shard, last, next string) {
	sh.pos, sh.posType, sh.iterator, sh.attempts = last, types.ShardIteratorTypeAfterSequenceNumber, next, 0
	sh.done = next == ""
	if p.o.Checkpoints == nil {
		return
	}
	if err := p.o.Checkpoints.Save(p.streamARN, sh.id, last); err != nil {
		// The next start reads this shard again from the last checkpoint
		// saved: the handler sees records twice, as after a crash in AWS.
		p.o.Log.Warn("streams: checkpoint not saved", "shard", sh.id, "error", err)
	}
}

// fail logs a request error and backs the shard off.
func (p *Poller) fail(ctx context.Context, sh *shard, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	sh.errs++
	sh.retryAt = time.Now().Add(p.backoff(sh.errs))
	p.o.Log.Warn("streams: "+what, "shard", sh.id, "error", err)
}

// backoff is Interval doubled for each failure after the first, capped.
func (p *Poller) backoff(attempts int) time.Duration {
	d := min(p.o.Interval, p.o.MaxBackoff)
	for range min(attempts-1, 30) {
		if d *= 2; d >= p.o.MaxBackoff {
			return p.o.MaxBackoff
		}
	}
	return d
}

// firstFailure returns the lowest sequence number among the batch item
// failures, "" for none. An identifier that names no record of the batch
// fails the whole batch, as Lambda treats it.
func firstFailure(batch lambdaevents.DynamoDBEvent, resp lambdaevents.DynamoDBEventResponse) string {
	if len(resp.BatchItemFailures) == 0 {
		return ""
	}
	inBatch := map[string]bool{}
	for _, r := range batch.Records {
		inBatch[r.Change.SequenceNumber] = true
	}
	first := ""
	for _, f := range resp.BatchItemFailures {
		if !inBatch[f.ItemIdentifier] {
			return batch.Records[0].Change.SequenceNumber
		}
		if first == "" || lessSeq(f.ItemIdentifier, first) {
			first = f.ItemIdentifier
		}
	}
	return first
}

// lessSeq orders sequence numbers, which are decimal strings of varying
// length.
func lessSeq(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
