package survey_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/survey"
)

const day = 24 * time.Hour

var (
	policy = survey.Policy{Settings: survey.DefaultSettings()}
	t0     = time.Date(2026, 12, 4, 13, 30, 52, 0, time.UTC)
)

func TestDefaultSettings(t *testing.T) {
	s := survey.DefaultSettings()
	if s.Delay != time.Hour || s.RelationshipFirst != 30*day || s.RelationshipEvery != 90*day ||
		s.QuietPeriod != 30*day || s.LinkLifetime != 30*day {
		t.Errorf("defaults %+v", s)
	}
	if err := s.Check(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}

func TestSettingsCheck(t *testing.T) {
	bad := survey.Settings{Delay: -time.Second, RelationshipFirst: 0, RelationshipEvery: 400 * day, QuietPeriod: 0, LinkLifetime: time.Hour}
	err := bad.Check()
	wantFields(t, err, crm.EINVALID, "delay", "relationship_first", "relationship_every")
	zero := survey.DefaultSettings()
	zero.Delay, zero.QuietPeriod = 0, 0
	if err := zero.Check(); err != nil {
		t.Errorf("no delay and no quiet period refused: %v", err)
	}
}

func TestAllow(t *testing.T) {
	person := survey.History{Email: "ada@example.com"}
	invited := func(at time.Time) survey.History {
		h := person
		h.LastID, h.LastAt = "I0", at
		return h
	}
	for _, tc := range []struct {
		name string
		h    survey.History
		at   time.Time
		ok   bool
		why  string
	}{
		{"never invited", person, t0, true, ""},
		{"no email", survey.History{}, t0, false, survey.NoEmail},
		{"opted out", survey.History{Email: "ada@example.com", OptedOut: true}, t0, false, survey.OptedOut},
		{"no email and opted out", survey.History{OptedOut: true}, t0, false, survey.NoEmail},
		{"invited a day ago", invited(t0.Add(-day)), t0, false, survey.QuietPeriod},
		{"invited a second short of 30 days ago", invited(t0.Add(-30*day + time.Second)), t0, false, survey.QuietPeriod},
		{"invited exactly 30 days ago", invited(t0.Add(-30 * day)), t0, true, ""},
		{"invited 31 days ago", invited(t0.Add(-31 * day)), t0, true, ""},
		{"another due in an hour", invited(t0.Add(time.Hour)), t0, false, survey.QuietPeriod},
		{"another due in 30 days", invited(t0.Add(30 * day)), t0, true, ""},
		{"at the same instant", invited(t0), t0, false, survey.QuietPeriod},
		{"opted out and quiet", survey.History{Email: "a@b.co", OptedOut: true, LastAt: t0}, t0, false, survey.OptedOut},
	} {
		ok, why := policy.Allow(tc.h, tc.at)
		if ok != tc.ok || why != tc.why {
			t.Errorf("%s: Allow = %v, %q; want %v, %q", tc.name, ok, why, tc.ok, tc.why)
		}
	}
	noQuiet := survey.Policy{Settings: survey.DefaultSettings()}
	noQuiet.Settings.QuietPeriod = 0
	if ok, _ := noQuiet.Allow(invited(t0), t0); !ok {
		t.Error("with no quiet period, a person invited at the same instant is refused")
	}
}

// TestAllowProperties checks, over random histories and instants, that an
// allowed invitation has an address, a person who did not opt out, and no
// other invitation within the quiet period either side; and that every
// refusal names the first rule broken.
func TestAllowProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 90))
	for range 20000 {
		h := survey.History{}
		if rng.IntN(8) > 0 {
			h.Email = "p@example.com"
		}
		h.OptedOut = rng.IntN(8) == 0
		if rng.IntN(3) > 0 {
			h.LastID, h.LastAt = "I", t0.Add(time.Duration(rng.Int64N(int64(120*day)))-60*day)
		}
		quiet := time.Duration(rng.IntN(61)) * day
		p := survey.Policy{Settings: survey.DefaultSettings()}
		p.Settings.QuietPeriod = quiet
		ok, why := p.Allow(h, t0)

		gap := t0.Sub(h.LastAt)
		if gap < 0 {
			gap = -gap
		}
		tooSoon := !h.LastAt.IsZero() && gap < quiet
		want := ""
		switch {
		case h.Email == "":
			want = survey.NoEmail
		case h.OptedOut:
			want = survey.OptedOut
		case tooSoon:
			want = survey.QuietPeriod
		}
		if ok != (want == "") || why != want {
			t.Fatalf("Allow(%+v, quiet %v) = %v, %q; want %q", h, quiet, ok, why, want)
		}
		if ok {
			if e := p.EarliestAllowed(h); !e.IsZero() && e.After(t0) && !h.LastAt.After(t0) {
				t.Fatalf("allowed at %v, but EarliestAllowed says %v", t0, e)
			}
		} else if why == survey.QuietPeriod && h.LastAt.Before(t0) {
			e := p.EarliestAllowed(h)
			if ok, _ := p.Allow(h, e); !ok || !e.After(t0) {
				t.Fatalf("EarliestAllowed %v is not allowed, or not later than %v", e, t0)
			}
			if ok, _ := p.Allow(h, e.Add(-time.Nanosecond)); ok {
				t.Fatalf("an instant before EarliestAllowed %v is allowed", e)
			}
		}
	}
}

