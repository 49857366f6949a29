package dynamo

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
)

// The event journal: every event that feeds the scorecard, kept for good,
// so that any day's rollup can be recomputed from the records alone
// (RollupStore.Recompute). The outbox forgets an event after seven days;
// the journal never does.
//
//	pk                               sk           what
//	JOURNAL#<yyyy-mm-dd>#<shard>     <event id>   an event counting on that UTC date: source, detail type, event time, detail, the UTC dates it counts on
//
// An event is journaled under each UTC date its contributions fall on
// (most on one; ticket.closed can straddle two), in shard
// hash(event id) mod journalShards, so one busy day is spread over eight
// partitions. A day in the organisation's zone overlaps one or two UTC
// dates, so reading it is journalShards queries per date. Events carry no
// personal data (ids, instants, kinds, amounts, sources), so the journal
// holds none either.
const (
	journalPrefix = "JOURNAL#"
	journalShards = 8
	typeJournal   = "journal"
	attrDays      = "days"
)

// journalPK is the partition of the journal of UTC date in shard.
func journalPK(date, shard string) string { return journalPrefix + date + "#" + shard }

// eventPuts returns the transaction items that publish env: its outbox
// put and its journal puts.
func eventPuts(table string, env events.Envelope) []types.TransactWriteItem {
	return append([]types.TransactWriteItem{outboxPut(table, env)}, journalPuts(table, env)...)
}

// journalDays returns the UTC dates env's contributions fall on, sorted;
// none for an event that counts nowhere or can never be counted (the
// kpis function drops it too).
func journalDays(env events.Envelope) []string {
	cs, err := rollup.Contributions(env, time.UTC)
	if err != nil {
		return nil
	}
	var days []string
	for _, c := range cs {
		if !slices.Contains(days, c.Day.ID()) {
			days = append(days, c.Day.ID())
		}
	}
	sort.Strings(days)
	return days
}

// journalPuts returns one put per UTC date env counts on. The puts are
// unconditional: a retried transaction writes the same item again.
func journalPuts(table string, env events.Envelope) []types.TransactWriteItem {
	days := journalDays(env)
	if len(days) == 0 {
		return nil
	}
	list := make([]types.AttributeValue, len(days))
	for i, d := range days {
		list[i] = str(d)
	}
	shard := shardOf(env.ID, journalShards)
	out := make([]types.TransactWriteItem, len(days))
	for i, d := range days {
		out[i] = types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				schema.PK: str(journalPK(d, shard)), schema.SK: str(env.ID), "type": str(typeJournal),
				attrEventSource: str(env.Source), attrDetailType: str(env.DetailType),
				attrEventTime: str(formatTime(env.Time)), attrDetail: str(string(env.Detail)),
				attrDays: &types.AttributeValueMemberL{Value: list},
			},
		}}
	}
	return out
}

// Journal writes env's journal items on their own, as a producer's
// transaction does beside the outbox put: for tests and tools that
// publish events without a store. It writes nothing for an event that
// counts nowhere; writing an event again changes nothing.
func Journal(ctx context.Context, api API, table string, env events.Envelope) error {
	puts := journalPuts(table, env)
	if len(puts) == 0 {
		return nil
	}
	if _, err := api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: puts}); err != nil {
		return internal("journal event "+env.ID, err)
	}
	return nil
}

// journalDates returns the UTC dates the day (in its zone) overlaps.
func journalDates(day period.Period) []string {
	first := day.Start().UTC()
	last := day.End().Add(-time.Nanosecond).UTC()
	dates := []string{first.Format(time.DateOnly)}
	if d := last.Format(time.DateOnly); d != dates[0] {
		dates = append(dates, d)
	}
	return dates
}

// readJournal returns the events journaled on the UTC dates day overlaps,
// each once, ordered by event time and then id: journalShards queries per
// date, more pages only past 1 MB.
func (s *RollupStore) readJournal(ctx context.Context, day period.Period, consistent bool) ([]events.Envelope, error) {
	byID := map[string]events.Envelope{}
	for _, date := range journalDates(day) {
		for shard := range journalShards {
			p := dynamodb.NewQueryPaginator(s.Client, &dynamodb.QueryInput{
				TableName:                 aws.String(s.Table),
				KeyConditionExpression:    aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(journalPK(date, strconv.Itoa(shard)))},
				ConsistentRead:            aws.Bool(consistent),
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, internal("read the journal of "+date, err)
				}
				for _, it := range page.Items {
					env := events.Envelope{
						ID: stringOf(it[schema.SK]), Source: stringOf(it[attrEventSource]), DetailType: stringOf(it[attrDetailType]),
						Time: parseTime(stringOf(it[attrEventTime])), Detail: []byte(stringOf(it[attrDetail])),
					}
					byID[env.ID] = env
				}
			}
		}
	}
	out := make([]events.Envelope, 0, len(byID))
	for _, env := range byID {
		out = append(out, env)
	}
	slices.SortFunc(out, func(a, b events.Envelope) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func stringOf(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
