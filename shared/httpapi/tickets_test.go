package httpapi_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// The agents' routes: open a ticket for a caller, work the queue, reply,
// and change a ticket with If-Match.

func TestTicketStaffRoutesCheckTheRole(t *testing.T) {
	a := newTicketsAPI(t)
	for _, r := range manifest.RoutesOf("tickets") {
		if r.Role == manifest.Public {
			continue
		}
		id := idPath("01JZZZZZZZZZZZZZZZZZZZZZZZ")
		if resp := a.do(req{route: r.Key(), path: id}); resp.StatusCode != 401 {
			t.Errorf("%s without a token: %d", r.Key(), resp.StatusCode)
		}
		if resp := a.do(req{route: r.Key(), path: id, role: "customer"}); resp.StatusCode != 403 {
			t.Errorf("%s with no staff role: %d", r.Key(), resp.StatusCode)
		}
	}
	for _, role := range []string{"agent", "manager", "admin"} {
		if resp := a.do(req{route: "GET /tickets", role: role}); resp.StatusCode != 200 {
			t.Errorf("GET /tickets as %s: %d", role, resp.StatusCode)
		}
	}
}

func TestEveryTicketRouteIsServed(t *testing.T) {
	a := newTicketsAPI(t)
	for _, r := range manifest.RoutesOf("tickets") {
		resp := a.do(req{route: r.Key(), role: "admin", path: map[string]string{"id": "x", "token": "x"},
			headers: map[string]string{"Access-Control-Request-Method": r.Method}})
		if resp.StatusCode == 404 && strings.Contains(resp.Body, "no route") {
			t.Errorf("%s is in the manifest but not served", r.Key())
		}
	}
}

