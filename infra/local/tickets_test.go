package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

// slaFiring is one SLA stage a ticket's timer fired, as the bus delivered
// it.
type slaFiring struct {
	Stage, Ticket, Clock string
	At                   time.Time
}

// slaProbe records the SLA events the bus delivers.
type slaProbe struct {
	mu    sync.Mutex
	fired []slaFiring
}

func (p *slaProbe) handler(app.Deps) app.EventHandler {
	return func(_ context.Context, ev lambdaevents.EventBridgeEvent) error {
		var d struct {
			events.Metadata
			events.TicketSLA
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.fired = append(p.fired, slaFiring{Stage: ev.DetailType, Ticket: d.TicketID, Clock: d.Clock, At: d.OccurredAt.UTC()})
		return nil
	}
}

// of returns what fired for ticket id, in the order of the instants.
func (p *slaProbe) of(id string) []slaFiring {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []slaFiring
	for _, f := range p.fired {
		if f.Ticket == id {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b slaFiring) int { return a.At.Compare(b.At) })
	return out
}

// startTickets starts the stack with Rapport's own handlers frozen at at,
// plus a probe on the SLA events.
func startTickets(t *testing.T, at time.Time) (*local.Stack, *slaProbe) {
	t.Helper()
	probe := &slaProbe{}
	reg := local.DefaultRegistry()
	reg.Event["sla-probe"] = probe.handler
	rules := append([]manifest.Rule{{Name: "sla-probe", Source: events.SourceTickets, Function: "sla-probe",
		DetailTypes: []string{events.TicketSLAWarningType, events.TicketSLABreachedType, events.TicketSLAEscalatedType}}}, manifest.Rules...)
	st, _ := startStack(t, &chain{}, nil, map[string]string{local.ClockVar: at.Format(time.RFC3339)}, func(o *local.Options) {
		o.Registry, o.Rules = &reg, rules
	})
	return st, probe
}

// sendJSON calls the stack with a JSON body and headers (name, value, …) and
// decodes a JSON answer into out, if given.
func sendJSON(t *testing.T, method, url, token string, body any, out any, headers ...string) (int, http.Header) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	} else if resp.StatusCode >= 300 && out != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header
}

type ticketJSON struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
	SLA     struct {
		FirstResponse slaJSON `json:"first_response"`
		Resolution    slaJSON `json:"resolution"`
	} `json:"sla"`
}

type slaJSON struct {
	TargetAt *time.Time `json:"target_at"`
	Status   string     `json:"status"`
}

