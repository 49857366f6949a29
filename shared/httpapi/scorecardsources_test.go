package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup/rolluptest"
)

// sources asks for GET /scorecard/sources with query, as role.
func (a *scorecardAPI) sources(query map[string]string, role string) (int, string) {
	a.t.Helper()
	resp := a.do(req{route: "GET /scorecard/sources", role: role, query: query})
	return resp.StatusCode, resp.Body
}

// leadFrom is a lead captured from source and campaign ("" for none) at s.
func leadFrom(t *testing.T, id, source, campaign, s string) events.Envelope {
	at := mustTime(t, s)
	return rolluptest.Edit(t, rolluptest.Sample(t, "lead.captured"), id, map[string]any{
		"captured_at": at, "occurred_at": at, "attribution.source": source, "attribution.utm_campaign": campaign})
}

// wonFrom is a lead from source and campaign ("" for none) converted for
// minor cents at s.
func wonFrom(t *testing.T, id, source, campaign string, minor int64, s string) events.Envelope {
	at := mustTime(t, s)
	return rolluptest.Edit(t, rolluptest.Sample(t, "lead.converted"), id, map[string]any{
		"converted_at": at, "occurred_at": at, "customer_id": "cust-" + id, "deal_value.minor": minor,
		"source": source, "utm_campaign": campaign})
}

