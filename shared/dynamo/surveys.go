package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/survey"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Surveys:
//
//	pk                           sk                          what
//	SURVEY#<id>                  SURVEY                      an invitation (the address an attribute, never a key)
//	SURVEY#<id>                  ANSWER                      its one answer, with the invitation as answered
//	SURVEY#<id>                  ANSWER#<question>           a copy of it for each further question answered
//	SURVEYPERSON#<hash(email)>   PERSON                      a person's opt-out and the invitation holding their quiet period
//	SURVEYTALLY#<yyyy-mm>        <yyyy-mm-dd>#<q>#<shard>    a day's answers to q: c<score> counts, and responses on the first question's
//	SURVEYTALLY#<yyyy-mm>        <yyyy-mm-dd>#sent#<shard>   a day's invitations sent
//
// and where answers show in the indexes, each sorted <answered_at>#<id>
// and read newest first:
//
//	gsi1pk SURVEYANSWERS                        the ANSWER item: every answer once
//	gsi2pk SURVEYANSWERS#<question>             the ANSWER item under its first question, each copy under its own
//	gsi4pk SURVEYANSWERS#CUSTOMER#<customer>    the ANSWER item, when the invitation names a customer
//
// An invitation asks one to three questions; the first is always
// answered. Its ANSWER item lists it under the first, and a copy (the
// same attributes under another key) under each further one answered, so
// that a question's list is one partition of one index and an after-ticket
// answer to CSAT and CES shows under both. Every answer item carries the
// score to the question it is listed under, for max_score; in the list of
// every answer that is the first question's.
//
// Tallies are partitioned by month in the organisation's zone and sorted
// by day, so the results of any period are one query per month it touches
// (SK BETWEEN its first day and its last), reading days × questions ×
// shards small items however many answers they count. An answer adds to
// the tally item of each question it answers, at the shard of its
// invitation (tallyShard), and one response to its first question's.
const (
	surveyPrefix         = "SURVEY#"
	surveySK             = "SURVEY"
	answerSK             = "ANSWER"
	surveyPersonPrefix   = "SURVEYPERSON#"
	surveyPersonSK       = "PERSON"
	surveyTallyPrefix    = "SURVEYTALLY#"
	allAnswers           = "SURVEYANSWERS"
	answersTo            = "SURVEYANSWERS#"
	answersOfCustomer    = "SURVEYANSWERS#CUSTOMER#"
	typeSurvey           = "survey"
	typeSurveyAnswer     = "survey_answer"
	typeSurveyAnswerCopy = "survey_answer_copy"
	typeSurveyPerson     = "survey_person"
	typeSurveyTally      = "survey_tally"
	sentTally            = "sent"
)

// SurveyStore keeps survey invitations, their answers, each person's
// record and the day tallies the results are read from.
type SurveyStore struct {
	Client API
	Table  string
}

var _ survey.Store = (*SurveyStore)(nil)

// personKey is the key of the record of the person with that normalised
// address: hashed, so no address is in a key.
func personKey(email string) map[string]types.AttributeValue {
	return key(surveyPersonPrefix+hashKey(email), surveyPersonSK)
}

// Person implements survey.Store with one consistent read.
func (s *SurveyStore) Person(ctx context.Context, email string) (survey.History, int64, error) {
	it, err := getItem[surveyPersonItem](ctx, s.Client, s.Table, surveyPersonPrefix+hashKey(email), surveyPersonSK, "survey person")
	switch {
	case crm.ErrorCode(err) == crm.ENOTFOUND:
		return survey.History{Email: email}, 0, nil
	case err != nil:
		return survey.History{}, 0, err
	}
	return survey.History{Email: email, OptedOut: it.OptedOut, LastID: it.LastID, LastAt: parseTime(it.LastAt)}, it.Version, nil
}

