package dynamo

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/histogram"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// Day rollups:
//
//	pk                                  sk                                 what
//	ROLLUP#ORG#<yyyy-mm>                <yyyy-mm-dd>#count#<s>             counters c.<name>, sums s.<name> and their currency, in event shard s
//	ROLLUP#ORG#<yyyy-mm>                <yyyy-mm-dd>#timing#<name>#<s>     a histogram: b<bucket> counts, min and max in ns, in event shard s
//	ROLLUP#ORG#<yyyy-mm>                <yyyy-mm-dd>#key#<k>               breakdown entries <breakdown>.<key>, in key shard k
//	ROLLUP#TEAM#<team>#<yyyy-mm>        (the same, for one team)
//	ROLLUPSEEN#<event id>               ROLLUPSEEN                         an event applied, until expires_at
//	ROLLUPONCE#<key>                    ROLLUPONCE                         a thing counted once (followup#<id>), by the event that counted it
//
// Partitions are months in the organisation's zone, sorted by day, so any
// period is one query per month it touches, reading the items of its days
// whatever the history holds. Counts are added with ADD, never read and
// rewritten; a histogram's smallest and largest durations, which ADD
// cannot keep, are set under a condition that fails on a stale read. So
// concurrent events never lose an update.
//
// No item is written by every event: an event adds its counters and
// timings to the shard of its id (rollupEventShards of them a day), and
// each breakdown entry to the shard of its key (rollupKeyShards a day), so
// that a customer's or a source's entries for a day are in one item.
// Counter and timing items are bounded (the names in shared/scorecard,
// 184 buckets); key items grow with the distinct customers and sources of
// a day, about 100 bytes a paying customer (150 with a repeat sale), so
// the 64 of a day hold some 170,000 paying customers per scope under
// DynamoDB's 400 KB item limit (TestRollupManyCustomersInADay measures
// it). Nothing is capped or dropped: per-customer revenue is summed
// exactly over any period, so the top-20% revenue share ranks exact
// totals. Lead sources share the key items; a flood of made-up sources
// from the public form would fill them before customers do.
const (
	rollupPrefix      = "ROLLUP#"
	rollupSeenPrefix  = "ROLLUPSEEN#"
	rollupSeenSK      = "ROLLUPSEEN"
	rollupOncePrefix  = "ROLLUPONCE#"
	rollupOnceSK      = "ROLLUPONCE"
	typeRollup        = "rollup"
	typeRollupSeen    = "rollup_seen"
	typeRollupOnce    = "rollup_once"
	familyCount       = "count"
	familyTiming      = "timing"
	familyKey         = "key"
	rollupEventShards = 8
	rollupKeyShards   = 64

	attrCurrency  = "currency"
	attrMin       = "min"
	attrMax       = "max"
	counterAttr   = "c."
	sumAttr       = "s."
	bucketAttr    = "b"
	attrEventID   = "event_id"
	maxExpression = 4096 // DynamoDB's limit on an expression's length
)

// rollupPK is the partition of scope's rollups in the month of day
// ("2026-12-03").
func rollupPK(scope rollup.Scope, day string) string {
	if scope.IsOrg() {
		return rollupPrefix + "ORG#" + day[:7]
	}
	return rollupPrefix + "TEAM#" + scope.Team + "#" + day[:7]
}

// shardOf spreads s over n shards.
func shardOf(s string, n uint32) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return strconv.Itoa(int(h.Sum32() % n))
}

// rollupWrite is what one event adds to one rollup item.
type rollupWrite struct {
	pk, sk string
	adds   map[string]int64 // attribute → amount
	// currency is the currency of the sums added (count items).
	currency string
	// timing items: the smallest and largest durations added, and what
	// the item held when read, to decide whether they move.
	timing             bool
	lo, hi             time.Duration
	stored             bool // whether the read found min and max
	storedLo, storedHi time.Duration
}

// add adds n to attribute attr.
func (w *rollupWrite) add(attr string, n int64) {
	if w.adds == nil {
		w.adds = map[string]int64{}
	}
	w.adds[attr] += n
}

// rollupPlan is what an event writes to rollup items, by item.
type rollupPlan struct {
	writes []*rollupWrite
	byKey  map[[2]string]*rollupWrite
}

func (p *rollupPlan) item(pk, sk string) *rollupWrite {
	if p.byKey == nil {
		p.byKey = map[[2]string]*rollupWrite{}
	}
	k := [2]string{pk, sk}
	if w := p.byKey[k]; w != nil {
		return w
	}
	w := &rollupWrite{pk: pk, sk: sk}
	p.byKey[k] = w
	p.writes = append(p.writes, w)
	return w
}

// planRollup turns the contributions of event eventID into item writes.
func planRollup(eventID string, cs []rollup.Contribution) (*rollupPlan, error) {
	p := &rollupPlan{}
	shard := shardOf(eventID, rollupEventShards)
	for _, c := range cs {
		day := c.Day.ID()
		pk := rollupPK(c.Scope, day)
		if len(c.Adds.Counters) > 0 || len(c.Adds.Sums) > 0 {
			w := p.item(pk, day+"#"+familyCount+"#"+shard)
			for name, n := range c.Adds.Counters {
				w.add(counterAttr+string(name), n)
			}
			for name, n := range c.Adds.Sums {
				w.add(sumAttr+string(name), n)
				w.currency = c.Adds.Currency
			}
		}
		for name, h := range c.Adds.Timings {
			if h == nil || h.Count() == 0 {
				continue
			}
			buckets, lo, hi, err := histogramBuckets(h)
			if err != nil {
				return nil, err
			}
			w := p.item(pk, day+"#"+familyTiming+"#"+string(name)+"#"+shard)
			if !w.timing || lo < w.lo {
				w.lo = lo
			}
			if !w.timing || hi > w.hi {
				w.hi = hi
			}
			w.timing = true
			for i, n := range buckets {
				w.add(bucketAttr+strconv.Itoa(i), n)
			}
		}
		for name, entries := range c.Adds.Breakdowns {
			for key, n := range entries {
				w := p.item(pk, day+"#"+familyKey+"#"+shardOf(key, rollupKeyShards))
				w.add(string(name)+"."+key, n)
			}
		}
	}
	return p, nil
}

