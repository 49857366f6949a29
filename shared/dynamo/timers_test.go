package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/timer"
)

type timerFixture struct {
	store *dynamo.TimerStore
	calls *dynamotest.Counter
	clock *clock
}

func newTimerFixture(t testing.TB) timerFixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	calls := &dynamotest.Counter{API: client}
	return timerFixture{store: &dynamo.TimerStore{Client: calls, Table: table}, calls: calls, clock: newClock()}
}

func (f timerFixture) sweeper() timer.Sweeper {
	return timer.Sweeper{Store: f.store, Now: f.clock.Now, Batch: 100}
}

// dueTimer is a follow-up due timer for task n, due at due.
func dueTimer(t testing.TB, n int, due time.Time) timer.Timer {
	t.Helper()
	tm, err := timer.Arm(fmt.Sprintf("followup#T%04d#due", n), due, events.FollowupDue{
		Followup: events.Followup{FollowupID: fmt.Sprintf("T%04d", n), SubjectKind: "lead", SubjectID: "L1", Kind: "task", DueAt: due},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// firedEvents reads the outbox (a scan: the test's table is small) and
// returns the follow-up ids of its followup.due events, in the order of
// their due instants.
func firedEvents(t *testing.T, c dynamo.API, table string) []string {
	t.Helper()
	type fired struct {
		id  string
		due time.Time
	}
	var all []fired
	p := dynamodb.NewScanPaginator(c.(*dynamotest.Counter).API.(*dynamodb.Client), &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          aws.String("begins_with(pk, :evt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":evt": &types.AttributeValueMemberS{Value: "EVT#"}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			var d events.FollowupDue
			if err := json.Unmarshal([]byte(it["detail"].(*types.AttributeValueMemberS).Value), &d); err != nil {
				t.Fatal(err)
			}
			all = append(all, fired{d.FollowupID, d.DueAt})
		}
	}
	slices.SortStableFunc(all, func(a, b fired) int { return a.due.Compare(b.due) })
	ids := make([]string, len(all))
	for i, f := range all {
		ids[i] = f.id
	}
	return ids
}

func TestSweepFiresWhatIsDueOnce(t *testing.T) {
	f := newTimerFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	if err := f.store.Arm(ctx, dueTimer(t, 1, now.Add(-time.Minute)), dueTimer(t, 2, now), dueTimer(t, 3, now.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	rep, err := f.sweeper().Sweep(ctx)
	if err != nil || rep.Fired != 2 {
		t.Fatalf("first sweep: %+v, %v; want 2 fired", rep, err)
	}
	if rep, _ := f.sweeper().Sweep(ctx); rep.Fired != 0 {
		t.Fatalf("second sweep at the same instant fired %d", rep.Fired)
	}
	f.clock.Advance(time.Minute)
	if rep, _ := f.sweeper().Sweep(ctx); rep.Fired != 1 {
		t.Fatalf("a minute later: %+v, want 1 fired", rep)
	}
	if got := firedEvents(t, f.calls, f.store.Table); !slices.Equal(got, []string{"T0001", "T0002", "T0003"}) {
		t.Fatalf("outbox holds %v", got)
	}
}

func TestIdleSweepCostsAtMostTwoRequests(t *testing.T) {
	f := newTimerFixture(t)
	ctx := context.Background()
	f.store.Arm(ctx, dueTimer(t, 1, f.clock.Now().Add(72*time.Hour)))
	f.sweeper().Sweep(ctx) // the table's first sweep reads back a month and sets the checkpoint
	cold := &dynamo.TimerStore{Client: f.calls, Table: f.store.Table}
	f.calls.Reset()
	if _, err := (timer.Sweeper{Store: cold, Now: f.clock.Now}).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if c := f.calls.Cost(); c.Total() != 2 {
		t.Fatalf("a new process's idle sweep made %v requests, want 2 (checkpoint, today's timers)", c.Requests)
	}
	f.calls.Reset()
	if _, err := (timer.Sweeper{Store: cold, Now: f.clock.Now}).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if c := f.calls.Cost(); c.Total() != 1 {
		t.Fatalf("a warm idle sweep made %v requests, want 1 (today's timers)", c.Requests)
	}
	// Just after midnight yesterday is read once more, for a timer armed
	// before midnight that the index did not show yet.
	f.clock.Advance(time.Date(2026, 11, 23, 0, 5, 0, 0, time.UTC).Sub(f.clock.Now()))
	f.calls.Reset()
	if _, err := (timer.Sweeper{Store: cold, Now: f.clock.Now}).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if c := f.calls.Cost(); c.Total() != 2 {
		t.Fatalf("a warm idle sweep after midnight made %v requests, want 2 (yesterday's and today's timers)", c.Requests)
	}
}

func TestMovedAndCancelledTimersDoNotFire(t *testing.T) {
	f := newTimerFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	f.store.Arm(ctx, dueTimer(t, 1, now.Add(-time.Minute)))
	due, _, err := f.store.Due(ctx, now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due: %v %v", due, err)
	}
	// The owner moves the timer after the sweep read it: the stale read
	// fires nothing, and the timer fires at its new instant.
	f.store.Arm(ctx, dueTimer(t, 1, now.Add(time.Hour)))
	// With a timer that is still armed beside it, the stale one is left
	// out and the other fires.
	f.store.Arm(ctx, dueTimer(t, 2, now.Add(-time.Minute)))
	due2, _, _ := f.store.Due(ctx, now, 10)
	var other timer.Timer
	for _, tm := range due2 {
		if tm.ID == "followup#T0002#due" {
			other = tm
		}
	}
	if fired, err := f.store.Fire(ctx, []timer.Timer{due[0], other}, now); err != nil || fired[0] || !fired[1] {
		t.Fatalf("fire of a moved timer and an armed one: %v, %v; want [false true]", fired, err)
	}
	if got := firedEvents(t, f.calls, f.store.Table); !slices.Equal(got, []string{"T0002"}) {
		t.Fatalf("outbox holds %v, want only T0002", got)
	}
	f.clock.Advance(time.Hour)
	if rep, _ := f.sweeper().Sweep(ctx); rep.Fired != 1 {
		t.Fatalf("at the new instant: %+v", rep)
	}
}

// Ten sweeps at once over 1,000 due timers fire each exactly once: the
// condition on the timer lets one transaction win each race.
func TestConcurrentSweepsFireEachTimerOnce(t *testing.T) {
	f := newTimerFixture(t)
	// DynamoDB Local answers some of ten concurrent sweeps' transactions
	// with a 500, "timed out waiting for a lock … will succeed in actual
	// DynamoDB", and on a busy machine the SDK's three attempts, or its
	// client-side retry quota, run out. Real DynamoDB cancels the loser of
	// a race instead, which the sweep handles. A client with more attempts
	// and no retry quota rides out the local server's lock queue; what the
	// test checks is unchanged.
	f.calls.API = dynamodb.NewFromConfig(dynamotest.Config(t), func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts, so.RateLimiter = 10, ratelimit.None
		})
	})
	ctx := context.Background()
	now := f.clock.Now()
	var timers []timer.Timer
	for i := range 1000 {
		timers = append(timers, dueTimer(t, i, now.Add(-time.Duration(1000-i)*time.Second)))
	}
	if err := f.store.Arm(ctx, timers...); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	total := timer.Report{}
	concurrently(10, func(int) {
		rep, err := f.sweeper().Sweep(ctx)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		total.Fired += rep.Fired
		total.Skipped += rep.Skipped
		total.More = total.More || rep.More
		mu.Unlock()
	})
	// A sweep that spends its time budget (on a slow server) says More and
	// leaves the rest to the next minute's sweep, as the schedule does.
	for next := 0; total.More; next++ {
		if next == 10 {
			t.Fatal("ten sweeps after the concurrent ones still report more due timers")
		}
		rep, err := f.sweeper().Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the next sweep fired %d that the concurrent ones left when their time ran out", rep.Fired)
		total.Fired, total.Skipped, total.More = total.Fired+rep.Fired, total.Skipped+rep.Skipped, rep.More
	}
	got := firedEvents(t, f.calls, f.store.Table)
	if total.Fired != 1000 || len(got) != 1000 {
		t.Fatalf("sweeps fired %d (skipped %d), outbox holds %d events; want 1000 each", total.Fired, total.Skipped, len(got))
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s fired twice", id)
		}
		seen[id] = true
	}
}

// After two hours without sweeps, the next sweeps fire every missed
// timer once, oldest first, in bounded batches.
func TestSweepCatchesUpAfterAnOutageOldestFirst(t *testing.T) {
	f := newTimerFixture(t)
	ctx := context.Background()
	start := f.clock.Now()
	f.sweeper().Sweep(ctx)
	var want []string
	var timers []timer.Timer
	for i := range 120 { // one every minute of the outage
		timers = append(timers, dueTimer(t, i, start.Add(time.Duration(i+1)*time.Minute)))
		want = append(want, fmt.Sprintf("T%04d", i))
	}
	f.store.Arm(ctx, timers...)
	f.clock.Advance(2*time.Hour + time.Minute)
	s := f.sweeper()
	s.Batch, s.Parallel = 25, 1 // one at a time, so the outbox order is the firing order
	rep, err := s.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Fired != 120 || rep.Batches < 5 {
		t.Fatalf("catch-up sweep: %+v, want 120 fired in at least 5 batches of 25", rep)
	}
	if got := firedEvents(t, f.calls, f.store.Table); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want oldest first %v", got, want)
	}
}

// A daily timer fires once a day at its wall time, through DST changes,
// and is armed again in the transaction that fires it.
func TestDailyTimerRearmsInItsZone(t *testing.T) {
	f := newTimerFixture(t)
	ctx := context.Background()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	daily := timer.Daily{Zone: berlin, Hour: 8}
	f.clock.now = time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC) // Friday before the October change
	first := daily.Next(f.clock.Now())
	tm, _ := timer.Arm("digest#agent-1", first, events.FollowupDue{})
	tm.Daily = &daily
	f.store.Arm(ctx, tm)
	var firedAt []string
	for range 4 * 24 * 60 / 15 { // four days, a sweep every 15 minutes
		f.clock.Advance(15 * time.Minute)
		rep, err := f.sweeper().Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Fired > 0 {
			firedAt = append(firedAt, f.clock.Now().Format(time.RFC3339))
		}
	}
	want := []string{"2026-10-24T06:00:00Z", "2026-10-25T07:00:00Z", "2026-10-26T07:00:00Z", "2026-10-27T07:00:00Z"}
	if !slices.Equal(firedAt, want) {
		t.Fatalf("fired at %v, want %v (08:00 Berlin, summer time ending on the 25th)", firedAt, want)
	}
}
