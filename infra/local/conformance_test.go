package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/httpapi"
	"github.com/rapportcrm/rapport/shared/httpapi/openapitest"
	"github.com/rapportcrm/rapport/shared/links"
)

func TestMain(m *testing.M) {
	code := m.Run()
	openapitest.Report("infra/local")
	os.Exit(code)
}

// conformingHandlers builds the real HTTP handler of every function that
// serves a manifest route, as `make dev` and the Lambdas do, over db.
func conformingHandlers(t *testing.T, db dynamo.API, table string) map[string]app.HTTPHandler {
	t.Helper()
	cfg, err := config.FromEnv(env(map[string]string{
		"TABLE_NAME": table, "CORS_ALLOWED_ORIGINS": "https://www.example.com", "FORM_REDIRECT_ORIGINS": "https://www.example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	reg := local.DefaultRegistry()
	handlers := map[string]app.HTTPHandler{}
	for _, r := range manifest.Routes {
		if _, ok := handlers[r.Function]; ok {
			continue
		}
		build, ok := reg.HTTP[r.Function]
		if !ok {
			t.Fatalf("route %s: function %s has no HTTP handler in DefaultRegistry", r.Key(), r.Function)
		}
		handlers[r.Function] = build(app.Deps{
			Config: cfg, DynamoDB: db, Now: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Links: testKeys,
		})
	}
	return handlers
}

// testKeys signs the customers' links the conformance cases follow.
var testKeys = func() *links.Keyring {
	key, err := links.GenerateKey("k1")
	if err != nil {
		panic(err)
	}
	keys, err := links.NewKeyring(key)
	if err != nil {
		panic(err)
	}
	return keys
}()

// signed returns a link token for the well-formed id every case uses.
func signed(p links.Purpose) string {
	tok, err := testKeys.Sign(p, "01JZZZZZZZZZZZZZZZZZZZZZZZ", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	return tok
}

// conformanceRequest is what one case sends to one route. token, when
// set, is the {token} path parameter (by default a link signed for the
// route's page); every other parameter is a well-formed id.
type conformanceRequest struct {
	query   map[string]string
	headers map[string]string
	body    string
	token   string
}

// send calls route r's handler as the gateway would, as an admin on staff
// routes, with every path parameter set to a well-formed id; the answer is
// checked against docs/openapi.json.
func send(t *testing.T, h app.HTTPHandler, r manifest.Route, c conformanceRequest) lambdaevents.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := lambdaevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: r.Key(), RawPath: r.Path, Headers: map[string]string{},
		QueryStringParameters: c.query, Body: c.body,
		RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
			RequestID: "conformance", HTTP: lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.Path},
		},
	}
	for k, v := range c.headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
		if ev.PathParameters == nil {
			ev.PathParameters = map[string]string{}
		}
		ev.PathParameters[strings.TrimSuffix(m[1], "+")] = "01JZZZZZZZZZZZZZZZZZZZZZZZ"
	}
	if _, ok := ev.PathParameters["token"]; ok {
		// A customer's link: signed for its page, so the answer is the
		// route's, not the refusal of a token that was never a link.
		if c.token == "" {
			c.token = signed(map[bool]links.Purpose{true: links.Ticket, false: links.Survey}[strings.HasPrefix(r.Path, "/t/")])
		}
		ev.PathParameters["token"] = c.token
	}
	if r.Role != manifest.Public {
		ev.RequestContext.Authorizer = &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "conformance-admin", "cognito:groups": "[admin]"},
			},
		}
	}
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: the handler returned an error: %v", r.Key(), err)
	}
	openapitest.Check(t, ev, resp)
	return resp
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// problemOf decodes a problem+json answer, failing the test on any other.
func problemOf(t *testing.T, resp lambdaevents.APIGatewayV2HTTPResponse, status int) (detail string, fields []string) {
	t.Helper()
	if resp.StatusCode != status || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("answered %d %s %s, want %d application/problem+json", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, status)
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Errors []struct {
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Status != status {
		t.Fatalf("problem %s: %v", resp.Body, err)
	}
	for _, e := range p.Errors {
		fields = append(fields, e.Field+" "+e.Reason)
	}
	return p.Detail, fields
}

// acceptsJSON reports whether route r takes a JSON body.
func acceptsJSON(r manifest.Route) bool { return slices.Contains(bodyTypes(r), "application/json") }

// bodyTypes mirrors the adapter's rule: declared types, else JSON for the
// methods that carry a body.
func bodyTypes(r manifest.Route) []string {
	if len(r.Accepts) > 0 {
		return r.Accepts
	}
	if r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" {
		return []string{"application/json"}
	}
	return nil
}

