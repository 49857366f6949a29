package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/httpapi/openapitest"
)

// api is the leads function's real handler over a fresh table, called with
// API Gateway payloads as the gateway would send them.
type api struct {
	t       testing.TB
	handler app.HTTPHandler
	mu      sync.Mutex
	now     time.Time
}

func newAPI(t *testing.T) *api {
	client, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{
			"TABLE_NAME":            table,
			"ORG_TIME_ZONE":         "Europe/Berlin",
			"CORS_ALLOWED_ORIGINS":  "https://www.example.com",
			"FORM_REDIRECT_ORIGINS": "https://www.example.com",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &api{t: t, now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	a.handler = app.Leads(app.Deps{
		Config: cfg, DynamoDB: client, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now },
	})
	return a
}

func (a *api) advance(d time.Duration) { a.mu.Lock(); a.now = a.now.Add(d); a.mu.Unlock() }

// req describes one request.
type req struct {
	route   string // the manifest route key, e.g. "GET /leads/{id}"
	path    map[string]string
	query   map[string]string
	headers map[string]string
	body    string
	role    string // "" for no token
}

func (a *api) do(r req) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	method, _, _ := strings.Cut(r.route, " ")
	headers := map[string]string{}
	for k, v := range r.headers {
		headers[strings.ToLower(k)] = v
	}
	ev := lambdaevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: r.route, Headers: headers, QueryStringParameters: r.query,
		PathParameters: r.path, Body: r.body,
		RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1",
			HTTP:      lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method},
		},
	}
	if r.role != "" {
		ev.RequestContext.Authorizer = &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "user-" + r.role, "cognito:groups": "[" + r.role + "]"},
			},
		}
	}
	resp, err := a.handler(context.Background(), ev)
	if err != nil {
		a.t.Fatalf("%s: handler returned an error: %v", r.route, err)
	}
	if documented(r.route) {
		openapitest.Check(a.t, ev, resp)
	}
	return resp
}

// documented reports whether route is one the API has; tests also send
// requests to routes that do not exist.
func documented(route string) bool {
	return slices.ContainsFunc(manifest.Routes, func(r manifest.Route) bool { return r.Key() == route })
}

func TestMain(m *testing.M) {
	code := m.Run()
	openapitest.Report("shared/httpapi")
	os.Exit(code)
}

func decode(t testing.TB, resp lambdaevents.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", resp.Body, err)
	}
	return m
}

func form(values map[string]string) string {
	v := url.Values{}
	for k, val := range values {
		v.Set(k, val)
	}
	return v.Encode()
}