func mustTime(t *testing.T, s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// scriptedSources is Tuesday 2026-12-01 in Berlin and the days around it.
// On the day: four website leads (three from the spring-2026 campaign, the
// first at 00:30 local, still 30 November in UTC; one from no campaign),
// two referral leads from the autumn campaign; two website/spring-2026
// leads converted for 12,500 and 7,500 EUR, one referral/autumn lead for
// nothing, and a trade-fair lead of no campaign, captured long before,
// for 3,000 EUR. Around it: a website/spring-2026 lead on Monday and a
// referral/autumn one at 00:30 on Wednesday (still Tuesday in UTC).
func scriptedSources(t *testing.T) []events.Envelope {
	return []events.Envelope{
		leadFrom(t, "mon-1", "website", "spring-2026", "2026-11-30T10:00:00Z"),
		leadFrom(t, "tue-1", "website", "spring-2026", "2026-11-30T23:30:00Z"),
		leadFrom(t, "tue-2", "website", "spring-2026", "2026-12-01T08:00:00Z"),
		leadFrom(t, "tue-3", "website", "spring-2026", "2026-12-01T09:00:00Z"),
		leadFrom(t, "tue-4", "website", "", "2026-12-01T10:00:00Z"),
		leadFrom(t, "tue-5", "referral", "autumn", "2026-12-01T11:00:00Z"),
		leadFrom(t, "tue-6", "referral", "autumn", "2026-12-01T12:00:00Z"),
		wonFrom(t, "tue-c1", "website", "spring-2026", 1_250_000, "2026-12-01T14:00:00Z"),
		wonFrom(t, "tue-c2", "website", "spring-2026", 750_000, "2026-12-01T15:00:00Z"),
		wonFrom(t, "tue-c3", "referral", "autumn", 0, "2026-12-01T16:00:00Z"),
		wonFrom(t, "tue-c4", "trade fair", "", 300_000, "2026-12-01T17:00:00Z"),
		leadFrom(t, "wed-1", "referral", "autumn", "2026-12-01T23:30:00Z"),
	}
}

// channelLines renders a list of sources or campaigns as
// "name leads/conversions rate amount currency" lines, in order.
func channelLines(t *testing.T, doc map[string]any, list, name string) string {
	t.Helper()
	var lines []string
	for _, c := range doc[list].([]any) {
		c := c.(map[string]any)
		rev := c["revenue"].(map[string]any)
		lines = append(lines, fmt.Sprintf("%v %v/%v %v %v %v", c[name], c["leads"], c["conversions"], c["conversion_rate"],
			rev["amount"], rev["currency"]))
	}
	return strings.Join(lines, "; ")
}

// A scripted day's sources and campaigns are what the script gives by
// hand, in the organisation's zone, the biggest earners first.
func TestScorecardSourcesScriptedDay(t *testing.T) {
	a := newScorecardAPI(t)
	a.apply(scriptedSources(t)...)

	for _, c := range []struct {
		query              map[string]string
		id                 string
		sources, campaigns string
	}{
		{map[string]string{"period": "day", "at": "2026-12-01"}, "2026-12-01",
			// website: 4 leads, 2 won for 12,500 + 7,500; trade fair: no
			// lead today, 1 won for 3,000; referral: 2 leads, 1 won for 0.
			"website 4/2 50 20000.00 EUR; trade fair 0/1 <nil> 3000.00 EUR; referral 2/1 50 0.00 EUR",
			"spring-2026 3/2 66.67 20000.00 EUR; (none) 1/1 100 3000.00 EUR; autumn 2/1 50 0.00 EUR"},
		// The week (Monday 30 November to Sunday) adds Monday's and
		// Wednesday's leads.
		{map[string]string{"period": "week", "at": "2026-W49"}, "2026-W49",
			"website 5/2 40 20000.00 EUR; trade fair 0/1 <nil> 3000.00 EUR; referral 3/1 33.33 0.00 EUR",
			"spring-2026 4/2 50 20000.00 EUR; (none) 1/1 100 3000.00 EUR; autumn 3/1 33.33 0.00 EUR"},
		// No parameters: this week.
		{nil, "2026-W49",
			"website 5/2 40 20000.00 EUR; trade fair 0/1 <nil> 3000.00 EUR; referral 3/1 33.33 0.00 EUR",
			"spring-2026 4/2 50 20000.00 EUR; (none) 1/1 100 3000.00 EUR; autumn 3/1 33.33 0.00 EUR"},
		// Monday: one lead, nothing won, no money counted.
		{map[string]string{"at": "2026-11-30"}, "2026-11-30",
			"website 1/0 0 0.00 <nil>", "spring-2026 1/0 0 0.00 <nil>"},
		// A day with nothing: empty lists.
		{map[string]string{"at": "2026-12-05"}, "2026-12-05", "", ""},
	} {
		status, body := a.sources(c.query, "manager")
		if status != 200 {
			t.Fatalf("%v: %d %s", c.query, status, body)
		}
		doc := decodeString(t, body)
		if p := doc["period"].(map[string]any); p["id"] != c.id || p["time_zone"] != "Europe/Berlin" {
			t.Errorf("%v: period %v, want %s in Europe/Berlin", c.query, p, c.id)
		}
		if doc["team"] != nil {
			t.Errorf("%v: team %v, want null", c.query, doc["team"])
		}
		if got := channelLines(t, doc, "sources", "source"); got != c.sources {
			t.Errorf("%v sources:\n got %s\nwant %s", c.query, got, c.sources)
		}
		if got := channelLines(t, doc, "campaigns", "campaign"); got != c.campaigns {
			t.Errorf("%v campaigns:\n got %s\nwant %s", c.query, got, c.campaigns)
		}
	}

	// These lead events name no team (unowned, or written before events
	// carried one): a team's lists are empty, not an error.
	status, body := a.sources(map[string]string{"at": "2026-12-01", "team": "sales"}, "manager")
	if doc := decodeString(t, body); status != 200 || doc["team"] != "sales" || len(doc["sources"].([]any)) != 0 ||
		len(doc["campaigns"].([]any)) != 0 || doc["currency"] != nil {
		t.Errorf("team sales: %d %s, want empty lists", status, body)
	}
}

// Only managers and admins read where the money comes from.
func TestScorecardSourcesRoles(t *testing.T) {
	a := newScorecardAPI(t)
	for role, want := range map[string]int{"": 401, "agent": 403, "manager": 200, "admin": 200} {
		if status, body := a.sources(nil, role); status != want {
			t.Errorf("%q: %d, want %d: %s", role, status, want, body)
		}
	}
}

// Bad parameters are refused as GET /scorecard refuses them, naming the
// parameter, before any read.
func TestScorecardSourcesBadParameters(t *testing.T) {
	a := newScorecardAPI(t)
	for _, c := range []struct {
		query  map[string]string
		status int
		field  string
	}{
		{map[string]string{"period": "year"}, 422, "period"},
		{map[string]string{"at": "2026-W54"}, 422, "at"},
		{map[string]string{"at": "yesterday"}, 422, "at"},
		{map[string]string{"period": "month", "at": "2026-W48"}, 422, "at"},
		{map[string]string{"at": "0000-01-01"}, 422, "at"},
		{map[string]string{"team": "Sales Team"}, 422, "team"},
		{map[string]string{"teams": "sales"}, 400, "teams"},
		{map[string]string{"at": "1970-01"}, 200, ""},
	} {
		a.calls.Reset()
		status, body := a.sources(c.query, "manager")
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
	resp := a.do(req{route: "GET /scorecard/sources", role: "manager", headers: map[string]string{"Accept": "text/csv"}})
	if resp.StatusCode != 406 || problemField(t, resp.Body) != "Accept" {
		t.Errorf("Accept text/csv: %d %s, want 406 naming Accept", resp.StatusCode, resp.Body)
	}
}

// Reading the sources costs the same requests at 1,000 and at 100,000
// events in the quarter, for every kind of period: one query per month
// the period touches, never more with more leads (see
// TestScorecardFlatCost for why read capacity may grow by a few percent).
func TestScorecardSourcesFlatCost(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 1,472 rollups")
	}
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
	measure := func(n int) map[string]figure {
		a := newScorecardAPI(t)
		fillQuarter(t, a.store, n)
		out := map[string]figure{}
		for _, r := range reads {
			a.calls.Reset()
			status, body := a.sources(map[string]string{"period": string(r.kind), "at": r.at}, "manager")
			if status != 200 {
				t.Fatalf("%s: %d %s", r.at, status, body)
			}
			if doc := decodeString(t, body); len(doc["sources"].([]any)) != 4 || len(doc["campaigns"].([]any)) != 3 {
				t.Fatalf("%s: %s, want the 4 sources and 3 campaigns of the bulk events", r.at, body)
			}
			c := a.calls.Cost()
			out[r.at] = figure{fmt.Sprint(c.Requests), c.Total(), c.RCU}
		}
		return out
	}
	small, large := measure(1_000), measure(100_000)
	for _, r := range reads {
		s, l := small[r.at], large[r.at]
		t.Logf("GET /scorecard/sources?period=%s&at=%s: 1,000 events: %d requests %s, %.1f RCU; 100,000 events: %d requests %s, %.1f RCU",
			r.kind, r.at, s.total, s.requests, s.rcu, l.total, l.requests, l.rcu)
		if s.requests != l.requests || l.rcu > s.rcu*maxRCUGrowth {
			t.Errorf("%s: %s %.1f RCU at 1,000 events, %s %.1f RCU at 100,000", r.at, s.requests, s.rcu, l.requests, l.rcu)
		}
	}
}
