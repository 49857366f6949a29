package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
)

// staffAPI is the reminders function's real handler over a fresh table,
// with a counter on its DynamoDB client.
type staffAPI struct {
	t       *testing.T
	handler app.HTTPHandler
	calls   *dynamotest.Counter
	timers  *dynamo.TimerStore
	mu      sync.Mutex
	now     time.Time
}

func newStaffAPI(t *testing.T) *staffAPI { return handlerAPI(t, app.Staff) }

// handlerAPI is a function's real handler, built by build, over a fresh table.
func handlerAPI(t *testing.T, build func(app.Deps) app.HTTPHandler) *staffAPI {
	client, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "ORG_TIME_ZONE": "Europe/Berlin"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &staffAPI{t: t, calls: &dynamotest.Counter{API: client},
		timers: &dynamo.TimerStore{Client: client, Table: table},
		now:    time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	a.handler = build(app.Deps{
		Config: cfg, DynamoDB: a.calls, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now },
	})
	return a
}

// who is the token a request carries: its subject, role and email claim.
type who struct{ sub, role, email string }

var (
	ana   = who{"sub-ana", "agent", "Ana@Example.com"}
	admin = who{"sub-root", "admin", "root@example.com"}
)

func (a *staffAPI) do(w who, route string, path map[string]string, headers map[string]string, body string, query ...string) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	method, _, _ := strings.Cut(route, " ")
	h := map[string]string{}
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	q := map[string]string{}
	for i := 0; i+1 < len(query); i += 2 {
		q[query[i]] = query[i+1]
	}
	ev := lambdaevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, Headers: h, PathParameters: path, QueryStringParameters: q, Body: body,
		RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1",
			HTTP:      lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method},
		},
	}
	if w.sub != "" {
		claims := map[string]string{"sub": w.sub, "cognito:groups": "[" + w.role + "]"}
		if w.email != "" {
			claims["email"], claims["email_verified"] = w.email, "true"
		}
		ev.RequestContext.Authorizer = &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	resp, err := a.handler(context.Background(), ev)
	if err != nil {
		a.t.Fatalf("%s: handler returned an error: %v", route, err)
	}
	return resp
}

func withIfMatch(v string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "If-Match": v}
}

func subPath(sub string) map[string]string { return map[string]string{"sub": sub} }

const anaSettings = `{"name":"Ana","email":"ana@example.com","time_zone":"America/New_York","team":"sales","digest":{"enabled":true,"hour":7}}`

