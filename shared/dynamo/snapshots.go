package dynamo

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/scorecard"
	"github.com/rapportcrm/rapport/shared/scoring"
)

// Scorecard snapshots, one item each, written once:
//
//	pk                                   sk             what
//	SCORECARD#SNAPSHOT#<kind>#ORG        <period id>    the organisation's card of a period
//	SCORECARD#SNAPSHOT#<kind>#TEAM#<t>   <period id>    a team's
//
// Period ids of one kind sort as the periods do (2026-12-01, 2026-W48,
// 2026-12, 2026-Q4), so a partition read backwards lists the newest first
// and its first item is the newest stored. The list's fields are plain
// attributes; the card (the engine's document, its currency and the eight
// periods of history the page's sparklines draw) is gzipped JSON in doc:
// about 2 KB for the default catalogue, where the JSON is about 15 KB, so
// a snapshot costs two or three write units and a read one, far below the
// 400 KB item limit (TestSnapshotItemIsSmall measures it).
const (
	snapshotPrefix = "SCORECARD#SNAPSHOT#"
	typeSnapshot   = "scorecard_snapshot"
)

// snapshotTable is the table's own key as an index, for the list and
// cursor helpers.
var snapshotTable = schema.Index{Name: "table", PartitionKey: schema.PK, SortKey: schema.SK}

func snapshotPK(kind period.Kind, team string) string {
	if team == "" {
		return snapshotPrefix + string(kind) + "#ORG"
	}
	return snapshotPrefix + string(kind) + "#TEAM#" + team
}

// snapshotItem is a snapshot as stored.
type snapshotItem struct {
	PK            string   `dynamodbav:"pk"`
	SK            string   `dynamodbav:"sk"`
	Type          string   `dynamodbav:"type"`
	Kind          string   `dynamodbav:"kind"`
	Period        string   `dynamodbav:"period"`
	Team          string   `dynamodbav:"team,omitempty"`
	TakenAt       string   `dynamodbav:"taken_at"`
	Score         *float64 `dynamodbav:"score"`
	ConfigVersion int64    `dynamodbav:"config_version"`
	Doc           []byte   `dynamodbav:"doc,omitempty"`
}

// snapshotDoc is the card inside doc.
type snapshotDoc struct {
	Document scorecard.Document `json:"document"`
	Currency string             `json:"currency,omitempty"`
	History  []snapshotPoint    `json:"history,omitempty"`
}

type snapshotPoint struct {
	Period string              `json:"period"`
	Values map[string]*float64 `json:"values"`
}

func toSnapshotItem(s scoring.Snapshot) (snapshotItem, error) {
	team := ""
	if s.Team != nil {
		team = *s.Team
	}
	doc := snapshotDoc{Document: s.Document, Currency: s.Currency}
	for _, p := range s.History {
		doc.History = append(doc.History, snapshotPoint{Period: p.Period, Values: p.Values})
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return snapshotItem{}, err
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	_, _ = w.Write(raw) // a bytes.Buffer does not fail
	_ = w.Close()
	return snapshotItem{
		PK: snapshotPK(s.Period.Kind, team), SK: s.Period.ID, Type: typeSnapshot,
		Kind: string(s.Period.Kind), Period: s.Period.ID, Team: team,
		TakenAt: formatTime(s.TakenAt), Score: s.Score, ConfigVersion: s.ConfigVersion, Doc: z.Bytes(),
	}, nil
}

func toSnapshot(it snapshotItem) (scoring.Snapshot, error) {
	zr, err := gzip.NewReader(bytes.NewReader(it.Doc))
	if err != nil {
		return scoring.Snapshot{}, err
	}
	raw, err := io.ReadAll(io.LimitReader(zr, 4<<20))
	if err != nil {
		return scoring.Snapshot{}, err
	}
	var doc snapshotDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return scoring.Snapshot{}, err
	}
	s := scoring.Snapshot{
		Card:    scoring.Card{Document: doc.Document, Currency: doc.Currency},
		TakenAt: parseTime(it.TakenAt), ConfigVersion: it.ConfigVersion,
	}
	for _, p := range doc.History {
		s.History = append(s.History, scoring.Point{Period: p.Period, Values: p.Values})
	}
	return s, nil
}

