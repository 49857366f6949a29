package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// newCustomer captures and converts a lead through the API, at 100.00 EUR,
// and returns the customer's id.
func (a *api) newCustomer() string {
	a.t.Helper()
	created := decode(a.t, a.do(req{route: "POST /leads", headers: jsonClient, body: `{"email":"ivy@example.com","name":"Ivy"}`}))
	a.advance(time.Hour)
	resp := a.do(req{route: "POST /leads/{id}/convert", role: "agent", path: map[string]string{"id": created["id"].(string)},
		headers: jsonClient, body: `{"deal_value":"100","currency":"EUR"}`})
	if resp.StatusCode != 200 {
		a.t.Fatalf("convert: %d %s", resp.StatusCode, resp.Body)
	}
	a.advance(time.Hour)
	return decode(a.t, resp)["customer"].(map[string]any)["id"].(string)
}

func (a *api) purchase(customer, key, body string) (int, map[string]any, string) {
	a.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	resp := a.do(req{route: "POST /customers/{id}/purchases", role: "agent", path: map[string]string{"id": customer}, headers: h, body: body})
	return resp.StatusCode, decode(a.t, resp), resp.Headers["Location"]
}

func (a *api) customerDetail(id string) map[string]any {
	a.t.Helper()
	resp := a.do(req{route: "GET /customers/{id}", role: "agent", path: map[string]string{"id": id}})
	if resp.StatusCode != 200 {
		a.t.Fatalf("customer: %d %s", resp.StatusCode, resp.Body)
	}
	return decode(a.t, resp)
}

func TestRecordingAPurchase(t *testing.T) {
	a := newAPI(t)
	id := a.newCustomer()
	status, p, loc := a.purchase(id, "", `{"amount":"12.50","currency":"eur","purchased_at":"2026-11-22T11:30:00+01:00","description":"Refill <i>pack</i>"}`)
	if status != 201 || loc != "/customers/"+id || p["amount"] != "12.50" || p["currency"] != "EUR" ||
		p["purchased_at"] != "2026-11-22T10:30:00Z" || p["description"] != "Refill pack" || p["recorded_by"] != "user-agent" {
		t.Fatalf("purchase: %d %v %q", status, p, loc)
	}
	a.advance(time.Minute)
	if status, p, _ := a.purchase(id, "", `{"amount":3,"currency":"EUR"}`); status != 201 || p["amount"] != "3.00" {
		t.Fatalf("purchase now, as a number: %d %v", status, p)
	}
	d := a.customerDetail(id)
	value := d["lifetime_value"].([]any)[0].(map[string]any)
	purchases := d["purchases"].([]any)
	if value["amount"] != "115.50" || d["deals"] != float64(3) || len(purchases) != 2 ||
		purchases[0].(map[string]any)["amount"] != "3.00" || purchases[1].(map[string]any)["id"] != p["id"] {
		t.Fatalf("customer after two purchases: value %v, deals %v, purchases %v", value, d["deals"], purchases)
	}
}

