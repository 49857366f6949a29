package dynamo

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// recomputation is a day's rollups folded from the journal.
type recomputation struct {
	envs   []events.Envelope // the journal of the day's UTC dates, in fold order
	folded *rollup.Folded
	day    map[rollup.Scope]*scorecard.Rollup
	// counted holds the ids of the events that added to the day.
	counted []string
}

// Recompute rebuilds the rollups of day (a day in zone) from the event
// journal alone: it queries the journal of every UTC date the day
// overlaps (journalShards queries each; never a scan), orders the events
// by event time and then id, and folds them with rollup.Fold, keeping
// what falls on day. A Once key (a follow-up task) counts for the event
// the store's once mark names, when one exists — the record of which
// event counted it, which may be on another day or have arrived first
// although it happened later — and otherwise for the first event carrying
// it. The result holds the organisation's rollup (empty when nothing
// counted) and every team's the day's events name. EINVALID when day is
// not a day.
func (s *RollupStore) Recompute(ctx context.Context, zone *time.Location, day period.Period) (map[rollup.Scope]*scorecard.Rollup, error) {
	r, err := s.recompute(ctx, zone, day, false)
	if err != nil {
		return nil, err
	}
	return r.day, nil
}

func (s *RollupStore) recompute(ctx context.Context, zone *time.Location, day period.Period, consistent bool) (*recomputation, error) {
	if day.Kind() != period.Day {
		return nil, crm.Errorf(crm.EINVALID, "a recomputation is of a day, not %q", day.ID())
	}
	day, err := period.Parse(day.ID(), zone)
	if err != nil {
		return nil, crm.Errorf(crm.EINVALID, "day %q: %v", day.ID(), err)
	}
	envs, err := s.readJournal(ctx, day, consistent)
	if err != nil {
		return nil, err
	}
	held := map[string]string{}
	for _, env := range envs {
		cs, err := rollup.Contributions(env, zone)
		if err != nil || len(cs) == 0 || cs[0].Once == "" {
			continue // the producer journals neither
		}
		if _, ok := held[cs[0].Once]; ok {
			continue
		}
		holder, err := s.onceHolder(ctx, cs[0].Once, consistent)
		if err != nil {
			return nil, err
		}
		held[cs[0].Once] = holder
	}
	for k, v := range held {
		if v == "" {
			delete(held, k)
		}
	}
	folded, err := rollup.Fold(envs, zone, held)
	if err != nil {
		return nil, internal("fold the journal of "+day.ID(), err)
	}
	r := &recomputation{envs: envs, folded: folded, day: map[rollup.Scope]*scorecard.Rollup{rollup.Org: {}}}
	for k, v := range folded.Rollups {
		if k.Day == day.ID() {
			r.day[k.Scope] = v
		}
	}
	for _, id := range folded.Counted {
		for _, env := range envs {
			if env.ID != id {
				continue
			}
			cs, _ := rollup.Contributions(env, zone)
			if slices.ContainsFunc(cs, func(c rollup.Contribution) bool { return c.Day.ID() == day.ID() }) {
				r.counted = append(r.counted, id)
			}
			break
		}
	}
	return r, nil
}

// onceHolder returns the event id the once mark of key names; "" when
// there is none.
func (s *RollupStore) onceHolder(ctx context.Context, key string, consistent bool) (string, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: map[string]types.AttributeValue{"pk": str(rollupOncePrefix + key), "sk": str(rollupOnceSK)},
		ConsistentRead: aws.Bool(consistent),
	})
	if err != nil {
		return "", internal("read once mark "+key, err)
	}
	return stringOf(out.Item[attrEventID]), nil
}

// Compare sets the stored rollups of day (in zone) beside their
// recomputation, for the organisation, every team the recomputation saw
// and the teams named. EINVALID when day is not a day.
func (s *RollupStore) Compare(ctx context.Context, zone *time.Location, day period.Period, teams ...string) (rollup.Comparison, error) {
	r, err := s.recompute(ctx, zone, day, false)
	if err != nil {
		return rollup.Comparison{}, err
	}
	return s.compare(ctx, zone, day, r, teams, false)
}

