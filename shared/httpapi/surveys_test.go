package httpapi_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/survey"
)

// The managers' surveys routes: invitations by hand, results and the
// answers, each behind its role and refusing bad parameters by name.

func TestSurveyStaffRoutesNeedAManager(t *testing.T) {
	a := newSurveysAPI(t)
	for _, r := range manifest.RoutesOf("surveys") {
		if r.Role == manifest.Public {
			continue
		}
		if resp := a.do(req{route: r.Key()}); resp.StatusCode != 401 {
			t.Errorf("%s without a token: %d", r.Key(), resp.StatusCode)
		}
		for _, role := range []string{"customer", "agent"} {
			if resp := a.do(req{route: r.Key(), role: role, headers: jsonClient, body: `{"email":"ada@example.com"}`}); resp.StatusCode != 403 {
				t.Errorf("%s as %s: %d", r.Key(), role, resp.StatusCode)
			}
		}
	}
	for _, role := range []string{"manager", "admin"} {
		if resp := a.do(req{route: "GET /surveys/results", role: role, query: map[string]string{"question": "nps"}}); resp.StatusCode != 200 {
			t.Errorf("GET /surveys/results as %s: %d", role, resp.StatusCode)
		}
	}
	if n := a.writes(); n != 0 {
		t.Errorf("refused requests made %d writes", n)
	}
}

func TestEverySurveyRouteIsServed(t *testing.T) {
	a := newSurveysAPI(t)
	for _, r := range manifest.RoutesOf("surveys") {
		resp := a.do(req{route: r.Key(), role: "admin", path: map[string]string{"token": "x"}})
		if resp.StatusCode == 404 && strings.Contains(resp.Body, "no route") {
			t.Errorf("%s is in the manifest but not served", r.Key())
		}
	}
}

func TestAManagerInvitesByHand(t *testing.T) {
	a := newSurveysAPI(t)
	resp := a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient,
		body: `{"email":"Ada@Example.com","questions":["csat","ces"]}`})
	got := decode(t, resp)
	if resp.StatusCode != 201 || got["email"] != "ada@example.com" || got["status"] != "sent" || got["reason"] != "manual" ||
		got["sent_at"] != "2026-11-23T09:00:00Z" || got["expires_at"] != "2026-12-23T09:00:00Z" || got["customer_id"] != nil {
		t.Fatalf("POST /surveys/invitations: %d %s", resp.StatusCode, resp.Body)
	}
	if qs := got["questions"].([]any); len(qs) != 2 || qs[0] != "csat" || qs[1] != "ces" {
		t.Errorf("questions = %v", qs)
	}
	for k := range got {
		if strings.Contains(k, "token") || strings.Contains(k, "link") || strings.Contains(k, "url") {
			t.Errorf("the invitation carries %s", k)
		}
	}
	if inv := a.invitation(got["id"].(string)); inv.Status != survey.StatusSent || inv.Reason != survey.Manual {
		t.Errorf("stored: %+v", inv)
	}

	// The quiet period: one invitation per person per 30 days, whoever asks.
	resp = a.do(req{route: "POST /surveys/invitations", role: "admin", headers: jsonClient, body: `{"email":"ada@example.com"}`})
	if resp.StatusCode != 409 || problemField(t, resp.Body) != "email" || problemReason(t, resp.Body) != survey.QuietPeriod {
		t.Errorf("a second invitation within the quiet period: %d %s", resp.StatusCode, resp.Body)
	}

	// A customer, by their record; one with no address is refused.
	bo := a.customer(`{"email":"Bo@example.com","name":"Bo"}`)
	phoneOnly := a.customer(`{"phone":"+49 30 1234567","name":"Cy"}`)
	resp = a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient, body: `{"customer_id":"` + bo + `"}`})
	got = decode(t, resp)
	if resp.StatusCode != 201 || got["customer_id"] != bo || got["email"] != "bo@example.com" {
		t.Errorf("inviting a customer: %d %s", resp.StatusCode, resp.Body)
	}
	if qs := got["questions"].([]any); len(qs) != 1 || qs[0] != "nps" {
		t.Errorf("a manual invitation asks NPS by default: %v", qs)
	}
	resp = a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient, body: `{"customer_id":"` + phoneOnly + `"}`})
	if resp.StatusCode != 409 || problemField(t, resp.Body) != "customer_id" || problemReason(t, resp.Body) != survey.NoEmail {
		t.Errorf("a customer without an address: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestBadInvitationsNameTheFieldAndWriteNothing(t *testing.T) {
	a := newSurveysAPI(t)
	bo := a.customer(`{"email":"bo@example.com"}`)
	for body, c := range map[string]struct {
		status int
		field  string
	}{
		`{}`: {422, "customer_id"},
		`{"email":"ada@example.com","customer_id":"` + bo + `"}`:      {422, "customer_id"},
		`{"customer_id":"01KA0000000000000000000009"}`:                {422, "customer_id"},
		`{"email":"not an address"}`:                                  {422, "email"},
		`{"email":"ada@example.com","questions":["nps","happiness"]}`: {422, "questions"},
		`{"email":"ada@example.com","questions":["nps","nps"]}`:       {422, "questions"},
		`{"email":"ada@example.com","questions":"nps"}`:               {422, "questions"},
		`{"email":"ada@example.com","token":"x"}`:                     {422, "token"},
		`{"email":`: {400, "body"},
	} {
		a.calls.Reset()
		resp := a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient, body: body})
		if resp.StatusCode != c.status || problemField(t, resp.Body) != c.field {
			t.Errorf("%s: %d %s, want %d naming %s", body, resp.StatusCode, resp.Body, c.status, c.field)
		}
		if n := a.writes(); n != 0 {
			t.Errorf("%s: %d writes", body, n)
		}
	}
}