func toSnapshotSummary(it snapshotItem) scoring.SnapshotSummary {
	return scoring.SnapshotSummary{
		SnapshotKey: scoring.SnapshotKey{Kind: period.Kind(it.Kind), Period: it.Period, Team: it.Team},
		TakenAt:     parseTime(it.TakenAt), Score: it.Score, ConfigVersion: it.ConfigVersion,
	}
}

// SnapshotStore keeps scorecard snapshots in the single table.
type SnapshotStore struct {
	Client API
	Table  string
}

var _ scoring.SnapshotStore = (*SnapshotStore)(nil)

// PutSnapshot implements scoring.SnapshotStore with one PutItem under
// attribute_not_exists(pk): a snapshot once stored is never rewritten,
// and a second writer of the same period finds it there (false).
func (s *SnapshotStore) PutSnapshot(ctx context.Context, snap scoring.Snapshot) (bool, error) {
	it, err := toSnapshotItem(snap)
	if err != nil {
		return false, internal("encode scorecard snapshot", err)
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return false, internal("marshal scorecard snapshot", err)
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	switch {
	case conditionFailed(err):
		return false, nil
	case err != nil:
		return false, internal("put scorecard snapshot", err)
	}
	return true, nil
}

// Snapshot implements scoring.SnapshotStore with one GetItem.
func (s *SnapshotStore) Snapshot(ctx context.Context, k scoring.SnapshotKey) (scoring.Snapshot, error) {
	it, err := getItem[snapshotItem](ctx, s.Client, s.Table, snapshotPK(k.Kind, k.Team), k.Period, "snapshot of "+string(k.Kind)+" "+k.Period)
	if err != nil {
		return scoring.Snapshot{}, err
	}
	snap, err := toSnapshot(it)
	if err != nil {
		return scoring.Snapshot{}, internal("decode scorecard snapshot", err)
	}
	return snap, nil
}

// Latest implements scoring.SnapshotStore with one eventually consistent
// Query of the kind's partition, backwards, for one key: runs are a day
// apart, and a run that misses the newest write finds its put refused.
func (s *SnapshotStore) Latest(ctx context.Context, kind period.Kind, team string) (string, error) {
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(snapshotPK(kind, team))},
		ProjectionExpression:      aws.String("sk"),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return "", internal("read latest scorecard snapshot", err)
	}
	if len(out.Items) == 0 {
		return "", nil
	}
	sk, _ := out.Items[0][schema.SK].(*types.AttributeValueMemberS)
	if sk == nil {
		return "", internal("read latest scorecard snapshot", errNoSortKey)
	}
	return sk.Value, nil
}

// Snapshots implements scoring.SnapshotStore: one page of the kind's
// partition, newest first, without the cards.
func (s *SnapshotStore) Snapshots(ctx context.Context, f scoring.SnapshotFilter) (scoring.SnapshotPage, error) {
	pk := snapshotPK(f.Kind, f.Team)
	fp := hashKey("snapshots\x00" + string(f.Kind) + "\x00" + f.Team)[:12]
	start, err := decodeIndexCursor(f.Cursor, snapshotTable, pk, fp)
	if err != nil {
		return scoring.SnapshotPage{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ExpressionAttributeNames:  map[string]string{"#kind": "kind", "#period": "period"},
		ProjectionExpression:      aws.String("pk, sk, #kind, #period, team, taken_at, score, config_version"),
		ScanIndexForward:          aws.Bool(false),
		ExclusiveStartKey:         start,
	}
	var page scoring.SnapshotPage
	page.Items, page.NextCursor, err = listPage(ctx, s.Client, in, snapshotTable, f.Limit, fp, toSnapshotSummary)
	if err != nil {
		return scoring.SnapshotPage{}, internal("list scorecard snapshots", err)
	}
	return page, nil
}

// errNoSortKey is a snapshot item without its sort key, which PutSnapshot
// never writes.
var errNoSortKey = errors.New("a snapshot item has no sort key")
