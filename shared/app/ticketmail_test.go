package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/staff"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// outbox records the mail the handler sends: the transport is not data.
type outbox struct {
	mu   sync.Mutex
	fail error // while set, every send fails with it
	sent []email.Message
}

func (o *outbox) Send(_ context.Context, m email.Message) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return "", o.fail
	}
	o.sent = append(o.sent, m)
	return "id", nil
}

// take returns the mail sent since the last take.
func (o *outbox) take() []email.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.sent
	o.sent = nil
	return out
}

// teams reads owners' teams from their profiles, as the tickets function
// does.
type teams struct{ staff *staff.Service }

func (t teams) TeamOf(ctx context.Context, sub string) (string, error) {
	p, err := t.staff.Profile(ctx, sub)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return "", nil
	}
	return p.Team, err
}

// desk is the reminders function on a real table, with the tickets
// domain beside it to make the events it reacts to, and a movable clock.
type desk struct {
	cfg       config.Config
	client    *dynamodb.Client
	calls     *dynamotest.Counter // the reminders function's requests
	table     string
	now       time.Time
	handler   app.EventHandler
	tickets   *ticket.Service
	staff     *staff.Service
	ring      *links.Keyring
	mail      *outbox
	delivered map[string]bool
	// rules are the bus rules whose events pending returns.
	rules []manifest.Rule
}

// A Monday morning in Berlin, the organisation's zone.
var monday = time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)

