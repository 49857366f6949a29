package surveymail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/survey"
	"github.com/rapportcrm/rapport/shared/surveymail"
)

// The invitations are a fake here: what is tested is the mail and what
// the notifier does when the transport refuses or fails. The mail log is
// the real one. The invitations' own life is tested through the reminders
// function in shared/app.

type invitations map[string]survey.Invitation

func (f invitations) Invitation(_ context.Context, id string) (survey.Invitation, error) {
	if inv, ok := f[id]; ok {
		return inv, nil
	}
	return survey.Invitation{}, crm.Errorf(crm.ENOTFOUND, "no invitation %s", id)
}

// outbox records what is sent, and fails the sends while fail is set.
type outbox struct {
	mu   sync.Mutex
	fail error
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

var (
	now     = time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	expires = now.Add(30 * 24 * time.Hour)
	berlin  = mustZone("Europe/Berlin")
)

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

func sent(id string, reason survey.Reason, qs ...survey.Question) survey.Invitation {
	at, until := now, expires
	inv := survey.Invitation{ID: id, Email: "grace@example.com", CustomerID: "01KC0000000000000000000000", Questions: qs,
		Reason: reason, Status: survey.StatusSent, CreatedAt: now.Add(-time.Hour), DueAt: now, SentAt: &at, ExpiresAt: &until, Version: 2}
	if reason == survey.AfterTicket {
		inv.TicketID = "01KT0000000000000000000000"
	}
	return inv
}

func newNotifier(t *testing.T, invs invitations, out *outbox, logs *bytes.Buffer) (*surveymail.Notifier, *links.Keyring) {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	key, err := links.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := links.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return &surveymail.Notifier{
		Invitations: invs, Links: ring, Mail: out, Log: &dynamo.MailLog{Client: client, Table: table},
		AppURL: "https://crm.example.com", OrgName: "Acme & Co", OrgZone: berlin,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: func() time.Time { return now },
	}, ring
}

func invited(id string) events.SurveyInvited {
	return events.SurveyInvited{Metadata: events.Metadata{EventID: "evt-" + id, OccurredAt: now},
		SurveyInvitation: events.SurveyInvitation{InvitationID: id}}
}

var surveyLink = regexp.MustCompile(`https://crm\.example\.com/s/([A-Za-z0-9_-]+)(\?score=\d+|/unsubscribe)?`)

// links returns the survey links of a text part: the one-click answers
// by score, the plain link and the unsubscribe link, and checks that each
// token opens invitation id until it expires.
func surveyLinks(t *testing.T, ring *links.Keyring, text, id string) (scores []int, plain, unsubscribe int) {
	t.Helper()
	for _, m := range surveyLink.FindAllStringSubmatch(text, -1) {
		c, err := ring.Verify(m[1], links.Survey, now)
		if err != nil || c.ID != id {
			t.Fatalf("the token of %s: %+v, %v; want invitation %s", m[0], c, err, id)
		}
		if !c.Expires.Equal(expires) {
			t.Errorf("the link expires %s, want the invitation's %s", c.Expires, expires)
		}
		if _, err := ring.Verify(m[1], links.Ticket, now); err == nil {
			t.Errorf("a survey token opens a ticket page")
		}
		switch {
		case m[2] == "/unsubscribe":
			unsubscribe++
		case m[2] == "":
			plain++
		default:
			s, _ := strconv.Atoi(strings.TrimPrefix(m[2], "?score="))
			scores = append(scores, s)
		}
	}
	return scores, plain, unsubscribe
}

func seq(lo, hi int) []int {
	var out []int
	for s := lo; s <= hi; s++ {
		out = append(out, s)
	}
	return out
}

// A relationship invitation offers NPS as eleven one-click answers, 0 to
// 10, each a link to the survey page with the score chosen, signed for the
// invitation until it expires; a plain link to the page; an unsubscribe
// link, also in the List-Unsubscribe header. Both parts say the same, and
// nothing in the mail fetches anything or tracks the reader.
func TestNPSInvitation(t *testing.T) {
	out := &outbox{}
	id := "01KN0000000000000000000001"
	n, ring := newNotifier(t, invitations{id: sent(id, survey.Relationship, survey.NPS)}, out, &bytes.Buffer{})
	if err := n.Invited(context.Background(), invited(id)); err != nil {
		t.Fatal(err)
	}
	if len(out.sent) != 1 {
		t.Fatalf("%d mails, want 1", len(out.sent))
	}
	m := out.sent[0]
	if m.To[0] != "grace@example.com" || m.Subject != "A quick question from Acme & Co" || m.Thread != "survey/"+id {
		t.Errorf("to %v, subject %q, thread %q", m.To, m.Subject, m.Thread)
	}
	scores, plain, unsub := surveyLinks(t, ring, m.Text, id)
	if fmt.Sprint(scores) != fmt.Sprint(seq(0, 10)) || plain != 1 || unsub != 1 {
		t.Fatalf("text links: scores %v, %d plain, %d unsubscribe:\n%s", scores, plain, unsub, m.Text)
	}
	scores, plain, unsub = surveyLinks(t, ring, m.HTML, id)
	if fmt.Sprint(scores) != fmt.Sprint(seq(0, 10)) || plain != 1 || unsub != 1 {
		t.Fatalf("HTML links: scores %v, %d plain, %d unsubscribe:\n%s", scores, plain, unsub, m.HTML)
	}
	if u, err := url.Parse(m.Unsubscribe); err != nil || !strings.HasSuffix(u.Path, "/unsubscribe") || !strings.Contains(m.Text, m.Unsubscribe) {
		t.Errorf("unsubscribe header %q", m.Unsubscribe)
	}
	mustContain(t, "the text", m.Text,
		"How likely are you to recommend Acme & Co to a friend or colleague?",
		"0 – not at all likely: https://", "10 – extremely likely: https://",
		"it counts once you send it from there", "until Wednesday 8 April 2026")
	mustContain(t, "the HTML", m.HTML, "recommend Acme &amp; Co", `aria-label="10 – extremely likely"`, "Not at all likely", "Extremely likely")
	for _, tracker := range []string{"<img", "background=", "url(", "<link", "<script"} {
		if strings.Contains(strings.ToLower(m.HTML), tracker) {
			t.Errorf("the HTML part has %q", tracker)
		}
	}
	hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(m.HTML, -1)
	if len(hrefs) != 13 {
		t.Errorf("the HTML part has %d links, want 13 (eleven answers, the page, unsubscribe)", len(hrefs))
	}
	for _, h := range hrefs {
		if !strings.HasPrefix(h[1], "https://crm.example.com/s/") {
			t.Errorf("a link leaves the survey: %s", h[1])
		}
	}
}

// After a ticket the mail asks CSAT with five answers named by what they
// mean, names the ticket, and says the page asks one more question.
func TestCSATInvitationAfterATicket(t *testing.T) {
	out := &outbox{}
	id := "01KN0000000000000000000002"
	n, ring := newNotifier(t, invitations{id: sent(id, survey.AfterTicket, survey.CSAT, survey.CES)}, out, &bytes.Buffer{})
	n.OrgName = ""
	if err := n.Invited(context.Background(), invited(id)); err != nil {
		t.Fatal(err)
	}
	m := out.sent[0]
	if m.Subject != "How did we do with your request?" {
		t.Errorf("subject %q", m.Subject)
	}
	if scores, _, _ := surveyLinks(t, ring, m.Text, id); fmt.Sprint(scores) != fmt.Sprint(seq(1, 5)) {
		t.Fatalf("scores %v", scores)
	}
	mustContain(t, "the text", m.Text, "ticket reference 01KT0000000000000000000000", "one more question",
		"How satisfied are you with how we handled your request?", "1 – Very dissatisfied: https://", "5 – Very satisfied: https://")
}

// An invitation that asks CES first offers seven answers.
func TestCESInvitation(t *testing.T) {
	out := &outbox{}
	id := "01KN0000000000000000000003"
	n, ring := newNotifier(t, invitations{id: sent(id, survey.Manual, survey.CES, survey.NPS, survey.CSAT)}, out, &bytes.Buffer{})
	if err := n.Invited(context.Background(), invited(id)); err != nil {
		t.Fatal(err)
	}
	m := out.sent[0]
	if scores, _, _ := surveyLinks(t, ring, m.Text, id); fmt.Sprint(scores) != fmt.Sprint(seq(1, 7)) {
		t.Fatalf("scores %v", scores)
	}
	mustContain(t, "the text", m.Text, `"Acme & Co makes it easy for me to get what I need."`, "2 more questions", "7 – Strongly agree")
}

// A redelivered survey.invited mails nobody twice; a failed send fails
// the event, and its retry sends the mail once.
func TestOncePerInvitation(t *testing.T) {
	out := &outbox{fail: errors.New("throttled")}
	id := "01KN0000000000000000000004"
	n, _ := newNotifier(t, invitations{id: sent(id, survey.Relationship, survey.NPS)}, out, &bytes.Buffer{})
	if err := n.Invited(context.Background(), invited(id)); err == nil {
		t.Fatal("a failed send reported success")
	}
	out.fail = nil
	for range 3 {
		if err := n.Invited(context.Background(), invited(id)); err != nil {
			t.Fatal(err)
		}
	}
	if len(out.sent) != 1 {
		t.Fatalf("%d mails, want 1", len(out.sent))
	}
}

// An invitation gone, answered, expired or never sent by the time the
// event arrives is not mailed: its link could not be used.
func TestNoMailForAnInvitationThatCannotBeAnswered(t *testing.T) {
	answered := sent("01KN0000000000000000000005", survey.Relationship, survey.NPS)
	answered.Status = survey.StatusAnswered
	expired := sent("01KN0000000000000000000006", survey.Relationship, survey.NPS)
	past := now.Add(-time.Minute)
	expired.ExpiresAt = &past
	cancelled := sent("01KN0000000000000000000007", survey.Relationship, survey.NPS)
	cancelled.Status = survey.StatusCancelled
	out := &outbox{}
	n, _ := newNotifier(t, invitations{answered.ID: answered, expired.ID: expired, cancelled.ID: cancelled}, out, &bytes.Buffer{})
	for _, id := range []string{answered.ID, expired.ID, cancelled.ID, "01KN0000000000000000000099"} {
		if err := n.Invited(context.Background(), invited(id)); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if len(out.sent) != 0 {
		t.Fatalf("%d mails, want none", len(out.sent))
	}
}

// An address the mail service refuses for good ends the event: a retry
// could only be refused again. The log names the invitation, not the
// person.
func TestRefusedMailIsDroppedAndLoggedWithoutTheAddress(t *testing.T) {
	out := &outbox{fail: fmt.Errorf("ses: %w", email.ErrRejected)}
	var logs bytes.Buffer
	id := "01KN0000000000000000000008"
	n, _ := newNotifier(t, invitations{id: sent(id, survey.Relationship, survey.NPS)}, out, &logs)
	if err := n.Invited(context.Background(), invited(id)); err != nil {
		t.Fatalf("a refused invitation failed the event: %v", err)
	}
	if !strings.Contains(logs.String(), id) || strings.Contains(logs.String(), "grace") {
		t.Errorf("log: %s", logs.String())
	}
}

// Without a keyring or an APP_URL the mail fails, so the event is retried
// once they are there, rather than going out with links that do not work.
func TestInvitationNeedsItsLinks(t *testing.T) {
	id := "01KN0000000000000000000009"
	for name, spoil := range map[string]func(*surveymail.Notifier){
		"no keyring": func(n *surveymail.Notifier) { n.Links = nil },
		"no APP_URL": func(n *surveymail.Notifier) { n.AppURL = "" },
	} {
		out := &outbox{}
		n, _ := newNotifier(t, invitations{id: sent(id, survey.Relationship, survey.NPS)}, out, &bytes.Buffer{})
		spoil(n)
		if err := n.Invited(context.Background(), invited(id)); err == nil || len(out.sent) != 0 {
			t.Errorf("%s: err %v, sent %d", name, err, len(out.sent))
		}
	}
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}