// At the movable clock, on the default calendar (Monday–Friday 09:00–17:00
// UTC): a high ticket opened Friday 16:00 warns at Monday 11:00 and
// breaches its first response at Monday 12:00; one answered Monday 10:00
// is met and never breaches; one pending from Friday to Tuesday 16:00
// breaches its resolution on Wednesday 16:00, two business days after
// Monday 16:00; and a priority raised to urgent moves the breach to
// Friday 17:00.
func TestTicketSLAEndToEnd(t *testing.T) {
	friday := time.Date(2026, 3, 6, 16, 0, 0, 0, time.UTC)
	st, probe := startTickets(t, friday)
	ctx := within(t, 4*time.Minute)
	// Tokens are minted as used: the clock moves days past their expiry.
	token := func(role manifest.Role, user string) string { tok, _ := st.TokenFor(role, user); return tok }
	agent := func() string { return token(manifest.Agent, "agent-1") }
	for _, tok := range []string{agent(), token(manifest.Manager, "manager-1")} { // first use makes their profiles
		if code, _ := sendJSON(t, "GET", st.URL+"/me", tok, nil, nil); code != 200 {
			t.Fatalf("GET /me: %d", code)
		}
	}
	open := func(priority, email string) ticketJSON {
		var tk ticketJSON
		sendJSON(t, "POST", st.URL+"/tickets/on-behalf", agent(), map[string]any{
			"name": "Caller", "email": email, "subject": "Cannot log in", "message": "Since this morning.",
			"channel": "phone", "priority": priority, "owner": "me",
		}, &tk)
		return tk
	}
	a := open("high", "a@example.com")
	b := open("high", "b@example.com")
	c := open("high", "c@example.com")
	d := open("normal", "d@example.com")

	var got ticketJSON
	sendJSON(t, "GET", st.URL+"/tickets/"+a.ID, agent(), nil, &got)
	monday := func(h int) time.Time { return time.Date(2026, 3, 9, h, 0, 0, 0, time.UTC) }
	if fr := got.SLA.FirstResponse; fr.TargetAt == nil || !fr.TargetAt.Equal(monday(12)) || fr.Status != "running" {
		t.Fatalf("first response of a high ticket opened Friday 16:00: %+v, want running to Monday 12:00", fr)
	}

	// C answers at once and waits on the customer until Tuesday 16:00.
	sendJSON(t, "POST", st.URL+"/tickets/"+c.ID+"/replies", agent(), map[string]any{"body": "Can you send a screenshot?", "public": true, "status": "pending"}, nil)
	// D's priority is raised: first response within one business hour.
	sendJSON(t, "GET", st.URL+"/tickets/"+d.ID, agent(), nil, &got)
	sendJSON(t, "PATCH", st.URL+"/tickets/"+d.ID, agent(), map[string]any{"priority": "urgent"}, &got, "If-Match", etagOf(got.Version))

	advanceTo(t, ctx, st, monday(10))
	sendJSON(t, "POST", st.URL+"/tickets/"+b.ID+"/replies", agent(), map[string]any{"body": "We are on it.", "public": true}, nil)
	advanceTo(t, ctx, st, monday(12).Add(time.Minute))

	sendJSON(t, "GET", st.URL+"/tickets/"+a.ID, agent(), nil, &got)
	if got.SLA.FirstResponse.Status != "breached" {
		t.Errorf("A's first response after Monday 12:00: %q, want breached", got.SLA.FirstResponse.Status)
	}
	sendJSON(t, "GET", st.URL+"/tickets/"+b.ID, agent(), nil, &got)
	if got.SLA.FirstResponse.Status != "met" {
		t.Errorf("B's first response, answered Monday 10:00: %q, want met", got.SLA.FirstResponse.Status)
	}
	tuesday16 := time.Date(2026, 3, 10, 16, 0, 0, 0, time.UTC)
	advanceTo(t, ctx, st, tuesday16)
	sendJSON(t, "GET", st.URL+"/tickets/"+c.ID, agent(), nil, &got)
	sendJSON(t, "PATCH", st.URL+"/tickets/"+c.ID, agent(), map[string]any{"status": "open"}, &got, "If-Match", etagOf(got.Version))
	advanceTo(t, ctx, st, time.Date(2026, 3, 11, 16, 1, 0, 0, time.UTC))

	fr, res := string(events.TicketSLAWarningType), string(events.TicketSLABreachedType)
	want := map[string][]slaFiring{
		a.ID: {
			{fr, a.ID, "first_response", monday(11)},
			{res, a.ID, "first_response", monday(12)},
		},
		b.ID: {},
		c.ID: {
			{fr, c.ID, "resolution", time.Date(2026, 3, 11, 14, 0, 0, 0, time.UTC)},
			{res, c.ID, "resolution", time.Date(2026, 3, 11, 16, 0, 0, 0, time.UTC)},
		},
		d.ID: {
			{fr, d.ID, "first_response", time.Date(2026, 3, 6, 16, 45, 0, 0, time.UTC)},
			{res, d.ID, "first_response", time.Date(2026, 3, 6, 17, 0, 0, 0, time.UTC)},
		},
	}
	for id, stages := range want {
		var firsts []slaFiring
		for _, f := range probe.of(id) {
			if f.Stage != string(events.TicketSLAEscalatedType) && (f.Clock == "first_response" || id == c.ID) {
				firsts = append(firsts, f)
			}
		}
		if !slices.Equal(firsts, stages) {
			t.Errorf("ticket %s fired %+v, want %+v", id, firsts, stages)
		}
	}

	// The breach of A reached its owner and the manager by mail.
	mails, _ := filepath.Glob(filepath.Join(st.Outbox, "*.eml"))
	var toOwner, toManager bool
	for _, m := range mails {
		b, _ := os.ReadFile(m)
		s := string(b)
		if !strings.Contains(s, a.ID) || !strings.Contains(strings.ToLower(s), "breach") {
			continue
		}
		toOwner = toOwner || strings.Contains(s, "agent-1@")
		toManager = toManager || strings.Contains(s, "manager-1@")
	}
	if !toOwner || !toManager {
		t.Errorf("A's breach mailed the owner: %v, the manager: %v; want both", toOwner, toManager)
	}
}

// advanceTo moves the stack's clock to at, firing what falls due.
func advanceTo(t *testing.T, ctx context.Context, st *local.Stack, at time.Time) {
	t.Helper()
	if _, err := st.Advance(ctx, at.Sub(st.Now())); err != nil {
		t.Fatal(err)
	}
}

func etagOf(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
