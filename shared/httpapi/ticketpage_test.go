package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// sign returns the token of ticket id's page, valid for ttl from now.
func (a *ticketsAPI) sign(id string, ttl time.Duration) string {
	a.t.Helper()
	tok, err := a.links.Sign(links.Ticket, id, a.now.Add(ttl))
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

var pageBrowser = map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

var answerBrowser = map[string]string{
	"Content-Type": "application/x-www-form-urlencoded",
	"Accept":       "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}

func (a *ticketsAPI) page(token string, query map[string]string) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	return a.do(req{route: "GET /t/{token}", path: map[string]string{"token": token}, query: query, headers: pageBrowser})
}

func (a *ticketsAPI) answer(token, message string) lambdaevents.APIGatewayV2HTTPResponse {
	a.t.Helper()
	return a.do(req{route: "POST /t/{token}", path: map[string]string{"token": token}, headers: answerBrowser,
		body: url.Values{"message": {message}}.Encode()})
}

// checkPrivate checks the headers that keep a customer page to its
// customer.
func checkPrivate(t *testing.T, resp lambdaevents.APIGatewayV2HTTPResponse) {
	t.Helper()
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"} {
		if !strings.Contains(resp.Headers[k], want) {
			t.Errorf("%s: %q, want %q", k, resp.Headers[k], want)
		}
	}
}

// ticketWithThread is a ticket from the form with a staff note and a
// public reply that asks the customer for more.
func ticketWithThread(t *testing.T, a *ticketsAPI) string {
	id := a.submit(`{"name":"Grace Hopper","email":"grace@example.com","subject":"The invoice is wrong","message":"Invoice 42 charges me twice.","reference":"INV-42"}`)
	a.advance(10 * time.Minute)
	for _, body := range []string{
		`{"body":"Internal: billing bug #7, ask finance","public":false}`,
		`{"body":"Sorry about that. Which month is it?","public":true,"status":"pending"}`,
	} {
		if resp := a.do(req{route: "POST /tickets/{id}/replies", role: "agent", path: idPath(id), headers: jsonClient, body: body}); resp.StatusCode != 201 {
			t.Fatalf("reply: %d %s", resp.StatusCode, resp.Body)
		}
		a.advance(time.Minute)
	}
	return id
}

