package httpapi_test

import (
	"strings"
	"testing"
)

// The public support form, POST /tickets, keeps the rules of the lead
// form: both encodings and JSON, the honeypot, allowed redirects and
// origins only, idempotency, and bad input refused naming the field with
// nothing written.

func TestSupportFormOpensOneTicket(t *testing.T) {
	a := newTicketsAPI(t)
	body := form(map[string]string{"name": "Grace", "email": "Grace@Example.com", "kind": "complaint",
		"subject": "The invoice is wrong", "message": "<b>Invoice 42</b> charges me twice.", "reference": "INV-42",
		"custom[plan]": "pro", "page_url": "https://www.example.com/support"})
	resp := a.do(req{route: "POST /tickets", headers: browser, body: body})
	if resp.StatusCode != 201 || !strings.Contains(resp.Headers["Content-Type"], "text/html") || !strings.Contains(resp.Body, "Thank you") ||
		!strings.Contains(resp.Body, `href="https://www.example.com/support"`) {
		t.Fatalf("first post: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if again := a.do(req{route: "POST /tickets", headers: browser, body: body}); again.StatusCode != 200 || !strings.Contains(again.Body, "Thank you") {
		t.Fatalf("the same form again: %d %s", again.StatusCode, again.Body)
	}
	items := a.tickets(nil)
	if len(items) != 1 {
		t.Fatalf("%d tickets listed, want 1", len(items))
	}
	tk := items[0]
	if tk["subject"] != "The invoice is wrong" || tk["kind"] != "complaint" || tk["status"] != "new" || tk["channel"] != "web" ||
		tk["priority"] != "normal" || tk["reference"] != "INV-42" || tk["owner"] != nil ||
		tk["requester"].(map[string]any)["email"] != "grace@example.com" || tk["custom"].(map[string]any)["plan"] != "pro" {
		t.Fatalf("listed ticket = %v", tk)
	}
	d := a.detail(tk["id"].(string))
	timeline := d["timeline"].([]any)
	if len(timeline) != 1 || timeline[0].(map[string]any)["body"] != "Invoice 42 charges me twice." || timeline[0].(map[string]any)["author"] != nil {
		t.Fatalf("timeline = %v; want the message with its markup stripped", timeline)
	}
	// Normal priority: a first response within 8 business hours, from
	// Monday 10:00 in Berlin to Tuesday 10:00.
	fr := d["sla"].(map[string]any)["first_response"].(map[string]any)
	if fr["status"] != "running" || fr["target_at"] != "2026-11-24T09:00:00Z" || fr["stopped_at"] != nil {
		t.Fatalf("first response clock = %v", fr)
	}
}

func TestTicketFormAnswersScriptsWithJSON(t *testing.T) {
	a := newTicketsAPI(t)
	body := `{"email":"bo@example.com","message":"Where is my order?","kind":"question","custom":{"order":"77"}}`
	resp := a.do(req{route: "POST /tickets", headers: jsonClient, body: body})
	got := decode(t, resp)
	if resp.StatusCode != 201 || got["status"] != "new" || got["duplicate"] != false || resp.Headers["Location"] != "/tickets/"+got["id"].(string) {
		t.Fatalf("first: %d %v %v", resp.StatusCode, got, resp.Headers)
	}
	resp = a.do(req{route: "POST /tickets", headers: jsonClient, body: body})
	if again := decode(t, resp); resp.StatusCode != 200 || again["id"] != got["id"] || again["duplicate"] != true {
		t.Fatalf("again: %d %v", resp.StatusCode, again)
	}
	if d := a.detail(got["id"].(string)); d["subject"] != "Where is my order?" {
		t.Fatalf("a ticket without a subject is named by its message: %v", d["subject"])
	}

	h := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "retry-1"}
	first := a.do(req{route: "POST /tickets", headers: h, body: `{"email":"cy@example.com","message":"Help"}`})
	retry := a.do(req{route: "POST /tickets", headers: h, body: `{"email":"cy@example.com","message":"Help"}`})
	if first.StatusCode != 201 || retry.StatusCode != 200 || decode(t, retry)["id"] != decode(t, first)["id"] {
		t.Fatalf("retry: %d %s after %d %s", retry.StatusCode, retry.Body, first.StatusCode, first.Body)
	}
	if other := a.do(req{route: "POST /tickets", headers: h, body: `{"email":"dee@example.com","message":"Help"}`}); other.StatusCode != 409 ||
		problemField(t, other.Body) != "Idempotency-Key" {
		t.Fatalf("a reused key: %d %s", other.StatusCode, other.Body)
	}
	if n := len(a.tickets(nil)); n != 2 {
		t.Fatalf("%d tickets, want 2", n)
	}
}

func TestTicketFormRedirectsOnlyToAllowedOrigins(t *testing.T) {
	a := newTicketsAPI(t)
	resp := a.do(req{route: "POST /tickets", headers: browser, body: form(map[string]string{
		"email": "ed@example.com", "message": "Hello", "redirect": "https://www.example.com/thanks"})})
	if resp.StatusCode != 303 || resp.Headers["Location"] != "https://www.example.com/thanks" {
		t.Fatalf("allowed redirect: %d %v", resp.StatusCode, resp.Headers)
	}
	resp = a.do(req{route: "POST /tickets", headers: browser, body: form(map[string]string{
		"email": "flo@example.com", "message": "Hello", "redirect": "https://evil.example.net/phish"})})
	if resp.StatusCode != 201 || resp.Headers["Location"] != "" || !strings.Contains(resp.Body, "Thank you") {
		t.Fatalf("foreign redirect: %d %v", resp.StatusCode, resp.Headers)
	}
}