// TestEveryRouteConformsToHTTP walks every manifest route, with the real
// handlers on the local DynamoDB server, through the HTTP rules the API
// keeps; a route added to the manifest is walked without a change here.
// Every answer is also checked against docs/openapi.json.
func TestEveryRouteConformsToHTTP(t *testing.T) {
	db, table := dynamotest.NewTable(t)
	handlers := conformingHandlers(t, db, table)
	for _, r := range manifest.Routes {
		h := handlers[r.Function]
		t.Run(r.Key(), func(t *testing.T) {
			if r.Role != manifest.Public {
				t.Run("unknown query parameter is 400 naming it", func(t *testing.T) {
					q := map[string]string{"colour": "blue"}
					if len(r.Query) > 0 {
						q[r.Query[0]] = ""
					}
					_, fields := problemOf(t, send(t, h, r, conformanceRequest{query: q}), 400)
					if len(fields) != 1 || !strings.HasPrefix(fields[0], "colour ") {
						t.Errorf("problem names %v, want only colour", fields)
					}
				})
			}
			if types := bodyTypes(r); len(types) > 0 {
				t.Run("unsupported Content-Type is 415 naming the accepted types", func(t *testing.T) {
					resp := send(t, h, r, conformanceRequest{headers: map[string]string{"Content-Type": "text/plain"}, body: "hello"})
					detail, _ := problemOf(t, resp, 415)
					for _, mt := range types {
						if !strings.Contains(detail, mt) {
							t.Errorf("detail %q does not name %s", detail, mt)
						}
					}
					if header := map[string]string{"POST": "Accept-Post", "PATCH": "Accept-Patch"}[r.Method]; header != "" &&
						resp.Headers[header] != strings.Join(types, ", ") {
						t.Errorf("%s = %q, want %q", header, resp.Headers[header], strings.Join(types, ", "))
					}
				})
			}
			if acceptsJSON(r) {
				jsonHeaders := map[string]string{"Content-Type": "application/json", "If-Match": `"1"`}
				t.Run("malformed JSON is 400", func(t *testing.T) {
					for _, body := range []string{`{"email":`, `{"a":1} {"b":2}`, `{'a':1}`} {
						_, fields := problemOf(t, send(t, h, r, conformanceRequest{headers: jsonHeaders, body: body}), 400)
						if len(fields) == 0 || !strings.HasPrefix(fields[0], "body ") {
							t.Errorf("%s: problem names %v, want body", body, fields)
						}
					}
				})
				t.Run("well-formed JSON breaking a rule is 422", func(t *testing.T) {
					for _, body := range []string{`[]`, `"text"`, `null`} {
						problemOf(t, send(t, h, r, conformanceRequest{headers: jsonHeaders, body: body}), 422)
					}
				})
			}
			if r.Method != "OPTIONS" {
				t.Run("Accept allowing nothing served is 406", func(t *testing.T) {
					detail, _ := problemOf(t, send(t, h, r, conformanceRequest{headers: map[string]string{"Accept": "image/png, application/pdf;q=0.5"}}), 406)
					for _, mt := range answerTypes(r) {
						if !strings.Contains(detail, mt) {
							t.Errorf("detail %q does not name %s", detail, mt)
						}
					}
					if resp := send(t, h, r, conformanceRequest{headers: map[string]string{"Accept": "*/*;q=0.1, image/png"}}); resp.StatusCode == 406 {
						t.Errorf("*/* allows anything, answered 406")
					}
				})
			}
		})
	}
}