func TestMeIsCreatedOnFirstReadFromTheToken(t *testing.T) {
	a := newStaffAPI(t)
	resp := a.do(ana, "GET /me", nil, nil, "")
	if resp.StatusCode != 200 || resp.Headers["ETag"] != `"1"` {
		t.Fatalf("GET /me: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	got := decode(t, resp)
	want := map[string]any{"sub": "sub-ana", "name": "", "email": "ana@example.com", "time_zone": "Europe/Berlin",
		"team": "", "role": "agent", "version": float64(1),
		"created_at": "2026-12-02T09:00:00Z", "updated_at": "2026-12-02T09:00:00Z"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if d := got["digest"].(map[string]any); d["enabled"] != true || d["hour"] != float64(8) {
		t.Errorf("digest = %v", d)
	}
	if again := a.do(ana, "GET /me", nil, nil, ""); again.Body != resp.Body {
		t.Fatalf("second GET /me: %s, first %s", again.Body, resp.Body)
	}
	// The Berlin profile's digest at 08:00 is due at 07:00Z in winter.
	due, _, err := a.timers.Due(context.Background(), time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC), 10)
	if err != nil || len(due) != 1 || due[0].ID != "digest#sub-ana" || !due[0].Due.Equal(time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("due digests: %+v, %v", due, err)
	}
}

func TestPutMeReplacesTheSettings(t *testing.T) {
	a := newStaffAPI(t)
	// PUT before any GET creates the profile.
	resp := a.do(ana, "PUT /me", nil, jsonClient, anaSettings)
	got := decode(t, resp)
	if resp.StatusCode != 200 || got["time_zone"] != "America/New_York" || got["team"] != "sales" || got["name"] != "Ana" || resp.Headers["ETag"] != `"1"` {
		t.Fatalf("PUT /me: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	// What GET answers can be sent back with a change; If-Match must match.
	read := a.do(ana, "GET /me", nil, nil, "").Body
	changed := strings.Replace(read, `"hour":7`, `"hour":6`, 1)
	if resp := a.do(ana, "PUT /me", nil, withIfMatch(`"1"`), changed); resp.StatusCode != 200 || resp.Headers["ETag"] != `"2"` {
		t.Fatalf("PUT /me of what was read: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := a.do(ana, "PUT /me", nil, withIfMatch(`"1"`), changed); resp.StatusCode != 412 || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("stale PUT /me: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := a.do(ana, "PUT /me", nil, jsonClient, `{"name":"Ana"}`); resp.StatusCode != 422 ||
		!strings.Contains(resp.Body, `"field":"time_zone"`) || !strings.Contains(resp.Body, `"field":"digest"`) {
		t.Fatalf("partial PUT /me: %d %s", resp.StatusCode, resp.Body)
	}
	// 06:00 in New York is 11:00Z: the moved timer.
	due, _, _ := a.timers.Due(context.Background(), time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC), 10)
	if len(due) != 1 || due[0].Daily.Hour != 6 {
		t.Fatalf("due: %+v", due)
	}
}

func TestBadProfileInputNamesTheFieldAndWritesNothing(t *testing.T) {
	a := newStaffAPI(t)
	before := a.do(ana, "GET /me", nil, nil, "").Body
	a.do(admin, "GET /me", nil, nil, "")
	cases := []struct {
		name, route, body string
		headers           map[string]string
		status            int
		field             string
	}{
		{"bad zone", "PUT /me", strings.Replace(anaSettings, "America/New_York", "Mars/Olympus", 1), jsonClient, 422, "time_zone"},
		{"hour 24", "PUT /me", strings.Replace(anaSettings, `"hour":7`, `"hour":24`, 1), jsonClient, 422, "digest.hour"},
		{"hour not a number", "PUT /me", strings.Replace(anaSettings, `"hour":7`, `"hour":"seven"`, 1), jsonClient, 422, "digest.hour"},
		{"bad email", "PUT /me", strings.Replace(anaSettings, "ana@example.com", "ana", 1), jsonClient, 422, "email"},
		{"long name", "PUT /me", strings.Replace(anaSettings, `"Ana"`, `"`+strings.Repeat("a", 201)+`"`, 1), jsonClient, 422, "name"},
		{"bad team", "PUT /me", strings.Replace(anaSettings, `"sales"`, `"sales & marketing"`, 1), jsonClient, 422, "team"},
		{"unknown field", "PUT /me", strings.Replace(anaSettings, `"name"`, `"nmae"`, 1), jsonClient, 422, "nmae"},
		{"bad If-Match", "PUT /me", anaSettings, withIfMatch("yesterday"), 422, "If-Match"},
		{"not JSON", "PUT /me", "name=Ana", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, ""},
		{"patch bad zone", "PATCH /staff/{sub}", `{"time_zone":"Berlin"}`, withIfMatch(`"1"`), 422, "time_zone"},
		{"patch hour", "PATCH /staff/{sub}", `{"digest":{"hour":-1}}`, withIfMatch(`"1"`), 422, "digest.hour"},
		{"patch read-only", "PATCH /staff/{sub}", `{"role":"admin"}`, withIfMatch(`"1"`), 422, "role"},
		{"patch without If-Match", "PATCH /staff/{sub}", `{"team":"support"}`, jsonClient, 428, ""},
		{"patch stale", "PATCH /staff/{sub}", `{"team":"support"}`, withIfMatch(`"7"`), 412, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.calls.Reset()
			caller := ana
			if strings.HasPrefix(c.route, "PATCH") {
				caller = admin
			}
			resp := a.do(caller, c.route, subPath("sub-ana"), c.headers, c.body)
			if resp.StatusCode != c.status || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("%d %s %s, want %d problem+json", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, c.status)
			}
			if c.field != "" && !strings.Contains(resp.Body, fmt.Sprintf(`"field":%q`, c.field)) {
				t.Fatalf("problem %s does not name %s", resp.Body, c.field)
			}
			cost := a.calls.Cost().Requests
			if cost["PutItem"]+cost["UpdateItem"]+cost["DeleteItem"]+cost["TransactWriteItems"] != 0 {
				t.Fatalf("bad input wrote: %v", cost)
			}
		})
	}
	if after := a.do(ana, "GET /me", nil, nil, "").Body; after != before {
		t.Fatalf("profile changed by bad input:\n%s\n%s", before, after)
	}
}

func TestAdminListsAndEditsStaff(t *testing.T) {
	a := newStaffAPI(t)
	for i := range 3 {
		a.do(who{fmt.Sprintf("sub-%d", i), "agent", ""}, "GET /me", nil, nil, "")
	}
	a.do(admin, "GET /me", nil, nil, "")

	resp := a.do(admin, "GET /staff", nil, nil, "", "limit", "2")
	page := decode(t, resp)
	items := page["items"].([]any)
	if resp.StatusCode != 200 || len(items) != 2 || items[0].(map[string]any)["sub"] != "sub-0" || page["next_cursor"] == nil {
		t.Fatalf("first page: %d %s", resp.StatusCode, resp.Body)
	}
	resp = a.do(admin, "GET /staff", nil, nil, "", "limit", "2", "cursor", page["next_cursor"].(string))
	page = decode(t, resp)
	if items := page["items"].([]any); len(items) != 2 || items[1].(map[string]any)["sub"] != "sub-root" || page["next_cursor"] != nil {
		t.Fatalf("second page: %s", resp.Body)
	}
	for q, field := range map[string]string{"limit=0": "limit", "role=owner": "role", "cursor=junk": "cursor", "team=A B": "team"} {
		k, v, _ := strings.Cut(q, "=")
		if resp := a.do(admin, "GET /staff", nil, nil, "", k, v); resp.StatusCode != 422 || !strings.Contains(resp.Body, `"field":"`+field+`"`) {
			t.Errorf("GET /staff?%s: %d %s", q, resp.StatusCode, resp.Body)
		}
	}

	resp = a.do(admin, "GET /staff/{sub}", subPath("sub-1"), nil, "")
	if resp.StatusCode != 200 || resp.Headers["ETag"] != `"1"` {
		t.Fatalf("GET /staff/sub-1: %d %s", resp.StatusCode, resp.Body)
	}
	resp = a.do(admin, "PATCH /staff/{sub}", subPath("sub-1"), withIfMatch(`"1"`), `{"team":"Support","digest":{"enabled":false}}`)
	got := decode(t, resp)
	if resp.StatusCode != 200 || got["team"] != "support" || got["digest"].(map[string]any)["enabled"] != false || resp.Headers["ETag"] != `"2"` {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := a.do(admin, "GET /staff", nil, nil, "", "team", "support"); len(decode(t, resp)["items"].([]any)) != 1 {
		t.Fatalf("team support: %s", resp.Body)
	}
	if resp := a.do(admin, "GET /staff", nil, nil, "", "role", "admin"); len(decode(t, resp)["items"].([]any)) != 1 {
		t.Fatalf("admins: %s", resp.Body)
	}
	for _, sub := range []string{"sub-nobody", "has space"} {
		if resp := a.do(admin, "GET /staff/{sub}", subPath(sub), nil, ""); resp.StatusCode != 404 {
			t.Errorf("GET /staff/%s: %d", sub, resp.StatusCode)
		}
		if resp := a.do(admin, "PATCH /staff/{sub}", subPath(sub), withIfMatch(`"1"`), `{"name":"X"}`); resp.StatusCode != 404 {
			t.Errorf("PATCH /staff/%s: %d", sub, resp.StatusCode)
		}
	}
}

func TestStaffRoutesNeedTheirRole(t *testing.T) {
	a := newStaffAPI(t)
	for _, r := range manifest.RoutesOf("staff") {
		if resp := a.do(who{}, r.Key(), subPath("sub-1"), nil, ""); resp.StatusCode != 401 {
			t.Errorf("%s without a token: %d", r.Key(), resp.StatusCode)
		}
		if resp := a.do(who{"sub-x", "customer", ""}, r.Key(), subPath("sub-1"), nil, ""); resp.StatusCode != 403 {
			t.Errorf("%s with no staff role: %d", r.Key(), resp.StatusCode)
		}
		if r.Role == manifest.Admin {
			for _, role := range []string{"agent", "manager"} {
				if resp := a.do(who{"sub-x", role, ""}, r.Key(), subPath("sub-1"), nil, ""); resp.StatusCode != 403 {
					t.Errorf("%s as %s: %d", r.Key(), role, resp.StatusCode)
				}
			}
		}
		// Every manifest route of the function is served.
		if resp := a.do(admin, r.Key(), subPath("sub-1"), nil, ""); resp.StatusCode == 404 && strings.Contains(resp.Body, "no route") {
			t.Errorf("%s is in the manifest but not served", r.Key())
		}
	}
	if resp := a.do(who{"sub-m", "manager", ""}, "GET /me", nil, nil, ""); resp.StatusCode != 200 {
		t.Errorf("a manager reads their own profile: %d", resp.StatusCode)
	}
}