func TestTicketHoneypotLooksAcceptedButStoresNothing(t *testing.T) {
	a := newTicketsAPI(t)
	a.calls.Reset()
	resp := a.do(req{route: "POST /tickets", headers: jsonClient, body: `{"email":"bot@example.com","message":"Buy","website":"http://spam"}`})
	if resp.StatusCode != 201 || decode(t, resp)["id"] == "" {
		t.Fatalf("honeypot: %d %s", resp.StatusCode, resp.Body)
	}
	if n := a.writes(); n != 0 {
		t.Fatalf("a bot's form made %d writes", n)
	}
	if n := len(a.tickets(nil)); n != 0 {
		t.Fatalf("%d tickets stored for a bot", n)
	}
}

func TestBadTicketFormsNameTheFieldAndWriteNothing(t *testing.T) {
	a := newTicketsAPI(t)
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		field   string
	}{
		{"no email", jsonClient, `{"name":"Nobody","message":"Hi"}`, 422, "email"},
		{"no message", jsonClient, `{"email":"a@example.com"}`, 422, "message"},
		{"bad email", jsonClient, `{"email":"not-an-address","message":"Hi"}`, 422, "email"},
		{"bad kind", jsonClient, `{"email":"a@example.com","message":"Hi","kind":"praise"}`, 422, "kind"},
		{"long subject", jsonClient, `{"email":"a@example.com","message":"Hi","subject":"` + strings.Repeat("x", 201) + `"}`, 422, "subject"},
		{"long message", jsonClient, `{"email":"a@example.com","message":"` + strings.Repeat("x", 5001) + `"}`, 422, "message"},
		{"bad page url", jsonClient, `{"email":"a@example.com","message":"Hi","page_url":"javascript:alert(1)"}`, 422, "page_url"},
		{"object for a string", jsonClient, `{"email":{"x":1},"message":"Hi"}`, 422, "email"},
		{"bad custom name", jsonClient, `{"email":"a@example.com","message":"Hi","custom":{"Bad Name":"x"}}`, 422, "custom.Bad Name"},
		{"long key", map[string]string{"Content-Type": "application/json", "Idempotency-Key": strings.Repeat("k", 256)}, `{"email":"a@example.com","message":"Hi"}`, 422, "Idempotency-Key"},
		{"not JSON", jsonClient, `{"email":`, 400, "body"},
		{"JSON but not an object", jsonClient, `["a@example.com"]`, 422, "body"},
		{"not form encoding", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "email=%zz", 400, "body"},
		{"too large", jsonClient, `{"email":"a@example.com","message":"` + strings.Repeat("x", 33<<10) + `"}`, 413, ""},
		{"wrong type", map[string]string{"Content-Type": "text/plain"}, "email=a@example.com", 415, "Content-Type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.calls.Reset()
			resp := a.do(req{route: "POST /tickets", headers: c.headers, body: c.body})
			if resp.StatusCode != c.status || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("%d %s %s, want %d problem+json", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, c.status)
			}
			if c.field != "" && problemField(t, resp.Body) != c.field {
				t.Fatalf("problem names %s, want field %q", resp.Body, c.field)
			}
			if n := a.writes(); n != 0 {
				t.Fatalf("%d writes", n)
			}
		})
	}
	resp := a.do(req{route: "POST /tickets", headers: browser, body: form(map[string]string{"email": "a@example.com"})})
	if resp.StatusCode != 422 || !strings.Contains(resp.Headers["Content-Type"], "text/html") || !strings.Contains(resp.Body, "<strong>message</strong>") {
		t.Fatalf("a browser's bad form: %d %s %s", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
	if n := len(a.tickets(nil)); n != 0 {
		t.Fatalf("bad input stored %d tickets", n)
	}
}

func TestTicketFormCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	a := newTicketsAPI(t)
	resp := a.do(req{route: "OPTIONS /tickets", headers: map[string]string{
		"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"}})
	if resp.StatusCode != 204 || resp.Headers["Access-Control-Allow-Origin"] != "https://www.example.com" ||
		!strings.Contains(resp.Headers["Access-Control-Allow-Headers"], "Idempotency-Key") {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Headers)
	}
	resp = a.do(req{route: "OPTIONS /tickets", headers: map[string]string{
		"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"}})
	if resp.StatusCode != 403 || resp.Headers["Access-Control-Allow-Origin"] != "" {
		t.Fatalf("foreign preflight: %d %v", resp.StatusCode, resp.Headers)
	}
	h := map[string]string{"Content-Type": "application/json", "Origin": "https://www.example.com"}
	resp = a.do(req{route: "POST /tickets", headers: h, body: `{"email":"gus@example.com","message":"Hi"}`})
	if resp.StatusCode != 201 || resp.Headers["Access-Control-Allow-Origin"] != "https://www.example.com" {
		t.Fatalf("post from an allowed origin: %d %v", resp.StatusCode, resp.Headers)
	}
	resp = a.do(req{route: "POST /tickets", headers: h, body: `{"email":"gus@example.com"}`})
	if resp.StatusCode != 422 || resp.Headers["Access-Control-Allow-Origin"] != "https://www.example.com" {
		t.Fatalf("the page's script may read why it was refused: %d %v", resp.StatusCode, resp.Headers)
	}
	h["Origin"] = "https://evil.example.net"
	resp = a.do(req{route: "POST /tickets", headers: h, body: `{"email":"hal@example.com","message":"Hi"}`})
	if _, ok := resp.Headers["Access-Control-Allow-Origin"]; ok {
		t.Fatalf("post from a foreign origin may be read: %v", resp.Headers)
	}
}
