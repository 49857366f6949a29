package dynamo

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Follow-up tasks:
//
//	pk             sk         gsi2pk (open only)            gsi3pk (open only)               gsi2sk, gsi3sk
//	FOLLOWUP#<id>  FOLLOWUP   FOLLOWUPS#lead#<lead id>      FOLLOWUPS#OWNER#<sub>            <due>#<id>
//
// Both indexes hold open tasks only: done and cancelled ones leave them,
// so an owner's plan and a lead's open tasks cost what is open, not what
// ever was. The unassigned queue is the owner "~".
const (
	followupPrefix     = "FOLLOWUP#"
	followupSK         = "FOLLOWUP"
	typeFollowup       = "followup"
	followupsOfSubject = "FOLLOWUPS#"
	followupsOfOwner   = "FOLLOWUPS#OWNER#"
	unassignedOwner    = "~"
)

// followupItem is a task as stored.
type followupItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	GSI2PK      string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK      string `dynamodbav:"gsi2sk,omitempty"`
	GSI3PK      string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK      string `dynamodbav:"gsi3sk,omitempty"`
	ID          string `dynamodbav:"id"`
	SubjectKind string `dynamodbav:"subject_kind"`
	SubjectID   string `dynamodbav:"subject_id"`
	Kind        string `dynamodbav:"kind"`
	Note        string `dynamodbav:"note,omitempty"`
	Owner       string `dynamodbav:"owner,omitempty"`
	DueAt       string `dynamodbav:"due_at"`
	Status      string `dynamodbav:"status"`
	DoneAt      string `dynamodbav:"done_at,omitempty"`
	CreatedBy   string `dynamodbav:"created_by,omitempty"`
	CreatedAt   string `dynamodbav:"created_at"`
	UpdatedAt   string `dynamodbav:"updated_at"`
	Version     int64  `dynamodbav:"version"`
}

func ownerPartition(owner string) string {
	if owner == "" {
		owner = unassignedOwner
	}
	return followupsOfOwner + owner
}

func subjectPartition(s followup.Subject) string {
	return followupsOfSubject + string(s.Kind) + "#" + s.ID
}

func toFollowupItem(t followup.Task) followupItem {
	it := followupItem{
		PK: followupPrefix + t.ID, SK: followupSK, Type: typeFollowup,
		ID: t.ID, SubjectKind: string(t.Subject.Kind), SubjectID: t.Subject.ID, Kind: string(t.Kind),
		Note: t.Note, Owner: t.Owner, DueAt: formatTime(t.DueAt), Status: string(t.Status),
		DoneAt: formatTimePtr(t.DoneAt), CreatedBy: t.CreatedBy,
		CreatedAt: formatTime(t.CreatedAt), UpdatedAt: formatTime(t.UpdatedAt), Version: t.Version,
	}
	if t.Open() {
		sk := formatTime(t.DueAt) + "#" + t.ID
		it.GSI2PK, it.GSI2SK = subjectPartition(t.Subject), sk
		it.GSI3PK, it.GSI3SK = ownerPartition(t.Owner), sk
	}
	return it
}

func toTask(it followupItem) followup.Task {
	return followup.Task{
		ID: it.ID, Subject: followup.Subject{Kind: followup.SubjectKind(it.SubjectKind), ID: it.SubjectID},
		Kind: followup.Kind(it.Kind), Note: it.Note, Owner: it.Owner, DueAt: parseTime(it.DueAt),
		Status: followup.Status(it.Status), DoneAt: parseTimePtr(it.DoneAt), CreatedBy: it.CreatedBy,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), Version: it.Version,
	}
}

// FollowupStore keeps follow-up tasks and their timers.
type FollowupStore struct {
	Client API
	Table  string
}

var _ followup.Store = (*FollowupStore)(nil)

