package relay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
)

// How the relay keeps "nothing lost, nothing doubled".
//
// Nothing is lost: the store writes an event to its outbox in the same
// transaction as the change it describes, so the event exists exactly when
// the change does, and the table's stream delivers the outbox item's INSERT
// to the relay at least once. The relay answers with the records it could
// not publish (BatchItemFailures), and the stream source retries from the
// first of them until they are published or, in AWS, land in the
// dead-letter queue.
//
// Nothing is doubled: a stream batch is redelivered after any failure, and
// two invocations can see the same records, so the relay claims each event
// on its outbox item before publishing it and marks it published after:
//
//  1. Claim: a conditional update succeeds only if the event is not yet
//     published and nobody holds a live claim. Already published: the record
//     is done. Claimed by a live invocation: the record is reported failed,
//     so the stream retries it later, by when it is published or the
//     claim's lease has run out.
//  2. Publish the claimed events in one call; each has a deadline well
//     inside the lease, so a live claim is never overtaken.
//  3. Mark each published event; release the claim of each that failed so
//     the retry may claim it at once.
//
// The claim and the mark are updates of the outbox item, which the stream
// reports as MODIFY records; the relay ignores every record but an outbox
// INSERT.
//
// One case publishes twice: the relay crashes (or cannot write the mark)
// after the bus accepted an event, and a redelivery finds the claim expired.
// No protocol over two systems without a shared transaction avoids that, so
// every event carries detail.event_id, stable across publications, and
// consumers drop duplicates by it.

// DefaultLease is how long a claim lasts unless Options.Lease says
// otherwise. It bounds how long a crashed invocation delays its events; the
// publish deadline is half of it.
const DefaultLease = 30 * time.Second

// claimConcurrency bounds the relay's concurrent requests to the table.
const claimConcurrency = 8

// ClaimResult is the outcome of Outbox.Claim.
type ClaimResult int

// Claim outcomes.
const (
	// Claimed: the caller holds the event until the lease ends and may
	// publish it.
	Claimed ClaimResult = iota + 1
	// Published: the event was published before; there is nothing to do.
	Published
	// HeldElsewhere: another invocation holds a live claim.
	HeldElsewhere
	// Missing: the outbox item no longer exists (deleted by hand; TTL keeps
	// it far longer than the stream keeps its records), so it cannot be
	// claimed.
	Missing
)

// String names the outcome for logs.
func (c ClaimResult) String() string {
	switch c {
	case Claimed:
		return "claimed"
	case Published:
		return "published"
	case HeldElsewhere:
		return "held-elsewhere"
	case Missing:
		return "missing"
	}
	return fmt.Sprintf("ClaimResult(%d)", int(c))
}

// Outbox is the store's side of the relay: it decodes outbox items from
// stream records and keeps each event's claim and published mark on its
// outbox item. dynamo.Outbox implements it against the table.
type Outbox interface {
	// Event returns the event whose outbox item a stream record inserted.
	// ok is false for every other record (other items, MODIFY, REMOVE);
	// err is an outbox insert that cannot be decoded.
	Event(rec lambdaevents.DynamoDBEventRecord) (env events.Envelope, ok bool, err error)
	// Claim leases event id to token until until, unless it is published
	// or claimed by someone else whose lease ends after now. It returns an
	// error only when the outcome is unknown.
	Claim(ctx context.Context, id, token string, now, until time.Time) (ClaimResult, error)
	// MarkPublished records that event id was published at at and drops
	// its claim. Marking a published or missing event is not an error.
	MarkPublished(ctx context.Context, id string, at time.Time) error
	// Release drops token's claim on event id; a claim held by another
	// token, or none, is left as it is.
	Release(ctx context.Context, id, token string) error
}

// Options tune a Relay. The zero value is usable.
type Options struct {
	// Now is the clock claims are measured with (time.Now).
	Now func() time.Time
	// Lease is how long a claim lasts (DefaultLease).
	Lease time.Duration
	// Log receives one line per batch that did something and one per
	// failure. Events carry no personal data, and the relay logs only
	// event ids, detail types and sequence numbers.
	Log *slog.Logger
}

// Relay publishes the events of the table's outbox from stream batches.
type Relay struct {
	outbox Outbox
	pub    Publisher
	now    func() time.Time
	lease  time.Duration
	log    *slog.Logger
}

