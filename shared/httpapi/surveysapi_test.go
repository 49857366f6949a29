package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/survey"
)

// surveysAPI is the surveys function's real handler (and the leads
// function's, for customers) over a fresh table, with a counter on the
// DynamoDB client and the keyring that signs the invitations' links. The
// test sends invitations to addresses through a surveys service of its
// own over the same table, as the reminders function does.
type surveysAPI struct {
	*api
	calls   *dynamotest.Counter
	links   *links.Keyring
	service *survey.Service
}

var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func newSurveysAPI(t *testing.T) *surveysAPI {
	client, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "ORG_TIME_ZONE": "Europe/Berlin", "ORG_NAME": "Acme"}[k]
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
	a := &surveysAPI{api: &api{t: t, now: monday}, calls: &dynamotest.Counter{API: client}, links: ring}
	now := func() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now }
	a.service = &survey.Service{
		Store:    &dynamo.SurveyStore{Client: a.calls, Table: table},
		Policy:   survey.Policy{Settings: cfg.Surveys},
		Timers:   &dynamo.TimerStore{Client: a.calls, Table: table},
		Calendar: calendar.Default(berlin),
		Now:      now,
	}
	d := app.Deps{Config: cfg, DynamoDB: a.calls, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Links: ring, Now: now}
	surveys, leads := app.Surveys(d), app.Leads(d)
	a.handler = func(ctx context.Context, ev lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		for _, r := range manifest.RoutesOf("leads") {
			if r.Key() == ev.RouteKey {
				return leads(ctx, ev)
			}
		}
		return surveys(ctx, ev)
	}
	return a
}

// customer captures a lead with body, converts it and returns the
// customer's id.
func (a *surveysAPI) customer(body string) string {
	a.t.Helper()
	resp := a.do(req{route: "POST /leads", headers: jsonClient, body: body})
	if resp.StatusCode != 201 {
		a.t.Fatalf("POST /leads: %d %s", resp.StatusCode, resp.Body)
	}
	resp = a.do(req{route: "POST /leads/{id}/convert", role: "agent", path: idPath(decode(a.t, resp)["id"].(string)), headers: jsonClient,
		body: `{"deal_value":100,"currency":"EUR"}`})
	if resp.StatusCode != 200 {
		a.t.Fatalf("convert: %d %s", resp.StatusCode, resp.Body)
	}
	return decode(a.t, resp)["customer"].(map[string]any)["id"].(string)
}

// writes counts the write requests made since the last calls.Reset.
func (a *surveysAPI) writes() int {
	n := 0
	for op, c := range a.calls.Cost().Requests {
		if op != "GetItem" && op != "Query" && op != "BatchGetItem" {
			n += c
		}
	}
	return n
}

// invite sends an invitation to email by hand, through the service, and
// returns its id and the token of its link as the invitation mail signs
// it: valid until the invitation expires.
func (a *surveysAPI) invite(email string, questions ...survey.Question) (id, token string) {
	a.t.Helper()
	inv, err := a.service.Invite(context.Background(), survey.ByHand{Email: email, Questions: questions})
	if err != nil {
		a.t.Fatalf("invite %s: %v", email, err)
	}
	tok, err := a.links.Sign(links.Survey, inv.ID, *inv.ExpiresAt)
	if err != nil {
		a.t.Fatal(err)
	}
	return inv.ID, tok
}

// invitation reads an invitation as the store has it.
func (a *surveysAPI) invitation(id string) survey.Invitation {
	a.t.Helper()
	inv, err := a.service.Invitation(context.Background(), id)
	if err != nil {
		a.t.Fatalf("invitation %s: %v", id, err)
	}
	return inv
}

func (a *surveysAPI) surveyPage(token string, query map[string]string) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	return a.do(req{route: "GET /s/{token}", path: map[string]string{"token": token}, query: query, headers: pageBrowser})
}

func (a *surveysAPI) postAnswer(token string, values url.Values) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	return a.do(req{route: "POST /s/{token}", path: map[string]string{"token": token}, headers: answerBrowser, body: values.Encode()})
}

func (a *surveysAPI) unsubscribePage(token string) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	return a.do(req{route: "GET /s/{token}/unsubscribe", path: map[string]string{"token": token}, headers: pageBrowser})
}

func (a *surveysAPI) unsubscribe(token string) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	return a.do(req{route: "POST /s/{token}/unsubscribe", path: map[string]string{"token": token}, headers: answerBrowser})
}

// answered answers invitation token with values and checks it was taken.
func (a *surveysAPI) answered(token string, values url.Values) {
	a.t.Helper()
	if resp := a.postAnswer(token, values); resp.StatusCode != 303 {
		a.t.Fatalf("answer %v: %d %s", values, resp.StatusCode, resp.Body)
	}
}

// results reads GET /surveys/results as a manager.
func (a *surveysAPI) results(query map[string]string) map[string]any {
	a.t.Helper()
	resp := a.do(req{route: "GET /surveys/results", role: "manager", query: query})
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET /surveys/results %v: %d %s", query, resp.StatusCode, resp.Body)
	}
	return decode(a.t, resp)
}

// responses reads GET /surveys/responses as a manager.
func (a *surveysAPI) responses(query map[string]string) ([]map[string]any, string) {
	a.t.Helper()
	resp := a.do(req{route: "GET /surveys/responses", role: "manager", query: query})
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET /surveys/responses %v: %d %s", query, resp.StatusCode, resp.Body)
	}
	body := decode(a.t, resp)
	var out []map[string]any
	for _, it := range body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	next, _ := body["next_cursor"].(string)
	return out, next
}

// scoreOf reads a survey page's choice of score for question q: the value
// of its checked radio button, "" when none is.
func scoreOf(page string, q survey.Question) string {
	var chosen []string
	for _, part := range strings.Split(page, "<input ")[1:] {
		tag, _, _ := strings.Cut(part, ">")
		if strings.Contains(tag, `name="`+string(q)+`"`) && strings.Contains(tag, " checked") {
			_, v, _ := strings.Cut(tag, `value="`)
			v, _, _ = strings.Cut(v, `"`)
			chosen = append(chosen, v)
		}
	}
	return strings.Join(chosen, ",")
}