var browser = map[string]string{
	"Content-Type": "application/x-www-form-urlencoded",
	"Accept":       "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}

var jsonClient = map[string]string{"Content-Type": "application/json", "Accept": "application/json"}

func (a *api) list(query map[string]string) []any {
	a.t.Helper()
	resp := a.do(req{route: "GET /leads", role: "agent", query: query})
	if resp.StatusCode != 200 {
		a.t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
	}
	return decode(a.t, resp)["items"].([]any)
}

func TestPlainHTMLFormCreatesOneLead(t *testing.T) {
	a := newAPI(t)
	body := form(map[string]string{"name": "Ada", "email": "ada@example.com", "message": "<b>Call</b> me", "source": "contact-page"})
	resp := a.do(req{route: "POST /leads", headers: browser, body: body})
	if resp.StatusCode != 201 || !strings.Contains(resp.Headers["Content-Type"], "text/html") || !strings.Contains(resp.Body, "Thank you") {
		t.Fatalf("first post: %d %s %q", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
	resp = a.do(req{route: "POST /leads", headers: browser, body: body})
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, "Thank you") {
		t.Fatalf("same post again: %d %q", resp.StatusCode, resp.Body)
	}
	items := a.list(nil)
	if len(items) != 1 {
		t.Fatalf("%d leads listed, want 1", len(items))
	}
	lead := items[0].(map[string]any)
	if lead["email"] != "ada@example.com" || lead["source"] != "contact-page" || lead["status"] != "new" {
		t.Fatalf("listed lead = %v", lead)
	}
	detail := decode(t, a.do(req{route: "GET /leads/{id}", role: "agent", path: map[string]string{"id": lead["id"].(string)}}))
	timeline := detail["timeline"].([]any)
	if len(timeline) != 2 || timeline[0].(map[string]any)["message"] != "Call me" {
		t.Fatalf("timeline = %v; want two submissions with markup stripped", timeline)
	}
}

func TestJSONClientGetsCreatedThenDuplicate(t *testing.T) {
	a := newAPI(t)
	body := `{"email":"Bo@Example.com","name":"Bo","consent":true,"custom":{"plan":"pro"}}`
	resp := a.do(req{route: "POST /leads", headers: jsonClient, body: body})
	got := decode(t, resp)
	if resp.StatusCode != 201 || got["status"] != "new" || got["duplicate"] != false || resp.Headers["Location"] != "/leads/"+got["id"].(string) {
		t.Fatalf("first: %d %v %v", resp.StatusCode, got, resp.Headers)
	}
	resp = a.do(req{route: "POST /leads", headers: jsonClient, body: body})
	again := decode(t, resp)
	if resp.StatusCode != 200 || again["id"] != got["id"] || again["duplicate"] != true {
		t.Fatalf("again: %d %v", resp.StatusCode, again)
	}
	lead := a.list(nil)[0].(map[string]any)
	if lead["consent"] != true || lead["custom"].(map[string]any)["plan"] != "pro" {
		t.Fatalf("lead = %v", lead)
	}
}

func TestIdempotencyKeyHeader(t *testing.T) {
	a := newAPI(t)
	h := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "abc-123"}
	first := a.do(req{route: "POST /leads", headers: h, body: `{"email":"cy@example.com"}`})
	retry := a.do(req{route: "POST /leads", headers: h, body: `{"email":"cy@example.com"}`})
	if first.StatusCode != 201 || retry.StatusCode != 201 || retry.Body != first.Body {
		t.Fatalf("retry answered %d %s, first %d %s", retry.StatusCode, retry.Body, first.StatusCode, first.Body)
	}
	other := a.do(req{route: "POST /leads", headers: h, body: `{"email":"dee@example.com"}`})
	if other.StatusCode != 409 || !strings.Contains(other.Body, "Idempotency-Key") {
		t.Fatalf("reused key: %d %s", other.StatusCode, other.Body)
	}
}

func TestRedirectOnlyToAllowedOrigins(t *testing.T) {
	a := newAPI(t)
	resp := a.do(req{route: "POST /leads", headers: browser, body: form(map[string]string{
		"email": "ed@example.com", "redirect": "https://www.example.com/thanks"})})
	if resp.StatusCode != 303 || resp.Headers["Location"] != "https://www.example.com/thanks" {
		t.Fatalf("allowed redirect: %d %v", resp.StatusCode, resp.Headers)
	}
	resp = a.do(req{route: "POST /leads", headers: browser, body: form(map[string]string{
		"email": "flo@example.com", "redirect": "https://evil.example.net/phish"})})
	if resp.StatusCode != 201 || resp.Headers["Location"] != "" || !strings.Contains(resp.Body, "Thank you") {
		t.Fatalf("foreign redirect: %d %v", resp.StatusCode, resp.Headers)
	}
	if n := len(a.list(nil)); n != 2 {
		t.Fatalf("%d leads, want both captured", n)
	}
}

func TestHoneypotLooksAcceptedButStoresNothing(t *testing.T) {
	a := newAPI(t)
	resp := a.do(req{route: "POST /leads", headers: jsonClient, body: `{"email":"bot@example.com","website":"http://spam"}`})
	if resp.StatusCode != 201 || decode(t, resp)["id"] == "" {
		t.Fatalf("honeypot: %d %s", resp.StatusCode, resp.Body)
	}
	if n := len(a.list(nil)); n != 0 {
		t.Fatalf("%d leads stored for a bot", n)
	}
}

func TestBadSubmissionsNameTheFieldAndChangeNothing(t *testing.T) {
	a := newAPI(t)
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		field   string
	}{
		{"no contact", jsonClient, `{"name":"Nobody"}`, 422, "email"},
		{"bad email", jsonClient, `{"email":"not-an-address"}`, 422, "email"},
		{"bad phone", jsonClient, `{"phone":"call me"}`, 422, "phone"},
		{"long name", jsonClient, `{"email":"a@example.com","name":"` + strings.Repeat("x", 201) + `"}`, 422, "name"},
		{"bad page url", jsonClient, `{"email":"a@example.com","page_url":"javascript:alert(1)"}`, 422, "page_url"},
		{"object for a string", jsonClient, `{"email":{"x":1}}`, 422, "email"},
		{"bad custom name", jsonClient, `{"email":"a@example.com","custom":{"Bad Name":"x"}}`, 422, "custom.Bad Name"},
		{"not JSON", jsonClient, `{"email":`, 400, "body"},
		{"JSON but not an object", jsonClient, `["a@example.com"]`, 422, "body"},
		{"not form encoding", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "email=%zz", 400, "body"},
		{"too large", jsonClient, `{"email":"a@example.com","message":"` + strings.Repeat("x", 33<<10) + `"}`, 413, ""},
		{"wrong type", map[string]string{"Content-Type": "text/plain"}, "email=a@example.com", 415, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := a.do(req{route: "POST /leads", headers: c.headers, body: c.body})
			if resp.StatusCode != c.status || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("%d %s %s, want %d problem+json", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, c.status)
			}
			p := decode(t, resp)
			if p["status"] != float64(c.status) || p["title"] == "" {
				t.Fatalf("problem = %v", p)
			}
			if c.field != "" {
				errs, _ := p["errors"].([]any)
				if len(errs) == 0 || errs[0].(map[string]any)["field"] != c.field {
					t.Fatalf("problem names %v, want field %q", p["errors"], c.field)
				}
			}
		})
	}
	if n := len(a.list(nil)); n != 0 {
		t.Fatalf("bad input stored %d leads", n)
	}
}