// Schedule implements survey.Store in one transaction: the invitation if
// new, the person's record if still at personVersion (made if 0) taking
// the quiet period, and the send timer. Which condition failed is told by
// its cancellation reason: the invitation's first, the person's second.
func (s *SurveyStore) Schedule(ctx context.Context, inv survey.Invitation, personVersion int64, send timer.Timer) error {
	person := &types.Update{
		TableName:        aws.String(s.Table),
		Key:              personKey(inv.Email),
		UpdateExpression: aws.String("SET last_id = :id, last_at = :at, #type = :type ADD version :one"),
		ExpressionAttributeNames: map[string]string{
			"#type": "type",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": str(inv.ID), ":at": str(formatTime(inv.QuietFrom())), ":type": str(typeSurveyPerson), ":one": num(1),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}
	if personVersion != 0 {
		person.ConditionExpression = aws.String("version = :prev")
		person.ExpressionAttributeValues[":prev"] = num(personVersion)
	}
	items := []types.TransactWriteItem{
		putItem(s.Table, toSurveyItem(inv), "attribute_not_exists(pk)"),
		{Update: person},
		armTimer(s.Table, send),
	}
	err := transact(ctx, s.Client, s.Table, items, nil)
	reasons := cancellation(err)
	switch {
	case err == nil:
		return nil
	case reasonCode(reasons, 0) == "ConditionalCheckFailed":
		return crm.Errorf(crm.ECONFLICT, "survey invitation %s exists", inv.ID)
	case reasonCode(reasons, 1) == "ConditionalCheckFailed":
		return crm.Errorf(crm.ECONFLICT, "the person's survey record has changed; read it again")
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return err
	}
	return internal("schedule survey invitation "+inv.ID, err)
}

// Invitation implements survey.Store with one consistent read.
func (s *SurveyStore) Invitation(ctx context.Context, id string) (survey.Invitation, error) {
	it, err := getItem[surveyItem](ctx, s.Client, s.Table, surveyPrefix+id, surveySK, "survey invitation "+id)
	return toInvitation(it.invitationAttrs), err
}

// Settle implements survey.Store in one transaction: the invitation if
// still at version s.Prev, its timers cancelled, one more invitation sent
// on the day, its events, and the person's quiet period when their record
// names this invitation — given back when it is cancelled, reckoned from
// its sending when it is sent. Whether the record names it is not read
// first: the record's update is conditioned on it, and when that is all
// that failed (the invitation never held the period, or another took it
// since) the transaction is written again without it.
func (s *SurveyStore) Settle(ctx context.Context, st survey.Settlement) error {
	inv := st.Invitation
	p := putItem(s.Table, toSurveyItem(inv), "version = :prev")
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(st.Prev)}
	p.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	rest := timerWrites(s.Table, nil, st.CancelTimers)
	if inv.Status == survey.StatusSent && st.Day != "" {
		sent, err := s.tallyAdd(st.Day, sentTally, inv.ID, map[string]int64{sentTally: 1})
		if err != nil {
			return err
		}
		rest = append(rest, sent)
	}
	person, withPerson := s.settlePerson(inv)
	for {
		items := []types.TransactWriteItem{p}
		if withPerson {
			items = append(items, person)
		}
		items = append(items, rest...)
		err := transact(ctx, s.Client, s.Table, items, st.Events)
		reasons := cancellation(err)
		if withPerson && reasonCode(reasons, 1) == "ConditionalCheckFailed" && reasonCode(reasons, 0) != "ConditionalCheckFailed" {
			withPerson = false // the record does not name this invitation: leave it alone
			continue
		}
		return versionedWriteError("survey invitation", inv.ID, err)
	}
}

// settlePerson is the update of the person's record that a settled
// invitation makes if the record names it: a cancelled one gives the quiet
// period back, a sent one holds it from its sending. False for any other
// status.
func (s *SurveyStore) settlePerson(inv survey.Invitation) (types.TransactWriteItem, bool) {
	u := &types.Update{
		TableName:                 aws.String(s.Table),
		Key:                       personKey(inv.Email),
		ConditionExpression:       aws.String("last_id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(inv.ID), ":one": num(1)},
	}
	switch inv.Status {
	case survey.StatusCancelled:
		u.UpdateExpression = aws.String("REMOVE last_id, last_at ADD version :one")
	case survey.StatusSent:
		u.UpdateExpression = aws.String("SET last_at = :at ADD version :one")
		u.ExpressionAttributeValues[":at"] = str(formatTime(inv.QuietFrom()))
	default:
		return types.TransactWriteItem{}, false
	}
	return types.TransactWriteItem{Update: u}, true
}

// Answer implements survey.Store in one transaction: the invitation
// answered if it is still sent at version prev, the answer's items (see
// toAnswerItems), its day's tallies and its events. Of answers racing for
// one invitation exactly one writes; the others get survey.ErrAnswered.
func (s *SurveyStore) Answer(ctx context.Context, inv survey.Invitation, prev int64, a survey.Answer, day string, evs []events.Envelope) error {
	p := putItem(s.Table, toSurveyItem(inv), "version = :prev AND #status = :sent")
	p.Put.ExpressionAttributeNames = map[string]string{"#status": "status"}
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(prev), ":sent": str(string(survey.StatusSent))}
	items := []types.TransactWriteItem{p}
	for _, it := range toAnswerItems(inv, a) {
		items = append(items, putItem(s.Table, it, "attribute_not_exists(pk)"))
	}
	tallies, err := s.tallyWrites(inv.ID, day, a.Ratings, 1)
	if err != nil {
		return err
	}
	items = append(items, tallies...)
	err = transact(ctx, s.Client, s.Table, items, evs)
	reasons := cancellation(err)
	switch {
	case err == nil:
		return nil
	case reasonCode(reasons, 0) == "ConditionalCheckFailed" || reasonCode(reasons, 1) == "ConditionalCheckFailed":
		return survey.ErrAnswered
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return err
	}
	return internal("answer survey invitation "+inv.ID, err)
}

// AnswerOf implements survey.Store with one consistent read.
func (s *SurveyStore) AnswerOf(ctx context.Context, invitationID string) (survey.Answer, error) {
	it, err := getItem[surveyAnswerItem](ctx, s.Client, s.Table, surveyPrefix+invitationID, answerSK, "answer to survey invitation "+invitationID)
	if err != nil {
		return survey.Answer{}, err
	}
	return toResponse(it).Answer, nil
}

// OptOut implements survey.Store in one transaction: the person's record
// opted out unless it is already, and the events. It adds one to the
// record's version, so that an invitation being scheduled from the record
// as it was is refused and decided again.
func (s *SurveyStore) OptOut(ctx context.Context, email string, at time.Time, evs []events.Envelope) error {
	u := &types.Update{
		TableName:                aws.String(s.Table),
		Key:                      personKey(email),
		UpdateExpression:         aws.String("SET opted_out = :true, opted_out_at = :at, #type = :type ADD version :one"),
		ConditionExpression:      aws.String("attribute_not_exists(opted_out) OR opted_out = :false"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true": &types.AttributeValueMemberBOOL{Value: true}, ":false": &types.AttributeValueMemberBOOL{Value: false},
			":at": str(formatTime(at)), ":type": str(typeSurveyPerson), ":one": num(1),
		},
	}
	err := transact(ctx, s.Client, s.Table, []types.TransactWriteItem{{Update: u}}, evs)
	switch {
	case err == nil:
		return nil
	case reasonCode(cancellation(err), 0) == "ConditionalCheckFailed":
		return nil // opted out before: nothing changes, no event
	case crm.ErrorCode(err) != crm.EINTERNAL:
		return err
	}
	return internal("opt out of surveys", err)
}
