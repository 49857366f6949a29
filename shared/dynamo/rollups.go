package dynamo

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// RollupStore keeps the day rollups the scorecard reads: what every event
// added, counted exactly once per event id (see the layout in
// rollup_items.go).
type RollupStore struct {
	Client API
	Table  string
	// Currency is the organisation's currency; when set, Apply refuses
	// amounts in any other, so that every rollup merges. Empty accepts
	// any, one per item.
	Currency string
	// Now is the clock the seen markers' expiry is reckoned from; nil is
	// time.Now.
	Now func() time.Time
}

// RollupSeenFor is how long an applied event's id is remembered: a
// redelivery within it changes nothing. EventBridge retries a delivery for
// at most 24 hours; a dead-letter queue must be redriven within this.
const RollupSeenFor = 35 * 24 * time.Hour

// Limits on what Apply accepts, well above anything an event contributes.
const (
	maxEventID    = 256
	maxTeam       = 64
	maxRollupKey  = 512
	maxRangeDays  = 400
	maxTransacted = 100 // DynamoDB's limit on items in one transaction
)

// Apply adds cs, the contributions of the event eventID, to the day
// rollups, exactly once: one transaction stores a marker of the event and
// adds every increment, so a redelivered, retried or concurrent Apply of
// the same event changes nothing and returns nil. A contribution whose
// Once key an earlier event holds is left out. Whatever the failure, the
// transaction wrote all or nothing, so Apply is safe to retry. EINVALID for contributions the store cannot hold:
// no event id, a day that is not a day, a team name it cannot key, an
// amount in another currency than the organisation's or than its day's.
func (s *RollupStore) Apply(ctx context.Context, eventID string, cs []rollup.Contribution) error {
	if err := s.check(eventID, cs); err != nil {
		return err
	}
	taken := map[string]bool{} // Once keys held by earlier events
	consistent := false
	var err error
	for attempt := range maxAttempts {
		live := make([]rollup.Contribution, 0, len(cs))
		for _, c := range cs {
			if !taken[c.Once] {
				live = append(live, c)
			}
		}
		if len(live) == 0 {
			return nil
		}
		var again bool
		again, err = s.try(ctx, eventID, live, consistent, taken)
		if !again {
			return err
		}
		if conflicted(err) {
			backoff := time.Duration(5<<attempt) * time.Millisecond
			time.Sleep(backoff/2 + rand.N(backoff/2))
		} else {
			// Another event moved a histogram's extremes since they
			// were read: read them again, consistently.
			consistent = true
		}
	}
	return crm.Errorf(crm.ECONFLICT, "rollup of event %s: too many concurrent changes; try again", eventID)
}

// try makes one attempt at applying cs. It reports whether to try again:
// after a lost race, or when a Once key turned out taken (added to taken).
func (s *RollupStore) try(ctx context.Context, eventID string, cs []rollup.Contribution, consistent bool, taken map[string]bool) (bool, error) {
	plan, err := planRollup(eventID, cs)
	if err != nil {
		return false, crm.Errorf(crm.EINVALID, "rollup of event %s: %v", eventID, err)
	}
	if err := s.readExtremes(ctx, plan, consistent); err != nil {
		return false, err
	}
	items := []types.TransactWriteItem{s.seenPut(eventID)}
	var onces []string
	for _, c := range cs {
		if c.Once != "" && !slices.Contains(onces, c.Once) {
			onces = append(onces, c.Once)
			items = append(items, s.oncePut(c.Once, eventID))
		}
	}
	first := len(items) // index of the first rollup item
	for _, w := range plan.writes {
		u, err := w.update(s.Table)
		if err != nil {
			return false, crm.Errorf(crm.EINVALID, "rollup of event %s: %v", eventID, err)
		}
		items = append(items, u)
	}
	if len(items) > maxTransacted {
		return false, crm.Errorf(crm.EINVALID, "rollup of event %s: %d items, more than one transaction holds", eventID, len(items))
	}
	_, err = s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	reasons := cancellation(err)
	failed := func(i int) bool { return reasonCode(reasons, i) == "ConditionalCheckFailed" }
	switch {
	case err == nil:
		return false, nil
	case failed(0):
		return false, nil // applied before: a redelivery
	case conflicted(err):
		return true, err
	}
	again := false
	for i, key := range onces {
		if failed(1 + i) {
			taken[key], again = true, true
		}
	}
	for i, w := range plan.writes {
		switch {
		case !failed(first + i):
		case w.currency != "":
			return false, crm.Errorf(crm.EINVALID, "rollup of event %s: an amount in %s on a day counted in another currency", eventID, w.currency)
		default:
			again = true // a histogram's extremes moved meanwhile
		}
	}
	if again {
		return true, err
	}
	return false, internal("apply rollup of event "+eventID, err)
}