func (s *RollupStore) compare(ctx context.Context, zone *time.Location, day period.Period, r *recomputation, teams []string, consistent bool) (rollup.Comparison, error) {
	day, _ = period.Parse(day.ID(), zone)
	out := rollup.Comparison{Day: day, Events: len(r.counted)}
	for _, scope := range scopesOf(r.day, teams) {
		stored, err := s.rangeRead(ctx, scope, day, day, consistent)
		if err != nil {
			return rollup.Comparison{}, err
		}
		rec := r.day[scope]
		if rec == nil {
			rec = &scorecard.Rollup{}
		}
		out.Scopes = append(out.Scopes, rollup.ScopeComparison{
			Scope: scope, Stored: stored, Recomputed: rec, Differences: rollup.Diff(stored, rec),
		})
	}
	return out, nil
}

// scopesOf returns the organisation, then the teams of day and teams by
// name, each once.
func scopesOf(day map[rollup.Scope]*scorecard.Rollup, teams []string) []rollup.Scope {
	var names []string
	for scope := range day {
		if !scope.IsOrg() {
			names = append(names, scope.Team)
		}
	}
	for _, t := range teams {
		if t != "" && !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	slices.Sort(names)
	out := []rollup.Scope{rollup.Org}
	for _, n := range names {
		out = append(out, rollup.Team(n))
	}
	return out
}

// Repair makes the stored rollups of day (in zone) equal their
// recomputation, for the organisation, every team the recomputation saw
// and the teams named, and returns the comparison after. It works in
// three steps, each safe to run again:
//
//  1. Every event counted on the day is marked applied, with its once
//     mark, so that a late delivery of it adds nothing. An event that was
//     never applied (no seen mark, and younger than RollupSeenFor, so its
//     mark cannot have expired) and that also counts on another day is
//     applied there now, with Apply, so the mark does not rob that day.
//  2. Each scope's items of the day are replaced by the recomputed
//     totals: put anew, and the items that should no longer exist
//     deleted.
//  3. The journal is read again; if it gained events meanwhile the result
//     says Changed.
//
// The race: an event journaled after step 1 read the journal, and applied
// by the kpis function before step 2 rewrites the day, has its increments
// overwritten — its seen mark stays, so no redelivery restores them. Step
// 3 sees it in the journal and reports Changed; running Repair again
// counts it (its mark is already there; the rewrite includes it). Run
// Repair on a day no longer receiving events, or run it until it stops
// reporting Changed. EINVALID when day is not a day.
func (s *RollupStore) Repair(ctx context.Context, zone *time.Location, day period.Period, teams ...string) (rollup.Comparison, error) {
	r, err := s.recompute(ctx, zone, day, true)
	if err != nil {
		return rollup.Comparison{}, err
	}
	day, _ = period.Parse(day.ID(), zone)
	changed, err := s.markCounted(ctx, zone, day, r)
	if err != nil {
		return rollup.Comparison{}, err
	}
	for _, scope := range scopesOf(r.day, teams) {
		if err := s.replaceDay(ctx, scope, day, r.day[scope]); err != nil {
			return rollup.Comparison{}, err
		}
	}
	again, err := s.readJournal(ctx, day, true)
	if err != nil {
		return rollup.Comparison{}, err
	}
	if len(again) != len(r.envs) {
		changed = true
	}
	out, err := s.compare(ctx, zone, day, r, teams, true)
	out.Changed = changed
	return out, err
}

// markCounted is step 1 of Repair. It reports whether another event took
// a once key meanwhile.
func (s *RollupStore) markCounted(ctx context.Context, zone *time.Location, day period.Period, r *recomputation) (bool, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	changed := false
	for _, env := range r.envs {
		if !slices.Contains(r.counted, env.ID) {
			continue
		}
		if now().Sub(env.Time) > RollupSeenFor {
			continue // applied long ago, or never to be: no delivery can come now
		}
		out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.Table), Key: key(rollupSeenPrefix+env.ID, rollupSeenSK), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return false, internal("read seen mark of "+env.ID, err)
		}
		if out.Item != nil {
			continue // applied
		}
		cs, _ := rollup.Contributions(env, zone)
		var elsewhere []rollup.Contribution
		for _, c := range cs {
			if c.Day.ID() != day.ID() {
				elsewhere = append(elsewhere, c)
			}
		}
		if len(elsewhere) > 0 {
			if err := s.Apply(ctx, env.ID, elsewhere); err != nil {
				return false, err
			}
			continue
		}
		items := []types.TransactWriteItem{s.seenPut(env.ID)}
		if key := cs[0].Once; key != "" && r.folded.Held[key] == env.ID {
			put := s.oncePut(key, env.ID)
			// The mark may exist already, naming this event.
			put.Put.ConditionExpression = aws.String("attribute_not_exists(pk) OR #e = :e")
			put.Put.ExpressionAttributeNames = map[string]string{"#e": attrEventID}
			put.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":e": str(env.ID)}
			items = append(items, put)
		}
		_, err = s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		reasons := cancellation(err)
		switch {
		case err == nil:
		case reasonCode(reasons, 0) == "ConditionalCheckFailed":
			// The kpis function applied it meanwhile; its increments are
			// in the items step 2 replaces.
		case reasonCode(reasons, 1) == "ConditionalCheckFailed":
			changed = true // another event took the key meanwhile
		default:
			return false, internal("mark event "+env.ID+" counted", err)
		}
	}
	return changed, nil
}