// answerAt invites email to question q and answers score with comment at
// the instant at.
func (a *surveysAPI) answerAt(at time.Time, email string, q survey.Question, score int, comment string) string {
	a.t.Helper()
	a.mu.Lock()
	a.now = at
	a.mu.Unlock()
	id, tok := a.invite(email, q)
	a.answered(tok, url.Values{string(q): {strconv.Itoa(score)}, "comment": {comment}})
	return id
}

func TestResultsCountAWeeksAnswersInTheOrganisationsZone(t *testing.T) {
	a := newSurveysAPI(t)
	// Week 48 in Berlin runs from Monday 23 November 00:00 (22 November
	// 23:00 UTC) to Monday 30 November 00:00 (29 November 23:00 UTC).
	start := time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)
	scores := []int{10, 9, 9, 8, 7, 6, 0, 10}
	for i, s := range scores {
		a.answerAt(start.Add(time.Duration(i)*20*time.Hour), "p"+strconv.Itoa(i)+"@example.com", survey.NPS, s, "")
	}
	// One more sent in the week and not answered, and one answered just
	// before the week began and one just after it ended, in UTC's week 48.
	a.mu.Lock()
	a.now = start.Add(3 * time.Hour)
	a.mu.Unlock()
	a.invite("silent@example.com", survey.NPS)
	a.answerAt(start.Add(-time.Minute), "before@example.com", survey.NPS, 0, "")
	a.answerAt(start.Add(7*24*time.Hour), "after@example.com", survey.NPS, 0, "")

	r := a.results(map[string]string{"question": "nps", "period": "2026-W48"})
	// 3 promoters (10, 9, 9, 10 → 4), detractors 6 and 0 → 2, of 8: (4−2)/8 = 25.
	if r["question"] != "nps" || r["answers"] != float64(8) || r["responses"] != float64(8) || r["invitations_sent"] != float64(9) ||
		r["score"] != float64(25) || r["response_rate"] != 88.9 {
		t.Errorf("week 48: %v", r)
	}
	p := r["period"].(map[string]any)
	if p["label"] != "2026-W48" || p["start"] != "2026-11-22T23:00:00Z" || p["end"] != "2026-11-29T23:00:00Z" {
		t.Errorf("the period: %v", p)
	}
	counts := r["counts"].(map[string]any)
	want := map[string]float64{"0": 1, "6": 1, "7": 1, "8": 1, "9": 2, "10": 2, "5": 0}
	for s, n := range want {
		if counts[s] != n {
			t.Errorf("counts[%s] = %v, want %v", s, counts[s], n)
		}
	}
	if len(counts) != 11 {
		t.Errorf("%d scores counted, want NPS's 11: %v", len(counts), counts)
	}

	// A day, a month, a quarter.
	if d := a.results(map[string]string{"question": "nps", "period": "2026-11-23"}); d["answers"] != float64(2) {
		t.Errorf("Monday 23 November: %v", d)
	}
	if m := a.results(map[string]string{"question": "nps", "period": "2026-11"}); m["answers"] != float64(10) {
		t.Errorf("November: %v", m)
	}
	if q := a.results(map[string]string{"question": "nps", "period": "2026-Q4"}); q["answers"] != float64(10) || q["score"] != float64(0) {
		t.Errorf("Q4: %v", q)
	}
	// Nothing to compute from: null, not zero.
	empty := a.results(map[string]string{"question": "csat", "period": "2026-W48"})
	if empty["score"] != nil || empty["answers"] != float64(0) || empty["counts"].(map[string]any)["5"] != float64(0) ||
		len(empty["counts"].(map[string]any)) != 5 || empty["response_rate"] != 88.9 {
		t.Errorf("CSAT in week 48: %v", empty)
	}
	none := a.results(map[string]string{"question": "ces", "period": "2025-W48"})
	if none["score"] != nil || none["response_rate"] != nil || none["invitations_sent"] != float64(0) {
		t.Errorf("a week without surveys: %v", none)
	}
	// Without a period: this week in Berlin.
	a.mu.Lock()
	a.now = time.Date(2026, 11, 29, 22, 30, 0, 0, time.UTC) // Sunday 23:30 in Berlin
	a.mu.Unlock()
	if this := a.results(map[string]string{"question": "nps"}); this["period"].(map[string]any)["label"] != "2026-W48" {
		t.Errorf("this week: %v", this["period"])
	}
}

