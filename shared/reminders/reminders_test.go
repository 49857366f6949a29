package reminders_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/reminders"
)

// outbox records what was sent; fail makes the next sends fail.
type outbox struct {
	mu   sync.Mutex
	sent []email.Message
	fail error
}

func (o *outbox) Send(_ context.Context, m email.Message) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return "", o.fail
	}
	if err := m.Validate(); err != nil {
		return "", err
	}
	o.sent = append(o.sent, m)
	return "id", nil
}

func (o *outbox) mails() []email.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]email.Message(nil), o.sent...)
}

type profiles map[string]reminders.Recipient

func (p profiles) Recipient(_ context.Context, sub string) (reminders.Recipient, error) {
	r, ok := p[sub]
	if !ok {
		return reminders.Recipient{}, crm.Errorf(crm.ENOTFOUND, "no profile")
	}
	return r, nil
}

func (p profiles) Zone(ctx context.Context, sub string) (*time.Location, error) {
	if r, ok := p[sub]; ok {
		return r.Zone, nil
	}
	return time.UTC, nil
}

type names struct{}

func (names) Describe(_ context.Context, s followup.Subject) (string, error) {
	return "Ada <Lovelace> (Analytical Engines)", nil
}

type leads []reminders.Lead

func (l leads) NewLeadsOf(context.Context, string, int) ([]reminders.Lead, error) { return l, nil }

type fixture struct {
	n     *reminders.Notifier
	tasks *followup.Service
	out   *outbox
	log   *dynamo.MailLog
	now   time.Time
	lead  string
}

func newFixture(t *testing.T, people profiles, newLeads leads) *fixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	f := &fixture{out: &outbox{}, log: &dynamo.MailLog{Client: client, Table: table}, now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	lead, err := (&crm.LeadService{Store: &dynamo.LeadStore{Client: client, Table: table}, Now: clock, DuplicateWindow: time.Hour}).
		Capture(context.Background(), crm.Submission{Name: "Ada", Email: "ada@example.com", Source: "web"}, "")
	if err != nil {
		t.Fatal(err)
	}
	f.lead = lead.LeadID
	f.tasks = &followup.Service{Store: &dynamo.FollowupStore{Client: client, Table: table}, Zones: people,
		Calendar: calendar.Default(time.UTC), OverdueAfter: 24 * time.Hour, Now: clock}
	f.n = &reminders.Notifier{
		Tasks: f.tasks, Profiles: people, Subjects: names{}, NewLeads: newLeads, Mail: f.out, Log: f.log,
		AppURL: "https://crm.example.com", SalesQueue: "sales@example.com", OrgZone: time.UTC, Now: clock,
	}
	return f
}