func TestSchedule(t *testing.T) {
	if got, want := policy.AfterTicketDue(t0), t0.Add(time.Hour); !got.Equal(want) {
		t.Errorf("AfterTicketDue = %v, want %v", got, want)
	}
	converted := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	first := policy.RelationshipDue(converted, time.Time{})
	if want := time.Date(2026, 2, 14, 10, 0, 0, 0, time.UTC); !first.Equal(want) {
		t.Errorf("first relationship invitation due %v, want %v", first, want)
	}
	second := policy.RelationshipDue(converted, first)
	if want := time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC); !second.Equal(want) {
		t.Errorf("second due %v, want %v (90 days after the first)", second, want)
	}
	if got := policy.EarliestAllowed(survey.History{Email: "a@b.co"}); !got.IsZero() {
		t.Errorf("EarliestAllowed of a person never invited = %v", got)
	}
	if got, want := policy.EarliestAllowed(survey.History{LastAt: t0}), t0.Add(30*day); !got.Equal(want) {
		t.Errorf("EarliestAllowed = %v, want %v", got, want)
	}
}

func TestInvite(t *testing.T) {
	h := survey.History{Email: "Ada@Example.com"}
	solved := t0
	inv, err := policy.Invite(survey.Request{
		ID: survey.AfterTicketID("T1", solved), Reason: survey.AfterTicket, CustomerID: "C1", TicketID: "T1", Owner: "agent-1", Team: "support",
		DueAt: policy.AfterTicketDue(solved),
	}, h, solved)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "ada@example.com" || inv.Status != survey.StatusScheduled || !slices.Equal(inv.Questions, []survey.Question{survey.CSAT, survey.CES}) ||
		!inv.DueAt.Equal(solved.Add(time.Hour)) || !inv.CreatedAt.Equal(solved) || inv.SentAt != nil || inv.ExpiresAt != nil ||
		inv.TicketID != "T1" || inv.CustomerID != "C1" || inv.Owner != "agent-1" || inv.Team != "support" || inv.Version != 1 {
		t.Errorf("after-ticket invitation %+v", inv)
	}
	if inv.ID != survey.AfterTicketID("T1", solved) || !crm.ValidID(inv.ID) {
		t.Errorf("id %q is not the ticket's derived id", inv.ID)
	}
	if survey.AfterTicketID("T1", solved.Add(time.Millisecond)) == inv.ID || survey.AfterTicketID("T2", solved) == inv.ID {
		t.Error("another solve or ticket gets the same invitation id")
	}
	if a, b := survey.RelationshipID("C1", solved), survey.RelationshipID("C1", solved); a != b || a == survey.RelationshipID("C2", solved) {
		t.Error("relationship ids are not one per customer and due instant")
	}

	manual, err := policy.Invite(survey.Request{Reason: survey.Manual, Questions: []survey.Question{survey.CES, survey.NPS}}, survey.History{Email: "b@example.org"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !manual.DueAt.Equal(t0) || !crm.ValidID(manual.ID) || !slices.Equal(manual.Questions, []survey.Question{survey.CES, survey.NPS}) {
		t.Errorf("manual invitation %+v: want due now, a new id, the questions chosen", manual)
	}
	rel, err := policy.Invite(survey.Request{Reason: survey.Relationship, CustomerID: "C1", DueAt: t0.Add(day)}, survey.History{Email: "c@example.org"}, t0)
	if err != nil || !slices.Equal(rel.Questions, []survey.Question{survey.NPS}) || !rel.DueAt.Equal(t0.Add(day)) {
		t.Errorf("relationship invitation %+v, %v: want NPS, due as asked", rel, err)
	}
	// A relationship invitation due 10 days after an after-ticket one is
	// due when the quiet period ends instead; one due in an hour behind a
	// scheduled one, 30 days after that.
	for _, tc := range []struct{ last, due, want time.Time }{
		{t0, t0.Add(10 * day), t0.Add(30 * day)},
		{t0.Add(time.Hour), t0, t0.Add(time.Hour + 30*day)},
		{t0.Add(-40 * day), t0, t0},
	} {
		h := survey.History{Email: "c@example.org", LastID: "I0", LastAt: tc.last}
		rel, err := policy.Invite(survey.Request{Reason: survey.Relationship, CustomerID: "C1", DueAt: tc.due}, h, t0)
		if err != nil || !rel.DueAt.Equal(tc.want) {
			t.Errorf("relationship due %v after one at %v: due %v, %v; want %v", tc.due, tc.last, rel.DueAt, err, tc.want)
		}
	}
}

func TestInviteRefuses(t *testing.T) {
	ok := survey.History{Email: "ada@example.com"}
	for _, tc := range []struct {
		name    string
		r       survey.Request
		h       survey.History
		code    string
		fields  []string
		refused string
	}{
		{"no email", survey.Request{Reason: survey.Manual}, survey.History{}, crm.EINVALID, []string{"email"}, survey.NoEmail},
		{"opted out", survey.Request{Reason: survey.Manual}, survey.History{Email: "ada@example.com", OptedOut: true}, crm.ECONFLICT, nil, survey.OptedOut},
		{"quiet period", survey.Request{Reason: survey.AfterTicket, TicketID: "T1", DueAt: t0}, survey.History{Email: "ada@example.com", LastID: "I0", LastAt: t0.Add(-29 * day)}, crm.ECONFLICT, nil, survey.QuietPeriod},
		{"blank email", survey.Request{Reason: survey.Manual}, survey.History{Email: "   "}, crm.EINVALID, []string{"email"}, survey.NoEmail},
		{"relationship, opted out", survey.Request{Reason: survey.Relationship, DueAt: t0}, survey.History{Email: "ada@example.com", OptedOut: true, LastAt: t0}, crm.ECONFLICT, nil, survey.OptedOut},
		{"a scheduled one goes out later", survey.Request{Reason: survey.Manual}, survey.History{Email: "ada@example.com", LastID: "I0", LastAt: t0.Add(time.Hour)}, crm.ECONFLICT, nil, survey.QuietPeriod},
		{"a malformed address", survey.Request{Reason: survey.Manual}, survey.History{Email: "ada at example"}, crm.EINVALID, []string{"email"}, ""},
		{"unknown question", survey.Request{Reason: survey.Manual, Questions: []survey.Question{"effort"}}, ok, crm.EINVALID, []string{"questions"}, ""},
		{"a question twice", survey.Request{Reason: survey.Manual, Questions: []survey.Question{survey.NPS, survey.NPS}}, ok, crm.EINVALID, []string{"questions"}, ""},
		{"unknown reason", survey.Request{Reason: "whim"}, ok, crm.EINVALID, []string{"reason"}, ""},
		{"after a ticket without one", survey.Request{Reason: survey.AfterTicket}, ok, crm.EINVALID, []string{"ticket_id"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := policy.Invite(tc.r, tc.h, t0)
			wantFields(t, err, tc.code, tc.fields...)
			if got := survey.Refused(err); got != tc.refused {
				t.Errorf("Refused = %q, want %q", got, tc.refused)
			}
			if inv.ID != "" {
				t.Errorf("a refused request made invitation %+v", inv)
			}
		})
	}
	if survey.Refused(nil) != "" || survey.Refused(crm.Errorf(crm.ECONFLICT, "x")) != "" {
		t.Error("Refused names a rule for an error that is no refusal")
	}
}

func scheduled(t *testing.T) survey.Invitation {
	t.Helper()
	inv, err := policy.Invite(survey.Request{ID: survey.AfterTicketID("T1", t0), Reason: survey.AfterTicket, TicketID: "T1", CustomerID: "C1",
		DueAt: policy.AfterTicketDue(t0)}, survey.History{Email: "ada@example.com"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestSend(t *testing.T) {
	inv := scheduled(t)
	due := inv.DueAt
	// The person's record holds this very invitation: it does not keep
	// itself from being sent.
	h := survey.History{Email: "ada@example.com", LastID: inv.ID, LastAt: due}

	if _, err := policy.Send(inv, h, due.Add(-time.Second)); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Errorf("sending before the due instant: %v, want a conflict", err)
	}
	sent, err := policy.Send(inv, h, due.Add(40*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	at := due.Add(40 * time.Second)
	if sent.Status != survey.StatusSent || !sent.SentAt.Equal(at) || !sent.ExpiresAt.Equal(at.Add(30*day)) || sent.Version != inv.Version+1 {
		t.Errorf("sent %+v", sent)
	}
	if !sent.QuietFrom().Equal(at) || !inv.QuietFrom().Equal(due) || !sent.Holds() {
		t.Error("the quiet period is not reckoned from sending, or from the due instant before it")
	}
	if _, err := policy.Send(sent, h, at); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Errorf("sending twice: %v, want a conflict", err)
	}

	for _, tc := range []struct {
		name string
		h    survey.History
		why  string
	}{
		{"opted out since", survey.History{Email: "ada@example.com", OptedOut: true, LastID: inv.ID, LastAt: due}, survey.OptedOut},
		{"address removed", survey.History{LastID: inv.ID, LastAt: due}, survey.NoEmail},
		{"another invitation took the period", survey.History{Email: "ada@example.com", LastID: "OTHER", LastAt: due.Add(-day)}, survey.QuietPeriod},
	} {
		got, err := policy.Send(inv, tc.h, due)
		if err != nil || got.Status != survey.StatusCancelled || got.CancelReason != tc.why || got.SentAt != nil || got.Holds() {
			t.Errorf("%s: %+v, %v; want cancelled for %s, not sent", tc.name, got, err, tc.why)
		}
	}
}

func TestLifecycle(t *testing.T) {
	inv := scheduled(t)
	cancelled, err := inv.Cancel(survey.TicketReopened)
	if err != nil || cancelled.Status != survey.StatusCancelled || cancelled.CancelReason != survey.TicketReopened || cancelled.Holds() {
		t.Errorf("cancel: %+v, %v", cancelled, err)
	}
	if _, err := cancelled.Cancel(survey.TicketReopened); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Errorf("cancelling twice: %v", err)
	}
	sent, _ := policy.Send(inv, survey.History{Email: "ada@example.com"}, inv.DueAt)
	if _, err := sent.Cancel(survey.TicketReopened); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Errorf("cancelling a sent invitation: %v, want a conflict", err)
	}
	expires := *sent.ExpiresAt
	for _, tc := range []struct {
		at   time.Time
		want survey.Status
	}{
		{inv.DueAt, survey.StatusSent},
		{expires.Add(-time.Nanosecond), survey.StatusSent},
		{expires, survey.StatusExpired},
		{expires.Add(365 * day), survey.StatusExpired},
	} {
		if got := sent.StatusAt(tc.at); got != tc.want {
			t.Errorf("StatusAt(%v) = %s, want %s", tc.at, got, tc.want)
		}
	}
	answered := sent.Record(survey.Answer{InvitationID: sent.ID, AnsweredAt: inv.DueAt.Add(day)})
	if answered.Status != survey.StatusAnswered || !answered.AnsweredAt.Equal(inv.DueAt.Add(day)) || answered.StatusAt(expires.Add(day)) != survey.StatusAnswered {
		t.Errorf("answered %+v", answered)
	}
	if inv.StatusAt(expires.Add(day)) != survey.StatusScheduled {
		t.Error("a scheduled invitation expires")
	}
}

func TestParseReason(t *testing.T) {
	for _, r := range survey.Reasons {
		if got, ok := survey.ParseReason(string(r)); !ok || got != r {
			t.Errorf("ParseReason(%q) = %q, %v", r, got, ok)
		}
	}
	if _, ok := survey.ParseReason("Manual"); ok {
		t.Error("ParseReason accepts a reason spelled otherwise")
	}
}

// wantFields checks that err has code and names exactly fields, in order.
func wantFields(t *testing.T, err error, code string, fields ...string) {
	t.Helper()
	if got := crm.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
	e, _ := asCRM(err)
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Errorf("error names %v, want %v (%v)", got, fields, err)
	}
}
