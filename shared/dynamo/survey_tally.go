package dynamo

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/survey"
)

// Tally item attributes: c<score> counts a question's answers with that
// score; responses counts responses (on each response's first question
// only, so that a response answering two questions counts once); sent
// counts invitations sent.
const (
	tallyResponses = "responses"
	tallyScore     = "c"
)

// tallyKey returns the key of the tally item of what ("nps", "csat",
// "ces" or "sent") on day (the organisation's date, "2026-12-07") at the
// shard of the invitation. EINVALID when day is not a date.
func tallyKey(day, what, invitationID string) (map[string]types.AttributeValue, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return nil, crm.Errorf(crm.EINVALID, "the tally's day %q is not a date", day)
	}
	return key(surveyTallyPrefix+day[:7], day+"#"+what+"#"+tallyShard(invitationID)), nil
}

// tallyAdd returns the transaction item that adds counts (attribute →
// amount) to the tally item of what on day at the invitation's shard.
func (s *SurveyStore) tallyAdd(day, what, invitationID string, counts map[string]int64) (types.TransactWriteItem, error) {
	k, err := tallyKey(day, what, invitationID)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	names := map[string]string{"#type": "type"}
	values := map[string]types.AttributeValue{":type": str(typeSurveyTally)}
	var adds []string
	for i, attr := range slices.Sorted(maps.Keys(counts)) {
		n := strconv.Itoa(i)
		names["#a"+n], values[":n"+n] = attr, num(counts[attr])
		adds = append(adds, "#a"+n+" :n"+n)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.Table),
		Key:                       k,
		UpdateExpression:          aws.String("SET #type = :type ADD " + strings.Join(adds, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, nil
}

// tallyWrites returns the transaction items that add n answers with these
// ratings, to the invitation id, to day's tallies: one per question
// answered, the first also counting n responses.
func (s *SurveyStore) tallyWrites(invitationID, day string, ratings []survey.Rating, n int64) ([]types.TransactWriteItem, error) {
	items := make([]types.TransactWriteItem, 0, len(ratings))
	for i, r := range ratings {
		counts := map[string]int64{tallyScore + strconv.Itoa(r.Score): n}
		if i == 0 {
			counts[tallyResponses] = n
		}
		w, err := s.tallyAdd(day, string(r.Question), invitationID, counts)
		if err != nil {
			return nil, err
		}
		items = append(items, w)
	}
	return items, nil
}

// Tally implements survey.Store: one query per month the days first to
// last touch (more pages only past 1 MB of tally items, which no period
// up to a quarter comes near), eventually consistent. EINVALID when first
// or last is not a date.
func (s *SurveyStore) Tally(ctx context.Context, first, last string) (survey.Tally, int64, error) {
	from, err1 := time.Parse(time.DateOnly, first)
	to, err2 := time.Parse(time.DateOnly, last)
	if err1 != nil || err2 != nil {
		return survey.Tally{}, 0, crm.Errorf(crm.EINVALID, "the tally's days %q to %q are not dates", first, last)
	}
	var t survey.Tally
	var sent int64
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
		p := dynamodb.NewQueryPaginator(s.Client, &dynamodb.QueryInput{
			TableName:              aws.String(s.Table),
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(surveyTallyPrefix + m.Format("2006-01")), ":lo": str(first), ":hi": str(last + "#~"),
			},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return survey.Tally{}, 0, internal("read survey tallies", err)
			}
			for _, raw := range page.Items {
				sent += addTallyItem(&t, raw)
			}
		}
	}
	return t, sent, nil
}

// addTallyItem adds a tally item's counts to t and returns the
// invitations sent it counts.
func addTallyItem(t *survey.Tally, raw map[string]types.AttributeValue) int64 {
	sk, _ := raw["sk"].(*types.AttributeValueMemberS)
	if sk == nil {
		return 0
	}
	parts := strings.Split(sk.Value, "#")
	if len(parts) != 3 {
		return 0
	}
	if parts[1] == sentTally {
		return numberOf(raw[sentTally])
	}
	q, ok := survey.ParseQuestion(parts[1])
	if !ok {
		return 0
	}
	for attr, v := range raw {
		if attr == tallyResponses {
			t.AddResponses(numberOf(v))
			continue
		}
		score, err := strconv.Atoi(strings.TrimPrefix(attr, tallyScore))
		if strings.HasPrefix(attr, tallyScore) && err == nil {
			t.AddScore(q, score, numberOf(v))
		}
	}
	return 0
}

// numberOf reads a number attribute; 0 when it is not one.
func numberOf(v types.AttributeValue) int64 {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	i, _ := strconv.ParseInt(n.Value, 10, 64)
	return i
}