func TestTheCustomerReadsTheirTicket(t *testing.T) {
	a := newTicketsAPI(t)
	id := ticketWithThread(t, a)
	resp := a.page(a.sign(id, ticket.LinkTTL), nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
		t.Fatalf("GET /t/{token}: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	checkPrivate(t, resp)
	page := resp.Body
	for _, want := range []string{
		`<html lang="en">`, `name="viewport"`, "<h1>The invoice is wrong</h1>", id, "INV-42",
		"Waiting for your answer", "Invoice 42 charges me twice.", "Sorry about that. Which month is it?", "Support team",
		`<form method="post"`, `<label for="message">`, `<textarea id="message" name="message"`, `<button type="submit">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"Internal", "billing bug", "user-agent", "pending", "<script"} {
		if strings.Contains(page, never) {
			t.Errorf("the page shows %q", never)
		}
	}
	if strings.Index(page, "Invoice 42 charges") > strings.Index(page, "Which month") {
		t.Errorf("the thread is not oldest first")
	}
}

func TestTheCustomerAnswersFromTheirPage(t *testing.T) {
	a := newTicketsAPI(t)
	id := ticketWithThread(t, a)
	tok := a.sign(id, ticket.LinkTTL)
	resp := a.answer(tok, "It is <b>November</b>\nThanks!")
	if resp.StatusCode != 303 || resp.Headers["Location"] != "/t/"+tok+"?answered=1" {
		t.Fatalf("answer: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	checkPrivate(t, resp)
	page := a.page(tok, map[string]string{"answered": "1"})
	if page.StatusCode != 200 || !strings.Contains(page.Body, "we have your message") || !strings.Contains(page.Body, "It is November\nThanks!") {
		t.Fatalf("the page after answering: %d %s", page.StatusCode, page.Body)
	}
	if strings.Contains(a.page(tok, nil).Body, "we have your message") {
		t.Errorf("the thanks show without ?answered")
	}
	d := a.detail(id)
	if d["status"] != "open" {
		t.Errorf("a pending ticket the customer answered is %v, want open", d["status"])
	}
	// The answer, then the change it made (pending to open).
	timeline := d["timeline"].([]any)
	answer := timeline[len(timeline)-2].(map[string]any)
	if answer["kind"] != "message" || answer["author"] != nil || answer["body"] != "It is November\nThanks!" {
		t.Errorf("the answer on the timeline = %v", answer)
	}
	if change := timeline[len(timeline)-1].(map[string]any); change["kind"] != "change" || change["author"] != nil {
		t.Errorf("the change the answer made = %v", change)
	}
}

func TestBadAnswersShowThePageAgainAndWriteNothing(t *testing.T) {
	a := newTicketsAPI(t)
	id := ticketWithThread(t, a)
	tok := a.sign(id, ticket.LinkTTL)
	for name, c := range map[string]struct {
		message string
		status  int
		says    string
	}{
		"empty":     {"  \n ", 422, "Please write your message"},
		"too long":  {strings.Repeat("x", ticket.MaxMessage+1), 422, "too long"},
		"too large": {strings.Repeat("é", 12000), 413, "too long"},
	} {
		t.Run(name, func(t *testing.T) {
			a.calls.Reset()
			resp := a.answer(tok, c.message)
			if resp.StatusCode != c.status || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
				t.Fatalf("%d %v", resp.StatusCode, resp.Headers)
			}
			checkPrivate(t, resp)
			if !strings.Contains(resp.Body, `<p class="error" id="message-error">`) || !strings.Contains(resp.Body, c.says) ||
				!strings.Contains(resp.Body, `aria-invalid="true"`) || !strings.Contains(resp.Body, "Which month is it?") {
				t.Errorf("the page does not show the error beside the field: %s", resp.Body)
			}
			if n := a.writes(); n != 0 {
				t.Errorf("%d writes", n)
			}
		})
	}
	if d := a.detail(id); d["status"] != "pending" || len(d["timeline"].([]any)) != 4 {
		t.Errorf("the ticket changed: %v", d)
	}
}

func TestLinksThatFailShowNothingOfTheTicket(t *testing.T) {
	a := newTicketsAPI(t)
	id := ticketWithThread(t, a)
	tok := a.sign(id, time.Hour)
	last := tok[len(tok)-1:]
	swap := "A"
	if last == "A" {
		swap = "B"
	}
	other, _ := links.GenerateKey("k1")
	foreign, _ := links.NewKeyring(other)
	foreignTok, _ := foreign.Sign(links.Ticket, id, a.now.Add(time.Hour))
	surveyTok, _ := a.links.Sign(links.Survey, id, a.now.Add(time.Hour))
	for name, bad := range map[string]string{
		"tampered":        tok[:len(tok)-1] + swap,
		"another key":     foreignTok,
		"a survey's link": surveyTok,
		"garbage":         "not-a-token",
		"no such ticket":  a.sign("01JZZZZZZZZZZZZZZZZZZZZZZZ", time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			a.calls.Reset()
			for _, resp := range []lambdaevents.APIGatewayV2HTTPResponse{a.page(bad, nil), a.answer(bad, "Hello?")} {
				if resp.StatusCode != 404 || !strings.Contains(resp.Body, "This link does not work") {
					t.Fatalf("%d %s", resp.StatusCode, resp.Body)
				}
				checkPrivate(t, resp)
				for _, never := range []string{"invoice", "Invoice", "Grace", id} {
					if strings.Contains(resp.Body, never) {
						t.Errorf("the page shows %q", never)
					}
				}
			}
			if n := a.writes(); n != 0 {
				t.Errorf("%d writes", n)
			}
		})
	}
	a.advance(2 * time.Hour)
	a.calls.Reset()
	for _, resp := range []lambdaevents.APIGatewayV2HTTPResponse{a.page(tok, nil), a.answer(tok, "Hello?")} {
		if resp.StatusCode != 410 || !strings.Contains(resp.Body, "This link has expired") || strings.Contains(resp.Body, "invoice") {
			t.Fatalf("an expired link: %d %s", resp.StatusCode, resp.Body)
		}
		checkPrivate(t, resp)
	}
	if n := a.calls.Requests(); n != 0 {
		t.Errorf("an expired link made %d requests", n)
	}
}

func TestAnAnswerToAClosedTicketOpensANewOne(t *testing.T) {
	a := newTicketsAPI(t)
	id := ticketWithThread(t, a)
	if resp := a.do(req{route: "PATCH /tickets/{id}", role: "agent", path: idPath(id), headers: ifMatchJSON(`"2"`), body: `{"status":"closed"}`}); resp.StatusCode != 200 {
		t.Fatalf("closing: %d %s", resp.StatusCode, resp.Body)
	}
	tok := a.sign(id, ticket.LinkTTL)
	if page := a.page(tok, nil); !strings.Contains(page.Body, "Closed") || !strings.Contains(page.Body, "Write to us again") {
		t.Errorf("a closed ticket's page: %s", page.Body)
	}
	resp := a.answer(tok, "It happened again in December.")
	loc := resp.Headers["Location"]
	newTok, ok := strings.CutPrefix(strings.TrimSuffix(loc, "?answered=1"), "/t/")
	if resp.StatusCode != 303 || !ok || newTok == tok || !strings.HasSuffix(loc, "?answered=1") {
		t.Fatalf("answer to a closed ticket: %d %v", resp.StatusCode, resp.Headers)
	}
	c, err := a.links.Verify(newTok, links.Ticket, a.now.Add(ticket.LinkTTL-time.Minute))
	if err != nil || c.ID == id {
		t.Fatalf("the new link: %v %v", c, err)
	}
	page := a.page(newTok, map[string]string{"answered": "1"})
	if page.StatusCode != 200 || !strings.Contains(page.Body, "Re: The invoice is wrong") || !strings.Contains(page.Body, "opened this new request") ||
		!strings.Contains(page.Body, "It happened again in December.") || strings.Contains(page.Body, "Which month") {
		t.Fatalf("the new ticket's page: %d %s", page.StatusCode, page.Body)
	}
	if d := a.detail(c.ID); d["follows_id"] != id || d["status"] != "new" {
		t.Errorf("the new ticket = %v", d)
	}
	if d := a.detail(id); d["status"] != "closed" || kinds(d) != "message,note,reply,change,change" && kinds(d) != "message,note,change,reply,change" {
		t.Errorf("the closed ticket changed: %v %s", d["status"], kinds(d))
	}
}

func TestACustomersRecordShowsTheirTickets(t *testing.T) {
	a := newTicketsAPI(t)
	lead := decode(t, a.do(req{route: "POST /leads", headers: jsonClient, body: `{"email":"ivy@example.com","name":"Ivy"}`}))
	resp := a.do(req{route: "POST /leads/{id}/convert", role: "agent", path: idPath(lead["id"].(string)), headers: jsonClient,
		body: `{"deal_value":100,"currency":"EUR"}`})
	if resp.StatusCode != 200 {
		t.Fatalf("convert: %d %s", resp.StatusCode, resp.Body)
	}
	customer := decode(t, resp)["customer"].(map[string]any)["id"].(string)
	if got := decode(t, a.do(req{route: "GET /customers/{id}", role: "agent", path: idPath(customer)})); len(got["tickets"].([]any)) != 0 {
		t.Fatalf("a customer without tickets: %v", got["tickets"])
	}
	first := a.submit(`{"email":"IVY@example.com","message":"First","kind":"question"}`)
	a.advance(time.Minute)
	second := a.openFor(`{"email":"ivy@example.com","message":"Second","channel":"phone","priority":"high"}`)["id"]
	a.submit(`{"email":"someone-else@example.com","message":"Not hers"}`)
	if d := a.detail(first); d["customer_id"] != customer {
		t.Fatalf("the ticket's customer = %v, want %s", d["customer_id"], customer)
	}
	resp = a.do(req{route: "GET /customers/{id}", role: "agent", path: idPath(customer)})
	tickets := decode(t, resp)["tickets"].([]any)
	if resp.StatusCode != 200 || len(tickets) != 2 {
		t.Fatalf("the customer's tickets: %d %v", resp.StatusCode, tickets)
	}
	newest, oldest := tickets[0].(map[string]any), tickets[1].(map[string]any)
	if newest["id"] != second || newest["priority"] != "high" || oldest["id"] != first || oldest["kind"] != "question" ||
		oldest["subject"] != "First" || oldest["status"] != "new" || oldest["opened_at"] != "2026-11-23T09:00:00Z" {
		t.Errorf("the customer's tickets, newest first = %v", tickets)
	}
}