func TestResultsAndResponsesRefuseBadParametersByName(t *testing.T) {
	a := newSurveysAPI(t)
	for _, c := range []struct {
		route  string
		query  map[string]string
		status int
		field  string
	}{
		{"GET /surveys/results", nil, 422, "question"},
		{"GET /surveys/results", map[string]string{"question": "NPS"}, 422, "question"},
		{"GET /surveys/results", map[string]string{"question": "nps", "period": "2026-W54"}, 422, "period"},
		{"GET /surveys/results", map[string]string{"question": "nps", "period": "last week"}, 422, "period"},
		{"GET /surveys/results", map[string]string{"question": "nps", "team": "north"}, 400, "team"},
		{"GET /surveys/responses", map[string]string{"question": "happiness"}, 422, "question"},
		{"GET /surveys/responses", map[string]string{"period": "2026-13"}, 422, "period"},
		{"GET /surveys/responses", map[string]string{"max_score": "6"}, 422, "max_score"},
		{"GET /surveys/responses", map[string]string{"question": "csat", "max_score": "6"}, 422, "max_score"},
		{"GET /surveys/responses", map[string]string{"question": "nps", "max_score": "six"}, 422, "max_score"},
		{"GET /surveys/responses", map[string]string{"limit": "0"}, 422, "limit"},
		{"GET /surveys/responses", map[string]string{"limit": "101"}, 422, "limit"},
		{"GET /surveys/responses", map[string]string{"cursor": "not-a-cursor"}, 422, "cursor"},
		{"GET /surveys/responses", map[string]string{"score": "6"}, 400, "score"},
	} {
		resp := a.do(req{route: c.route, role: "manager", query: c.query})
		if resp.StatusCode != c.status || problemField(t, resp.Body) != c.field {
			t.Errorf("%s %v: %d %s, want %d naming %s", c.route, c.query, resp.StatusCode, resp.Body, c.status, c.field)
		}
	}
}

func TestResponsesListTheAnswersNewestFirst(t *testing.T) {
	a := newSurveysAPI(t)
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	bo := a.customer(`{"email":"bo@example.com"}`)
	detractor := a.answerAt(start, "ada@example.com", survey.NPS, 3, "Too slow.")
	a.answerAt(start.Add(time.Hour), "cy@example.com", survey.NPS, 9, "")
	a.answerAt(start.Add(2*time.Hour), "dee@example.com", survey.CSAT, 1, "Rude.")
	a.mu.Lock()
	a.now = start.Add(3 * time.Hour)
	a.mu.Unlock()
	inv, tok := a.inviteCustomer(bo)
	a.answered(tok, url.Values{"nps": {"6"}, "comment": {"Meh <i>really</i>"}})

	items, next := a.responses(nil)
	if len(items) != 4 || next != "" {
		t.Fatalf("all answers: %d, next %q", len(items), next)
	}
	first := items[0]
	if first["invitation_id"] != inv || first["customer_id"] != bo ||
		first["comment"] != "Meh really" || first["answered_at"] != "2026-12-01T12:00:00Z" || first["email"] != "bo@example.com" ||
		first["scores"].(map[string]any)["nps"] != float64(6) || first["reason"] != "manual" || first["ticket_id"] != nil {
		t.Errorf("the newest answer: %v", first)
	}
	if items[3]["invitation_id"] != detractor || items[2]["comment"] != nil {
		t.Errorf("oldest last, no comment as null: %v", items)
	}

	// The detractors of NPS: 6 and 3, newest first.
	detractors, _ := a.responses(map[string]string{"question": "nps", "max_score": "6"})
	if len(detractors) != 2 || detractors[0]["invitation_id"] != inv || detractors[1]["invitation_id"] != detractor {
		t.Errorf("NPS detractors: %v", detractors)
	}
	// Pages of one, by cursor.
	var seen []string
	q := map[string]string{"question": "nps", "limit": "1"}
	for range 4 {
		page, next := a.responses(q)
		for _, it := range page {
			seen = append(seen, it["invitation_id"].(string))
		}
		if next == "" {
			break
		}
		q["cursor"] = next
	}
	if len(seen) != 3 || seen[0] != inv || seen[2] != detractor {
		t.Errorf("NPS answers page by page: %v", seen)
	}
	// A period: the days in the organisation's zone.
	if dec, _ := a.responses(map[string]string{"period": "2026-12-01", "question": "csat"}); len(dec) != 1 || dec[0]["comment"] != "Rude." {
		t.Errorf("CSAT on 1 December: %v", dec)
	}
	if nov, _ := a.responses(map[string]string{"period": "2026-11"}); len(nov) != 0 {
		t.Errorf("November: %v", nov)
	}
}

