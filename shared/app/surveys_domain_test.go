package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/survey"
	"github.com/rapportcrm/rapport/shared/ticket"
	"github.com/rapportcrm/rapport/shared/timer"
)

// These tests feed the reminders function the events the real stores and
// sweep write, with the survey rule followed too, and read what a person
// would notice: the mail in the outbox, the invitations and the tasks.

// settle delivers pending events until none is left (an event's handling
// may publish more) and returns the mail sent meanwhile.
func (d *desk) settle(t *testing.T) []email.Message {
	t.Helper()
	var out []email.Message
	for range 20 {
		pending := d.pending(t)
		if len(pending) == 0 {
			return append(out, d.mail.take()...)
		}
		for _, env := range pending {
			d.deliver(t, env)
		}
		out = append(out, d.mail.take()...)
	}
	t.Fatal("events keep coming")
	return nil
}

// surveys is the surveys domain on the desk's table, for what the surveys
// function does: reading invitations and taking answers.
func (d *desk) surveys() *survey.Service {
	return &survey.Service{Store: &dynamo.SurveyStore{Client: d.client, Table: d.table},
		Policy: survey.Policy{Settings: d.cfg.Surveys}, Calendar: d.cfg.Calendar, Now: func() time.Time { return d.now }}
}

// published returns the events of detailType in the table's outbox,
// delivered or not.
func (d *desk) published(t *testing.T, detailType string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	in := &dynamodb.ScanInput{ // a test's own small table: a scan is fine here
		TableName:        aws.String(d.table),
		FilterExpression: aws.String("begins_with(pk, :evt) AND detail_type = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":evt": &types.AttributeValueMemberS{Value: schema.OutboxPrefix}, ":t": &types.AttributeValueMemberS{Value: detailType}},
	}
	for {
		page, err := d.client.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out = append(out, json.RawMessage(it["detail"].(*types.AttributeValueMemberS).Value))
		}
		if page.LastEvaluatedKey == nil {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// invited returns the survey.invited events published.
func (d *desk) invited(t *testing.T) []events.SurveyInvited {
	t.Helper()
	var out []events.SurveyInvited
	for _, raw := range d.published(t, events.SurveyInvitedType) {
		var e events.SurveyInvited
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// invitationMail returns the survey invitations among ms.
func invitationMail(ms []email.Message) []email.Message {
	var out []email.Message
	for _, m := range ms {
		if strings.HasPrefix(m.Thread, "survey/") {
			out = append(out, m)
		}
	}
	return out
}

var answerLink = regexp.MustCompile(`https://crm\.example\.com/s/([A-Za-z0-9_-]+)\?score=(\d+)`)

// openInvitation reads an invitation mail as its person would: it checks
// that every one-click link's token opens the same invitation, until the
// invitation expires, and that the unsubscribe link is the page's, and
// returns the invitation and the scores offered.
func (d *desk) openInvitation(t *testing.T, m email.Message) (survey.Invitation, []int) {
	t.Helper()
	var id string
	var scores []int
	var expires time.Time
	for _, found := range answerLink.FindAllStringSubmatch(m.Text, -1) {
		c, err := d.ring.Verify(found[1], links.Survey, d.now)
		if err != nil || (id != "" && c.ID != id) {
			t.Fatalf("the token of %s: %+v, %v", found[0], c, err)
		}
		id, expires = c.ID, c.Expires
		s, _ := strconv.Atoi(found[2])
		scores = append(scores, s)
		if !strings.Contains(m.HTML, found[0]) {
			t.Errorf("the HTML part lacks %s", found[0])
		}
	}
	if id == "" {
		t.Fatalf("%q has no one-click answers:\n%s", m.Subject, m.Text)
	}
	inv, err := d.surveys().Invitation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != survey.StatusSent || inv.ExpiresAt == nil || !expires.Equal(inv.ExpiresAt.Truncate(time.Second)) {
		t.Errorf("invitation %s is %s, expires %v; its links expire %s", id, inv.Status, inv.ExpiresAt, expires)
	}
	if m.To[0] != inv.Email || !strings.HasSuffix(m.Unsubscribe, "/unsubscribe") || !strings.Contains(m.Text, m.Unsubscribe) {
		t.Errorf("to %v (invitation's %s), unsubscribe %q", m.To, inv.Email, m.Unsubscribe)
	}
	return inv, scores
}

func scale(lo, hi int) string {
	var s []int
	for n := lo; n <= hi; n++ {
		s = append(s, n)
	}
	return fmt.Sprint(s)
}

// customer captures a lead for addr, gives it to owner ("" leaves it
// unassigned) and converts it, and returns the customer's id.
func (d *desk) customer(t *testing.T, addr, owner string) string {
	t.Helper()
	ctx := context.Background()
	leads := &crm.LeadService{Store: &dynamo.LeadStore{Client: d.client, Table: d.table}, Now: func() time.Time { return d.now },
		DuplicateWindow: d.cfg.DuplicateWindow}
	res, err := leads.Capture(ctx, crm.Submission{Name: "Grace", Email: addr, Source: "website"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if owner != "" {
		l, err := leads.LeadDetail(ctx, res.LeadID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leads.UpdateLead(ctx, "manager-1", res.LeadID, l.Lead.Version, crm.LeadChange{Owner: &owner}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := leads.Convert(ctx, owner, res.LeadID, crm.Conversion{Deal: crm.Money{Currency: "EUR", Minor: 120000}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// surveyTasks returns the open survey follow-ups about a customer.
func (d *desk) surveyTasks(t *testing.T, customerID string) []followup.Task {
	t.Helper()
	all, err := (&dynamo.FollowupStore{Client: d.client, Table: d.table}).OpenFor(context.Background(),
		followup.Subject{Kind: followup.SubjectCustomer, ID: customerID})
	if err != nil {
		t.Fatal(err)
	}
	var out []followup.Task
	for _, task := range all {
		if task.Kind == followup.KindSurvey {
			out = append(out, task)
		}
	}
	return out
}

// A solved ticket's requester gets the CSAT invitation an hour later, by
// mail, once: five one-click answers whose tokens open that invitation.
// Redelivering every event mails nobody again, and a second ticket of
// theirs solved within the quiet period invites nobody.
func TestSolvedTicketInvitesItsRequesterOnceAfterTheDelay(t *testing.T) {
	d := newDesk(t)
	d.follow("reminders-surveys")
	id := d.submit(t, "Grace", "grace@example.com", "Printer on fire")
	d.update(t, id, ticket.Patch{Owner: ptr("agent-1")})
	d.now = d.now.Add(time.Hour)
	d.update(t, id, ticket.Patch{Status: ptr("solved")})
	if ms := d.settle(t); len(ms) != 2 || len(invitationMail(ms)) != 0 {
		t.Fatalf("the acknowledgement and the solve mailed %v", recipients(ms))
	}

	d.advance(t, 59*time.Minute)
	if ms := d.settle(t); len(ms) != 0 {
		t.Fatalf("a minute before the delay, %v were mailed", recipients(ms))
	}
	d.advance(t, 2*time.Minute)
	ms := d.settle(t)
	if len(ms) != 1 || len(invitationMail(ms)) != 1 || ms[0].To[0] != "grace@example.com" {
		t.Fatalf("after the delay mailed %v, want Grace's invitation", recipients(ms))
	}
	m := ms[0]
	if m.Subject != "How did we do with your request to Acme?" {
		t.Errorf("subject %q", m.Subject)
	}
	inv, scores := d.openInvitation(t, m)
	if got := fmt.Sprint(scores); got != scale(1, 5) {
		t.Errorf("one-click answers %s, want CSAT's %s", got, scale(1, 5))
	}
	mustContain(t, "the invitation", m.Text, "ticket reference "+id, "How satisfied are you with how we handled your request?", "one more question")
	if inv.Reason != survey.AfterTicket || inv.TicketID != id || inv.Owner != "agent-1" || inv.Team != "support" ||
		!slices.Equal(inv.Questions, []survey.Question{survey.CSAT, survey.CES}) {
		t.Errorf("invitation %+v", inv)
	}
	if ev := d.invited(t); len(ev) != 1 || ev[0].InvitationID != inv.ID {
		t.Errorf("survey.invited published %+v, want one for %s", ev, inv.ID)
	}
	if again := d.redeliver(t); len(again) != 0 {
		t.Fatalf("redelivering every event mailed %v again", recipients(again))
	}

	// Another request of Grace's, solved a day later: she was invited
	// within the quiet period, so she is not asked again.
	d.now = d.now.Add(24 * time.Hour)
	second := d.submit(t, "Grace", "grace@example.com", "Toner")
	d.update(t, second, ticket.Patch{Status: ptr("solved")})
	d.settle(t)
	d.advance(t, 61*time.Minute)
	if ms := invitationMail(d.settle(t)); len(ms) != 0 {
		t.Fatalf("a second solve within 30 days mailed %v", recipients(ms))
	}
	if ev := d.invited(t); len(ev) != 1 {
		t.Errorf("%d invitations sent, want 1", len(ev))
	}
}

// A ticket reopened before the delay invites nobody: its invitation is
// cancelled and its timer with it.
func TestReopenedTicketInvitesNobody(t *testing.T) {
	d := newDesk(t)
	d.follow("reminders-surveys")
	id := d.submit(t, "Grace", "grace@example.com", "Printer on fire")
	d.update(t, id, ticket.Patch{Status: ptr("solved")})
	solvedAt := *d.ticket(t, id).SolvedAt
	d.settle(t)

	d.now = d.now.Add(30 * time.Minute)
	if a, err := d.tickets.CustomerAnswer(context.Background(), id, "Still smoking."); err != nil || !a.Reopened {
		t.Fatalf("answer: %+v, %v", a, err)
	}
	d.settle(t)
	d.advance(t, 31*time.Minute)
	if ms := invitationMail(d.settle(t)); len(ms) != 0 {
		t.Fatalf("a reopened ticket mailed %v", recipients(ms))
	}
	if due, invited := d.published(t, events.SurveyDueType), d.invited(t); len(due)+len(invited) != 0 {
		t.Fatalf("%d survey.due and %d survey.invited published", len(due), len(invited))
	}
	inv, err := d.surveys().Invitation(context.Background(), survey.AfterTicketID(id, solvedAt))
	if err != nil || inv.Status != survey.StatusCancelled || inv.CancelReason != survey.TicketReopened {
		t.Fatalf("the invitation: %s (%s), %v", inv.Status, inv.CancelReason, err)
	}
}

// An unhappy answer makes one follow-up task about the customer, however
// often its event is delivered: for the ticket's owner — here nobody, so
// the unassigned queue — due the next working morning, the scores and the
// comment in its note.
func TestUnhappyAnswerMakesOneFollowUp(t *testing.T) {
	d := newDesk(t)
	d.follow("reminders-surveys")
	customer := d.customer(t, "grace@example.com", "")
	id := d.submit(t, "Grace", "grace@example.com", "Printer on fire")
	if c := d.ticket(t, id).CustomerID; c != customer {
		t.Fatalf("the ticket's customer is %q, want %s", c, customer)
	}
	d.update(t, id, ticket.Patch{Status: ptr("solved")})
	d.settle(t)
	d.advance(t, 61*time.Minute)
	ms := invitationMail(d.settle(t))
	if len(ms) != 1 {
		t.Fatalf("mailed %d invitations", len(ms))
	}
	inv, _ := d.openInvitation(t, ms[0])

	// Grace answers on Monday afternoon in Berlin.
	d.now = time.Date(2026, 3, 9, 15, 30, 0, 0, time.UTC)
	_, err := d.surveys().Answer(context.Background(), inv.ID, map[string][]string{
		"csat": {"1"}, "ces": {"2"}, survey.CommentField: {"Nobody called me back <b>twice</b>."}})
	if err != nil {
		t.Fatal(err)
	}
	d.settle(t)
	d.redeliver(t)
	tasks := d.surveyTasks(t, customer)
	if len(tasks) != 1 {
		t.Fatalf("%d survey follow-ups, want 1: %+v", len(tasks), tasks)
	}
	task := tasks[0]
	tuesday := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC) // 09:00 in Berlin
	if task.Owner != "" || !task.DueAt.Equal(tuesday) {
		t.Errorf("the follow-up is %q's, due %s; want the unassigned queue's, due %s", task.Owner, task.DueAt, tuesday)
	}
	mustContain(t, "the follow-up's note", task.Note, "after ticket "+id, "CSAT 1/5", "CES 2/7", "Comment: Nobody called me back")
	if strings.Contains(task.Note, "<b>") {
		t.Errorf("the note keeps the comment's markup: %s", task.Note)
	}
}

// A new customer's first conversion starts their relationship rhythm: 30
// days later they get an NPS invitation with eleven one-click answers, for
// the owner of the lead that won them, and 90 days after that the next.
// A detractor's answer goes to that owner.
func TestRelationshipRhythm(t *testing.T) {
	d := newDesk(t)
	d.follow("reminders-leads", "reminders-surveys")
	customer := d.customer(t, "grace@example.com", "agent-1")
	d.settle(t)

	d.advance(t, 30*24*time.Hour-time.Minute)
	if ms := invitationMail(d.settle(t)); len(ms) != 0 {
		t.Fatalf("before 30 days mailed %v", recipients(ms))
	}
	d.advance(t, 2*time.Minute)
	ms := invitationMail(d.settle(t))
	if len(ms) != 1 || ms[0].To[0] != "grace@example.com" {
		t.Fatalf("after 30 days mailed %v, want Grace's invitation", recipients(ms))
	}
	first, scores := d.openInvitation(t, ms[0])
	if got := fmt.Sprint(scores); got != scale(0, 10) {
		t.Errorf("one-click answers %s, want NPS's %s", got, scale(0, 10))
	}
	if ms[0].Subject != "A quick question from Acme" {
		t.Errorf("subject %q", ms[0].Subject)
	}
	mustContain(t, "the invitation", ms[0].Text, "How likely are you to recommend Acme to a friend or colleague?")
	if first.Reason != survey.Relationship || first.CustomerID != customer || first.Owner != "agent-1" || first.Team != "support" {
		t.Errorf("invitation %+v", first)
	}

	d.advance(t, 90*24*time.Hour-2*time.Minute)
	if ms := invitationMail(d.settle(t)); len(ms) != 0 {
		t.Fatalf("before 90 more days mailed %v", recipients(ms))
	}
	d.advance(t, 2*time.Minute)
	ms = invitationMail(d.settle(t))
	if len(ms) != 1 {
		t.Fatalf("after 90 more days mailed %v, want Grace's second invitation", recipients(ms))
	}
	second, _ := d.openInvitation(t, ms[0])
	if second.ID == first.ID || second.Reason != survey.Relationship {
		t.Errorf("second invitation %+v", second)
	}
	if again := invitationMail(d.redeliver(t)); len(again) != 0 {
		t.Fatalf("redelivering every event mailed %v again", recipients(again))
	}

	if _, err := d.surveys().Answer(context.Background(), second.ID, map[string][]string{"nps": {"3"}}); err != nil {
		t.Fatal(err)
	}
	d.settle(t)
	if tasks := d.surveyTasks(t, customer); len(tasks) != 1 || tasks[0].Owner != "agent-1" {
		t.Fatalf("survey follow-ups %+v, want one for agent-1", tasks)
	}
}

// armsFailing fails its first arming, as a throttled write would.
type armsFailing struct {
	timers survey.Timers
	fails  int
}

func (a *armsFailing) Arm(ctx context.Context, ts ...timer.Timer) error {
	if a.fails > 0 {
		a.fails--
		return errors.New("throttled")
	}
	return a.timers.Arm(ctx, ts...)
}

// grace is the directory of one customer.
type grace struct{ customerID string }

func (g grace) TicketRequester(context.Context, string) (survey.Contact, error) {
	return survey.Contact{}, crm.Errorf(crm.ENOTFOUND, "no ticket")
}

func (g grace) Customer(context.Context, string) (survey.Contact, error) {
	return survey.Contact{Email: "grace@example.com", CustomerID: g.customerID}, nil
}

// A relationship timer whose handling fails after the invitation went out
// (arming the next timer failed) is retried, and the retry arms the next
// one: the rhythm goes on, and the invitation is mailed once.
func TestRelationshipRhythmSurvivesARetry(t *testing.T) {
	d := newDesk(t)
	d.follow("reminders-leads", "reminders-surveys")
	customer := d.customer(t, "grace@example.com", "")
	d.settle(t)
	d.advance(t, 30*24*time.Hour+time.Minute)
	var due []events.Envelope
	for _, env := range d.pending(t) {
		if env.DetailType == events.SurveyDueType {
			due = append(due, env)
		}
	}
	if len(due) != 1 {
		t.Fatalf("%d survey.due fired, want the relationship timer", len(due))
	}
	svc := d.surveys()
	svc.Directory = grace{customer}
	svc.Timers = &armsFailing{timers: &dynamo.TimerStore{Client: d.client, Table: d.table}, fails: 1}
	var e events.SurveyDue
	if err := json.Unmarshal(due[0].Detail, &e); err != nil {
		t.Fatal(err)
	}
	if err := svc.Due(context.Background(), e); err == nil {
		t.Fatal("a failed arming reported success")
	}
	if err := svc.Due(context.Background(), e); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	d.delivered[due[0].ID] = true
	if ms := invitationMail(d.settle(t)); len(ms) != 1 {
		t.Fatalf("mailed %d invitations, want 1", len(ms))
	}
	d.advance(t, 90*24*time.Hour)
	if ms := invitationMail(d.settle(t)); len(ms) != 1 {
		t.Fatalf("90 days later mailed %d invitations, want the next one", len(ms))
	}
}

// ticket.solved both mails the requester and schedules the invitation.
// When the mail fails, the invitation is scheduled all the same, and the
// event's retry sends the mail once and makes no second invitation.
func TestSolvedMailAndInvitationBothRunAndNeitherDoubles(t *testing.T) {
	d := newDesk(t)
	d.follow("reminders-surveys")
	id := d.submit(t, "Grace", "grace@example.com", "Printer on fire")
	d.settle(t)
	d.update(t, id, ticket.Patch{Status: ptr("solved")})
	solvedAt := *d.ticket(t, id).SolvedAt
	solved := d.pending(t)
	if len(solved) != 1 || solved[0].DetailType != events.TicketSolvedType {
		t.Fatalf("pending %v, want ticket.solved", solved)
	}
	d.mail.fail = errors.New("throttled")
	err := d.handler(context.Background(), lambdaevents.EventBridgeEvent{ID: solved[0].ID, Source: solved[0].Source,
		DetailType: solved[0].DetailType, Detail: solved[0].Detail})
	if err == nil {
		t.Fatal("a failed solve mail reported success")
	}
	if inv, err := d.surveys().Invitation(context.Background(), survey.AfterTicketID(id, solvedAt)); err != nil || inv.Status != survey.StatusScheduled {
		t.Fatalf("after the failed mail the invitation is %s, %v; want scheduled", inv.Status, err)
	}
	d.mail.fail = nil
	for range 2 { // the retry, and a redelivery
		d.deliver(t, solved[0])
	}
	if ms := d.mail.take(); len(ms) != 1 || !strings.HasPrefix(ms[0].Subject, "Solved:") {
		t.Fatalf("the retries mailed %v, want the solve once", recipients(ms))
	}
	d.advance(t, 61*time.Minute)
	if ms := invitationMail(d.settle(t)); len(ms) != 1 {
		t.Fatalf("mailed %d invitations, want 1", len(ms))
	}
}

// What the reminders function's survey work costs in DynamoDB requests,
// step by step, from a solve to the detractor's task: a handful each,
// whatever the table holds.
func TestSurveyWorkCost(t *testing.T) {
	d := newDesk(t)
	d.follow("reminders-surveys")
	d.customer(t, "grace@example.com", "")
	id := d.submit(t, "Grace", "grace@example.com", "Printer on fire")
	d.advance(t, 0) // the function's first sweep reads back to its checkpoint
	d.settle(t)
	d.update(t, id, ticket.Patch{Status: ptr("solved")})
	step := func(name string, max int, deliver func()) {
		t.Helper()
		d.calls.Reset()
		deliver()
		c := d.calls.Cost()
		t.Logf("%-52s %2d requests %v, %.1f RCU, %.1f WCU", name, c.Total(), c.Requests, c.RCU, c.WCU)
		if c.Total() > max {
			t.Errorf("%s: %d requests, want at most %d", name, c.Total(), max)
		}
	}
	step("ticket.solved (the solve's mail and the invitation)", 8, func() { d.settle(t) })
	d.now = d.now.Add(61 * time.Minute)
	step("the sweep that fires the send timer", 3, func() { d.advance(t, 0) })
	due := d.pending(t)
	step("survey.due (send)", 4, func() { d.deliver(t, due[0]) })
	invited := d.pending(t)
	step("survey.invited (the mail)", 4, func() { d.deliver(t, invited[0]) })
	inv, _ := d.openInvitation(t, d.mail.take()[0])
	if _, err := d.surveys().Answer(context.Background(), inv.ID, map[string][]string{"csat": {"2"}}); err != nil {
		t.Fatal(err)
	}
	responded := d.pending(t)
	step("survey.responded (the follow-up task)", 4, func() { d.deliver(t, responded[0]) })
	step("survey.responded again", 4, func() { d.deliver(t, responded[0]) })
}
