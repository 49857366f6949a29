package local_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// callJSON sends a JSON body (or none) with a token and decodes the answer
// into out, returning the status.
func callJSON(t *testing.T, method, url, token, body string, out any) int {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, url, rd)
	} else {
		req, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %d, %v", method, url, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

// Three customers buy on a Tuesday afternoon in Berlin; when the clock
// passes 00:30 on Wednesday, the daily ranking has ranked them by the
// revenue of the year that ended at midnight, and the API shows it.
func TestCustomersAreRankedByValueAfterHalfPastMidnight(t *testing.T) {
	at := time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC) // 14:00 in Berlin
	reg := local.DefaultRegistry()
	st, _ := startStack(t, &chain{}, nil, map[string]string{local.ClockVar: at.Format(time.RFC3339), "ORG_TIME_ZONE": "Europe/Berlin"}, func(o *local.Options) {
		o.Registry, o.Rules, o.Schedules = &reg, manifest.Rules, manifest.Schedules
	})
	ctx := within(t, 3*time.Minute)
	agent, err := st.Token(manifest.Agent)
	if err != nil {
		t.Fatal(err)
	}
	// Revenue: Ada 10 + 100, Bob 10, Cy 10 + 40. n = 3: Bob ⌈5/3⌉ = 2,
	// Cy ⌈10/3⌉ = 4, Ada 5.
	ids := map[string]string{}
	for name, purchase := range map[string]string{"Ada": "100.00", "Bob": "", "Cy": "40.00"} {
		var lead struct{ ID string }
		if code := callJSON(t, "POST", st.URL+"/leads", agent, `{"name":"`+name+`","email":"`+strings.ToLower(name)+`@example.com"}`, &lead); code != 201 {
			t.Fatalf("POST /leads %s: %d", name, code)
		}
		var conv struct{ Customer struct{ ID string } }
		if code := callJSON(t, "POST", st.URL+"/leads/"+lead.ID+"/convert", agent, `{"deal_value":"10.00","currency":"EUR"}`, &conv); code != 200 {
			t.Fatalf("convert %s: %d", name, code)
		}
		ids[name] = conv.Customer.ID
		if purchase != "" {
			if code := callJSON(t, "POST", st.URL+"/customers/"+ids[name]+"/purchases", agent, `{"amount":"`+purchase+`","currency":"EUR"}`, nil); code != 201 {
				t.Fatalf("purchase by %s: %d", name, code)
			}
		}
	}
	// Another currency than the organisation's (EUR by default) is refused.
	var problem struct{ Errors []struct{ Field string } }
	if code := callJSON(t, "POST", st.URL+"/customers/"+ids["Bob"]+"/purchases", agent, `{"amount":"5.00","currency":"USD"}`, &problem); code != 422 ||
		len(problem.Errors) != 1 || problem.Errors[0].Field != "currency" {
		t.Errorf("a USD purchase: %d %+v, want 422 naming currency", code, problem)
	}

	type detail struct {
		ValueRank  int                                `json:"value_rank"`
		TTMRevenue *struct{ Amount, Currency string } `json:"ttm_revenue"`
		RankedAt   *time.Time                         `json:"ranked_at"`
	}
	var before detail
	if code := callJSON(t, "GET", st.URL+"/customers/"+ids["Ada"], agent, "", &before); code != 200 || before.ValueRank != 0 || before.TTMRevenue != nil || before.RankedAt != nil {
		t.Errorf("Ada before the ranking: %d %+v, want no rank", code, before)
	}
	// 00:20 in Berlin: not yet; 00:31: ranked.
	if _, err := st.Advance(ctx, 10*time.Hour+20*time.Minute); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []struct {
			ID         string
			Name       string
			ValueRank  int                               `json:"value_rank"`
			TTMRevenue struct{ Amount, Currency string } `json:"ttm_revenue"`
		}
		NextCursor *string `json:"next_cursor"`
	}
	if code := callJSON(t, "GET", st.URL+"/customers?sort=value", agent, "", &list); code != 200 || len(list.Items) != 0 {
		t.Fatalf("before 00:30: %d %+v, want an empty list", code, list)
	}
	if _, err := st.Advance(ctx, 11*time.Minute); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		rank    int
		revenue string
	}{"Ada": {5, "110.00"}, "Bob": {2, "10.00"}, "Cy": {4, "50.00"}}
	for name, w := range want {
		var d detail
		if code := callJSON(t, "GET", st.URL+"/customers/"+ids[name], agent, "", &d); code != 200 || d.ValueRank != w.rank ||
			d.TTMRevenue == nil || d.TTMRevenue.Amount != w.revenue || d.TTMRevenue.Currency != "EUR" || d.RankedAt == nil {
			t.Errorf("%s: %d %+v, want rank %d with %s EUR", name, code, d, w.rank, w.revenue)
		}
	}
	var got []string
	cursor := ""
	for {
		url := st.URL + "/customers?sort=value&limit=2"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		if code := callJSON(t, "GET", url, agent, "", &list); code != 200 {
			t.Fatalf("GET %s: %d", url, code)
		}
		for _, it := range list.Items {
			got = append(got, it.Name+":"+it.TTMRevenue.Amount)
		}
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
		list.NextCursor = nil
	}
	if strings.Join(got, " ") != "Ada:110.00 Cy:50.00 Bob:10.00" {
		t.Errorf("by value: %v", got)
	}
	for _, bad := range []struct{ query, field string }{{"", "sort"}, {"?sort=name", "sort"}, {"?sort=value&limit=0", "limit"}, {"?sort=value&cursor=xyz", "cursor"}} {
		var p struct{ Errors []struct{ Field string } }
		if code := callJSON(t, "GET", st.URL+"/customers"+bad.query, agent, "", &p); code != 422 || len(p.Errors) == 0 || p.Errors[0].Field != bad.field {
			t.Errorf("GET /customers%s: %d %+v, want 422 naming %s", bad.query, code, p, bad.field)
		}
	}
}
