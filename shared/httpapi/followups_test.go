package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
)

// followupsAPI is the followups function's handler with one lead to
// follow up.
func followupsAPI(t *testing.T) (*staffAPI, string) {
	a := handlerAPI(t, app.Followups)
	leads := &crm.LeadService{Store: &dynamo.LeadStore{Client: a.calls.API, Table: a.timers.Table}, Now: func() time.Time { return a.now }, DuplicateWindow: time.Hour}
	res, err := leads.Capture(context.Background(), crm.Submission{Name: "Ada", Email: "ada@example.com", Source: "web"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return a, res.LeadID
}

var jsonBody = map[string]string{"Content-Type": "application/json"}

func TestFollowupRoutes(t *testing.T) {
	a, lead := followupsAPI(t)
	resp := a.do(ana, "POST /followups", nil, jsonBody, `{"subject":"lead:`+lead+`","due_date":"2026-12-03","due_time":"10:30","note":"Send the quote"}`)
	if resp.StatusCode != 201 || resp.Headers["ETag"] != `"1"` || !strings.HasPrefix(resp.Headers["Location"], "/followups/") {
		t.Fatalf("POST /followups: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	task := decode(t, resp)
	// The owner has no profile: the organisation's zone (Berlin) reads the date.
	if task["due_at"] != "2026-12-03T09:30:00Z" || task["owner"] != "sub-ana" || task["status"] != "open" || task["kind"] != "task" {
		t.Fatalf("task %v", task)
	}
	id := task["id"].(string)

	resp = a.do(ana, "GET /followups", nil, nil, "", "when", "upcoming")
	var page struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); resp.StatusCode != 200 || err != nil || len(page.Items) != 1 || page.Items[0]["id"] != id {
		t.Fatalf("GET /followups: %d %s", resp.StatusCode, resp.Body)
	}
	if resp = a.do(admin, "GET /followups", nil, nil, "", "owner", "sub-ana"); !strings.Contains(resp.Body, id) {
		t.Errorf("another person's plan: %d %s", resp.StatusCode, resp.Body)
	}

	resp = a.do(ana, "PATCH /followups/{id}", map[string]string{"id": id}, withIfMatch(`"1"`), `{"status":"done"}`)
	if resp.StatusCode != 200 || resp.Headers["ETag"] != `"2"` || decode(t, resp)["done_at"] == nil {
		t.Fatalf("PATCH done: %d %s", resp.StatusCode, resp.Body)
	}
	if resp = a.do(ana, "PATCH /followups/{id}", map[string]string{"id": id}, withIfMatch(`"2"`), `{"note":"again"}`); resp.StatusCode != 409 {
		t.Errorf("editing a done task: %d %s", resp.StatusCode, resp.Body)
	}
	if resp = a.do(ana, "GET /followups/{id}", map[string]string{"id": id}, nil, ""); resp.StatusCode != 200 || decode(t, resp)["status"] != "done" {
		t.Errorf("GET: %d %s", resp.StatusCode, resp.Body)
	}
}

// Bad input gets a problem naming the field and makes no request that
// writes; a missing subject is found by the write's own condition.
func TestFollowupBadInputChangesNothing(t *testing.T) {
	a, lead := followupsAPI(t)
	created := a.do(ana, "POST /followups", nil, jsonBody, `{"subject":"lead:`+lead+`","due_at":"2026-12-02T15:00:00Z"}`)
	id := decode(t, created)["id"].(string)
	cases := []struct {
		name, route, body string
		headers           map[string]string
		status            int
		field             string
		writes            int
	}{
		{"unknown subject", "POST /followups", `{"subject":"lead:01KBDVZK3M8Q4R7Y2K5N6P1V0X","due_at":"2026-12-02T15:00:00Z"}`, jsonBody, 422, "subject", 1},
		{"bad subject", "POST /followups", `{"subject":"opportunity:7","due_at":"2026-12-02T15:00:00Z"}`, jsonBody, 422, "subject", 0},
		{"due long past", "POST /followups", `{"subject":"lead:` + lead + `","due_at":"2026-11-30T09:00:00Z"}`, jsonBody, 422, "due_at", 0},
		{"bad due_at", "POST /followups", `{"subject":"lead:` + lead + `","due_at":"tomorrow"}`, jsonBody, 422, "due_at", 0},
		{"bad zone", "POST /followups", `{"subject":"lead:` + lead + `","due_date":"2026-12-03","time_zone":"Europe/Atlantis"}`, jsonBody, 422, "time_zone", 0},
		{"unknown field", "POST /followups", `{"subject":"lead:` + lead + `","due_at":"2026-12-02T15:00:00Z","priority":"high"}`, jsonBody, 422, "priority", 0},
		{"bad If-Match", "PATCH /followups/{id}", `{"status":"done"}`, withIfMatch("yesterday"), 422, "If-Match", 0},
		{"no If-Match", "PATCH /followups/{id}", `{"status":"done"}`, jsonBody, 428, "", 0},
		{"stale If-Match", "PATCH /followups/{id}", `{"status":"done"}`, withIfMatch(`"7"`), 412, "", 0},
		{"bad status", "PATCH /followups/{id}", `{"status":"maybe"}`, withIfMatch(`"1"`), 422, "status", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.calls.Reset()
			resp := a.do(ana, c.route, map[string]string{"id": id}, c.headers, c.body)
			if resp.StatusCode != c.status || resp.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			if c.field != "" && !strings.Contains(resp.Body, `"field":"`+c.field+`"`) {
				t.Errorf("the problem does not name %s: %s", c.field, resp.Body)
			}
			writes := 0
			for op, n := range a.calls.Cost().Requests {
				if op != "GetItem" && op != "Query" {
					writes += n
				}
			}
			if writes != c.writes {
				t.Errorf("made %d write requests (%v), want %d", writes, a.calls.Cost().Requests, c.writes)
			}
		})
	}
	if resp := a.do(ana, "GET /followups/{id}", map[string]string{"id": id}, nil, ""); decode(t, resp)["version"] != float64(1) {
		t.Errorf("the task changed: %s", resp.Body)
	}
}

func TestFollowupsNeedAStaffToken(t *testing.T) {
	a, _ := followupsAPI(t)
	if resp := a.do(who{}, "GET /followups", nil, nil, ""); resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp := a.do(who{"sub-x", "customer", ""}, "GET /followups", nil, nil, ""); resp.StatusCode != 403 {
		t.Errorf("no staff role: %d", resp.StatusCode)
	}
}