func TestBrowserSeesAPageForBadInput(t *testing.T) {
	a := newAPI(t)
	resp := a.do(req{route: "POST /leads", headers: browser, body: form(map[string]string{"name": "No contact"})})
	if resp.StatusCode != 422 || !strings.Contains(resp.Headers["Content-Type"], "text/html") || !strings.Contains(resp.Body, "<strong>email</strong>") {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
}

func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	a := newAPI(t)
	resp := a.do(req{route: "OPTIONS /leads", headers: map[string]string{
		"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"}})
	if resp.StatusCode != 204 || resp.Headers["Access-Control-Allow-Origin"] != "https://www.example.com" ||
		!strings.Contains(resp.Headers["Access-Control-Allow-Headers"], "Idempotency-Key") {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Headers)
	}
	resp = a.do(req{route: "OPTIONS /leads", headers: map[string]string{
		"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"}})
	if resp.StatusCode != 403 || resp.Headers["Access-Control-Allow-Origin"] != "" {
		t.Fatalf("foreign preflight: %d %v", resp.StatusCode, resp.Headers)
	}
	h := map[string]string{"Content-Type": "application/json", "Origin": "https://www.example.com"}
	resp = a.do(req{route: "POST /leads", headers: h, body: `{"email":"gus@example.com"}`})
	if resp.Headers["Access-Control-Allow-Origin"] != "https://www.example.com" {
		t.Fatalf("post from allowed origin: %v", resp.Headers)
	}
	h["Origin"] = "https://evil.example.net"
	resp = a.do(req{route: "POST /leads", headers: h, body: `{"email":"hal@example.com"}`})
	if _, ok := resp.Headers["Access-Control-Allow-Origin"]; ok {
		t.Fatalf("post from foreign origin may be read: %v", resp.Headers)
	}
}

func TestStaffRoutesCheckTheRole(t *testing.T) {
	a := newAPI(t)
	for _, r := range manifest.RoutesOf("leads") {
		if r.Role == manifest.Public {
			continue
		}
		id := map[string]string{"id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"}
		if resp := a.do(req{route: r.Key(), path: id}); resp.StatusCode != 401 {
			t.Errorf("%s without a token: %d", r.Key(), resp.StatusCode)
		}
		if resp := a.do(req{route: r.Key(), path: id, role: "customer"}); resp.StatusCode != 403 {
			t.Errorf("%s with no staff role: %d", r.Key(), resp.StatusCode)
		}
	}
	if resp := a.do(req{route: "GET /leads", role: "manager"}); resp.StatusCode != 200 {
		t.Errorf("a manager may do what an agent may: %d", resp.StatusCode)
	}
}

