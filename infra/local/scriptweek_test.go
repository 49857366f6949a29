package local_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// The scripted week: Monday 23 to Sunday 29 November 2026 (ISO week 48),
// driven through the public routes on the movable clock. Every instant is
// UTC; Los Angeles is UTC−8 and Tokyo UTC+9 that week, so the same script
// falls on other days, weeks and months in the two zones. The calendar is
// open round the clock (BUSINESS_HOURS Mon-Sun 00:00-24:00), so "four
// working hours" and SLA targets are wall time.
//
//	E1 Mon 23 17:00Z  lead A captured (web)          LA Mon 09:00   TYO Tue 02:00
//	   its first-contact task is due 21:00Z          LA Mon 13:00   TYO Tue 06:00
//	E2 Mon 23 18:00Z  agent-1 (team sales) takes A and calls: response 1 h, the
//	   first-contact task done on time               LA Mon 10:00   TYO Tue 03:00
//	E3 Tue 24 07:30Z  lead B captured (referral)     LA Mon 23:30   TYO Tue 16:30
//	   never contacted: its task, due 11:30Z, goes   LA Tue 03:30   TYO Tue 20:30
//	   overdue a day later, counted on its due day
//	E4 Tue 24 08:30Z  A converted, deal 1,000.00     LA Tue 00:30   TYO Tue 17:30
//	E5 Wed 25 10:00Z  T1 opened by agent-1 (request, normal: first response
//	   within 2 h) and T2 a complaint from the form  LA Wed 02:00   TYO Wed 19:00
//	E6 Wed 25 11:00Z  T1 answered: met, 1 h          LA Wed 03:00   TYO Wed 20:00
//	E7 Wed 25 12:00Z  T2's first response breaches   LA Wed 04:00   TYO Wed 21:00
//	E8 Thu 26 15:30Z  A's customer buys for 50.00    LA Thu 07:30   TYO Fri 00:30
//	E8b Fri 27 02:00Z NPS surveys to A's customer (agent-1's, who won it) and
//	   to cy@example.com by address (no owner)       LA Thu 18:00   TYO Fri 11:00
//	E8c Fri 27 07:30Z A's customer answers 9         LA Thu 23:30   TYO Fri 16:30
//	E9 F1 by agent-1 due Fri 27 14:30Z, done 14:00Z  LA Fri 06:30   TYO Fri 23:30
//	E10 F2 by agent-1 due Sat 28 16:00Z, done 17:00Z LA Sat 08:00   TYO Sun 01:00
//	E11 Sun 29 20:00Z lead D captured (web)          LA Sun 12:00   TYO Mon 30 05:00
//
// The clock stops at Sun 29 21:00Z, before D's first-contact task is due.
// Check-in tasks (30 days after a conversion) and resolution clocks (30
// days) fall due after the script; nothing is solved, so no survey is sent.
var (
	swStart = time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	swEnd   = time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC)
)

func swAt(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, time.UTC) }

// swWant is what one card must show: KPI id → value; nil for no data.
type swWant map[string]*float64

func v(x float64) *float64 { return &x }

