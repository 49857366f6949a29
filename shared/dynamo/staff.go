package dynamo

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/staff"
)

// Staff profiles, one item each, listed through three indexes sorted by
// subject: every profile (GSI1), a team's (GSI2) and a role's (GSI3), the
// last two sparse. Subjects are opaque ids; names and addresses stay out
// of every key.
//
//	pk              sk      gsi1pk   gsi2pk                 gsi3pk                 gsi*sk
//	STAFF#<sub>     STAFF   STAFF    STAFF#TEAM#<team>      STAFF#ROLE#<role>      <sub>
const (
	staffPrefix      = "STAFF#"
	staffSK          = "STAFF"
	allStaff         = "STAFF"
	staffByTeam      = "STAFF#TEAM#"
	staffByRole      = "STAFF#ROLE#"
	typeStaffProfile = "staff_profile"
)

// staffItem is a profile as stored.
type staffItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Type    string `dynamodbav:"type"`
	GSI1PK  string `dynamodbav:"gsi1pk"`
	GSI1SK  string `dynamodbav:"gsi1sk"`
	GSI2PK  string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK  string `dynamodbav:"gsi2sk,omitempty"`
	GSI3PK  string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK  string `dynamodbav:"gsi3sk,omitempty"`
	Subject string `dynamodbav:"sub"`
	Version int64  `dynamodbav:"version"`

	Name          string `dynamodbav:"name,omitempty"`
	Email         string `dynamodbav:"email,omitempty"`
	TimeZone      string `dynamodbav:"time_zone"`
	Team          string `dynamodbav:"team,omitempty"`
	Role          string `dynamodbav:"role,omitempty"`
	DigestEnabled bool   `dynamodbav:"digest_enabled"`
	DigestHour    int    `dynamodbav:"digest_hour"`

	CreatedAt string `dynamodbav:"created_at"`
	UpdatedAt string `dynamodbav:"updated_at"`
}

func toStaffItem(p staff.Profile) staffItem {
	it := staffItem{
		PK: staffPrefix + p.Subject, SK: staffSK, Type: typeStaffProfile,
		GSI1PK: allStaff, GSI1SK: p.Subject,
		Subject: p.Subject, Version: p.Version,
		Name: p.Name, Email: p.Email, TimeZone: p.TimeZone, Team: p.Team, Role: p.Role,
		DigestEnabled: p.DigestEnabled, DigestHour: p.DigestHour,
		CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt),
	}
	if p.Team != "" {
		it.GSI2PK, it.GSI2SK = staffByTeam+p.Team, p.Subject
	}
	if p.Role != "" {
		it.GSI3PK, it.GSI3SK = staffByRole+p.Role, p.Subject
	}
	return it
}

func toProfile(it staffItem) staff.Profile {
	return staff.Profile{
		Subject: it.Subject, Version: it.Version,
		Name: it.Name, Email: it.Email, TimeZone: it.TimeZone, Team: it.Team, Role: it.Role,
		DigestEnabled: it.DigestEnabled, DigestHour: it.DigestHour,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
	}
}

// StaffStore keeps staff profiles and their digest timers in the single
// table.
type StaffStore struct {
	Client API
	Table  string
}

var _ staff.Store = (*StaffStore)(nil)

// Profile implements staff.Store with one consistent read, so a writer that
// lost a race reads the winner's profile.
func (s *StaffStore) Profile(ctx context.Context, sub string) (staff.Profile, error) {
	it, err := getItem[staffItem](ctx, s.Client, s.Table, staffPrefix+sub, staffSK, "profile "+sub)
	return toProfile(it), err
}

// Put implements staff.Store. A write that leaves the digest timer alone is
// one conditional PutItem; one that arms or cancels it is a transaction of
// the profile and the timer, so neither exists without the other.
func (s *StaffStore) Put(ctx context.Context, p staff.Profile, prev int64, t staff.TimerChange) error {
	av, err := attributevalue.MarshalMap(toStaffItem(p))
	if err != nil {
		panic("marshal staff profile: " + err.Error()) // a fixed struct of strings and numbers
	}
	put := &types.Put{TableName: aws.String(s.Table), Item: av,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if prev != 0 {
		put.ConditionExpression = aws.String("version = :prev")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(prev)}
	}
	items := []types.TransactWriteItem{{Put: put}}
	switch {
	case t.Arm != nil:
		items = append(items, armTimer(s.Table, *t.Arm))
	case t.Cancel != "":
		items = append(items, cancelTimer(s.Table, t.Cancel))
	}

	if len(items) == 1 {
		_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
			ExpressionAttributeValues:           put.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: put.ReturnValuesOnConditionCheckFailure,
		})
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			return staffConditionError(p.Subject, prev, cf.Item)
		}
		if err != nil {
			return internal("put staff profile", err)
		}
		return nil
	}
	err = transact(ctx, s.Client, s.Table, items, nil)
	reasons := cancellation(err)
	switch {
	case err == nil:
		return nil
	case reasonCode(reasons, 0) == "ConditionalCheckFailed":
		return staffConditionError(p.Subject, prev, reasons[0].Item)
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return err
	}
	return internal("write staff profile", err)
}

// staffConditionError says why a profile's condition failed: on a create,
// the profile exists; on an update, it is gone or stale, told apart by the
// stored item the failure returns.
func staffConditionError(sub string, prev int64, stored map[string]types.AttributeValue) error {
	switch {
	case prev == 0:
		return crm.Errorf(crm.ECONFLICT, "profile %s exists", sub)
	case len(stored) == 0:
		return crm.Errorf(crm.ENOTFOUND, "no profile %s", sub)
	default:
		return crm.Errorf(crm.EPRECONDITION, "profile %s has changed; read it again", sub)
	}
}

// List implements staff.Store: ordered by subject, through the team index,
// the role index or the index of all profiles. With both a team and a role
// it reads the team's and filters by role, so a page can take several
// reads; they stop at maxQueriesPerPage and a short page with a cursor is
// the answer then. The last page has no cursor.
func (s *StaffStore) List(ctx context.Context, f staff.Filter) (staff.Page, error) {
	ix, _ := schema.Rapport.Index(schema.GSI1)
	pk := allStaff
	switch {
	case f.Team != "":
		ix, _ = schema.Rapport.Index(schema.GSI2)
		pk = staffByTeam + f.Team
	case f.Role != "":
		ix, _ = schema.Rapport.Index(schema.GSI3)
		pk = staffByRole + f.Role
	}
	fp := hashKey(strings.Join([]string{"staff", f.Team, f.Role}, "\x00"))[:12]
	// The leads' cursor format fits: an index, a print of the filters and
	// the four key attributes to resume after.
	start, err := decodeCursor(f.Cursor, indexQuery{index: ix, pk: pk}, fp)
	if err != nil {
		return staff.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(ix.Name),
		KeyConditionExpression:    aws.String("#ipk = :ipk"),
		ExpressionAttributeNames:  map[string]string{"#ipk": ix.PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ipk": str(pk)},
		ExclusiveStartKey:         start,
	}
	if f.Team != "" && f.Role != "" {
		in.FilterExpression = aws.String("#role = :role")
		in.ExpressionAttributeNames["#role"] = "role"
		in.ExpressionAttributeValues[":role"] = str(f.Role)
	}
	var page staff.Page
	page.Items, page.NextCursor, err = listPage(ctx, s.Client, in, ix, f.Limit, fp, toProfile)
	if err != nil {
		return staff.Page{}, internal("list staff", err)
	}
	return page, nil
}
