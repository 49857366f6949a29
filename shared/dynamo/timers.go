package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Timers live in their own items and are found through GSI1 in one
// partition per UTC day of their due instant, sorted by due instant:
//
//	pk             sk       gsi1pk              gsi1sk
//	TIMER#<id>     TIMER    TIMERS#2026-12-02   <due>#<id>     armed
//	TIMER#<id>     TIMER    (removed)                          fired
//	SWEEP          SWEEP                                        the sweep's checkpoint: the first day that may hold armed timers
//
// Firing removes a timer from the index, so a day's partition holds only
// what is still armed and a sweep reads what is due, never what fired. The
// checkpoint moves past a day once that day holds nothing armed and is
// more than checkpointGrace in the past, so a timer armed just before
// midnight, and not yet visible in the eventually consistent index, is
// still found.
const (
	timerPrefix     = "TIMER#"
	timerSK         = "TIMER"
	timersByDay     = "TIMERS#"
	sweepPK         = "SWEEP"
	typeTimer       = "timer"
	typeSweep       = "sweep"
	timerArmed      = "armed"
	timerFired      = "fired"
	checkpointGrace = 10 * time.Minute
	// firedRetention keeps a fired timer readable for a while (what fired
	// and when); TTL removes it after.
	firedRetention = 30 * 24 * time.Hour
)

// timerItem is a timer as stored.
type timerItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	GSI1PK      string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK      string `dynamodbav:"gsi1sk,omitempty"`
	ID          string `dynamodbav:"id"`
	Status      string `dynamodbav:"status"`
	Due         string `dynamodbav:"due"`
	Arming      string `dynamodbav:"arming"`
	Source      string `dynamodbav:"source"`
	DetailType  string `dynamodbav:"detail_type"`
	Detail      string `dynamodbav:"detail"`
	DailyZone   string `dynamodbav:"daily_zone,omitempty"`
	DailyHour   int    `dynamodbav:"daily_hour,omitempty"`
	DailyMinute int    `dynamodbav:"daily_minute,omitempty"`
	FiredAt     string `dynamodbav:"fired_at,omitempty"`
	ExpiresAt   int64  `dynamodbav:"expires_at,omitempty"`
}

func timerDay(t time.Time) string { return timersByDay + t.UTC().Format(time.DateOnly) }

func toTimerItem(t timer.Timer) timerItem {
	it := timerItem{
		PK: timerPrefix + t.ID, SK: timerSK, Type: typeTimer,
		GSI1PK: timerDay(t.Due), GSI1SK: formatTime(t.Due) + "#" + t.ID,
		ID: t.ID, Status: timerArmed, Due: formatTime(t.Due), Arming: t.Arming,
		Source: t.Source, DetailType: t.DetailType, Detail: string(t.Detail),
	}
	if t.Daily != nil {
		it.DailyZone, it.DailyHour, it.DailyMinute = t.Daily.Zone.String(), t.Daily.Hour, t.Daily.Minute
	}
	return it
}

func toTimer(it timerItem) (timer.Timer, error) {
	t := timer.Timer{
		ID: it.ID, Due: parseTime(it.Due), Arming: it.Arming,
		Source: it.Source, DetailType: it.DetailType, Detail: []byte(it.Detail),
	}
	if it.DailyZone != "" {
		loc, err := time.LoadLocation(it.DailyZone)
		if err != nil {
			return timer.Timer{}, fmt.Errorf("timer %s: zone %q: %w", it.ID, it.DailyZone, err)
		}
		t.Daily = &timer.Daily{Zone: loc, Hour: it.DailyHour, Minute: it.DailyMinute}
	}
	return t, nil
}

// armTimer returns the transaction item that arms t, replacing any timer
// with its id, armed or fired. An owner puts it in the transaction of the
// change that sets or moves the timer. Each arming gets a fresh token, so
// its firing publishes an event of its own.
func armTimer(table string, t timer.Timer) types.TransactWriteItem {
	t.Arming = newToken()
	av, err := attributevalue.MarshalMap(toTimerItem(t))
	if err != nil {
		panic("marshal timer: " + err.Error()) // a fixed struct of strings and numbers
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: av}}
}

// cancelTimer returns the transaction item that removes the timer id, if
// there is one. A sweep that read it before fails its condition and fires
// nothing.
func cancelTimer(table, id string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(table), Key: key(timerPrefix+id, timerSK)}}
}

