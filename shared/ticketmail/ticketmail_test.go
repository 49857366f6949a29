package ticketmail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	"github.com/rapportcrm/rapport/shared/reminders"
	"github.com/rapportcrm/rapport/shared/ticket"
	"github.com/rapportcrm/rapport/shared/ticketmail"
)

// The tickets and the staff are fakes here: what is tested is what the
// notifier does when the transport refuses or fails. The mail log is the
// real one. The tickets' own behaviour is tested through the reminders
// function in shared/app.

type tickets struct{ t ticket.Ticket }

func (f tickets) Ticket(context.Context, string) (ticket.Ticket, error) { return f.t, nil }
func (f tickets) Detail(context.Context, string) (ticket.Detail, error) {
	return ticket.Detail{Ticket: f.t}, nil
}
func (f tickets) StillDue(context.Context, events.TicketSLA) (ticket.Ticket, bool, error) {
	return f.t, true, nil
}

type people map[string][]reminders.Recipient

func (p people) Recipient(_ context.Context, sub string) (reminders.Recipient, error) {
	if r, ok := p[sub]; ok {
		return r[0], nil
	}
	return reminders.Recipient{}, crm.Errorf(crm.ENOTFOUND, "no profile")
}

func (p people) WithRole(_ context.Context, role, team string) ([]reminders.Recipient, error) {
	return p[role+"/"+team], nil
}

// sender fails the sends to the addresses in fail with their error.
type sender struct {
	mu   sync.Mutex
	fail map[string]error
	sent []string
}

func (s *sender) Send(_ context.Context, m email.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[m.To[0]]; err != nil {
		return "", err
	}
	s.sent = append(s.sent, m.To[0])
	return "id", nil
}

func newNotifier(t *testing.T, tk ticket.Ticket, staff people, out *sender, logs *bytes.Buffer) *ticketmail.Notifier {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	key, _ := links.GenerateKey("k1")
	ring, _ := links.NewKeyring(key)
	now := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	return &ticketmail.Notifier{
		Tickets: tickets{tk}, Staff: staff, Links: ring, Mail: out, Log: &dynamo.MailLog{Client: client, Table: table},
		AppURL: "https://crm.example.com", OrgZone: time.UTC, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Now: func() time.Time { return now },
	}
}

var grace = ticket.Ticket{ID: "01KK0000000000000000000000", Subject: "Refund", Kind: ticket.KindComplaint, Status: ticket.StatusNew,
	Requester: ticket.Requester{Name: "Grace Hopper", Email: "grace@example.com"}}

// An address the mail service refuses for good ends the event: a retry
// could only be refused again. The log names the mail and the ticket, not
// the person.
func TestRefusedMailIsDroppedAndLoggedWithoutPersonalData(t *testing.T) {
	out := &sender{fail: map[string]error{"grace@example.com": fmt.Errorf("ses: %w", email.ErrRejected)}}
	var logs bytes.Buffer
	n := newNotifier(t, grace, people{}, out, &logs)
	err := n.Opened(context.Background(), events.TicketOpened{Metadata: events.Metadata{EventID: "e1"}, Ticket: events.Ticket{TicketID: grace.ID}})
	if err != nil {
		t.Fatalf("a refused acknowledgement failed the event: %v", err)
	}
	if !strings.Contains(logs.String(), "mail=received") || !strings.Contains(logs.String(), grace.ID) {
		t.Errorf("log: %s", logs.String())
	}
	for _, personal := range []string{"grace", "Hopper", "Refund"} {
		if strings.Contains(logs.String(), personal) {
			t.Errorf("the log names %q: %s", personal, logs.String())
		}
	}
}

// When the transport fails for one manager, the others are mailed and the
// event fails; its retry mails only the one left.
func TestFailedRecipientIsRetriedAlone(t *testing.T) {
	managers := []reminders.Recipient{{Name: "Max", Email: "max@example.com"}, {Name: "Mia", Email: "mia@example.com"}, {Name: "Mo", Email: "MAX@example.com"}}
	out := &sender{fail: map[string]error{"mia@example.com": errors.New("throttled")}}
	n := newNotifier(t, grace, people{"manager/": managers}, out, &bytes.Buffer{})
	ev := events.TicketSLAWarning{Metadata: events.Metadata{EventID: "e2"},
		TicketSLA: events.TicketSLA{Ticket: events.Ticket{TicketID: grace.ID}, Clock: "first_response", TargetAt: time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC)}}
	if err := n.SLAWarning(context.Background(), ev); err == nil {
		t.Fatal("a failed send reported success")
	}
	out.fail = nil
	if err := n.SLAWarning(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	// MAX@ is max@: one mail.
	if want := []string{"max@example.com", "mia@example.com"}; !slices.Equal(out.sent, want) {
		t.Fatalf("sent to %v, want %v", out.sent, want)
	}
}

// Without a keyring the requester's mail fails, so the event is retried
// once the keyring is there, rather than going out without its link.
func TestRequesterMailNeedsTheKeyring(t *testing.T) {
	out := &sender{}
	n := newNotifier(t, grace, people{}, out, &bytes.Buffer{})
	n.Links = nil
	err := n.Opened(context.Background(), events.TicketOpened{Metadata: events.Metadata{EventID: "e3"}, Ticket: events.Ticket{TicketID: grace.ID}})
	if err == nil || len(out.sent) != 0 {
		t.Fatalf("err %v, sent %v", err, out.sent)
	}
}