// inviteCustomer invites a customer by hand, through the API, and returns
// the invitation's id and its link's token.
func (a *surveysAPI) inviteCustomer(customerID string) (string, string) {
	a.t.Helper()
	resp := a.do(req{route: "POST /surveys/invitations", role: "manager", headers: jsonClient, body: `{"customer_id":"` + customerID + `"}`})
	if resp.StatusCode != 201 {
		a.t.Fatalf("invite customer %s: %d %s", customerID, resp.StatusCode, resp.Body)
	}
	id := decode(a.t, resp)["id"].(string)
	inv := a.invitation(id)
	tok, err := a.links.Sign(links.Survey, id, *inv.ExpiresAt)
	if err != nil {
		a.t.Fatal(err)
	}
	return id, tok
}

func TestACustomersRecordShowsTheirSurveyAnswers(t *testing.T) {
	a := newSurveysAPI(t)
	customer := a.customer(`{"email":"ivy@example.com","name":"Ivy"}`)
	if got := decode(t, a.do(req{route: "GET /customers/{id}", role: "agent", path: idPath(customer)})); len(got["survey_answers"].([]any)) != 0 {
		t.Fatalf("a customer without answers: %v", got["survey_answers"])
	}
	id, tok := a.inviteCustomer(customer)
	a.answered(tok, url.Values{"nps": {"10"}, "comment": {"Great service"}})
	a.answerAt(a.now.Add(time.Hour), "someone-else@example.com", survey.NPS, 2, "")

	resp := a.do(req{route: "GET /customers/{id}", role: "agent", path: idPath(customer)})
	answers := decode(t, resp)["survey_answers"].([]any)
	if resp.StatusCode != 200 || len(answers) != 1 {
		t.Fatalf("the customer's answers: %d %v", resp.StatusCode, answers)
	}
	if got := answers[0].(map[string]any); got["invitation_id"] != id || got["comment"] != "Great service" ||
		got["scores"].(map[string]any)["nps"] != float64(10) || got["customer_id"] != customer {
		t.Errorf("the customer's answer: %v", got)
	}
}

// What each surveys route costs in DynamoDB requests: the page one read,
// an answer a read and one transaction, results the same for one answer
// as for twenty-five, and the refusals nothing at all.
func TestWhatEachSurveyRouteCosts(t *testing.T) {
	a := newSurveysAPI(t)
	_, tok := a.invite("ada@example.com", survey.NPS)
	cost := func(name string, do func()) (requests, writes int) {
		t.Helper()
		a.calls.Reset()
		do()
		c := a.calls.Cost()
		t.Logf("%-28s %v (%.1f RCU, %.1f WCU)", name, c.Requests, c.RCU, c.WCU)
		return c.Total(), a.writes()
	}
	for _, c := range []struct {
		name             string
		requests, writes int
		do               func()
	}{
		{"GET /s/{token}", 1, 0, func() { a.surveyPage(tok, map[string]string{"score": "9"}) }},
		{"GET /s/{token} forged", 0, 0, func() { a.surveyPage(tok[:len(tok)-2]+"AA", nil) }},
		{"POST /s/{token}", 2, 1, func() { a.answered(tok, url.Values{"nps": {"9"}}) }},
		{"POST /s/{token} again", 1, 0, func() { a.postAnswer(tok, url.Values{"nps": {"9"}}) }},
		{"GET /s/{token}/unsubscribe", 1, 0, func() { a.unsubscribePage(tok) }},
	} {
		if requests, writes := cost(c.name, c.do); requests != c.requests || writes != c.writes {
			t.Errorf("%s: %d requests, %d writes; want %d, %d", c.name, requests, writes, c.requests, c.writes)
		}
	}
	week := map[string]string{"question": "nps", "period": "2026-W48"}
	few, _ := cost("results, 1 answer", func() { a.results(week) })
	for i := range 24 {
		a.answerAt(monday.Add(time.Duration(i)*time.Hour), "p"+strconv.Itoa(i)+"@example.com", survey.NPS, i%11, "")
	}
	many, _ := cost("results, 25 answers", func() {
		if r := a.results(week); r["answers"] != float64(25) {
			t.Errorf("results: %v", r)
		}
	})
	if few != many {
		t.Errorf("results cost %d requests for 1 answer and %d for 25", few, many)
	}
}
