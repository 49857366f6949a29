package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/links"
)

// ticketsAPI is the tickets function's real handler (and the leads
// function's, for customers) over a fresh table, with a counter on the
// DynamoDB client and the keyring that signs the customers' links.
type ticketsAPI struct {
	*api
	calls *dynamotest.Counter
	links *links.Keyring
}

// monday is 10:00 on a working Monday in Berlin.
var monday = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newTicketsAPI(t *testing.T) *ticketsAPI {
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
	key, err := links.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := links.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	a := &ticketsAPI{api: &api{t: t, now: monday}, calls: &dynamotest.Counter{API: client}, links: ring}
	d := app.Deps{
		Config: cfg, DynamoDB: a.calls, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Links: ring,
		Now: func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now },
	}
	tickets, leads := app.Tickets(d), app.Leads(d)
	a.handler = func(ctx context.Context, ev lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		for _, r := range manifest.RoutesOf("leads") {
			if r.Key() == ev.RouteKey {
				return leads(ctx, ev)
			}
		}
		return tickets(ctx, ev)
	}
	return a
}

// writes counts the write requests made since the last calls.Reset.
func (a *ticketsAPI) writes() int {
	n := 0
	for op, c := range a.calls.Cost().Requests {
		if op != "GetItem" && op != "Query" && op != "BatchGetItem" {
			n += c
		}
	}
	return n
}

func (a *ticketsAPI) tickets(query map[string]string) []map[string]any {
	a.t.Helper()
	resp := a.do(req{route: "GET /tickets", role: "agent", query: query})
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET /tickets: %d %s", resp.StatusCode, resp.Body)
	}
	var out []map[string]any
	for _, it := range decode(a.t, resp)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func (a *ticketsAPI) detail(id string) map[string]any {
	a.t.Helper()
	resp := a.do(req{route: "GET /tickets/{id}", role: "agent", path: map[string]string{"id": id}})
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET /tickets/%s: %d %s", id, resp.StatusCode, resp.Body)
	}
	return decode(a.t, resp)
}

// submit posts the support form as JSON and returns the new ticket's id.
func (a *ticketsAPI) submit(body string) string {
	a.t.Helper()
	resp := a.do(req{route: "POST /tickets", headers: jsonClient, body: body})
	if resp.StatusCode != 201 {
		a.t.Fatalf("POST /tickets: %d %s", resp.StatusCode, resp.Body)
	}
	return decode(a.t, resp)["id"].(string)
}

// openFor opens a ticket as the agent and returns it.
func (a *ticketsAPI) openFor(body string) map[string]any {
	a.t.Helper()
	resp := a.do(req{route: "POST /tickets/on-behalf", role: "agent", headers: jsonClient, body: body})
	if resp.StatusCode != 201 {
		a.t.Fatalf("POST /tickets/on-behalf: %d %s", resp.StatusCode, resp.Body)
	}
	return decode(a.t, resp)
}

func idPath(id string) map[string]string { return map[string]string{"id": id} }

func ifMatchJSON(etag string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "If-Match": etag}
}

// kinds lists the kinds of a detail's timeline entries.
func kinds(detail map[string]any) string {
	var out []string
	for _, e := range detail["timeline"].([]any) {
		out = append(out, e.(map[string]any)["kind"].(string))
	}
	return strings.Join(out, ",")
}

// problemField returns the first field a problem names, or "".
func problemField(t *testing.T, body string) string {
	t.Helper()
	errs, _ := decodeString(t, body)["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["field"].(string)
}

func decodeString(t testing.TB, body string) map[string]any {
	t.Helper()
	return decode(t, lambdaevents.APIGatewayV2HTTPResponse{Body: body})
}