// update returns the transaction item that applies w: ADD every amount,
// SET the currency (refusing another) and a smallest or largest duration
// that moves (refusing if another event moved it further meanwhile).
func (w *rollupWrite) update(table string) (types.TransactWriteItem, error) {
	names := map[string]string{"#type": "type"}
	values := map[string]types.AttributeValue{":type": str(typeRollup)}
	sets := []string{"#type = :type"}
	var conds []string
	if w.currency != "" {
		names["#cur"], values[":cur"] = attrCurrency, str(w.currency)
		sets = append(sets, "#cur = :cur")
		conds = append(conds, "(attribute_not_exists(#cur) OR #cur = :cur)")
	}
	if w.timing && (!w.stored || w.lo < w.storedLo) {
		names["#min"], values[":min"] = attrMin, num(int64(w.lo))
		sets = append(sets, "#min = :min")
		conds = append(conds, "(attribute_not_exists(#min) OR #min > :min)")
	}
	if w.timing && (!w.stored || w.hi > w.storedHi) {
		names["#max"], values[":max"] = attrMax, num(int64(w.hi))
		sets = append(sets, "#max = :max")
		conds = append(conds, "(attribute_not_exists(#max) OR #max < :max)")
	}
	var adds []string
	for i, attr := range slices.Sorted(maps.Keys(w.adds)) {
		n := strconv.Itoa(i)
		names["#a"+n], values[":n"+n] = attr, num(w.adds[attr])
		adds = append(adds, "#a"+n+" :n"+n)
	}
	expr := "SET " + strings.Join(sets, ", ")
	if len(adds) > 0 {
		expr += " ADD " + strings.Join(adds, ", ")
	}
	if len(expr) > maxExpression {
		return types.TransactWriteItem{}, fmt.Errorf("%d increments to rollup item %s", len(adds), w.sk)
	}
	u := &types.Update{
		TableName: &table, Key: key(w.pk, w.sk), UpdateExpression: &expr,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}
	if len(conds) > 0 {
		c := strings.Join(conds, " AND ")
		u.ConditionExpression = &c
	}
	return types.TransactWriteItem{Update: u}, nil
}

// addRollupItem adds a stored rollup item to r, by its family.
func addRollupItem(r *scorecard.Rollup, raw map[string]types.AttributeValue) error {
	sk, _ := raw["sk"].(*types.AttributeValueMemberS)
	if sk == nil {
		return errors.New("rollup item without a sort key")
	}
	parts := strings.Split(sk.Value, "#")
	if len(parts) < 3 {
		return fmt.Errorf("rollup item %s: unknown sort key", sk.Value)
	}
	var err error
	switch parts[1] {
	case familyCount:
		err = addCountItem(r, raw)
	case familyTiming:
		err = addTimingItem(r, scorecard.Timing(strings.Join(parts[2:len(parts)-1], "#")), raw)
	case familyKey:
		err = addKeyItem(r, raw)
	default:
		err = errors.New("unknown family")
	}
	if err != nil {
		return fmt.Errorf("rollup item %s: %w", sk.Value, err)
	}
	return nil
}

func addCountItem(r *scorecard.Rollup, raw map[string]types.AttributeValue) error {
	currency, _ := raw[attrCurrency].(*types.AttributeValueMemberS)
	for attr, v := range raw {
		var err error
		switch {
		case strings.HasPrefix(attr, counterAttr):
			err = r.Add(scorecard.Counter(attr[len(counterAttr):]), numberOf(v))
		case strings.HasPrefix(attr, sumAttr) && currency == nil:
			err = fmt.Errorf("sum %s without a currency", attr)
		case strings.HasPrefix(attr, sumAttr):
			err = r.AddSum(scorecard.Sum(attr[len(sumAttr):]), numberOf(v), currency.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func addTimingItem(r *scorecard.Rollup, name scorecard.Timing, raw map[string]types.AttributeValue) error {
	buckets := map[int]int64{}
	for attr, v := range raw {
		i, err := strconv.Atoi(strings.TrimPrefix(attr, bucketAttr))
		if strings.HasPrefix(attr, bucketAttr) && err == nil {
			buckets[i] = numberOf(v)
		}
	}
	h, err := histogramFromBuckets(buckets, time.Duration(numberOf(raw[attrMin])), time.Duration(numberOf(raw[attrMax])))
	if err != nil {
		return err
	}
	return r.Merge(&scorecard.Rollup{Timings: map[scorecard.Timing]*histogram.Histogram{name: h}})
}

func addKeyItem(r *scorecard.Rollup, raw map[string]types.AttributeValue) error {
	for attr, v := range raw {
		name, key, ok := strings.Cut(attr, ".")
		if !ok {
			continue // pk, sk, type
		}
		if err := r.AddTo(scorecard.Breakdown(name), key, numberOf(v)); err != nil {
			return err
		}
	}
	return nil
}