func TestEveryManifestRouteIsServed(t *testing.T) {
	var want []string
	for _, r := range manifest.RoutesOf("leads") {
		want = append(want, r.Key())
	}
	a := newAPI(t)
	for _, key := range want {
		method, _, _ := strings.Cut(key, " ")
		resp := a.do(req{route: key, role: "admin", headers: map[string]string{"Access-Control-Request-Method": method}})
		if resp.StatusCode == 404 && strings.Contains(resp.Body, "no route") {
			t.Errorf("%s is in the manifest but not served", key)
		}
	}
	if resp := a.do(req{route: "DELETE /leads/{id}", role: "admin"}); resp.StatusCode != 404 {
		t.Errorf("a route outside the manifest answered %d", resp.StatusCode)
	}
}

func TestListFiltersAreChecked(t *testing.T) {
	a := newAPI(t)
	for query, field := range map[string]string{
		"status=maybe":           "status",
		"limit=0":                "limit",
		"limit=101":              "limit",
		"limit=ten":              "limit",
		"created_from=yesterday": "created_from",
		"cursor=garbage":         "cursor",
		"created_from=2026-11-22&created_to=2026-11-01": "created_to",
	} {
		q := map[string]string{}
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			q[k] = v
		}
		resp := a.do(req{route: "GET /leads", role: "agent", query: q})
		p := decode(t, resp)
		errs, _ := p["errors"].([]any)
		if resp.StatusCode != 422 || len(errs) == 0 || errs[0].(map[string]any)["field"] != field {
			t.Errorf("%s: %d %s, want 422 naming %s", query, resp.StatusCode, resp.Body, field)
		}
	}
}

func TestDateFiltersUseTheOrganisationsDay(t *testing.T) {
	a := newAPI(t)
	// 23:30 in Berlin on 21 November is 22:30 UTC: still the 21st there.
	a.now = time.Date(2026, 11, 21, 22, 30, 0, 0, time.UTC)
	a.do(req{route: "POST /leads", headers: jsonClient, body: `{"email":"late@example.com"}`})
	a.now = time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC) // 00:30 on the 22nd in Berlin
	a.do(req{route: "POST /leads", headers: jsonClient, body: `{"email":"early@example.com"}`})
	items := a.list(map[string]string{"created_from": "2026-11-22", "created_to": "2026-11-22"})
	if len(items) != 1 || items[0].(map[string]any)["email"] != "early@example.com" {
		t.Fatalf("leads of 22 November in Berlin = %v", items)
	}
}