// timerWrites arms and cancels timers in their owner's transaction.
func timerWrites(table string, arm []timer.Timer, cancel []string) []types.TransactWriteItem {
	var out []types.TransactWriteItem
	for _, t := range arm {
		out = append(out, armTimer(table, t))
	}
	for _, id := range cancel {
		out = append(out, cancelTimer(table, id))
	}
	return out
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TimerStore is the sweep's view of the timers.
type TimerStore struct {
	Client API
	Table  string

	// known is the checkpoint as this process last read or wrote it. The
	// checkpoint only moves forward, so a stale copy (another process moved
	// it) only makes a sweep read a day more; a warm function's idle sweep
	// then costs one Query instead of a GetItem and a Query.
	mu    sync.Mutex
	known time.Time
}

var _ timer.Store = (*TimerStore)(nil)

// Due implements timer.Store. It reads the checkpoint (once per process;
// see known) and then each day's partition from the checkpoint's day to
// now's, oldest first. An idle sweep of a warm function is one Query; two
// in the first minutes after midnight UTC, when yesterday is read once
// more; the first sweep of a process adds the checkpoint's GetItem. A
// move of the checkpoint is one more write.
func (s *TimerStore) Due(ctx context.Context, now time.Time, limit int) ([]timer.Timer, bool, error) {
	from, err := s.checkpoint(ctx, now)
	if err != nil {
		return nil, false, err
	}
	today := now.UTC().Truncate(24 * time.Hour)
	var out []timer.Timer
	drained := from // the first day that may still hold armed timers
	for day := from; !day.After(today); day = day.Add(24 * time.Hour) {
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.Table),
			IndexName:              aws.String(schema.GSI1),
			KeyConditionExpression: aws.String("gsi1pk = :day AND gsi1sk <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":day": str(timerDay(day)), ":now": str(formatTime(now) + "#~"),
			},
			Limit: aws.Int32(int32(limit - len(out) + 1)), // one more tells whether more are due
		}
		page, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, false, internal("read due timers", err)
		}
		for _, raw := range page.Items {
			if len(out) == limit {
				return out, true, nil
			}
			var it timerItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, false, internal("decode timer", err)
			}
			t, err := toTimer(it)
			if err != nil {
				return nil, false, internal("decode timer", err)
			}
			out = append(out, t)
		}
		if page.LastEvaluatedKey != nil {
			return out, true, nil
		}
		if len(page.Items) == 0 && drained.Equal(day) && day.Add(24*time.Hour+checkpointGrace).Before(now) {
			drained = day.Add(24 * time.Hour) // a past day with nothing armed left
		}
		if len(out) == limit {
			return out, day.Before(today), nil
		}
	}
	if drained.After(from) {
		if err := s.moveCheckpoint(ctx, from, drained); err != nil {
			return nil, false, err
		}
	}
	return out, false, nil
}

// firstSweepLookback is how far back the first sweep of a table reads.
const firstSweepLookback = 30 * 24 * time.Hour

