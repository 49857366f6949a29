package httpapi_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/rollup/rolluptest"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// scorecardAPI is the scorecard function's real handler over a fresh
// table in Europe/Berlin, with a counter on its DynamoDB client; the test
// writes day rollups as the rollup consumer does, through RollupStore.
type scorecardAPI struct {
	*api
	calls *dynamotest.Counter
	store *dynamo.RollupStore
}

// wednesday is 2026-12-02 11:00 in Berlin, in week 2026-W49.
var wednesday = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func newScorecardAPI(t testing.TB) *scorecardAPI {
	client, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "ORG_TIME_ZONE": "Europe/Berlin"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &scorecardAPI{api: &api{t: t, now: wednesday}, calls: &dynamotest.Counter{API: client},
		store: &dynamo.RollupStore{Client: client, Table: table}}
	now := func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now }
	a.handler = app.Scorecard(app.Deps{Config: cfg, DynamoDB: a.calls, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	return a
}

// apply counts envs in the day rollups, as the rollup consumer would.
func (a *scorecardAPI) apply(envs ...events.Envelope) {
	a.t.Helper()
	for _, env := range envs {
		cs, err := rollup.Contributions(env, berlin)
		if err != nil {
			a.t.Fatal(err)
		}
		if err := a.store.Apply(context.Background(), env.ID, cs); err != nil {
			a.t.Fatal(err)
		}
	}
}

// get asks for the scorecard with query, as a manager accepting accept.
func (a *scorecardAPI) get(query map[string]string, accept string) (int, string, map[string]string) {
	a.t.Helper()
	resp := a.do(req{route: "GET /scorecard", role: "manager", query: query, headers: map[string]string{"Accept": accept}})
	return resp.StatusCode, resp.Body, resp.Headers
}

func captured(t *testing.T, id, source string, at time.Time) events.Envelope {
	return rolluptest.Edit(t, rolluptest.Sample(t, "lead.captured"), id,
		map[string]any{"captured_at": at, "occurred_at": at, "attribution.source": source})
}

func converted(t *testing.T, id, customer string, minor int64, at time.Time) events.Envelope {
	return rolluptest.Edit(t, rolluptest.Sample(t, "lead.converted"), id,
		map[string]any{"converted_at": at, "occurred_at": at, "customer_id": customer, "deal_value.minor": minor})
}

// scriptedDay is a Tuesday in Berlin (2026-12-01) and the days around it:
// five leads captured on the day (one at 00:30 local, still 30 November
// in UTC), three from the website and two by referral; two converted for
// 12,500 and 7,500 EUR; one lead the Monday before, none converted; one
// at 00:30 local on Wednesday, 1 December in UTC.
func scriptedDay(t *testing.T) []events.Envelope {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return []events.Envelope{
		captured(t, "mon-1", "website", at("2026-11-30T10:00:00Z")),
		captured(t, "tue-1", "website", at("2026-11-30T23:30:00Z")),
		captured(t, "tue-2", "website", at("2026-12-01T08:00:00Z")),
		captured(t, "tue-3", "referral", at("2026-12-01T09:00:00Z")),
		captured(t, "tue-4", "website", at("2026-12-01T12:00:00Z")),
		captured(t, "tue-5", "referral", at("2026-12-01T16:00:00Z")),
		converted(t, "tue-c1", "cust-1", 1_250_000, at("2026-12-01T14:00:00Z")),
		converted(t, "tue-c2", "cust-2", 750_000, at("2026-12-01T17:00:00Z")),
		captured(t, "wed-1", "website", at("2026-12-01T23:30:00Z")),
	}
}

// kpiOf returns the KPI with id from a scorecard document.
func kpiOf(t *testing.T, doc map[string]any, id string) map[string]any {
	t.Helper()
	for _, p := range doc["perspectives"].([]any) {
		for _, k := range p.(map[string]any)["kpis"].([]any) {
			if k := k.(map[string]any); k["id"] == id {
				return k
			}
		}
	}
	t.Fatalf("no KPI %s on the card", id)
	return nil
}

// A scripted day's card equals what the script gives by hand, in the
// organisation's zone: 5 leads, 2 converted is 40% against 0% on Monday.
func TestScorecardScriptedDay(t *testing.T) {
	a := newScorecardAPI(t)
	a.apply(scriptedDay(t)...)

	status, body, headers := a.get(map[string]string{"period": "day", "at": "2026-12-01"}, "application/json")
	if status != 200 || !strings.HasPrefix(headers["Content-Type"], "application/json") {
		t.Fatalf("GET /scorecard: %d %s %s", status, headers["Content-Type"], body)
	}
	doc := decodeString(t, body)
	if p := doc["period"].(map[string]any); p["id"] != "2026-12-01" || p["kind"] != "day" || p["time_zone"] != "Europe/Berlin" ||
		p["start"] != "2026-11-30T23:00:00Z" {
		t.Errorf("period %v, want 2026-12-01 from 2026-11-30T23:00:00Z in Europe/Berlin", p)
	}
	if doc["team"] != nil || doc["currency"] != "EUR" {
		t.Errorf("team %v currency %v, want null and EUR", doc["team"], doc["currency"])
	}
	conv := kpiOf(t, doc, scorecard.KPILeadConversionRate)
	want := map[string]any{"value": 40.0, "samples": 5.0, "previous": 0.0, "trend": "better", "target": 20.0, "score": 100.0, "status": "green"}
	for k, v := range want {
		if conv[k] != v {
			t.Errorf("lead_conversion_rate %s = %v, want %v (2 of 5 leads; Monday 0 of 1)", k, conv[k], v)
		}
	}
	rev := kpiOf(t, doc, scorecard.KPIRevenue)
	if rev["value"] != 2_000_000.0 || rev["target"] != 500_000.0 || rev["previous"] != nil || rev["trend"] != nil {
		t.Errorf("revenue %v, want 2,000,000 minor units against 500,000, no previous", rev)
	}
	if v := kpiOf(t, doc, scorecard.KPIAverageDealValue)["value"]; v != 1_000_000.0 {
		t.Errorf("average deal value %v, want 1,000,000", v)
	}
	if v := kpiOf(t, doc, scorecard.KPIBestLeadSourceShare)["value"]; v != 60.0 {
		t.Errorf("best source share %v, want 60 (3 of 5 from the website)", v)
	}
	if nps := kpiOf(t, doc, scorecard.KPINPS); nps["value"] != nil || nps["status"] != nil || nps["score"] != nil {
		t.Errorf("NPS with no answers: %v, want nulls", nps)
	}

	// With no parameters: this week (2026-W49, Monday 30 November to
	// Sunday), holding all seven leads.
	status, body, _ = a.get(nil, "")
	if status != 200 {
		t.Fatalf("GET /scorecard: %d %s", status, body)
	}
	doc = decodeString(t, body)
	if id := doc["period"].(map[string]any)["id"]; id != "2026-W49" {
		t.Errorf("default period %v, want 2026-W49", id)
	}
	if conv := kpiOf(t, doc, scorecard.KPILeadConversionRate); conv["value"] != 28.57 || conv["samples"] != 7.0 {
		t.Errorf("week's conversion %v of %v leads, want 28.57 of 7", conv["value"], conv["samples"])
	}
	if v := kpiOf(t, doc, scorecard.KPIRevenue)["target"]; v != 3_500_000.0 {
		t.Errorf("week's revenue target %v, want 7 days × 500,000", v)
	}
	// at alone takes its own kind.
	if _, body, _ := a.get(map[string]string{"at": "2026-12"}, ""); decodeString(t, body)["period"].(map[string]any)["kind"] != "month" {
		t.Errorf("at=2026-12 alone: %s, want the month", body)
	}
}

// A team's card counts the team's events only; an unknown team's card is
// empty, not an error.
func TestScorecardTeam(t *testing.T) {
	a := newScorecardAPI(t)
	opened := rolluptest.Sample(t, "ticket.opened") // a complaint for team support on 2026-12-03
	a.apply(opened)
	for team, want := range map[string]any{"support": 100.0, "sales": nil, "": 100.0} {
		status, body, _ := a.get(map[string]string{"period": "day", "at": "2026-12-03", "team": team}, "")
		if status != 200 {
			t.Fatalf("team %q: %d %s", team, status, body)
		}
		doc := decodeString(t, body)
		if v := kpiOf(t, doc, scorecard.KPIComplaintRate)["value"]; v != want {
			t.Errorf("team %q: complaint rate %v, want %v", team, v, want)
		}
		if team != "" && doc["team"] != team {
			t.Errorf("team %q: document's team %v", team, doc["team"])
		}
	}
}

// Only managers and admins read the scorecard.
func TestScorecardRoles(t *testing.T) {
	a := newScorecardAPI(t)
	for role, want := range map[string]int{"": 401, "agent": 403, "manager": 200, "admin": 200} {
		if resp := a.do(req{route: "GET /scorecard", role: role}); resp.StatusCode != want {
			t.Errorf("%q: %d, want %d: %s", role, resp.StatusCode, want, resp.Body)
		}
	}
}

// Accept: text/csv is one row per KPI under a header row, RFC 4180.
func TestScorecardCSV(t *testing.T) {
	a := newScorecardAPI(t)
	a.apply(scriptedDay(t)...)
	status, body, headers := a.get(map[string]string{"period": "day", "at": "2026-12-01"}, "text/csv")
	if status != 200 || !strings.HasPrefix(headers["Content-Type"], "text/csv") || headers["Vary"] != "Accept" {
		t.Fatalf("%d %v %s", status, headers, body)
	}
	if !strings.Contains(body, "\r\n") {
		t.Errorf("lines end in LF, RFC 4180 wants CRLF")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(scorecard.DefaultCatalogue().KPIs); len(rows) != n+1 {
		t.Fatalf("%d rows, want a header and %d KPIs", len(rows), n)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	found := false
	for _, r := range rows[1:] {
		if r[col["kpi"]] != scorecard.KPILeadConversionRate {
			continue
		}
		found = true
		got := fmt.Sprint(r[col["period"]], " ", r[col["value"]], " ", r[col["target"]], " ", r[col["previous"]], " ", r[col["trend"]], " ", r[col["status"]])
		if got != "2026-12-01 40 20 0 better green" {
			t.Errorf("conversion row %q, want 2026-12-01 40 20 0 better green", got)
		}
		if r[col["name"]] != "Lead conversion rate" || r[col["perspective"]] != "customer" {
			t.Errorf("conversion row %v", r)
		}
	}
	if !found {
		t.Errorf("no lead_conversion_rate row in %s", body)
	}
	for _, r := range rows[1:] {
		if r[col["kpi"]] == scorecard.KPINPS && (r[col["value"]] != "" || r[col["status"]] != "") {
			t.Errorf("NPS with no data: %v, want empty cells", r)
		}
	}
}

// Accept: text/html is a page with no script: each KPI a tile whose
// status, value, target and trend are in words, with an SVG of its last
// eight periods that a screen reader can read.
func TestScorecardPage(t *testing.T) {
	a := newScorecardAPI(t)
	a.apply(scriptedDay(t)...)
	status, page, headers := a.get(map[string]string{"period": "day", "at": "2026-12-01"},
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if status != 200 || !strings.HasPrefix(headers["Content-Type"], "text/html") {
		t.Fatalf("%d %v %s", status, headers, page)
	}
	for _, bad := range []string{"<script", "onclick", "<link", "<img"} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %s: it must read the same with JavaScript off and load nothing", bad)
		}
	}
	cat := scorecard.DefaultCatalogue()
	for _, p := range cat.Perspectives {
		if !strings.Contains(page, "<h2 id=\"p-"+string(p.ID)+"\">"+strings.ReplaceAll(p.Name, "&", "&amp;")) {
			t.Errorf("no heading for perspective %s", p.Name)
		}
	}
	if got, want := strings.Count(page, `<li class="tile`), len(cat.KPIs); got != want {
		t.Errorf("%d tiles, want one per KPI (%d)", got, want)
	}
	if got, want := strings.Count(page, `<svg `), len(cat.KPIs); got != want {
		t.Errorf("%d sparklines, want %d", got, want)
	}
	for _, s := range []string{
		"Scorecard for the whole organisation: day 2026-12-01",
		"<h3>Lead conversion rate</h3>\n<p class=\"status\">Green: on target (score 100)</p>\n<p><span class=\"value\">40%</span> <span>target 20%</span></p>\n<p>Better than the previous day (0%).</p>",
		"<h3>Revenue</h3>", "20,000.00 EUR", "target 5,000.00 EUR",
		"<h3>Net Promoter Score</h3>\n<p class=\"status\">No data this period</p>",
		`role="img" aria-label="Lead conversion rate, last 8 periods: 2026-11-24 no data;`,
		"2026-11-30 0%; 2026-12-01 40%",
		`href="?period=day&amp;at=2026-11-30" rel="prev"`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// Bad parameters are refused naming the parameter, before any read.
func TestScorecardBadParameters(t *testing.T) {
	a := newScorecardAPI(t)
	for _, c := range []struct {
		query  map[string]string
		status int
		field  string
	}{
		{map[string]string{"period": "year"}, 422, "period"},
		{map[string]string{"period": ""}, 200, ""},
		{map[string]string{"at": "2026-W54"}, 422, "at"},
		{map[string]string{"at": "yesterday"}, 422, "at"},
		{map[string]string{"period": "month", "at": "2026-W48"}, 422, "at"},
		{map[string]string{"period": "quarter", "at": "2026-12-01"}, 422, "at"},
		{map[string]string{"at": "0000-01-01"}, 422, "at"},
		{map[string]string{"at": "9999-Q4"}, 422, "at"},
		{map[string]string{"at": "1970-01"}, 200, ""},
		{map[string]string{"team": "Sales Team"}, 422, "team"},
		{map[string]string{"team": strings.Repeat("a", 65)}, 422, "team"},
		{map[string]string{"team": "a#b"}, 422, "team"},
		{map[string]string{"teams": "sales"}, 400, "teams"},
	} {
		a.calls.Reset()
		status, body, _ := a.get(c.query, "")
		if status != c.status {
			t.Errorf("%v: %d, want %d: %s", c.query, status, c.status, body)
			continue
		}
		if c.field != "" {
			if f := problemField(t, body); f != c.field {
				t.Errorf("%v: problem names %q, want %q: %s", c.query, f, c.field, body)
			}
			if n := a.calls.Requests(); n != 0 {
				t.Errorf("%v: %d DynamoDB requests for a refused query", c.query, n)
			}
		}
	}
	if status, body, _ := a.get(nil, "image/png"); status != 406 || problemField(t, body) != "Accept" {
		t.Errorf("Accept image/png: %d %s, want 406 naming Accept", status, body)
	}
}

// bulkEvent is what one synthetic event adds to a day: a lead captured and
// converted with its deal, a ticket answered within its SLA, a survey sent
// and answered, the lead's and the ticket's response times, and entries
// for a source, a campaign and a customer chosen by slot — so every event
// of a slot touches the same rollup items, and only the totals grow with
// volume.
func bulkEvent(slot int) *scorecard.Rollup {
	r := &scorecard.Rollup{}
	for _, c := range []scorecard.Counter{scorecard.LeadsCaptured, scorecard.LeadsConverted, scorecard.TicketsOpened,
		scorecard.SLAMet, scorecard.SurveyInvitationsSent, scorecard.SurveyResponses} {
		_ = r.Add(c, 1)
	}
	_ = r.AddSum(scorecard.ConversionRevenue, 10_000, "EUR")
	r.Observe(scorecard.LeadResponseTime, 30*time.Minute)
	r.Observe(scorecard.TicketFirstResponseTime, 2*time.Hour)
	source, campaign := fmt.Sprintf("source-%d", slot%4), fmt.Sprintf("campaign-%d", slot%3)
	_ = r.AddTo(scorecard.LeadsBySource, source, 1)
	_ = r.AddTo(scorecard.LeadsByCampaign, campaign, 1)
	_ = r.AddTo(scorecard.ConversionsBySource, source, 1)
	_ = r.AddTo(scorecard.ConversionsByCampaign, campaign, 1)
	_ = r.AddTo(scorecard.ConversionRevenueBySource, source, 10_000)
	_ = r.AddTo(scorecard.ConversionRevenueByCampaign, campaign, 10_000)
	_ = r.AddTo(scorecard.RevenueByCustomer, fmt.Sprintf("customer-%d", slot), 10_000)
	_ = r.AddTo(scorecard.SalesByCustomer, fmt.Sprintf("customer-%d", slot), 1)
	return r
}

// fillQuarter applies n events spread evenly over the days of 2026-Q4:
// the events of each of a day's slots merged into one Apply under an id of
// its own (the read cost is the point, not the write), so that 1,000 and
// 100,000 events fill the same items. It returns the events per day.
func fillQuarter(t testing.TB, store *dynamo.RollupStore, n int) map[string]int {
	t.Helper()
	const slotsPerDay = 8
	q, err := period.Parse("2026-Q4", berlin)
	if err != nil {
		t.Fatal(err)
	}
	days := q.Days()
	buckets := make([]*scorecard.Rollup, len(days)*slotsPerDay)
	perDay := map[string]int{}
	for i := range n {
		b := i % len(buckets)
		if buckets[b] == nil {
			buckets[b] = &scorecard.Rollup{}
		}
		if err := buckets[b].Merge(bulkEvent(b)); err != nil {
			t.Fatal(err)
		}
		perDay[days[b/slotsPerDay].ID()]++
	}
	for b, r := range buckets {
		day := days[b/slotsPerDay]
		id := fmt.Sprintf("bulk-%s-%d", day.ID(), b%slotsPerDay)
		if err := store.Apply(context.Background(), id, []rollup.Contribution{{Scope: rollup.Org, Day: day, Adds: *r}}); err != nil {
			t.Fatal(err)
		}
	}
	return perDay
}

// Reading a card costs the same requests at 1,000 and at 100,000 events in
// the quarter, for every kind of period: the reads depend on the days and
// the rollup items, never on the events behind them. Read capacity follows
// the items' bytes, and a total with more digits takes a byte or two more,
// so it may grow with the logarithm of the volume — a few percent for a
// hundred times the events — and never with the events themselves.
func TestScorecardFlatCost(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 1,472 rollups")
	}
	// maxRCUGrowth bounds the growth of read capacity from 1,000 to
	// 100,000 events: wider numbers only (measured: 3%).
	const maxRCUGrowth = 1.05
	type figure struct {
		requests string
		total    int
		rcu      float64
	}
	reads := []struct {
		kind period.Kind
		at   string
	}{{period.Day, "2026-11-25"}, {period.Week, "2026-W48"}, {period.Month, "2026-11"}, {period.Quarter, "2026-Q4"}}
	measure := func(n int) (map[string]figure, map[string]int, figure) {
		a := newScorecardAPI(t)
		perDay := fillQuarter(t, a.store, n)
		out := map[string]figure{}
		for _, r := range reads {
			a.calls.Reset()
			if status, body, _ := a.get(map[string]string{"period": string(r.kind), "at": r.at}, "application/json"); status != 200 {
				t.Fatalf("%s: %d %s", r.at, status, body)
			}
			c := a.calls.Cost()
			out[r.at] = figure{fmt.Sprint(c.Requests), c.Total(), c.RCU}
		}
		a.calls.Reset()
		if status, _, _ := a.get(map[string]string{"period": "quarter", "at": "2026-Q4"}, "text/html"); status != 200 {
			t.Fatalf("page: %d", status)
		}
		c := a.calls.Cost()
		return out, perDay, figure{fmt.Sprint(c.Requests), c.Total(), c.RCU}
	}
	small, smallDays, smallPage := measure(1_000)
	large, largeDays, largePage := measure(100_000)
	for _, r := range reads {
		p, _ := period.Parse(r.at, berlin)
		smallN, largeN := 0, 0
		for _, d := range p.Days() {
			smallN, largeN = smallN+smallDays[d.ID()], largeN+largeDays[d.ID()]
		}
		s, l := small[r.at], large[r.at]
		t.Logf("GET /scorecard?period=%s&at=%s: %d events: %d requests %s, %.1f RCU; %d events: %d requests %s, %.1f RCU; ratio %.2f requests, %.2f RCU",
			r.kind, r.at, smallN, s.total, s.requests, s.rcu, largeN, l.total, l.requests, l.rcu,
			float64(l.total)/float64(s.total), l.rcu/s.rcu)
		if s.requests != l.requests || l.rcu > s.rcu*maxRCUGrowth {
			t.Errorf("%s: %s %.1f RCU at %d events, %s %.1f RCU at %d", r.at, s.requests, s.rcu, smallN, l.requests, l.rcu, largeN)
		}
	}
	t.Logf("the page of 2026-Q4 (eight quarters for its sparklines): %d requests %s, %.1f RCU at 1,000 events; %d requests, %.1f RCU at 100,000",
		smallPage.total, smallPage.requests, smallPage.rcu, largePage.total, largePage.rcu)
	if smallPage.requests != largePage.requests || largePage.rcu > smallPage.rcu*maxRCUGrowth {
		t.Errorf("page: %v at 1,000 events, %v at 100,000", smallPage, largePage)
	}
}
