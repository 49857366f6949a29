package dynamo

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/survey"
)

// The page sizes of the lists of answers.
const (
	defaultAnswers = 25
	maxAnswers     = 100
)

// Responses implements survey.Store: one partition of an index, newest
// first, never a scan. A question reads its list in GSI2, else the list
// of every answer in GSI1; From and To bound the sort key (To excluded),
// and max_score is a filter on the score to the listed question (to the
// first question asked, in the list of every answer), read on through the
// list within queryPage's bounds. A limit outside 1..100 is 25.
func (s *SurveyStore) Responses(ctx context.Context, q survey.ResponseQuery) (survey.ResponsePage, error) {
	ix, _ := schema.Rapport.Index(schema.GSI1)
	pk := allAnswers
	if q.Question != "" {
		ix, _ = schema.Rapport.Index(schema.GSI2)
		pk = answersTo + string(q.Question)
	}
	lo, hi := "0", "9"
	if !q.From.IsZero() {
		lo = formatTime(q.From)
	}
	if !q.To.IsZero() {
		hi = formatTime(q.To) // "<answered>#<id>" sorts after "<answered>": To is excluded
	}
	maxScore := ""
	if q.MaxScoreSet {
		maxScore = strconv.Itoa(q.MaxScore)
	}
	fp := printOf("surveys", ix.Name, pk, lo, hi, maxScore)
	start, err := decodeIndexCursor(q.Cursor, ix, pk, fp)
	if err != nil {
		return survey.ResponsePage{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.Table),
		IndexName:                aws.String(ix.Name),
		KeyConditionExpression:   aws.String("#ipk = :ipk AND #isk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#ipk": ix.PartitionKey, "#isk": ix.SortKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ipk": str(pk), ":lo": str(lo), ":hi": str(hi),
		},
		ScanIndexForward:  aws.Bool(false),
		ExclusiveStartKey: start,
	}
	if q.MaxScoreSet {
		in.FilterExpression = aws.String("#score <= :max")
		in.ExpressionAttributeNames["#score"] = "score"
		in.ExpressionAttributeValues[":max"] = num(int64(q.MaxScore))
	}
	limit := q.Limit
	if limit < 1 || limit > maxAnswers {
		limit = defaultAnswers
	}
	var page survey.ResponsePage
	page.Responses, page.Next, err = listPage(ctx, s.Client, in, ix, limit, fp, toResponse)
	if err != nil {
		return survey.ResponsePage{}, internal("list survey answers", err)
	}
	return page, nil
}

// OfCustomer implements survey.Store: one query of the customer's
// partition of GSI4, newest first. A limit outside 1..100 is 25.
func (s *SurveyStore) OfCustomer(ctx context.Context, customerID string, limit int) ([]survey.Response, error) {
	if limit < 1 || limit > maxAnswers {
		limit = defaultAnswers
	}
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(schema.GSI4),
		KeyConditionExpression:    aws.String("gsi4pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(answersOfCustomer + customerID)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, internal("list survey answers of customer "+customerID, err)
	}
	responses := make([]survey.Response, 0, len(out.Items))
	for _, raw := range out.Items {
		var it surveyAnswerItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, internal("decode survey answer", err)
		}
		responses = append(responses, toResponse(it))
	}
	return responses, nil
}
