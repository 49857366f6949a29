package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rapportcrm/rapport/infra/local/gateway"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

var fixedNow = time.Date(2026, 11, 22, 10, 4, 5, 678_000_000, time.UTC)

// authorizer is a function-field fake of gateway.Authorizer.
type authorizer func(string) (*lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, error)

func (f authorizer) Authorize(h string) (*lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, error) {
	return f(h)
}

var fakeAuth = authorizer(func(h string) (*lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, error) {
	if h != "Bearer good" {
		return nil, errors.New("the token's signature is not valid")
	}
	return &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
		Claims: map[string]string{"sub": "u1", "cognito:groups": "[agent manager]"},
	}, nil
})

// recorder is a handler that keeps the requests it gets and answers with
// whatever respond returns.
type recorder struct {
	mu      sync.Mutex
	reqs    []lambdaevents.APIGatewayV2HTTPRequest
	ctxs    []context.Context
	respond func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error)
}

func (r *recorder) handle(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.ctxs = append(r.ctxs, ctx)
	r.mu.Unlock()
	if r.respond != nil {
		return r.respond(req)
	}
	return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "ok"}, nil
}

func (r *recorder) last(t *testing.T) lambdaevents.APIGatewayV2HTTPRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("the handler was not called")
	}
	return r.reqs[len(r.reqs)-1]
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

var routes = []manifest.Route{
	{Method: "POST", Path: "/leads", Function: "leads", Role: manifest.Public},
	{Method: "GET", Path: "/leads", Function: "leads", Role: manifest.Agent},
	{Method: "GET", Path: "/leads/{id}", Function: "leads", Role: manifest.Agent},
	{Method: "GET", Path: "/leads/new", Function: "leads", Role: manifest.Agent},
	{Method: "PATCH", Path: "/leads/{id}", Function: "leads", Role: manifest.Agent},
	{Method: "POST", Path: "/leads/{id}/convert", Function: "leads", Role: manifest.Agent},
	{Method: "POST", Path: "/files/{key+}", Function: "leads", Role: manifest.Public},
}