// New returns a Relay that reads outbox records through outbox and
// publishes with pub.
func New(outbox Outbox, pub Publisher, o Options) *Relay {
	r := &Relay{outbox: outbox, pub: pub, now: o.Now, lease: o.Lease, log: o.Log}
	if r.now == nil {
		r.now = time.Now
	}
	if r.lease <= 0 {
		r.lease = DefaultLease
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// job is one outbox event of a batch and the records that carry it
// (normally one; more if a batch somehow repeats an insert).
type job struct {
	env     events.Envelope
	seqs    []string
	claim   ClaimResult
	err     error
	publish error
}

// Handle publishes the outbox events a stream batch inserted and reports
// the records it could not publish. Its signature is app.StreamHandler's.
// It returns an error only for a batch it could not look at; every
// per-record problem is a batch item failure, so the stream retries only
// from the first failed record.
func (r *Relay) Handle(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	failed := map[string]bool{}
	var jobs []*job
	byID := map[string]*job{}
	for _, rec := range batch.Records {
		seq := rec.Change.SequenceNumber
		env, ok, err := r.outbox.Event(rec)
		if err != nil {
			// A malformed outbox item never decodes. Reporting it keeps it
			// from being skipped silently: the stream retries it and, in
			// AWS, sends it to the dead-letter queue.
			r.log.ErrorContext(ctx, "relay: undecodable outbox record", "sequence_number", seq, "error", err)
			failed[seq] = true
			continue
		}
		if !ok {
			continue
		}
		if j, dup := byID[env.ID]; dup {
			j.seqs = append(j.seqs, seq)
			continue
		}
		j := &job{env: env, seqs: []string{seq}}
		byID[env.ID] = j
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return response(batch, failed), nil
	}

	// A token per invocation: a claim is released only by its holder.
	token := rand.Text()
	now := r.now()
	until := now.Add(r.lease)
	forEach(len(jobs), func(i int) {
		jobs[i].claim, jobs[i].err = r.outbox.Claim(ctx, jobs[i].env.ID, token, now, until)
	})

	var claimed []*job
	for _, j := range jobs {
		switch {
		case j.err != nil:
			r.log.ErrorContext(ctx, "relay: claim failed", "event_id", j.env.ID, "detail_type", j.env.DetailType, "error", j.err)
		case j.claim == Claimed:
			claimed = append(claimed, j)
		case j.claim == HeldElsewhere:
			r.log.InfoContext(ctx, "relay: event claimed by another invocation; retrying later", "event_id", j.env.ID, "detail_type", j.env.DetailType)
		case j.claim == Missing:
			r.log.WarnContext(ctx, "relay: outbox item is gone; skipping", "event_id", j.env.ID, "detail_type", j.env.DetailType)
		}
	}

	if len(claimed) > 0 {
		r.publish(ctx, claimed)
		at := r.now()
		forEach(len(claimed), func(i int) {
			j := claimed[i]
			if j.publish != nil {
				if err := r.outbox.Release(ctx, j.env.ID, token); err != nil {
					// The claim then simply runs out.
					r.log.WarnContext(ctx, "relay: release failed", "event_id", j.env.ID, "error", err)
				}
				return
			}
			if err := r.outbox.MarkPublished(ctx, j.env.ID, at); err != nil {
				// The event is on the bus; failing the record would publish
				// it again once the claim runs out. Only a redelivery of
				// this record for another record's sake can still do so.
				r.log.WarnContext(ctx, "relay: published but not marked", "event_id", j.env.ID, "error", err)
			}
		})
	}

	var published, skipped int
	for _, j := range jobs {
		ok := j.err == nil && (j.claim == Published || j.claim == Missing || (j.claim == Claimed && j.publish == nil))
		if !ok {
			for _, seq := range j.seqs {
				failed[seq] = true
			}
			continue
		}
		if j.claim == Claimed {
			published++
		} else {
			skipped++
		}
	}
	r.log.InfoContext(ctx, "relay: batch done", "records", len(batch.Records), "events", len(jobs), "published", published, "skipped", skipped, "failed_records", len(failed))
	return response(batch, failed), nil
}

// publish puts the claimed events on the bus and records each one's error.
func (r *Relay) publish(ctx context.Context, claimed []*job) {
	// The deadline keeps a slow bus from publishing after the lease ran
	// out, when another invocation may already have claimed the event.
	ctx, cancel := context.WithTimeout(ctx, r.lease/2)
	defer cancel()
	envs := make([]events.Envelope, len(claimed))
	for i, j := range claimed {
		envs[i] = j.env
	}
	errs := r.pub.Publish(ctx, envs)
	for i, j := range claimed {
		switch {
		case i >= len(errs):
			j.publish = errors.New("publisher returned no result for this event")
		default:
			j.publish = errs[i]
		}
		if j.publish != nil {
			r.log.ErrorContext(ctx, "relay: publish failed", "event_id", j.env.ID, "detail_type", j.env.DetailType, "error", j.publish)
		}
	}
}

// response lists the failed records in the batch's order. The stream
// source retries from the one with the lowest sequence number.
func response(batch lambdaevents.DynamoDBEvent, failed map[string]bool) lambdaevents.DynamoDBEventResponse {
	var resp lambdaevents.DynamoDBEventResponse
	for _, rec := range batch.Records {
		if seq := rec.Change.SequenceNumber; failed[seq] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
			delete(failed, seq)
		}
	}
	return resp
}

// forEach calls fn for 0..n-1 with at most claimConcurrency at a time.
func forEach(n int, fn func(i int)) {
	sem := make(chan struct{}, claimConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}