func TestScriptedWeekScorecardLosAngeles(t *testing.T) {
	// The org's days and weeks, in Los Angeles:
	//   Mon 23: captured A (09:00), B (23:30); response 1 h; A's task due and on time.
	//   Tue 24: conversion of A (00:30) 100000; B's task due (03:30), late.
	//   Wed 25: T1, T2 (complaint) opened; T1 met; T2 breached.
	//   Thu 26: purchase 5000; two NPS invitations, one promoter's answer.
	//   Fri 27: F1 on time.  Sat 28: F2 late.
	//   Sun 29: captured D (12:00).
	// Week 48 = November = Q4 = everything: 3 captured, 1 converted.
	week := swWant{
		"revenue":                    v(105000),    // 100000 + 5000
		"lead_conversion_rate":       v(100.0 / 3), // 1 ÷ 3 (A, B, D)
		"lead_response_time":         v(3600),      // A: 17:00Z → 18:00Z
		"followups_on_time":          v(50),        // A's, F1 on time; B's, F2 not: 2 ÷ 4
		"sla_compliance":             v(50),        // T1 met, T2 breached
		"complaint_rate":             v(50),        // T2 of T1, T2
		"ticket_first_response_time": v(3600),      // T1: 10:00Z → 11:00Z
		"best_lead_source_share":     v(200.0 / 3), // web: A, D of 3
		"average_deal_value":         v(100000),    // A's deal
		"nps":                        v(100),       // one answer, 9: a promoter
		"survey_response_rate":       v(50),        // 1 answer ÷ 2 invitations
		"csat":                       nil,          // no CSAT answers
	}
	// The sales team (agent-1): A's first contact, its task, its
	// conversion, T1 and F1, F2; no lead was captured with an owner.
	teamWeek := swWant{
		"revenue":              v(100000),    // the conversion; purchases have no team
		"lead_conversion_rate": nil,          // no lead captured for the team
		"lead_response_time":   v(3600),      // A
		"followups_on_time":    v(200.0 / 3), // A's, F1 on time; F2 late: 2 ÷ 3
		"sla_compliance":       v(100),       // T1 met
		"complaint_rate":       v(0),         // T1 is a request
		"nps":                  v(100),       // A's customer, agent-1's
		"survey_response_rate": v(100),       // its one invitation, answered
	}
	runScriptedWeek(t, "America/Los_Angeles", map[string]swWant{
		// Mon 23: A and B captured, none converted: 0 ÷ 2.
		"day=2026-11-23": {"lead_conversion_rate": v(0), "lead_response_time": v(3600), "followups_on_time": v(100), "revenue": nil, "sla_compliance": nil},
		// Tue 24: A converted (00:30), nothing captured; B's task late.
		"day=2026-11-24": {"lead_conversion_rate": nil, "revenue": v(100000), "followups_on_time": v(0), "lead_response_time": nil},
		// Wed 25: the tickets.
		"day=2026-11-25": {"sla_compliance": v(50), "complaint_rate": v(50), "ticket_first_response_time": v(3600), "revenue": nil},
		// Thu 26: the purchase and the surveys.
		"day=2026-11-26": {"revenue": v(5000), "nps": v(100), "survey_response_rate": v(50)},
		// Sat 28: F2 due, done late.
		"day=2026-11-28":           {"followups_on_time": v(0)},
		"week=2026-W48":            week,
		"month=2026-11":            week,
		"quarter=2026-Q4":          week,
		"week=2026-W48&team=sales": teamWeek,
		"month=2026-11&team=sales": teamWeek,
	})
}

func TestScriptedWeekScorecardTokyo(t *testing.T) {
	// The org's days and weeks, in Tokyo:
	//   Tue 24: captured A (02:00), B (16:30); response 1 h; A's task due
	//           (06:00), on time; A converted (17:30); B's task due (20:30), late.
	//   Wed 25: T1, T2 opened; T1 met; T2 breached.
	//   Fri 27: purchase (00:30); the surveys (11:00, 16:30); F1 due (23:30), on time.
	//   Sun 29: F2 due (01:00), late.
	//   Mon 30 (week 49, still November): captured D (05:00).
	// Week 48: A, B captured, A converted: 1 ÷ 2.
	week := swWant{
		"revenue":                    v(105000),
		"lead_conversion_rate":       v(50), // 1 ÷ 2 (A, B; D falls in week 49)
		"lead_response_time":         v(3600),
		"followups_on_time":          v(50),
		"sla_compliance":             v(50),
		"complaint_rate":             v(50),
		"ticket_first_response_time": v(3600),
		"best_lead_source_share":     v(50), // web A, referral B
		"nps":                        v(100),
		"survey_response_rate":       v(50),
	}
	// November and Q4 add D (web): 1 ÷ 3, web 2 of 3.
	month := swWant{
		"revenue":                v(105000),
		"lead_conversion_rate":   v(100.0 / 3),
		"best_lead_source_share": v(200.0 / 3),
		"followups_on_time":      v(50),
		"sla_compliance":         v(50),
	}
	runScriptedWeek(t, "Asia/Tokyo", map[string]swWant{
		// Mon 23: nothing happened yet in Tokyo.
		"day=2026-11-23": {"lead_conversion_rate": nil, "revenue": nil, "followups_on_time": nil},
		// Tue 24: A and B captured, A converted: 1 ÷ 2; both tasks due.
		"day=2026-11-24": {"lead_conversion_rate": v(50), "revenue": v(100000), "lead_response_time": v(3600), "followups_on_time": v(50)},
		// Fri 27: the purchase and F1.
		"day=2026-11-27": {"revenue": v(5000), "followups_on_time": v(100), "lead_conversion_rate": nil, "nps": v(100), "survey_response_rate": v(50)},
		// Mon 30: D alone, not converted.
		"day=2026-11-30":  {"lead_conversion_rate": v(0), "best_lead_source_share": v(100), "revenue": nil},
		"week=2026-W48":   week,
		"week=2026-W49":   {"lead_conversion_rate": v(0), "revenue": nil, "followups_on_time": nil},
		"month=2026-11":   month,
		"quarter=2026-Q4": month,
		// The sales team's week: as in Los Angeles, all of it in week 48.
		"week=2026-W48&team=sales": {"revenue": v(100000), "lead_conversion_rate": nil, "lead_response_time": v(3600),
			"followups_on_time": v(200.0 / 3), "sla_compliance": v(100), "complaint_rate": v(0),
			"nps": v(100), "survey_response_rate": v(100)},
	})
}