func newServer(t *testing.T, rec *recorder, mod func(*gateway.Options)) *httptest.Server {
	t.Helper()
	o := gateway.Options{
		Routes:     routes,
		Handlers:   map[string]app.HTTPHandler{"leads": rec.handle},
		Authorizer: fakeAuth,
		Now:        func() time.Time { return fixedNow },
	}
	if mod != nil {
		mod(&o)
	}
	g, err := gateway.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRequestIsPayloadFormat2(t *testing.T) {
	rec := &recorder{}
	srv := newServer(t, rec, nil)

	req := newRequest(t, "POST", srv.URL+"/leads/abc%20x/convert?b=2&a=1&a=3&q=x+y%2Bz", strings.NewReader(`{"deal":"1"}`))
	req.Header.Set("Authorization", "Bearer good")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "test-agent/1.0")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Add("Cookie", "session=s1; theme=dark")
	req.Header.Add("Cookie", "lang=en")
	resp, body := do(t, req)
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	got := rec.last(t)

	checks := map[string][2]any{
		"version":          {got.Version, "2.0"},
		"routeKey":         {got.RouteKey, "POST /leads/{id}/convert"},
		"rawPath":          {got.RawPath, "/leads/abc%20x/convert"},
		"rawQueryString":   {got.RawQueryString, "b=2&a=1&a=3&q=x+y%2Bz"},
		"body":             {got.Body, `{"deal":"1"}`},
		"isBase64Encoded":  {got.IsBase64Encoded, false},
		"rc.routeKey":      {got.RequestContext.RouteKey, "POST /leads/{id}/convert"},
		"rc.stage":         {got.RequestContext.Stage, "$default"},
		"rc.accountId":     {got.RequestContext.AccountID, "000000000000"},
		"rc.apiId":         {got.RequestContext.APIID, "local"},
		"rc.domainName":    {got.RequestContext.DomainName, "127.0.0.1"},
		"rc.time":          {got.RequestContext.Time, "22/Nov/2026:10:04:05 +0000"},
		"rc.timeEpoch":     {got.RequestContext.TimeEpoch, fixedNow.UnixMilli()},
		"rc.http.method":   {got.RequestContext.HTTP.Method, "POST"},
		"rc.http.path":     {got.RequestContext.HTTP.Path, "/leads/abc%20x/convert"},
		"rc.http.protocol": {got.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		"rc.http.sourceIp": {got.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		"rc.http.ua":       {got.RequestContext.HTTP.UserAgent, "test-agent/1.0"},
		"rc.requestId":     {got.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid")},
		"h.x-multi":        {got.Headers["x-multi"], "one,two"},
		"h.content-type":   {got.Headers["content-type"], "application/json"},
		"h.host":           {got.Headers["host"], strings.TrimPrefix(srv.URL, "http://")},
		"h.x-fwd-for":      {got.Headers["x-forwarded-for"], "127.0.0.1"},
		"h.x-fwd-proto":    {got.Headers["x-forwarded-proto"], "http"},
		"h.content-length": {got.Headers["content-length"], "12"},
		"h.authorization":  {got.Headers["authorization"], "Bearer good"},
	}
	for name, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %#v, want %#v", name, c[0], c[1])
		}
	}
	if got.RequestContext.RequestID == "" {
		t.Error("no request id")
	}
	if _, ok := got.Headers["cookie"]; ok {
		t.Error("the cookie header should move to cookies")
	}
	for name := range got.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower-case", name)
		}
	}
	if want := []string{"session=s1", "theme=dark", "lang=en"}; !reflect.DeepEqual(got.Cookies, want) {
		t.Errorf("cookies = %q, want %q", got.Cookies, want)
	}
	if want := map[string]string{"a": "1,3", "b": "2", "q": "x y+z"}; !reflect.DeepEqual(got.QueryStringParameters, want) {
		t.Errorf("queryStringParameters = %v, want %v", got.QueryStringParameters, want)
	}
	if want := map[string]string{"id": "abc x"}; !reflect.DeepEqual(got.PathParameters, want) {
		t.Errorf("pathParameters = %v, want %v", got.PathParameters, want)
	}
	if got.RequestContext.Authorizer == nil || got.RequestContext.Authorizer.JWT == nil ||
		got.RequestContext.Authorizer.JWT.Claims["cognito:groups"] != "[agent manager]" {
		t.Errorf("authorizer = %+v, want the authorizer's claims", got.RequestContext.Authorizer)
	}
	lc, ok := lambdacontext.FromContext(rec.ctxs[0])
	if !ok || lc.AwsRequestID == "" || !strings.HasSuffix(lc.InvokedFunctionArn, ":function:rapport-leads") {
		t.Errorf("lambda context = %+v, want a request id and the leads function's ARN", lc)
	}

	// The event survives a JSON round trip in the wire names API Gateway uses.
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"version":"2.0"`, `"routeKey":"POST /leads/{id}/convert"`, `"rawQueryString":`, `"pathParameters":{"id":"abc x"}`, `"stage":"$default"`, `"jwt":{"claims":`} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("JSON lacks %s: %s", key, raw)
		}
	}
	var back lambdaevents.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, got) {
		t.Errorf("JSON round trip changed the event: %v", err)
	}
}

func TestPublicRouteHasNoAuthorizerAndEmptyFieldsAreOmitted(t *testing.T) {
	rec := &recorder{}
	srv := newServer(t, rec, nil)
	req := newRequest(t, "POST", srv.URL+"/leads", strings.NewReader("name=Ana&email=a%40example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := rec.last(t)
	if got.RequestContext.Authorizer != nil {
		t.Errorf("a public route got an authorizer: %+v", got.RequestContext.Authorizer)
	}
	if got.PathParameters != nil || got.QueryStringParameters != nil || got.Cookies != nil {
		t.Errorf("empty fields should be absent: %+v %+v %+v", got.PathParameters, got.QueryStringParameters, got.Cookies)
	}
	if got.Body != "name=Ana&email=a%40example.com" || got.IsBase64Encoded {
		t.Errorf("a form body should arrive as text, got %q base64=%v", got.Body, got.IsBase64Encoded)
	}
}

func TestBinaryBodiesAreBase64BothWays(t *testing.T) {
	payload := []byte{0x89, 'P', 'N', 'G', 0x00, 0xff, 0x10}
	rec := &recorder{respond: func(req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		return lambdaevents.APIGatewayV2HTTPResponse{
			StatusCode:        201,
			Headers:           map[string]string{"Content-Type": "image/png", "X-One": "1"},
			MultiValueHeaders: map[string][]string{"X-Many": {"a", "b"}},
			Cookies:           []string{"s=1; Path=/; HttpOnly", "t=2"},
			Body:              req.Body, // echo the base64 body
			IsBase64Encoded:   true,
		}, nil
	}}
	srv := newServer(t, rec, nil)

	for _, tc := range []struct{ ctype, encoding string }{
		{"application/octet-stream", ""},
		{"", ""},
		{"application/json", "gzip"},
	} {
		req := newRequest(t, "POST", srv.URL+"/files/a/b.png", bytes.NewReader(payload))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		if tc.encoding != "" {
			req.Header.Set("Content-Encoding", tc.encoding)
		}
		resp, body := do(t, req)
		got := rec.last(t)
		if !got.IsBase64Encoded || got.Body != base64.StdEncoding.EncodeToString(payload) {
			t.Errorf("%q/%q: body %q base64=%v, want base64 of the bytes", tc.ctype, tc.encoding, got.Body, got.IsBase64Encoded)
		}
		if got.PathParameters["key"] != "a/b.png" {
			t.Errorf("greedy parameter = %q", got.PathParameters["key"])
		}
		if resp.StatusCode != 201 || !bytes.Equal(body, payload) {
			t.Errorf("response %d %x, want 201 %x", resp.StatusCode, body, payload)
		}
		if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-One") != "1" {
			t.Errorf("headers = %v", resp.Header)
		}
		if got := resp.Header.Values("X-Many"); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Errorf("X-Many = %q", got)
		}
		if got := resp.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"s=1; Path=/; HttpOnly", "t=2"}) {
			t.Errorf("Set-Cookie = %q", got)
		}
	}
}

func TestTextResponseIsNotSniffed(t *testing.T) {
	rec := &recorder{respond: func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
	}}
	srv := newServer(t, rec, nil)
	resp, body := do(t, newRequest(t, "POST", srv.URL+"/leads", nil))
	if resp.StatusCode != 204 || len(body) != 0 || resp.Header.Get("Content-Type") != "" {
		t.Errorf("got %d %q content-type %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
}

func TestRouting(t *testing.T) {
	rec := &recorder{}
	srv := newServer(t, rec, nil)
	for _, tc := range []struct {
		method, path string
		status       int
		routeKey     string
		allow        string
	}{
		{"GET", "/leads/new", 200, "GET /leads/new", ""},
		{"GET", "/leads/01J", 200, "GET /leads/{id}", ""},
		{"PATCH", "/leads/new", 200, "PATCH /leads/{id}", ""},
		{"GET", "/nowhere", 404, "", ""},
		{"GET", "/leads/01J/convert/extra", 404, "", ""},
		{"GET", "/leads/", 404, "", ""},
		{"GET", "//leads", 404, "", ""},
		{"DELETE", "/leads", 405, "", "GET, POST"},
		{"DELETE", "/leads/01J", 405, "", "GET, PATCH"},
		{"GET", "/leads/01J/convert", 405, "", "POST"},
	} {
		req := newRequest(t, tc.method, srv.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer good")
		before := rec.calls()
		resp, body := do(t, req)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.routeKey != "" {
			if got := rec.last(t).RouteKey; got != tc.routeKey {
				t.Errorf("%s %s: route %q, want %q", tc.method, tc.path, got, tc.routeKey)
			}
			continue
		}
		if rec.calls() != before {
			t.Errorf("%s %s: the handler was called", tc.method, tc.path)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: content type %q", tc.method, tc.path, ct)
		}
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Status != tc.status || p.Title == "" {
			t.Errorf("%s %s: problem %s (%v)", tc.method, tc.path, body, err)
		}
		if resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, resp.Header.Get("Allow"), tc.allow)
		}
	}
}

func TestStaffRoutesNeedAValidToken(t *testing.T) {
	rec := &recorder{}
	srv := newServer(t, rec, nil)
	for _, tc := range []struct {
		header, wwwAuth string
	}{
		{"", "Bearer"},
		{"Bearer bad", `Bearer scope="" error="invalid_token" error_description="the token's signature is not valid"`},
	} {
		req := newRequest(t, "GET", srv.URL+"/leads", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, body := do(t, req)
		if resp.StatusCode != 401 || strings.TrimSpace(string(body)) != `{"message":"Unauthorized"}` {
			t.Errorf("%q: got %d %s", tc.header, resp.StatusCode, body)
		}
		if got := resp.Header.Get("WWW-Authenticate"); got != tc.wwwAuth {
			t.Errorf("%q: WWW-Authenticate %q, want %q", tc.header, got, tc.wwwAuth)
		}
	}
	if rec.calls() != 0 {
		t.Error("the handler was called without a valid token")
	}
}

func TestBodyLimit(t *testing.T) {
	rec := &recorder{}
	srv := newServer(t, rec, nil)
	exact := bytes.Repeat([]byte("a"), gateway.MaxBodyBytes)
	req := newRequest(t, "POST", srv.URL+"/leads", bytes.NewReader(exact))
	req.Header.Set("Content-Type", "text/plain")
	if resp, _ := do(t, req); resp.StatusCode != 200 {
		t.Fatalf("a body of exactly the limit: status %d", resp.StatusCode)
	}

	over := append(exact, 'a')
	req = newRequest(t, "POST", srv.URL+"/leads", bytes.NewReader(over))
	resp, body := do(t, req)
	if resp.StatusCode != 413 || !strings.Contains(string(body), "Request Entity Too Large") {
		t.Errorf("with Content-Length: got %d %s", resp.StatusCode, body)
	}
	// Chunked, so the size is known only by reading.
	req = newRequest(t, "POST", srv.URL+"/leads", io.MultiReader(bytes.NewReader(over)))
	req.ContentLength = -1
	if resp, _ := do(t, req); resp.StatusCode != 413 {
		t.Errorf("chunked: got %d", resp.StatusCode)
	}
	if rec.calls() != 1 {
		t.Errorf("handler calls = %d, want 1", rec.calls())
	}
}

func TestHandlerFailures(t *testing.T) {
	for name, respond := range map[string]func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error){
		"error": func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
			return lambdaevents.APIGatewayV2HTTPResponse{}, errors.New("boom: secret detail")
		},
		"panic": func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
			panic("boom")
		},
		"no status": func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
			return lambdaevents.APIGatewayV2HTTPResponse{Body: "x"}, nil
		},
		"bad base64": func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
			return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "%%%", IsBase64Encoded: true}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, &recorder{respond: respond}, nil)
			resp, body := do(t, newRequest(t, "POST", srv.URL+"/leads", nil))
			if resp.StatusCode != 500 || strings.TrimSpace(string(body)) != `{"message":"Internal Server Error"}` {
				t.Errorf("got %d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestTimeoutAnswers503(t *testing.T) {
	rec := &recorder{}
	rec.respond = func(lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		<-rec.ctxs[0].Done() // a handler that runs until its deadline
		return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}
	srv := newServer(t, rec, func(o *gateway.Options) { o.Timeout = time.Millisecond })
	resp, body := do(t, newRequest(t, "POST", srv.URL+"/leads", nil))
	if resp.StatusCode != 503 || strings.TrimSpace(string(body)) != `{"message":"Service Unavailable"}` {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
}

func TestNewRefusesABrokenTable(t *testing.T) {
	h := map[string]app.HTTPHandler{"leads": (&recorder{}).handle}
	for name, o := range map[string]gateway.Options{
		"no handler":    {Routes: routes, Handlers: map[string]app.HTTPHandler{}, Authorizer: fakeAuth},
		"no authorizer": {Routes: routes, Handlers: h},
		"bad template":  {Routes: []manifest.Route{{Method: "GET", Path: "/a/{id", Function: "leads"}}, Handlers: h},
		"twice":         {Routes: []manifest.Route{routes[0], routes[0]}, Handlers: h},
		"empty segment": {Routes: []manifest.Route{{Method: "GET", Path: "/a//b", Function: "leads"}}, Handlers: h},
	} {
		if _, err := gateway.New(o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	for _, f := range manifest.Functions {
		if f.Kind == manifest.HTTP && h[f.Name] == nil {
			h[f.Name] = (&recorder{}).handle
		}
	}
	if _, err := gateway.New(gateway.Options{Routes: manifest.Routes, Handlers: h, Authorizer: fakeAuth}); err != nil {
		t.Errorf("the manifest's routes: %v", err)
	}
}