// Create implements followup.Store in one transaction: the task, a check
// that its lead or customer exists, its timers and its events.
func (s *FollowupStore) Create(ctx context.Context, t followup.Task, arm []timer.Timer, evs []events.Envelope) error {
	subjectKey := key(leadPrefix+t.Subject.ID, leadSK)
	if t.Subject.Kind == followup.SubjectCustomer {
		subjectKey = key(customerPrefix+t.Subject.ID, customerSK)
	}
	items := []types.TransactWriteItem{
		putItem(s.Table, toFollowupItem(t), "attribute_not_exists(pk)"),
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.Table), Key: subjectKey, ConditionExpression: aws.String("attribute_exists(pk)"),
		}},
	}
	items = append(items, timerWrites(s.Table, arm, nil)...)
	err := transact(ctx, s.Client, s.Table, items, evs)
	reasons := cancellation(err)
	switch {
	case err == nil:
		return nil
	case reasonCode(reasons, 0) == "ConditionalCheckFailed":
		return crm.Errorf(crm.ECONFLICT, "follow-up %s exists", t.ID)
	case reasonCode(reasons, 1) == "ConditionalCheckFailed":
		return &crm.Error{Code: crm.EINVALID, Message: "invalid subject",
			Fields: []crm.FieldError{{Field: "subject", Reason: "no such " + string(t.Subject.Kind)}}}
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return err
	}
	return internal("create follow-up "+t.ID, err)
}

// Task implements followup.Store.
func (s *FollowupStore) Task(ctx context.Context, id string) (followup.Task, error) {
	it, err := getItem[followupItem](ctx, s.Client, s.Table, followupPrefix+id, followupSK, "follow-up "+id)
	return toTask(it), err
}

// Update implements followup.Store in one transaction: the task if still
// at version prev, its timers and its events.
func (s *FollowupStore) Update(ctx context.Context, t followup.Task, prev int64, arm []timer.Timer, cancel []string, evs []events.Envelope) error {
	p := putItem(s.Table, toFollowupItem(t), "version = :prev")
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(prev)}
	p.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	items := append([]types.TransactWriteItem{p}, timerWrites(s.Table, arm, cancel)...)
	err := transact(ctx, s.Client, s.Table, items, evs)
	return versionedWriteError("follow-up", t.ID, err)
}

// Plan implements followup.Store: one query of the owner's partition of
// GSI3, by due instant, within [f.From, f.To).
func (s *FollowupStore) Plan(ctx context.Context, f followup.Filter) (followup.Page, error) {
	ix, _ := schema.Rapport.Index(schema.GSI3)
	pk := ownerPartition(f.Owner)
	fp := printOf(pk, formatTime(f.From), formatTime(f.To))
	start, err := decodeIndexCursor(f.Cursor, ix, pk, fp)
	if err != nil {
		return followup.Page{}, err
	}
	lo, hi := "0", "9"
	if !f.From.IsZero() {
		lo = formatTime(f.From)
	}
	if !f.To.IsZero() {
		hi = formatTime(f.To) // "<due>#<id>" sorts after "<due>": To is excluded
	}
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		IndexName:              aws.String(ix.Name),
		KeyConditionExpression: aws.String("gsi3pk = :pk AND gsi3sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":lo": str(lo), ":hi": str(hi),
		},
		ExclusiveStartKey: start,
		Limit:             aws.Int32(int32(f.Limit)),
	})
	if err != nil {
		return followup.Page{}, internal("list follow-ups", err)
	}
	var page followup.Page
	for _, raw := range out.Items {
		var it followupItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return followup.Page{}, internal("decode follow-up", err)
		}
		page.Tasks = append(page.Tasks, toTask(it))
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.Next = encodeCursor(ix.Name, fp, out.LastEvaluatedKey)
	}
	return page, nil
}

// OpenFor implements followup.Store: the subject's partition of GSI2.
func (s *FollowupStore) OpenFor(ctx context.Context, subject followup.Subject) ([]followup.Task, error) {
	p := dynamodb.NewQueryPaginator(s.Client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(schema.GSI2),
		KeyConditionExpression:    aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(subjectPartition(subject))},
	})
	var tasks []followup.Task
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, internal("list open follow-ups of "+subject.String(), err)
		}
		for _, raw := range page.Items {
			var it followupItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, internal("decode follow-up", err)
			}
			tasks = append(tasks, toTask(it))
		}
	}
	return tasks, nil
}

// printOf prints a list's filters for its cursor.
func printOf(parts ...string) string {
	return hashKey(strings.Join(parts, "\x00"))[:12]
}