// replaceDay is step 2 of Repair: scope's items of day become want.
func (s *RollupStore) replaceDay(ctx context.Context, scope rollup.Scope, day period.Period, want *scorecard.Rollup) error {
	pk := rollupPK(scope, day.ID())
	items, err := rollupItemsOf(want, day.ID())
	if err != nil {
		return internal("lay out the rollup of "+scope.String(), err)
	}
	var writes []types.TransactWriteItem
	keep := map[string]bool{}
	for sk, attrs := range items {
		keep[sk] = true
		attrs["pk"], attrs["sk"], attrs["type"] = str(pk), str(sk), str(typeRollup)
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.Table), Item: attrs}})
	}
	p := dynamodb.NewQueryPaginator(s.Client, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :day)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":day": str(day.ID() + "#"),
		},
		ProjectionExpression: aws.String("pk, sk"),
		ConsistentRead:       aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return internal("read rollup items of "+scope.String(), err)
		}
		for _, it := range page.Items {
			if sk := stringOf(it["sk"]); !keep[sk] {
				writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.Table), Key: key(pk, sk)}})
			}
		}
	}
	// A day's items are far fewer than 100 unless it has thousands of
	// customers; past that, the replacement is several transactions.
	for chunk := range slices.Chunk(writes, maxTransacted) {
		if err := retryConflicts(func() error {
			_, err := s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: chunk})
			return err
		}); err != nil {
			return internal("replace rollup items of "+scope.String(), err)
		}
	}
	return nil
}

// rollupItemsOf lays r out as the items of one day, by sort key: the
// counters and sums in event shard 0, each timing in its shard 0, the
// breakdown entries in their key shards — the layout Apply writes, with
// one event shard.
func rollupItemsOf(r *scorecard.Rollup, day string) (map[string]map[string]types.AttributeValue, error) {
	out := map[string]map[string]types.AttributeValue{}
	item := func(sk string) map[string]types.AttributeValue {
		if out[sk] == nil {
			out[sk] = map[string]types.AttributeValue{}
		}
		return out[sk]
	}
	if r == nil {
		return out, nil
	}
	for c, n := range r.Counters {
		if n != 0 {
			item(day + "#" + familyCount + "#0")[counterAttr+string(c)] = num(n)
		}
	}
	for name, n := range r.Sums {
		it := item(day + "#" + familyCount + "#0")
		it[sumAttr+string(name)] = num(n)
		it[attrCurrency] = str(r.Currency)
	}
	for name, h := range r.Timings {
		if h == nil || h.Count() == 0 {
			continue
		}
		buckets, lo, hi, err := histogramBuckets(h)
		if err != nil {
			return nil, err
		}
		it := item(day + "#" + familyTiming + "#" + string(name) + "#0")
		for i, n := range buckets {
			it[bucketAttr+strconv.Itoa(i)] = num(n)
		}
		it[attrMin], it[attrMax] = num(int64(lo)), num(int64(hi))
	}
	for b, entries := range r.Breakdowns {
		for k, n := range entries {
			item(day + "#" + familyKey + "#" + shardOf(k, rollupKeyShards))[string(b)+"."+k] = num(n)
		}
	}
	return out, nil
}