// checkpoint returns the first day the sweep reads: the stored checkpoint,
// or, for the very first sweep, firstSweepLookback before now.
func (s *TimerStore) checkpoint(ctx context.Context, now time.Time) (time.Time, error) {
	s.mu.Lock()
	known := s.known
	s.mu.Unlock()
	if !known.IsZero() {
		return known, nil
	}
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: key(sweepPK, sweepPK),
	})
	if err != nil {
		return time.Time{}, internal("read sweep checkpoint", err)
	}
	var it struct {
		From string `dynamodbav:"from"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return time.Time{}, internal("decode sweep checkpoint", err)
	}
	if it.From == "" {
		return now.UTC().Add(-firstSweepLookback).Truncate(24 * time.Hour), nil
	}
	day, err := time.Parse(time.DateOnly, it.From)
	if err != nil {
		return time.Time{}, internal("decode sweep checkpoint", err)
	}
	s.remember(day)
	return day, nil
}

// remember keeps the latest checkpoint this process has seen.
func (s *TimerStore) remember(day time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if day.After(s.known) {
		s.known = day
	}
}

// moveCheckpoint moves the checkpoint forward only: two sweeps moving it at
// once both write a later day, and one that read an older day loses.
func (s *TimerStore) moveCheckpoint(ctx context.Context, from, to time.Time) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.Table),
		Key:                 key(sweepPK, sweepPK),
		UpdateExpression:    aws.String("SET #from = :to, #type = :type"),
		ConditionExpression: aws.String("attribute_not_exists(#from) OR #from < :to"),
		ExpressionAttributeNames: map[string]string{
			"#from": "from", "#type": "type",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to": str(to.Format(time.DateOnly)), ":type": str(typeSweep),
		},
	})
	if err != nil && !conditionFailed(err) {
		return internal("move sweep checkpoint", err)
	}
	s.remember(to) // moved by this sweep, or already as far by another
	return nil
}

// Fire implements timer.Store: the timers, each conditioned on being armed
// as read, and their events in the outbox, in one transaction. A timer
// whose condition fails (another sweep fired it, its owner moved or
// cancelled it) or that another writer is touching at this moment is left
// out and the rest are written again; a timer left out because of such a
// race is still armed if that writer failed, and the next sweep fires it.
func (s *TimerStore) Fire(ctx context.Context, ts []timer.Timer, now time.Time) ([]bool, error) {
	if len(ts) > timer.MaxFire {
		return nil, fmt.Errorf("fire %d timers: at most %d at once", len(ts), timer.MaxFire)
	}
	fired := make([]bool, len(ts))
	pending := make([]int, 0, len(ts)) // indexes into ts still to fire
	items := make([][]types.TransactWriteItem, len(ts))
	for i, t := range ts {
		w, err := s.fireItems(t, now)
		if err != nil {
			return nil, err
		}
		items[i], pending = w, append(pending, i)
	}
	for len(pending) > 0 {
		// A timer's writes: its update, its event's outbox put and one
		// journal put per UTC date the event counts on (at most two), so
		// MaxFire timers stay within a transaction's 100 items.
		tx := make([]types.TransactWriteItem, 0, 4*len(pending))
		first := make([]int, len(pending)) // index in tx of each pending timer's first write
		for n, i := range pending {
			first[n] = len(tx)
			tx = append(tx, items[i]...)
		}
		_, err := s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		if err == nil {
			for _, i := range pending {
				fired[i] = true
			}
			return fired, nil
		}
		reasons := cancellation(err)
		if reasons == nil {
			if conflicted(err) {
				return fired, nil // the whole transaction lost a race; the next sweep retries what is still armed
			}
			return fired, internal("fire timers", err)
		}
		kept := pending[:0]
		for n, i := range pending {
			ok := true
			for j := range items[i] {
				ok = ok && !refused(reasons, first[n]+j)
			}
			if ok {
				kept = append(kept, i)
			}
		}
		if len(kept) == len(pending) {
			return fired, internal("fire timers", err) // cancelled for no item's sake
		}
		pending = kept
	}
	return fired, nil
}

// refused reports whether item i of a cancelled transaction was the cause;
// the items that were not carry no code, or "None".
func refused(reasons []types.CancellationReason, i int) bool {
	code := reasonCode(reasons, i)
	return code != "" && code != "None"
}

// fireItems are the writes that fire t: the timer's update, guarded by
// its state as read, and its event's puts into the outbox and the journal.
func (s *TimerStore) fireItems(t timer.Timer, now time.Time) ([]types.TransactWriteItem, error) {
	env, err := t.Envelope()
	if err != nil {
		return nil, err
	}
	update := &types.Update{
		TableName:           aws.String(s.Table),
		Key:                 key(timerPrefix+t.ID, timerSK),
		ConditionExpression: aws.String("#status = :armed AND #due = :due AND arming = :arming"),
		ExpressionAttributeNames: map[string]string{
			"#status": "status", "#due": "due",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":armed": str(timerArmed), ":due": str(formatTime(t.Due)), ":arming": str(t.Arming),
			":now": str(formatTime(now)),
		},
	}
	if t.Daily != nil {
		next := t.Daily.Next(t.Due)
		update.UpdateExpression = aws.String("SET #due = :next, arming = :rearm, gsi1pk = :pk, gsi1sk = :sk, fired_at = :now")
		update.ExpressionAttributeValues[":next"] = str(formatTime(next))
		update.ExpressionAttributeValues[":rearm"] = str(newToken())
		update.ExpressionAttributeValues[":pk"] = str(timerDay(next))
		update.ExpressionAttributeValues[":sk"] = str(formatTime(next) + "#" + t.ID)
	} else {
		update.UpdateExpression = aws.String("SET #status = :fired, fired_at = :now, expires_at = :expires REMOVE gsi1pk, gsi1sk")
		update.ExpressionAttributeValues[":fired"] = str(timerFired)
		update.ExpressionAttributeValues[":expires"] = num(now.Add(firedRetention).Unix())
	}
	return append([]types.TransactWriteItem{{Update: update}}, eventPuts(s.Table, env)...), nil
}

// maxTransactItems is DynamoDB's limit of items in one transaction.
const maxTransactItems = 100

// Arm arms timers that belong to no other item (an owner with an item of
// its own arms its timers in its own transaction instead), replacing any
// with the same ids.
func (s *TimerStore) Arm(ctx context.Context, timers ...timer.Timer) error {
	for len(timers) > 0 {
		n := min(len(timers), maxTransactItems)
		items := make([]types.TransactWriteItem, 0, n)
		for _, t := range timers[:n] {
			items = append(items, armTimer(s.Table, t))
		}
		if _, err := s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
			return internal("arm timers", err)
		}
		timers = timers[n:]
	}
	return nil
}