func TestAnAgentWorksATicket(t *testing.T) {
	a := newTicketsAPI(t)
	resp := a.do(req{route: "POST /tickets/on-behalf", role: "agent", headers: jsonClient, body: `{"name":"Caller","phone":"+49 30 1234567",
		"email":"caller@example.com","subject":"Cannot log in","message":"Since this morning.","channel":"phone","priority":"high","owner":"me","kind":"incident"}`})
	tk := decode(t, resp)
	id, _ := tk["id"].(string)
	if resp.StatusCode != 201 || resp.Headers["ETag"] != `"1"` || resp.Headers["Location"] != "/tickets/"+id ||
		tk["owner"] != "user-agent" || tk["opened_by"] != "user-agent" || tk["channel"] != "phone" || tk["priority"] != "high" {
		t.Fatalf("POST /tickets/on-behalf: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	// High priority: first response within 4 business hours, by 14:00 Berlin.
	if fr := tk["sla"].(map[string]any)["first_response"].(map[string]any); fr["target_at"] != "2026-11-23T13:00:00Z" {
		t.Fatalf("first response clock = %v", fr)
	}
	path := idPath(id)
	if got := a.do(req{route: "GET /tickets/{id}", role: "agent", path: path}); got.StatusCode != 200 || got.Headers["ETag"] != `"1"` {
		t.Fatalf("GET: %d %v", got.StatusCode, got.Headers)
	}

	a.advance(30 * time.Minute)
	resp = a.do(req{route: "POST /tickets/{id}/replies", role: "agent", path: path, headers: jsonClient, body: `{"body":"Checked the logs: a lockout.","public":false}`})
	if resp.StatusCode != 201 || decode(t, resp)["entry"].(map[string]any)["kind"] != "note" {
		t.Fatalf("a note: %d %s", resp.StatusCode, resp.Body)
	}
	if d := a.detail(id); d["status"] != "new" || d["first_response_at"] != nil {
		t.Fatalf("a note is no response: %v %v", d["status"], d["first_response_at"])
	}
	a.advance(30 * time.Minute)
	resp = a.do(req{route: "POST /tickets/{id}/replies", role: "agent", path: path, headers: jsonClient,
		body: `{"body":"We unlocked your account: please try again.","public":true,"status":"pending"}`})
	got := decode(t, resp)
	if resp.StatusCode != 201 || resp.Headers["ETag"] != `"2"` || got["entry"].(map[string]any)["kind"] != "reply" ||
		got["ticket"].(map[string]any)["status"] != "pending" || got["ticket"].(map[string]any)["version"] != float64(2) {
		t.Fatalf("a public reply: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	fr := got["ticket"].(map[string]any)["sla"].(map[string]any)["first_response"].(map[string]any)
	if fr["status"] != "met" || fr["stopped_at"] != "2026-11-23T10:00:00Z" || fr["elapsed_business_seconds"] != float64(3600) {
		t.Fatalf("first response after an hour = %v", fr)
	}
	if res := got["ticket"].(map[string]any)["sla"].(map[string]any)["resolution"].(map[string]any); res["status"] != "paused" {
		t.Fatalf("a pending ticket's resolution clock = %v", res)
	}

	a.advance(time.Minute)
	body := `{"status":"open","priority":"urgent","owner":"sub-bea","category":"Login"}`
	if resp := a.do(req{route: "PATCH /tickets/{id}", role: "agent", path: path, headers: jsonClient, body: body}); resp.StatusCode != 428 {
		t.Fatalf("PATCH without If-Match: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := a.do(req{route: "PATCH /tickets/{id}", role: "agent", path: path, headers: ifMatchJSON(`"1"`), body: body}); resp.StatusCode != 412 {
		t.Fatalf("PATCH with a stale If-Match: %d %s", resp.StatusCode, resp.Body)
	}
	resp = a.do(req{route: "PATCH /tickets/{id}", role: "agent", path: path, headers: ifMatchJSON(`"2"`), body: body})
	got = decode(t, resp)
	if resp.StatusCode != 200 || resp.Headers["ETag"] != `"3"` || got["status"] != "open" || got["priority"] != "urgent" ||
		got["owner"] != "sub-bea" || got["category"] != "login" {
		t.Fatalf("PATCH: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	a.advance(time.Minute)
	resp = a.do(req{route: "PATCH /tickets/{id}", role: "agent", path: path, headers: ifMatchJSON(`"3"`), body: `{"owner":"me","status":"solved"}`})
	if got = decode(t, resp); resp.StatusCode != 200 || got["owner"] != "user-agent" || got["solved_at"] == nil {
		t.Fatalf("PATCH owner me, solved: %d %s", resp.StatusCode, resp.Body)
	}

	d := a.detail(id)
	if k := kinds(d); k != "message,note,reply,change,change,change" {
		t.Fatalf("timeline kinds = %s", k)
	}
	timeline := d["timeline"].([]any)
	if e := timeline[1].(map[string]any); e["author"] != "user-agent" || e["body"] != "Checked the logs: a lockout." {
		t.Fatalf("the note = %v", e)
	}
	changes := timeline[4].(map[string]any)["changes"].([]any)
	want := map[string]map[string]any{
		"status":   {"from": "pending", "to": "open"},
		"priority": {"from": "high", "to": "urgent"},
		"owner":    {"from": "user-agent", "to": "sub-bea"},
		"category": {},
	}
	if len(changes) != len(want) {
		t.Fatalf("changes = %v", changes)
	}
	for _, c := range changes {
		c := c.(map[string]any)
		w, ok := want[c["field"].(string)]
		if !ok || c["from"] != w["from"] || c["to"] != w["to"] {
			t.Errorf("change %v, want %v", c, w)
		}
	}
}

func TestTheQueueFilters(t *testing.T) {
	a := newTicketsAPI(t)
	mine := a.openFor(`{"email":"a@example.com","message":"Mine","channel":"email","priority":"urgent","owner":"me","kind":"complaint"}`)["id"]
	queued := a.submit(`{"email":"b@example.com","message":"Nobody's"}`)
	theirs := a.openFor(`{"email":"c@example.com","message":"Theirs","channel":"chat","priority":"high","owner":"sub-bea"}`)["id"]
	ids := func(q map[string]string) string {
		var out []string
		for _, tk := range a.tickets(q) {
			out = append(out, tk["id"].(string))
		}
		return strings.Join(out, ",")
	}
	if got := ids(nil); got != strings.Join([]string{mine.(string), theirs.(string), queued}, ",") {
		t.Errorf("the queue is not by next deadline (urgent, high, normal): %s", got)
	}
	for q, want := range map[string]string{
		"owner=me":                 mine.(string),
		"owner=unassigned":         queued,
		"owner=sub-bea":            theirs.(string),
		"priority=high":            theirs.(string),
		"kind=complaint":           mine.(string),
		"status=new&kind=question": "",
	} {
		v, _ := url.ParseQuery(q)
		query := map[string]string{}
		for k := range v {
			query[k] = v.Get(k)
		}
		if got := ids(query); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	// Urgent: first response within one business hour, warned at 45 minutes.
	a.advance(50 * time.Minute)
	if got := ids(map[string]string{"sla": "at_risk"}); got != mine {
		t.Errorf("at risk after 50 minutes: %s", got)
	}
	a.advance(20 * time.Minute)
	if got := ids(map[string]string{"sla": "breached"}); got != mine {
		t.Errorf("breached after 70 minutes: %s", got)
	}
	page := a.do(req{route: "GET /tickets", role: "agent", query: map[string]string{"limit": "2"}})
	next, _ := decode(t, page)["next_cursor"].(string)
	if next == "" {
		t.Fatalf("no next page after 2 of 3: %s", page.Body)
	}
	if rest := a.tickets(map[string]string{"limit": "2", "cursor": next}); len(rest) != 1 || rest[0]["id"] != queued {
		t.Errorf("the second page = %v", rest)
	}
}

func TestBadQueueFiltersNameTheParameter(t *testing.T) {
	a := newTicketsAPI(t)
	for q, field := range map[string]string{
		"status=maybe":   "status",
		"priority=asap":  "priority",
		"kind=praise":    "kind",
		"sla=late":       "sla",
		"limit=0":        "limit",
		"limit=101":      "limit",
		"limit=ten":      "limit",
		"cursor=garbage": "cursor",
	} {
		k, v, _ := strings.Cut(q, "=")
		resp := a.do(req{route: "GET /tickets", role: "agent", query: map[string]string{k: v}})
		if resp.StatusCode != 422 || problemField(t, resp.Body) != field {
			t.Errorf("%s: %d %s, want 422 naming %s", q, resp.StatusCode, resp.Body, field)
		}
	}
	if resp := a.do(req{route: "GET /tickets", role: "agent", query: map[string]string{"stauts": "new"}}); resp.StatusCode != 400 || problemField(t, resp.Body) != "stauts" {
		t.Errorf("a misspelt filter: %d %s", resp.StatusCode, resp.Body)
	}
}

// Bad input on every staff route is a problem naming the field, and
// writes nothing.
func TestBadTicketInputWritesNothing(t *testing.T) {
	a := newTicketsAPI(t)
	id := a.openFor(`{"email":"a@example.com","message":"Hi","channel":"phone"}`)["id"].(string)
	closed := a.openFor(`{"email":"b@example.com","message":"Hi","channel":"phone"}`)["id"].(string)
	if resp := a.do(req{route: "PATCH /tickets/{id}", role: "agent", path: idPath(closed), headers: ifMatchJSON(`"1"`), body: `{"status":"closed"}`}); resp.StatusCode != 200 {
		t.Fatalf("closing: %d %s", resp.StatusCode, resp.Body)
	}
	onBehalf := func(body string) req {
		return req{route: "POST /tickets/on-behalf", role: "agent", headers: jsonClient, body: body}
	}
	patchOn := func(id, etag, body string) req {
		return req{route: "PATCH /tickets/{id}", role: "agent", path: idPath(id), headers: ifMatchJSON(etag), body: body}
	}
	patch := func(etag, body string) req { return patchOn(id, etag, body) }
	reply := func(id, body string) req {
		return req{route: "POST /tickets/{id}/replies", role: "agent", path: idPath(id), headers: jsonClient, body: body}
	}
	cases := []struct {
		name   string
		r      req
		status int
		field  string
	}{
		{"no channel", onBehalf(`{"email":"a@example.com","message":"Hi"}`), 422, "channel"},
		{"bad channel", onBehalf(`{"email":"a@example.com","message":"Hi","channel":"fax"}`), 422, "channel"},
		{"no contact", onBehalf(`{"message":"Hi","channel":"phone"}`), 422, "email"},
		{"no message", onBehalf(`{"email":"a@example.com","channel":"phone"}`), 422, "message"},
		{"markup only", onBehalf(`{"email":"a@example.com","channel":"phone","message":"<b></b>"}`), 422, "message"},
		{"bad priority", onBehalf(`{"email":"a@example.com","message":"Hi","channel":"phone","priority":"asap"}`), 422, "priority"},
		{"bad owner", onBehalf(`{"email":"a@example.com","message":"Hi","channel":"phone","owner":"two words"}`), 422, "owner"},
		{"unknown field", onBehalf(`{"email":"a@example.com","message":"Hi","channel":"phone","urgency":"high"}`), 422, "urgency"},
		{"custom not strings", onBehalf(`{"email":"a@example.com","message":"Hi","channel":"phone","custom":{"n":1}}`), 422, "custom"},
		{"not JSON", onBehalf(`{"email":`), 400, "body"},
		{"bad If-Match", patch("yesterday", `{"status":"open"}`), 422, "If-Match"},
		{"stale If-Match", patch(`"9"`, `{"status":"open"}`), 412, ""},
		{"bad status", patch(`"1"`, `{"status":"done"}`), 422, "status"},
		{"no such move", patchOn(closed, `"2"`, `{"status":"open"}`), 422, "status"},
		{"a closed ticket", patchOn(closed, `"2"`, `{"priority":"high"}`), 409, ""},
		{"bad kind", patch(`"1"`, `{"kind":"praise"}`), 422, "kind"},
		{"bad priority in patch", patch(`"1"`, `{"priority":"asap"}`), 422, "priority"},
		{"misspelt field", patch(`"1"`, `{"stauts":"open"}`), 422, "stauts"},
		{"no public", reply(id, `{"body":"Hi"}`), 422, "public"},
		{"no body", reply(id, `{"body":" ","public":true}`), 422, "body"},
		{"a body of markup", reply(id, `{"body":"<p> </p>","public":true}`), 422, "body"},
		{"public not a boolean", reply(id, `{"body":"Hi","public":"yes"}`), 422, "public"},
		{"bad status with a reply", reply(id, `{"body":"Hi","public":true,"status":"done"}`), 422, "status"},
		{"reply to a closed ticket", reply(closed, `{"body":"Hi","public":true}`), 409, ""},
		{"reply to no ticket", reply("01JZZZZZZZZZZZZZZZZZZZZZZZ", `{"body":"Hi","public":true}`), 404, ""},
		{"patch no ticket", req{route: "PATCH /tickets/{id}", role: "agent", path: idPath("nope"), headers: ifMatchJSON(`"1"`), body: `{"status":"open"}`}, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.calls.Reset()
			resp := a.do(c.r)
			if resp.StatusCode != c.status || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("%d %v %s, want %d", resp.StatusCode, resp.Headers, resp.Body, c.status)
			}
			if c.field != "" && problemField(t, resp.Body) != c.field {
				t.Errorf("the problem names %s, want %s", resp.Body, c.field)
			}
			if n := a.writes(); n != 0 {
				t.Errorf("made %d writes (%v)", n, a.calls.Cost().Requests)
			}
		})
	}
	if d := a.detail(id); d["version"] != float64(1) || kinds(d) != "message" {
		t.Errorf("the ticket changed: %v", d)
	}
	if n, closed := len(a.tickets(nil)), len(a.tickets(map[string]string{"status": "closed"})); n != 1 || closed != 1 {
		t.Errorf("%d active and %d closed tickets, want 1 of each", n, closed)
	}
	for _, bad := range []string{"01JZZZZZZZZZZZZZZZZZZZZZZZ", "nope", "%2e%2e"} {
		if resp := a.do(req{route: "GET /tickets/{id}", role: "agent", path: idPath(bad)}); resp.StatusCode != 404 {
			t.Errorf("GET /tickets/%s: %d", bad, resp.StatusCode)
		}
	}
}

// Concurrent edits with one If-Match: exactly one wins, the others are
// told the ticket changed, and no update is lost.
func TestConcurrentPatchesOneWins(t *testing.T) {
	a := newTicketsAPI(t)
	id := a.openFor(`{"email":"a@example.com","message":"Hi","channel":"phone"}`)["id"].(string)
	a.advance(time.Minute)
	owners := []string{"sub-1", "sub-2", "sub-3", "sub-4", "sub-5", "sub-6"}
	codes := make([]int, len(owners))
	var wg sync.WaitGroup
	for i, owner := range owners {
		wg.Go(func() {
			resp := a.do(req{route: "PATCH /tickets/{id}", role: "agent", path: idPath(id), headers: ifMatchJSON(`"1"`), body: `{"owner":"` + owner + `"}`})
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	won := -1
	for i, c := range codes {
		switch {
		case c == 200 && won < 0:
			won = i
		case c != 412:
			t.Errorf("patch %d answered %d", i, c)
		}
	}
	if won < 0 {
		t.Fatalf("no patch won: %v", codes)
	}
	if d := a.detail(id); d["owner"] != owners[won] || d["version"] != float64(2) || kinds(d) != "message,change" {
		t.Errorf("after the race: owner %v version %v timeline %s, want %s at 2", d["owner"], d["version"], kinds(d), owners[won])
	}
}

// The same form sent many times at once is one ticket.
func TestConcurrentSubmissionsAreOneTicket(t *testing.T) {
	a := newTicketsAPI(t)
	body := `{"email":"eve@example.com","subject":"Refund","message":"Please refund order 9."}`
	ids := make([]string, 8)
	created := make([]bool, len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			resp := a.do(req{route: "POST /tickets", headers: jsonClient, body: body})
			got := decodeString(t, resp.Body)
			ids[i], _ = got["id"].(string)
			created[i] = resp.StatusCode == 201
		})
	}
	wg.Wait()
	n := 0
	for i := range ids {
		if ids[i] != ids[0] || ids[i] == "" {
			t.Errorf("answer %d names ticket %q, answer 0 %q", i, ids[i], ids[0])
		}
		if created[i] {
			n++
		}
	}
	if n != 1 || len(a.tickets(nil)) != 1 {
		t.Errorf("%d answers said created and %d tickets are listed; want 1 and 1", n, len(a.tickets(nil)))
	}
}