func TestBadPurchasesAreRefusedAndChangeNothing(t *testing.T) {
	a := newAPI(t)
	id := a.newCustomer()
	for body, field := range map[string]string{
		`{"currency":"EUR"}`:                                                    "amount",
		`{"amount":null,"currency":"EUR"}`:                                      "amount",
		`{"amount":"12.345","currency":"EUR"}`:                                  "amount",
		`{"amount":"1e3","currency":"EUR"}`:                                     "amount",
		`{"amount":"-1","currency":"EUR"}`:                                      "amount",
		`{"amount":true,"currency":"EUR"}`:                                      "amount",
		`{"amount":"1"}`:                                                        "currency",
		`{"amount":"1","currency":"euro"}`:                                      "currency",
		`{"amount":"1","currency":"EUR","purchased_at":"yesterday"}`:            "purchased_at",
		`{"amount":"1","currency":"EUR","purchased_at":"2030-01-01T00:00:00Z"}`: "purchased_at",
		// Before the customer was created (by the conversion at 10:00 UTC).
		`{"amount":"1","currency":"EUR","purchased_at":"2026-11-22T09:59:00Z"}`:            "purchased_at",
		`{"amount":"1","currency":"EUR","description":"` + strings.Repeat("x", 501) + `"}`: "description",
		`{"amount":"1","currency":"EUR","price":"1"}`:                                      "price",
	} {
		status, p, _ := a.purchase(id, "", body)
		if status != 422 || !strings.Contains(fmt.Sprint(p["errors"]), "field:"+field+" ") {
			t.Errorf("%.60s: %d %v, want 422 naming %s", body, status, p, field)
		}
	}
	if status, p, _ := a.purchase(id, strings.Repeat("k", 256), `{"amount":"1","currency":"EUR"}`); status != 422 || !strings.Contains(fmt.Sprint(p["errors"]), "Idempotency-Key") {
		t.Errorf("long key: %d %v", status, p)
	}
	resp := a.do(req{route: "POST /customers/{id}/purchases", role: "agent", path: map[string]string{"id": id},
		headers: map[string]string{"Content-Type": "application/json"}, body: `{"amount":`})
	if resp.StatusCode != 400 {
		t.Errorf("broken JSON: %d %s", resp.StatusCode, resp.Body)
	}
	for _, missing := range []string{"01JZZZZZZZZZZZZZZZZZZZZZZZ", "nope"} {
		if status, _, _ := a.purchase(missing, "", `{"amount":"1","currency":"EUR"}`); status != 404 {
			t.Errorf("customer %s: %d", missing, status)
		}
	}
	d := a.customerDetail(id)
	if len(d["purchases"].([]any)) != 0 || d["deals"] != float64(1) {
		t.Errorf("bad purchases changed the customer: %v", d)
	}
}

func TestPurchaseIdempotencyKeyOverHTTP(t *testing.T) {
	a := newAPI(t)
	id := a.newCustomer()
	body := `{"amount":"49.90","currency":"EUR","description":"Service"}`
	status, first, _ := a.purchase(id, "order-77", body)
	if status != 201 {
		t.Fatalf("first: %d %v", status, first)
	}
	a.advance(time.Minute)
	status, again, loc := a.purchase(id, "order-77", body)
	if status != 200 || again["id"] != first["id"] || again["purchased_at"] != first["purchased_at"] || loc != "/customers/"+id {
		t.Fatalf("retry: %d %v, want 200 with %v", status, again, first)
	}
	status, other, _ := a.purchase(id, "order-77", `{"amount":"49.91","currency":"EUR","description":"Service"}`)
	if status != 409 || !strings.Contains(fmt.Sprint(other["errors"]), "Idempotency-Key") {
		t.Fatalf("another purchase with the key: %d %v", status, other)
	}
	if d := a.customerDetail(id); len(d["purchases"].([]any)) != 1 || d["deals"] != float64(2) {
		t.Fatalf("after retry and reuse: %v", d)
	}
}

// Twenty identical posts at once: one purchase, one 201, nineteen 200s
// with it.
func TestConcurrentIdenticalPostsRecordOnePurchase(t *testing.T) {
	a := newAPI(t)
	id := a.newCustomer()
	var mu sync.Mutex
	statuses := map[int]int{}
	ids := map[any]bool{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, p, _ := a.purchase(id, "till-3-receipt-88", `{"amount":"7.20","currency":"EUR"}`)
			mu.Lock()
			statuses[status]++
			ids[p["id"]] = true
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if statuses[201] != 1 || statuses[200] != 19 || len(ids) != 1 {
		t.Fatalf("statuses %v, %d purchase ids; want one 201, nineteen 200 and one id", statuses, len(ids))
	}
	d := a.customerDetail(id)
	value := d["lifetime_value"].([]any)[0].(map[string]any)
	if len(d["purchases"].([]any)) != 1 || d["deals"] != float64(2) || value["amount"] != "107.20" {
		t.Fatalf("customer: %v", d)
	}
}