func TestWorkingALeadIntoACustomer(t *testing.T) {
	a := newAPI(t)
	created := decode(t, a.do(req{route: "POST /leads", headers: jsonClient,
		body: `{"email":"ivy@example.com","name":"Ivy","company":"Ivy & Co","utm_source":"google"}`}))
	id := map[string]string{"id": created["id"].(string)}

	got := a.do(req{route: "GET /leads/{id}", role: "agent", path: id})
	if got.StatusCode != 200 || got.Headers["ETag"] != `"1"` {
		t.Fatalf("get: %d etag %q", got.StatusCode, got.Headers["ETag"])
	}
	patch := `{"status":"qualified","owner":"user-agent"}`
	if resp := a.do(req{route: "PATCH /leads/{id}", role: "agent", path: id, headers: jsonClient, body: patch}); resp.StatusCode != 428 {
		t.Fatalf("patch without If-Match: %d", resp.StatusCode)
	}
	h := map[string]string{"Content-Type": "application/json", "If-Match": `"1"`}
	a.advance(10 * time.Minute)
	resp := a.do(req{route: "PATCH /leads/{id}", role: "agent", path: id, headers: h, body: patch})
	if resp.StatusCode != 200 || resp.Headers["ETag"] != `"2"` || decode(t, resp)["status"] != "qualified" {
		t.Fatalf("patch: %d %s %v", resp.StatusCode, resp.Body, resp.Headers)
	}
	if resp := a.do(req{route: "PATCH /leads/{id}", role: "agent", path: id, headers: h, body: `{"owner":"someone-else"}`}); resp.StatusCode != 412 {
		t.Fatalf("stale patch: %d %s", resp.StatusCode, resp.Body)
	}
	h["If-Match"] = `"2"`
	if resp := a.do(req{route: "PATCH /leads/{id}", role: "agent", path: id, headers: h, body: `{"status":"new"}`}); resp.StatusCode != 409 {
		t.Fatalf("moving back: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := a.do(req{route: "PATCH /leads/{id}", role: "agent", path: id, headers: h, body: `{"stauts":"lost"}`}); resp.StatusCode != 422 || !strings.Contains(resp.Body, `"field":"stauts"`) {
		t.Fatalf("misspelt field: %d %s", resp.StatusCode, resp.Body)
	}

	a.advance(10 * time.Minute)
	resp = a.do(req{route: "POST /leads/{id}/activities", role: "agent", path: id, headers: jsonClient, body: `{"type":"call","note":"Discussed pricing"}`})
	if resp.StatusCode != 201 || decode(t, resp)["type"] != "call" {
		t.Fatalf("activity: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := a.do(req{route: "POST /leads/{id}/activities", role: "agent", path: id, headers: jsonClient, body: `{"type":"fax"}`}); resp.StatusCode != 422 || !strings.Contains(resp.Body, `"field":"type"`) {
		t.Fatalf("bad activity: %d %s", resp.StatusCode, resp.Body)
	}

	for body, field := range map[string]string{
		`{"currency":"EUR"}`:                       "deal_value",
		`{"deal_value":"12.345","currency":"EUR"}`: "deal_value",
		`{"deal_value":"abc","currency":"EUR"}`:    "deal_value",
		`{"deal_value":100,"currency":"euro"}`:     "currency",
		`{"deal_value":-5,"currency":"EUR"}`:       "deal_value",
	} {
		resp := a.do(req{route: "POST /leads/{id}/convert", role: "agent", path: id, headers: jsonClient, body: body})
		if resp.StatusCode != 422 || !strings.Contains(resp.Body, fmt.Sprintf(`"field":%q`, field)) {
			t.Errorf("convert %s: %d %s, want 422 naming %s", body, resp.StatusCode, resp.Body, field)
		}
	}
	a.advance(10 * time.Minute)
	resp = a.do(req{route: "POST /leads/{id}/convert", role: "agent", path: id, headers: jsonClient, body: `{"deal_value":1250.50,"currency":"EUR","note":"Annual plan"}`})
	conv := decode(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("convert: %d %s", resp.StatusCode, resp.Body)
	}
	customer := conv["customer"].(map[string]any)
	value := customer["lifetime_value"].([]any)[0].(map[string]any)
	if value["amount"] != "1250.50" || value["currency"] != "EUR" || customer["deals"] != float64(1) {
		t.Fatalf("customer = %v", customer)
	}

	resp = a.do(req{route: "GET /customers/{id}", role: "agent", path: map[string]string{"id": customer["id"].(string)}})
	detail := decode(t, resp)
	leads := detail["leads"].([]any)
	if resp.StatusCode != 200 || len(leads) != 1 || detail["company"] != "Ivy & Co" {
		t.Fatalf("customer detail: %d %v", resp.StatusCode, detail)
	}
	var kinds []string
	for _, e := range leads[0].(map[string]any)["timeline"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	if strings.Join(kinds, ",") != "submission,status_change,activity,conversion" {
		t.Fatalf("customer history = %v", kinds)
	}
	lead := leads[0].(map[string]any)
	if lead["status"] != "converted" || lead["first_contact_at"] == nil || lead["source"] != "google" {
		t.Fatalf("converted lead = %v", lead)
	}
}

func TestUnknownLeadIsNotFound(t *testing.T) {
	a := newAPI(t)
	for _, id := range []string{"01JZZZZZZZZZZZZZZZZZZZZZZZ", "nope", "%2e%2e"} {
		resp := a.do(req{route: "GET /leads/{id}", role: "agent", path: map[string]string{"id": id}})
		if resp.StatusCode != 404 || resp.Headers["Content-Type"] != "application/problem+json" {
			t.Errorf("%s: %d %s", id, resp.StatusCode, resp.Body)
		}
	}
}