func (f *fixture) task(t *testing.T, owner string, due time.Time) followup.Task {
	t.Helper()
	task, err := f.tasks.Create(context.Background(), "agent-1", followup.NewTask{Subject: "lead:" + f.lead, Owner: owner, Due: followup.Due{At: &due}, Note: "Send the quote"})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func dueEvent(task followup.Task) events.FollowupDue {
	return events.FollowupDue{
		Metadata: events.Metadata{EventID: "tmr-" + task.ID, OccurredAt: task.DueAt},
		Followup: events.Followup{FollowupID: task.ID, SubjectKind: "lead", SubjectID: task.Subject.ID, Kind: string(task.Kind), Owner: task.Owner, DueAt: task.DueAt},
	}
}

var ana = reminders.Recipient{Name: "Ana", Email: "ana@example.com", Zone: time.UTC, Digest: true}

func TestDueTaskMailsItsOwnerOnce(t *testing.T) {
	f := newFixture(t, profiles{"agent-1": ana}, nil)
	ctx := context.Background()
	task := f.task(t, "agent-1", f.now)
	for range 3 { // redelivered
		if err := f.n.FollowupDue(ctx, dueEvent(task)); err != nil {
			t.Fatal(err)
		}
	}
	mails := f.out.mails()
	if len(mails) != 1 {
		t.Fatalf("sent %d mails, want 1", len(mails))
	}
	m := mails[0]
	if m.To[0] != "ana@example.com" || !strings.Contains(m.Subject, "Due now") || !strings.Contains(m.Text, "Send the quote") ||
		!strings.Contains(m.Text, "https://crm.example.com/leads/"+f.lead) || !strings.Contains(m.Text, "Wednesday 2 December 2026, 09:00 UTC") {
		t.Errorf("mail %+v", m)
	}
	if strings.Contains(m.HTML, "<Lovelace>") || !strings.Contains(m.HTML, "&lt;Lovelace&gt;") {
		t.Errorf("the HTML part does not escape the lead's name:\n%s", m.HTML)
	}
}

func TestStaleDueEventsMailNothing(t *testing.T) {
	f := newFixture(t, profiles{"agent-1": ana, "agent-2": ana}, nil)
	ctx := context.Background()
	done := f.task(t, "agent-1", f.now)
	f.tasks.Update(ctx, "agent-1", done.ID, 1, followup.Change{Status: ptr(followup.StatusDone)})
	moved := f.task(t, "agent-1", f.now)
	f.tasks.Update(ctx, "agent-1", moved.ID, 1, followup.Change{Due: followup.Due{At: ptr(f.now.Add(time.Hour))}})
	handed := f.task(t, "agent-1", f.now)
	f.tasks.Update(ctx, "agent-1", handed.ID, 1, followup.Change{Owner: ptr("agent-2")})
	for _, task := range []followup.Task{done, moved, handed} {
		if err := f.n.FollowupDue(ctx, dueEvent(task)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.out.mails()); n != 0 {
		t.Fatalf("stale events sent %d mails", n)
	}
}

func TestUnassignedTaskMailsTheSalesQueue(t *testing.T) {
	f := newFixture(t, profiles{}, nil)
	// A task made by hand is the caller's; hand it to the queue.
	task := f.task(t, "", f.now)
	task, _ = f.tasks.Update(context.Background(), "agent-1", task.ID, 1, followup.Change{Owner: ptr("")})
	if err := f.n.FollowupDue(context.Background(), dueEvent(task)); err != nil {
		t.Fatal(err)
	}
	if m := f.out.mails(); len(m) != 1 || m[0].To[0] != "sales@example.com" {
		t.Fatalf("mails %+v", m)
	}
}

func TestOwnerWithoutProfileGetsNoMail(t *testing.T) {
	f := newFixture(t, profiles{}, nil)
	task := f.task(t, "agent-9", f.now)
	if err := f.n.FollowupDue(context.Background(), dueEvent(task)); err != nil || len(f.out.mails()) != 0 {
		t.Fatalf("err %v, mails %d", err, len(f.out.mails()))
	}
}

// A sender that holds a live claim makes the other fail (to be retried);
// a failed send gives its claim back so the retry sends at once.
func TestClaimsAndFailedSends(t *testing.T) {
	f := newFixture(t, profiles{"agent-1": ana}, nil)
	ctx := context.Background()
	task := f.task(t, "agent-1", f.now)
	ev := dueEvent(task)
	if c, err := f.log.Claim(ctx, "due|"+ev.EventID, f.now, f.now.Add(time.Minute)); err != nil || c != reminders.Claimed {
		t.Fatalf("claim: %v %v", c, err)
	}
	if err := f.n.FollowupDue(ctx, ev); !errors.Is(err, reminders.ErrBusy) {
		t.Fatalf("with another sender's live claim: %v, want ErrBusy", err)
	}
	f.now = f.now.Add(2 * time.Minute) // the other sender crashed; its lease ran out
	f.out.fail = errors.New("throttled")
	if err := f.n.FollowupDue(ctx, ev); err == nil {
		t.Fatal("a failed send reported success")
	}
	f.out.fail = nil
	if err := f.n.FollowupDue(ctx, ev); err != nil || len(f.out.mails()) != 1 {
		t.Fatalf("retry after a failed send: %v, %d mails", err, len(f.out.mails()))
	}
}

func TestDigest(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ana := ana
	ana.Zone = berlin
	f := newFixture(t, profiles{"agent-1": ana}, nil)
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC) // 08:00 in Berlin
	f.now = at
	if err := f.n.Digest(ctx, "agent-1", at); err != nil || len(f.out.mails()) != 0 {
		t.Fatalf("nothing to say: %v, %d mails", err, len(f.out.mails()))
	}
	f.now = at.Add(-36 * time.Hour)
	f.task(t, "agent-1", at.Add(-24*time.Hour)) // overdue since yesterday
	f.task(t, "agent-1", at.Add(6*time.Hour))   // today, 14:00 in Berlin
	f.task(t, "agent-1", at.Add(30*time.Hour))  // tomorrow: not in today's digest
	f.now = at
	f.n.NewLeads = leads{{ID: f.lead, Name: "Grace Hopper", CapturedAt: at.Add(-time.Hour)}}
	if err := f.n.Digest(ctx, "agent-1", at); err != nil {
		t.Fatal(err)
	}
	// Later the same local day (a second timer, a DST day's repeated
	// hour): no second digest.
	if err := f.n.Digest(ctx, "agent-1", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mails := f.out.mails()
	if len(mails) != 1 {
		t.Fatalf("sent %d digests, want 1", len(mails))
	}
	m := mails[0]
	for _, want := range []string{"1 overdue", "1 due today", "1 new leads", "Wednesday 2 December 2026"} {
		if !strings.Contains(m.Subject, want) {
			t.Errorf("subject %q lacks %q", m.Subject, want)
		}
	}
	if !strings.Contains(m.Text, "Grace Hopper") || !strings.Contains(m.Text, "Wed 2 Dec 14:00") {
		t.Errorf("digest text:\n%s", m.Text)
	}
	// The next day it sends again.
	if err := f.n.Digest(ctx, "agent-1", at.Add(24*time.Hour)); err != nil || len(f.out.mails()) != 2 {
		t.Fatalf("next day: %v, %d mails", err, len(f.out.mails()))
	}
}

func TestDigestOffSendsNothing(t *testing.T) {
	off := ana
	off.Digest = false
	f := newFixture(t, profiles{"agent-1": off}, leads{{ID: "L", Name: "Grace", CapturedAt: time.Now()}})
	if err := f.n.Digest(context.Background(), "agent-1", f.now); err != nil || len(f.out.mails()) != 0 {
		t.Fatalf("%v, %d mails", err, len(f.out.mails()))
	}
}

func ptr[T any](v T) *T { return &v }