// readExtremes reads the smallest and largest durations of every timing
// item in plan, so that its update sets them only when they move.
// Eventually consistent reads are safe: a stale minimum is never below the
// current one, so at worst the conditional update fails and is retried
// with a consistent read.
func (s *RollupStore) readExtremes(ctx context.Context, plan *rollupPlan, consistent bool) error {
	for _, w := range plan.writes {
		if !w.timing {
			continue
		}
		out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.Table), Key: key(w.pk, w.sk), ConsistentRead: aws.Bool(consistent),
			ProjectionExpression:     aws.String("#min, #max"),
			ExpressionAttributeNames: map[string]string{"#min": attrMin, "#max": attrMax},
		})
		if err != nil {
			return internal("read rollup item "+w.sk, err)
		}
		_, w.stored = out.Item[attrMin]
		w.storedLo, w.storedHi = time.Duration(numberOf(out.Item[attrMin])), time.Duration(numberOf(out.Item[attrMax]))
	}
	return nil
}

// seenPut marks event id as applied, failing if it was.
func (s *RollupStore) seenPut(eventID string) types.TransactWriteItem {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.Table),
		Item: map[string]types.AttributeValue{
			schema.PK: str(rollupSeenPrefix + eventID), schema.SK: str(rollupSeenSK), "type": str(typeRollupSeen),
			schema.ExpiresAt: num(now().Add(RollupSeenFor).Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}

// oncePut marks key as counted by event id, failing if it was. It never
// expires: a follow-up can be completed long after it went overdue.
func (s *RollupStore) oncePut(key, eventID string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.Table),
		Item: map[string]types.AttributeValue{
			schema.PK: str(rollupOncePrefix + key), schema.SK: str(rollupOnceSK), "type": str(typeRollupOnce),
			attrEventID: str(eventID),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}

// check refuses what the store cannot key or merge.
func (s *RollupStore) check(eventID string, cs []rollup.Contribution) error {
	if eventID == "" || len(eventID) > maxEventID {
		return crm.Errorf(crm.EINVALID, "a rollup needs an event id of 1 to %d bytes", maxEventID)
	}
	for _, c := range cs {
		switch {
		case c.Day.Kind() != period.Day:
			return crm.Errorf(crm.EINVALID, "rollup of event %s: %q is not a day", eventID, c.Day.ID())
		case len(c.Scope.Team) > maxTeam || strings.Contains(c.Scope.Team, "#"):
			return crm.Errorf(crm.EINVALID, "rollup of event %s: team %q is not a team name", eventID, c.Scope.Team)
		case len(c.Once) > maxRollupKey:
			return crm.Errorf(crm.EINVALID, "rollup of event %s: once key longer than %d bytes", eventID, maxRollupKey)
		case len(c.Adds.Sums) > 0 && c.Adds.Currency == "":
			return crm.Errorf(crm.EINVALID, "rollup of event %s: sums without a currency", eventID)
		case len(c.Adds.Sums) > 0 && s.Currency != "" && c.Adds.Currency != s.Currency:
			return crm.Errorf(crm.EINVALID, "rollup of event %s: an amount in %s, but the organisation counts in %s", eventID, c.Adds.Currency, s.Currency)
		}
		for b, entries := range c.Adds.Breakdowns {
			for k := range entries {
				if k == "" || len(b)+1+len(k) > maxRollupKey {
					return crm.Errorf(crm.EINVALID, "rollup of event %s: breakdown %s key of %d bytes", eventID, b, len(k))
				}
			}
		}
	}
	return nil
}

// Day returns scope's rollup of day (a day period in the organisation's
// zone): empty when nothing was counted. See Range.
func (s *RollupStore) Day(ctx context.Context, scope rollup.Scope, day period.Period) (*scorecard.Rollup, error) {
	return s.Range(ctx, scope, day, day)
}

// Range returns scope's rollups of the days first to last, both included,
// merged: one query per month the days touch (more pages only past 1 MB
// of rollup items), reading the items of those days — a cost that depends
// on the days and their shards, never on how much history the table
// holds. Reads are eventually consistent. EINVALID when first or last is
// not a day, last is before first, or the range is longer than 400 days.
func (s *RollupStore) Range(ctx context.Context, scope rollup.Scope, first, last period.Period) (*scorecard.Rollup, error) {
	return s.rangeRead(ctx, scope, first, last, false)
}

// rangeRead is Range, with consistent reads when asked.
func (s *RollupStore) rangeRead(ctx context.Context, scope rollup.Scope, first, last period.Period, consistent bool) (*scorecard.Rollup, error) {
	if first.Kind() != period.Day || last.Kind() != period.Day || last.ID() < first.ID() {
		return nil, crm.Errorf(crm.EINVALID, "a rollup range runs from one day to a later one, not %q to %q", first.ID(), last.ID())
	}
	from, _ := time.Parse(time.DateOnly, first.ID())
	to, _ := time.Parse(time.DateOnly, last.ID())
	if to.Sub(from) >= maxRangeDays*24*time.Hour {
		return nil, crm.Errorf(crm.EINVALID, "a rollup range is at most %d days", maxRangeDays)
	}
	r := &scorecard.Rollup{}
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
		p := dynamodb.NewQueryPaginator(s.Client, &dynamodb.QueryInput{
			TableName:              aws.String(s.Table),
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(rollupPK(scope, m.Format(time.DateOnly))), ":lo": str(first.ID()), ":hi": str(last.ID() + "#~"),
			},
			ConsistentRead: aws.Bool(consistent),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, internal("read rollups", err)
			}
			for _, raw := range page.Items {
				if err := addRollupItem(r, raw); err != nil {
					return nil, internal("decode rollups of "+scope.String(), err)
				}
			}
		}
	}
	return r, nil
}