func newDesk(t *testing.T) *desk {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "APP_URL": "https://crm.example.com", "ORG_TIME_ZONE": "Europe/Berlin", "ORG_NAME": "Acme"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := links.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := links.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{cfg: cfg, client: client, calls: &dynamotest.Counter{API: client}, table: table, now: monday, ring: ring, mail: &outbox{}, delivered: map[string]bool{}}
	clock := func() time.Time { return d.now }
	d.staff = &staff.Service{Store: &dynamo.StaffStore{Client: client, Table: table}, Now: clock, OrgZone: cfg.TimeZone}
	d.tickets = &ticket.Service{
		Store: &dynamo.TicketStore{Client: client, Table: table},
		Rules: ticket.Rules{Policies: cfg.SLAPolicies, Calendar: cfg.Calendar},
		Teams: teams{d.staff}, CloseAfter: cfg.TicketCloseAfter, ReopenWithin: cfg.TicketReopenWithin, Now: clock,
	}
	d.handler = app.Reminders(app.Deps{Config: cfg, DynamoDB: d.calls, Now: clock, Mail: d.mail, Links: ring,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d.follow("reminders-tickets")
	d.person(t, "agent-1", "Ana", "ana@example.com", "America/New_York", "support", "agent")
	d.person(t, "manager-1", "Max", "max@example.com", "Europe/Berlin", "support", "manager")
	d.person(t, "manager-2", "Mia", "mia@example.com", "Asia/Tokyo", "billing", "manager")
	d.person(t, "admin-1", "Ada", "ada@example.com", "Europe/Berlin", "", "admin")
	return d
}

func (d *desk) person(t *testing.T, sub, name, addr, zone, team, role string) {
	t.Helper()
	_, err := d.staff.UpdateMe(context.Background(), staff.Identity{Subject: sub, Role: role},
		staff.Settings{Name: name, Email: addr, TimeZone: zone, Team: team, DigestHour: 8}, 0)
	if err != nil {
		t.Fatal(err)
	}
}

// follow makes pending return the events of the named rules too.
func (d *desk) follow(names ...string) {
	for _, r := range manifest.Rules {
		if slices.Contains(names, r.Name) {
			d.rules = append(d.rules, r)
		}
	}
}

// matches reports whether one of the desk's rules matches an event.
func (d *desk) matches(source, detailType string) bool {
	return slices.ContainsFunc(d.rules, func(r manifest.Rule) bool {
		return r.Source == source && slices.Contains(r.DetailTypes, detailType)
	})
}

// pending returns the events in the table's outbox not yet delivered that
// the desk's rules match, oldest first.
func (d *desk) pending(t *testing.T) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	in := &dynamodb.ScanInput{ // a test's own small table: a scan is fine here
		TableName:                 aws.String(d.table),
		FilterExpression:          aws.String("begins_with(pk, :evt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":evt": &types.AttributeValueMemberS{Value: schema.OutboxPrefix}},
	}
	for {
		page, err := d.client.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			s := func(k string) string { v, _ := it[k].(*types.AttributeValueMemberS); return v.Value }
			id := strings.TrimPrefix(s("pk"), schema.OutboxPrefix)
			if d.delivered[id] || !d.matches(s("event_source"), s("detail_type")) {
				continue
			}
			at, _ := time.Parse(time.RFC3339Nano, s("event_time"))
			out = append(out, events.Envelope{ID: id, Source: s("event_source"), DetailType: s("detail_type"), Time: at, Detail: json.RawMessage(s("detail"))})
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	slices.SortFunc(out, func(a, b events.Envelope) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// deliver hands an event to the reminders function as the bus does.
func (d *desk) deliver(t *testing.T, env events.Envelope) {
	t.Helper()
	err := d.handler(context.Background(), lambdaevents.EventBridgeEvent{ID: env.ID, Source: env.Source, DetailType: env.DetailType, Detail: env.Detail})
	if err != nil {
		t.Fatalf("%s: %v", env.DetailType, err)
	}
	d.delivered[env.ID] = true
}

// flush delivers every pending event and returns the mail it sent.
func (d *desk) flush(t *testing.T) []email.Message {
	t.Helper()
	for _, env := range d.pending(t) {
		d.deliver(t, env)
	}
	return d.mail.take()
}

// redeliver delivers every event the function has seen once more, as the
// bus may.
func (d *desk) redeliver(t *testing.T) []email.Message {
	t.Helper()
	was := d.delivered
	d.delivered = map[string]bool{}
	for _, env := range d.pending(t) {
		d.deliver(t, env)
	}
	for id := range was {
		d.delivered[id] = true
	}
	return d.mail.take()
}

// advance moves the clock and runs the minute's sweep, which fires the
// timers due meanwhile into the outbox.
func (d *desk) advance(t *testing.T, by time.Duration) {
	t.Helper()
	d.now = d.now.Add(by)
	if err := d.handler(context.Background(), lambdaevents.EventBridgeEvent{DetailType: manifest.SweepDetailType}); err != nil {
		t.Fatal(err)
	}
}

func (d *desk) submit(t *testing.T, name, addr, subject string) string {
	t.Helper()
	res, err := d.tickets.Submit(context.Background(), ticket.Submission{Name: name, Email: addr, Subject: subject,
		Message: "It does not work.", Reference: "INV-7"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return res.TicketID
}

func (d *desk) ticket(t *testing.T, id string) ticket.Ticket {
	t.Helper()
	tk, err := d.tickets.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (d *desk) update(t *testing.T, id string, p ticket.Patch) ticket.Ticket {
	t.Helper()
	tk, err := d.tickets.Update(context.Background(), "agent-1", id, d.ticket(t, id).Version, p)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (d *desk) reply(t *testing.T, id, body string, public bool) {
	t.Helper()
	if _, _, err := d.tickets.Reply(context.Background(), "agent-1", id, ticket.Reply{Body: body, Public: public}); err != nil {
		t.Fatal(err)
	}
}

// replyWith replies in public and moves the ticket to status at once.
func (d *desk) replyWith(t *testing.T, id, body, status string) {
	t.Helper()
	if _, _, err := d.tickets.Reply(context.Background(), "agent-1", id, ticket.Reply{Body: body, Public: true, Status: &status}); err != nil {
		t.Fatal(err)
	}
}

var pageLink = regexp.MustCompile(`https://crm\.example\.com/t/([A-Za-z0-9_-]+)`)

// checkLink finds the requester's link in m and checks that the keyring
// signed it for ticket id, for 60 days.
func (d *desk) checkLink(t *testing.T, m email.Message, id string) {
	t.Helper()
	found := pageLink.FindStringSubmatch(m.Text)
	if found == nil {
		t.Fatalf("%q has no link to the requester's page:\n%s", m.Subject, m.Text)
	}
	c, err := d.ring.Verify(found[1], links.Ticket, d.now)
	if err != nil || c.ID != id {
		t.Fatalf("the link's token: %+v, %v; want ticket %s", c, err, id)
	}
	if want := d.now.Add(60 * 24 * time.Hour).Truncate(time.Second); !c.Expires.Equal(want) {
		t.Errorf("the link expires %s, want %s", c.Expires, want)
	}
	if !strings.Contains(m.HTML, "/t/"+found[1]) {
		t.Errorf("the HTML part lacks the link")
	}
}

func recipients(ms []email.Message) []string {
	var to []string
	for _, m := range ms {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	return to
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// The requester hears of their request, every public reply and the solve,
// each with the link to their page; the owner hears of the customer's
// answer; internal notes mail nobody; a redelivered event mails nobody
// twice.
func TestTicketMailToTheRequesterAndTheOwner(t *testing.T) {
	d := newDesk(t)
	id := d.submit(t, `Grace "Amazing" Hopper & Co`, "grace@example.com", "Invoice & credit")

	ack := d.flush(t)
	if len(ack) != 1 || ack[0].To[0] != "grace@example.com" {
		t.Fatalf("acknowledgement: %+v", recipients(ack))
	}
	m := ack[0]
	mustContain(t, "the acknowledgement's subject", m.Subject, "We have your request", "Invoice & credit")
	mustContain(t, "the acknowledgement", m.Text, `Hello Grace "Amazing" Hopper & Co`, "Ticket reference: "+id, "INV-7", "Friday 8 May 2026")
	d.checkLink(t, m, id)
	if !strings.Contains(m.HTML, "Grace &#34;Amazing&#34; Hopper &amp; Co") {
		t.Errorf("the HTML part does not escape the requester's name:\n%s", m.HTML)
	}
	if m.Thread != "ticket/"+id {
		t.Errorf("thread %q", m.Thread)
	}
	if again := d.redeliver(t); len(again) != 0 {
		t.Fatalf("a redelivered ticket.opened mailed %v again", recipients(again))
	}

	d.update(t, id, ticket.Patch{Owner: ptr("agent-1")})
	d.reply(t, id, "Checking with billing.", false)
	if notes := d.flush(t); len(notes) != 0 {
		t.Fatalf("an assignment and an internal note mailed %v", recipients(notes))
	}

	d.now = d.now.Add(time.Hour)
	d.reply(t, id, "We sent a corrected invoice.\nSorry!", true)
	rep := d.flush(t)
	if len(rep) != 1 || rep[0].To[0] != "grace@example.com" {
		t.Fatalf("public reply: %v", recipients(rep))
	}
	mustContain(t, "the reply", rep[0].Text, "We sent a corrected invoice.\nSorry!", "— Ana", id)
	mustContain(t, "the reply's subject", rep[0].Subject, "Re: Invoice & credit")
	d.checkLink(t, rep[0], id)

	if _, err := d.tickets.CustomerAnswer(context.Background(), id, "Thanks, but the total is still wrong & late."); err != nil {
		t.Fatal(err)
	}
	ans := d.flush(t)
	if got := recipients(ans); !slices.Equal(got, []string{"ana@example.com"}) {
		t.Fatalf("the customer's answer mailed %v, want the owner", got)
	}
	mustContain(t, "the owner's notice", ans[0].Text, `Grace "Amazing" Hopper & Co answered`, "the total is still wrong & late", "https://crm.example.com/tickets/"+id)
	if pageLink.MatchString(ans[0].Text) {
		t.Error("staff mail carries the requester's own link")
	}

	d.update(t, id, ticket.Patch{Status: ptr("solved")})
	solved := d.flush(t)
	if len(solved) != 1 || solved[0].To[0] != "grace@example.com" {
		t.Fatalf("solve: %v", recipients(solved))
	}
	mustContain(t, "the solve's subject", solved[0].Subject, "Solved: Invoice & credit")
	mustContain(t, "the solve", solved[0].Text, "within 7 days", "Monday 16 March 2026, 10:00 CET")
	d.checkLink(t, solved[0], id)

	if again := d.redeliver(t); len(again) != 0 {
		t.Fatalf("redelivering every event mailed %v again", recipients(again))
	}

	// Reopened by the customer, then answered and solved in one reply:
	// one mail, the reply, saying it is solved.
	if _, err := d.tickets.CustomerAnswer(context.Background(), id, "Still wrong."); err != nil {
		t.Fatal(err)
	}
	d.flush(t)
	d.now = d.now.Add(time.Hour)
	d.replyWith(t, id, "Corrected again, and refunded.", "solved")
	both := d.flush(t)
	if len(both) != 1 || both[0].To[0] != "grace@example.com" {
		t.Fatalf("a reply that solves: %v, want one mail to the requester", recipients(both))
	}
	mustContain(t, "the solving reply", both[0].Text, "Corrected again, and refunded.", "We consider your request solved", "within 7 days")
}

// A customer's answer on an unassigned ticket goes to the managers.
func TestAnswerOnAnUnassignedTicketGoesToTheManagers(t *testing.T) {
	d := newDesk(t)
	id := d.submit(t, "Grace", "grace@example.com", "Where is my order?")
	d.flush(t)
	if _, err := d.tickets.CustomerAnswer(context.Background(), id, "Any news?"); err != nil {
		t.Fatal(err)
	}
	if got := recipients(d.flush(t)); !slices.Equal(got, []string{"max@example.com", "mia@example.com"}) {
		t.Fatalf("mailed %v, want both managers", got)
	}
}

// The warning goes to the owner, or to the managers while the ticket is
// unassigned, written in each one's zone; the breach to the owner and the
// team's managers, once per address; the escalation to the admins. A
// warning for a clock that stopped meanwhile mails nobody.
func TestSLAMail(t *testing.T) {
	d := newDesk(t)
	// Opened Monday 09:00 Berlin; normal priority: first response within 8
	// business hours, so the warning falls at 15:00 Berlin and the breach
	// at 17:00.
	queue := d.submit(t, "Grace", "grace@example.com", "Unassigned")
	owned := d.submit(t, "Alan", "alan@example.com", "Owned")
	mine := d.submit(t, "Edsger", "edsger@example.com", "The manager's own")
	answered := d.submit(t, "Barbara", "barbara@example.com", "Answered in time")
	d.update(t, owned, ticket.Patch{Owner: ptr("agent-1")})
	d.update(t, mine, ticket.Patch{Owner: ptr("manager-1")})
	d.flush(t) // the acknowledgements

	d.advance(t, 6*time.Hour+time.Minute) // 15:01 Berlin: the warnings fire
	warnings := d.pending(t)
	var stale events.Envelope
	for _, env := range warnings {
		var w events.TicketSLAWarning
		json.Unmarshal(env.Detail, &w)
		if env.DetailType != events.TicketSLAWarningType || w.Clock != "first_response" {
			t.Fatalf("unexpected %s on %s", env.DetailType, w.Clock)
		}
		if w.TicketID == answered {
			stale = env
		}
	}
	if len(warnings) != 4 || stale.ID == "" {
		t.Fatalf("%d warnings fired, want 4", len(warnings))
	}
	// The answered ticket's clock stops before its warning is delivered.
	d.reply(t, answered, "On it.", true)
	d.deliver(t, stale)
	if got := recipients(d.mail.take()); len(got) != 0 {
		t.Fatalf("a warning for a stopped clock mailed %v", got)
	}

	byTicket := func(ms []email.Message) map[string][]string {
		out := map[string][]string{}
		for _, m := range ms {
			for _, id := range []string{queue, owned, mine, answered} {
				if strings.Contains(m.Text, "/tickets/"+id) {
					out[id] = append(out[id], m.To...)
				}
			}
		}
		for _, to := range out {
			slices.Sort(to)
		}
		return out
	}
	ms := d.flush(t)
	got := byTicket(ms)
	want := map[string][]string{
		queue: {"max@example.com", "mia@example.com"},
		owned: {"ana@example.com"},
		mine:  {"max@example.com"},
	}
	for id, to := range want {
		if !slices.Equal(got[id], to) {
			t.Errorf("warning of %s mailed %v, want %v", id, got[id], to)
		}
	}
	if len(recipients(ms)) != 4+1 { // the reply to Barbara, and four warnings
		t.Errorf("warnings and the reply mailed %v", recipients(ms))
	}
	for _, m := range ms {
		switch m.To[0] {
		case "ana@example.com":
			mustContain(t, "Ana's warning", m.Subject, "At risk: first response, Owned")
			mustContain(t, "Ana's warning", m.Text, "Monday 9 March 2026, 12:00 EDT", "Alan alan@example.com", "Owner: Ana")
		case "mia@example.com":
			mustContain(t, "Mia's warning", m.Text, "Tuesday 10 March 2026, 01:00 JST", "nobody: it is unassigned")
		}
	}

	d.advance(t, 2*time.Hour) // 17:01 Berlin: the breaches
	got = byTicket(d.flush(t))
	want = map[string][]string{
		queue: {"max@example.com", "mia@example.com"},
		owned: {"ana@example.com", "max@example.com"}, // the owner and her team's manager
		mine:  {"max@example.com"},                    // owner and manager: one mail
	}
	for id, to := range want {
		if !slices.Equal(got[id], to) {
			t.Errorf("breach of %s mailed %v, want %v", id, got[id], to)
		}
	}
	if _, ok := got[answered]; ok {
		t.Errorf("the answered ticket breached")
	}

	// Half the target again (4 business hours): Tuesday 13:00 Berlin. The
	// owned ticket is answered first; the others escalate to the admin.
	d.reply(t, owned, "Looking now.", true)
	d.flush(t)
	d.advance(t, 20*time.Hour)
	got = byTicket(d.flush(t))
	want = map[string][]string{queue: {"ada@example.com"}, mine: {"ada@example.com"}}
	if len(got) != 2 || !slices.Equal(got[queue], want[queue]) || !slices.Equal(got[mine], want[mine]) {
		t.Errorf("escalations mailed %v, want the admin for %s and %s", got, queue, mine)
	}
	if again := d.redeliver(t); len(again) != 0 {
		t.Fatalf("redelivering every event mailed %v again", recipients(again))
	}
}

// The auto-close closes a ticket still solved since the solve that armed
// it, once, and leaves alone one the customer reopened meanwhile.
func TestCloseDue(t *testing.T) {
	d := newDesk(t)
	kept := d.submit(t, "Grace", "grace@example.com", "Solved for good")
	reopened := d.submit(t, "Alan", "alan@example.com", "Not quite")
	d.update(t, kept, ticket.Patch{Status: ptr("solved")})
	d.update(t, reopened, ticket.Patch{Status: ptr("solved")})
	d.flush(t)

	d.advance(t, 96*time.Hour+time.Minute)
	due := d.pending(t)
	if len(due) != 2 {
		t.Fatalf("%d close_due fired, want 2", len(due))
	}
	// Alan answers before the auto-close is delivered, within the reopen
	// window: his ticket opens again.
	if a, err := d.tickets.CustomerAnswer(context.Background(), reopened, "Still broken."); err != nil || !a.Reopened {
		t.Fatalf("answer: %+v, %v", a, err)
	}
	for range 2 { // delivered twice
		for _, env := range due {
			d.deliver(t, env)
		}
	}
	k := d.ticket(t, kept)
	if k.Status != ticket.StatusClosed || k.ClosedAt == nil || !k.ClosedAt.Equal(d.now.Truncate(time.Millisecond)) {
		t.Errorf("the solved ticket: %s, closed %v", k.Status, k.ClosedAt)
	}
	if r := d.ticket(t, reopened); r.Status != ticket.StatusOpen {
		t.Errorf("the reopened ticket: %s, want open", r.Status)
	}
	d.flush(t) // Alan's answer, to the managers
	if again := d.redeliver(t); len(again) != 0 {
		t.Fatalf("redelivering every event mailed %v again", recipients(again))
	}
	page, err := d.client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(d.table),
		FilterExpression: aws.String("begins_with(pk, :evt) AND detail_type = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":evt": &types.AttributeValueMemberS{Value: schema.OutboxPrefix}, ":t": &types.AttributeValueMemberS{Value: events.TicketClosedType}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Errorf("%d ticket.closed events, want 1", len(page.Items))
	}
}

func ptr[T any](v T) *T { return &v }