// runScriptedWeek plays the script on a stack whose organisation lives in
// zone, then compares each card ("kind=id[&team=name]") with its wants.
func runScriptedWeek(t *testing.T, zone string, cards map[string]swWant) {
	began := time.Now()
	reg := local.DefaultRegistry()
	st, _ := startStack(t, &chain{}, nil, map[string]string{
		local.ClockVar:           swStart.Format(time.RFC3339),
		"ORG_TIME_ZONE":          zone,
		"BUSINESS_HOURS":         "Mon-Sun 00:00-24:00",
		"SLA_POLICIES":           "normal=2h/30d",
		"CHECK_IN_AFTER":         "720h",
		"FIRST_CONTACT_WITHIN":   "4h",
		"FOLLOWUP_OVERDUE_AFTER": "24h",
	}, func(o *local.Options) {
		o.Registry, o.Rules, o.Schedules = &reg, manifest.Rules, manifest.Schedules
	})
	ctx := within(t, 3*time.Minute)
	at := func(tm time.Time) { advanceTo(t, ctx, st, tm) }
	settle := func() {
		if _, err := st.Advance(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	token := func(role manifest.Role, user string) string { tok, _ := st.TokenFor(role, user); return tok }
	agent := func() string { return token(manifest.Agent, "agent-1") }

	// agent-1 is in team sales.
	var me map[string]any
	_, h := sendJSON(t, "GET", st.URL+"/me", agent(), nil, &me)
	me["team"] = "sales"
	if code, _ := sendJSON(t, "PUT", st.URL+"/me", agent(), me, nil, "If-Match", h.Get("ETag")); code != 200 {
		t.Fatalf("PUT /me: %d", code)
	}
	capture := func(name, source string) string {
		form := url.Values{"name": {name}, "email": {strings.ToLower(name) + "@example.com"}, "source": {source}}.Encode()
		code, body := call(t, "POST", st.URL+"/leads", "", strings.NewReader(form))
		var out struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(body), &out); code != 201 || err != nil || out.ID == "" {
			t.Fatalf("POST /leads: %d %s", code, body)
		}
		return out.ID
	}
	lead := func(id string) int64 {
		var l struct {
			Version int64 `json:"version"`
		}
		sendJSON(t, "GET", st.URL+"/leads/"+id, agent(), nil, &l)
		return l.Version
	}

	at(swAt(23, 17, 0)) // E1
	a := capture("Ada", "web")
	settle()
	at(swAt(23, 18, 0)) // E2
	sendJSON(t, "PATCH", st.URL+"/leads/"+a, agent(), map[string]any{"owner": "agent-1"}, &map[string]any{}, "If-Match", etagOf(lead(a)))
	settle() // the first-contact task is agent-1's before the call completes it
	sendJSON(t, "POST", st.URL+"/leads/"+a+"/activities", agent(), map[string]any{"type": "call", "note": "Intro call"}, &map[string]any{})
	at(swAt(24, 7, 30)) // E3
	capture("Bea", "referral")
	at(swAt(24, 8, 30)) // E4
	var conv struct {
		Customer struct {
			ID string `json:"id"`
		} `json:"customer"`
	}
	sendJSON(t, "POST", st.URL+"/leads/"+a+"/convert", agent(), map[string]any{"deal_value": "1000.00", "currency": "EUR"}, &conv)

	at(swAt(25, 10, 0)) // E5
	var t1 struct {
		ID string `json:"id"`
	}
	sendJSON(t, "POST", st.URL+"/tickets/on-behalf", agent(), map[string]any{
		"name": "Ada", "email": "ada@example.com", "subject": "Invoice address", "message": "Please change it.",
		"channel": "phone", "priority": "normal", "kind": "request", "owner": "me",
	}, &t1)
	complaint := url.Values{"name": {"Cy"}, "email": {"cy@example.com"}, "subject": {"Broken"}, "message": {"It broke."}, "kind": {"complaint"}}.Encode()
	code, body := call(t, "POST", st.URL+"/tickets", "", strings.NewReader(complaint))
	if code != 201 {
		t.Fatalf("POST /tickets: %d %s", code, body)
	}
	at(swAt(25, 11, 0)) // E6
	sendJSON(t, "POST", st.URL+"/tickets/"+t1.ID+"/replies", agent(), map[string]any{"body": "Done.", "public": true}, &map[string]any{})
	at(swAt(26, 15, 30)) // E7 (T2 breaches at 12:00Z on the way), E8
	sendJSON(t, "POST", st.URL+"/customers/"+conv.Customer.ID+"/purchases", agent(),
		map[string]any{"amount": "50.00", "currency": "EUR", "description": "Add-on"}, &map[string]any{})

	at(swAt(27, 2, 0)) // E8b
	for _, to := range []map[string]any{{"customer_id": conv.Customer.ID}, {"email": "cy@example.com"}} {
		to["questions"] = []string{"nps"}
		sendJSON(t, "POST", st.URL+"/surveys/invitations", token(manifest.Manager, "manager-1"), to, &map[string]any{})
	}
	settle()
	link := surveyLink(t, st, conv.Customer.ID)
	at(swAt(27, 7, 30)) // E8c
	if code, body := call(t, "POST", st.URL+link, "", strings.NewReader("nps=9")); code >= 300 {
		t.Fatalf("POST %s: %d %s", link, code, body)
	}

	// E9, E10: F1 and F2, made on Thursday.
	var f1, f2 struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	sendJSON(t, "POST", st.URL+"/followups", agent(), map[string]any{"subject": "customer:" + conv.Customer.ID, "owner": "me",
		"due_at": swAt(27, 14, 30).Format(time.RFC3339)}, &f1)
	sendJSON(t, "POST", st.URL+"/followups", agent(), map[string]any{"subject": "customer:" + conv.Customer.ID, "owner": "me",
		"due_at": swAt(28, 16, 0).Format(time.RFC3339)}, &f2)
	at(swAt(27, 14, 0)) // F1 done
	sendJSON(t, "PATCH", st.URL+"/followups/"+f1.ID, agent(), map[string]any{"status": "done"}, &map[string]any{}, "If-Match", etagOf(f1.Version))
	at(swAt(28, 17, 0))
	sendJSON(t, "PATCH", st.URL+"/followups/"+f2.ID, agent(), map[string]any{"status": "done"}, &map[string]any{}, "If-Match", etagOf(f2.Version))
	at(swAt(29, 20, 0)) // E11
	capture("Dee", "web")
	at(swEnd)
	t.Logf("%s: the week played in %v", zone, time.Since(began).Round(time.Millisecond))

	manager := token(manifest.Manager, "manager-1")
	for q, want := range cards {
		kind, rest, _ := strings.Cut(q, "=")
		id, team, _ := strings.Cut(rest, "&team=")
		u := st.URL + "/scorecard?period=" + kind + "&at=" + id
		if team != "" {
			u += "&team=" + team
		}
		var card cardJSON
		if code, _ := sendJSON(t, "GET", u, manager, nil, &card, "Accept", "application/json"); code != http.StatusOK {
			t.Fatalf("GET %s: %d", u, code)
		}
		if card.Period.ID != id || card.Period.TimeZone != zone {
			t.Errorf("%s: period %s in %s, want %s in %s", q, card.Period.ID, card.Period.TimeZone, id, zone)
		}
		for kpi, w := range want {
			got := card.kpi(kpi)
			if got.ID == "" {
				t.Errorf("%s: no KPI %s", q, kpi)
				continue
			}
			if !swClose(kpi, got.Value, w) {
				t.Errorf("%s %s: %s, want %s", q, kpi, swShow(got.Value), swShow(w))
			}
		}
	}
	t.Logf("%s: %v in all", zone, time.Since(began).Round(time.Millisecond))
}

// surveyLink finds the path of the survey link mailed to Ada (A's
// customer) in the outbox.
func surveyLink(t *testing.T, st *local.Stack, customer string) string {
	t.Helper()
	mails, _ := filepath.Glob(filepath.Join(st.Outbox, "*.eml"))
	for _, m := range mails {
		b, _ := os.ReadFile(m)
		if !strings.Contains(string(b), "ada@example.com") {
			continue
		}
		if p := surveyPath.FindString(string(b)); p != "" {
			return p
		}
	}
	t.Fatalf("no survey link to ada@example.com (customer %s) in the outbox", customer)
	return ""
}

var surveyPath = regexp.MustCompile(`/s/[\w-]+`)

// swClose compares a KPI's value: medians come from histograms accurate to
// within 5%; everything else to the card's two decimals.
func swClose(kpi string, got, want *float64) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	if strings.HasSuffix(kpi, "_time") {
		return math.Abs(*got-*want) <= 0.05**want
	}
	return math.Abs(*got-*want) < 0.01
}

func swShow(x *float64) string {
	if x == nil {
		return "no data"
	}
	b, _ := json.Marshal(*x)
	return string(b)
}