func answerTypes(r manifest.Route) []string {
	if len(r.Produces) > 0 {
		return r.Produces
	}
	return []string{"application/json"}
}

// samples are requests that reach the store on routes whose handlers check
// their input first. A route not listed is sent with no body.
var samples = map[string]conformanceRequest{
	"POST /leads": {headers: map[string]string{"Content-Type": "application/json"}, body: `{"email":"ada@example.com"}`},
	"PATCH /leads/{id}": {headers: map[string]string{"Content-Type": "application/json", "If-Match": `"1"`},
		body: `{"status":"contacted"}`},
	"POST /leads/{id}/activities": {headers: map[string]string{"Content-Type": "application/json"}, body: `{"type":"call","note":"x"}`},
	"POST /leads/{id}/convert": {headers: map[string]string{"Content-Type": "application/json"},
		body: `{"deal_value":"10.00","currency":"EUR"}`},
	"GET /surveys/results":      {query: map[string]string{"question": "nps"}},
	"GET /customers":            {query: map[string]string{"sort": "value"}},
	"GET /scorecard/recompute":  {query: map[string]string{"day": "2020-01-06"}},
	"POST /scorecard/recompute": {query: map[string]string{"day": "2020-01-06"}},
	"PUT /scorecard/config": {headers: map[string]string{"Content-Type": "application/json", "If-Match": `"0"`},
		body: `{"kpis":{"nps":{"target":60}}}`},
}

// TestEveryRouteAsksForARetryWhenTheTableIsThrottled: with every DynamoDB
// call throttled (past the SDK's retries), each route that reached the
// table answers 503 with Retry-After, not 500, and not 4xx.
func TestEveryRouteAsksForARetryWhenTheTableIsThrottled(t *testing.T) {
	db := &throttledTable{}
	handlers := conformingHandlers(t, db, "throttled")
	for _, r := range manifest.Routes {
		t.Run(r.Key(), func(t *testing.T) {
			before := db.calls.Load()
			resp := send(t, handlers[r.Function], r, samples[r.Key()])
			if db.calls.Load() == before {
				if _, listed := samples[r.Key()]; listed || r.Method == "GET" {
					t.Errorf("the request never reached the table: %d %s", resp.StatusCode, resp.Body)
				}
				return
			}
			problemOf(t, resp, 503)
			if resp.Headers["Retry-After"] != httpapi.RetryAfter {
				t.Errorf("Retry-After = %q, want %q", resp.Headers["Retry-After"], httpapi.RetryAfter)
			}
		})
	}
}

// throttledTable answers every call as DynamoDB does when a table's
// throughput is exceeded and the SDK's retries have run out. The embedded
// interface is nil: a method added to dynamo.API and not overridden here
// panics, which the adapter turns into a 500 that fails the test.
type throttledTable struct {
	dynamo.API
	calls atomic.Int64
}

var _ dynamo.API = (*throttledTable)(nil)

func (d *throttledTable) fail(op string) error {
	d.calls.Add(1)
	return &types.ProvisionedThroughputExceededException{Message: aws.String(fmt.Sprintf("%s: throughput exceeded", op))}
}

func (d *throttledTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, d.fail("GetItem")
}

func (d *throttledTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, d.fail("PutItem")
}

func (d *throttledTable) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, d.fail("UpdateItem")
}

func (d *throttledTable) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, d.fail("DeleteItem")
}

func (d *throttledTable) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, d.fail("Query")
}

func (d *throttledTable) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, d.fail("TransactWriteItems")
}
