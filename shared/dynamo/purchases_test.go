package dynamo_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
)

// customerOf captures Ada's lead and converts it with a deal of 100.00 EUR,
// returning the new customer.
func customerOf(t *testing.T, f fixture) crm.Customer {
	t.Helper()
	ctx := context.Background()
	res, err := f.svc.Capture(ctx, ada(), "")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	c, err := f.svc.Convert(ctx, "agent-1", res.LeadID, crm.Conversion{Deal: crm.Money{Minor: 10000, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	return c
}

func eur(minor int64) crm.Money { return crm.Money{Minor: minor, Currency: "EUR"} }

func TestPurchaseAddsToTheCustomerAndPublishesItsEvent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := customerOf(t, f)
	bought := f.clock.Now().Add(-30 * time.Minute)
	p, created, err := f.svc.RecordPurchase(ctx, "agent-2", c.ID,
		crm.Purchase{Amount: eur(1250), At: bought, Description: "  Two <b>spare</b> cogs  "}, "")
	if err != nil || !created {
		t.Fatalf("record = %+v, %v, %v", p, created, err)
	}
	if !crm.ValidID(p.ID) || p.CustomerID != c.ID || !p.At.Equal(bought) || p.Description != "Two spare cogs" || p.RecordedBy != "agent-2" {
		t.Errorf("purchase = %+v", p)
	}
	// Another currency keeps its own total; no time given means now.
	if _, _, err := f.svc.RecordPurchase(ctx, "agent-2", c.ID, crm.Purchase{Amount: crm.Money{Minor: 700, Currency: "JPY"}}, ""); err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.Customer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Customer.Deals != 3 || len(d.Customer.Value) != 2 || d.Customer.Value[0] != eur(11250) || d.Customer.Value[1] != (crm.Money{Minor: 700, Currency: "JPY"}) {
		t.Errorf("customer after two purchases = %+v", d.Customer)
	}
	if len(d.Purchases) != 2 || d.Purchases[0].Amount.Currency != "JPY" || !d.Purchases[0].At.Equal(f.clock.Now()) || d.Purchases[1].ID != p.ID {
		t.Errorf("latest purchases = %+v, want the JPY one (now) first", d.Purchases)
	}
	if len(d.Leads) != 1 {
		t.Errorf("leads = %d, want the converted one", len(d.Leads))
	}

	envs := outbox(t, f)
	if got := detailTypes(envs); got != "lead.captured,lead.converted,purchase.recorded,purchase.recorded" {
		t.Fatalf("outbox = %s", got)
	}
	// The outbox is read in no particular order between events written in
	// one millisecond: find this purchase's event by its id.
	var ev events.PurchaseRecorded
	var env events.Envelope
	for _, e := range envs[2:] {
		var d events.PurchaseRecorded
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.PurchaseID == p.ID {
			ev, env = d, e
		}
	}
	if ev.PurchaseID != p.ID || ev.CustomerID != c.ID || ev.Amount != (events.Money{Minor: 1250, Currency: "EUR"}) ||
		!ev.PurchasedAt.Equal(bought) || !ev.RepeatCustomer || ev.Owner != "agent-2" || env.Source != events.SourceLeads {
		t.Errorf("purchase.recorded = %+v", ev)
	}
	if strings.Contains(string(env.Detail), "cogs") {
		t.Errorf("the event carries the description: %s", env.Detail)
	}
}

func TestLatestPurchasesAreCapped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := customerOf(t, f)
	for i := range crm.LatestPurchases + 3 {
		f.clock.Advance(time.Minute)
		if _, _, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(int64(i + 1))}, ""); err != nil {
			t.Fatal(err)
		}
	}
	d, err := f.svc.Customer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Purchases) != crm.LatestPurchases || d.Purchases[0].Amount.Minor != crm.LatestPurchases+3 || d.Customer.Deals != crm.LatestPurchases+4 {
		t.Errorf("%d purchases shown, newest %+v, deals %d", len(d.Purchases), d.Purchases[0], d.Customer.Deals)
	}
}

func TestBadPurchasesNameTheFieldAndChangeNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := customerOf(t, f)
	before := len(outbox(t, f))
	for name, tt := range map[string]struct {
		p     crm.Purchase
		key   string
		field string
	}{
		"future":           {crm.Purchase{Amount: eur(1), At: f.clock.Now().Add(time.Minute)}, "", "purchased_at"},
		"before customer":  {crm.Purchase{Amount: eur(1), At: c.CreatedAt.Add(-time.Second)}, "", "purchased_at"},
		"no currency":      {crm.Purchase{Amount: crm.Money{Minor: 1}}, "", "currency"},
		"lower-case":       {crm.Purchase{Amount: crm.Money{Minor: 1, Currency: "eur"}}, "", "currency"},
		"negative":         {crm.Purchase{Amount: eur(-1)}, "", "amount"},
		"long description": {crm.Purchase{Amount: eur(1), Description: strings.Repeat("x", 501)}, "", "description"},
		"long key":         {crm.Purchase{Amount: eur(1)}, strings.Repeat("k", 256), "Idempotency-Key"},
	} {
		_, _, err := f.svc.RecordPurchase(ctx, "agent", c.ID, tt.p, tt.key)
		var e *crm.Error
		if !asError(err, &e) || e.Code != crm.EINVALID || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
			t.Errorf("%s: %v, want EINVALID naming %s", name, err, tt.field)
		}
	}
	if _, _, err := f.svc.RecordPurchase(ctx, "agent", "01KBDW2Z7E4N9Q3R6T8V1X5B0C", crm.Purchase{Amount: eur(1)}, ""); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("unknown customer: %v", err)
	}
	d, _ := f.svc.Customer(ctx, c.ID)
	if len(d.Purchases) != 0 || d.Customer.Deals != 1 || len(outbox(t, f)) != before {
		t.Errorf("bad purchases wrote something: %+v, %d events", d, len(outbox(t, f))-before)
	}
}

func TestPurchaseIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := customerOf(t, f)
	first, created, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(990), Description: "cogs"}, "k-1")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	// A retry a minute later: "now" has moved, but the request is the same.
	f.clock.Advance(time.Minute)
	again, created, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(990), Description: "cogs"}, "k-1")
	if err != nil || created || again.ID != first.ID || !again.At.Equal(first.At) {
		t.Fatalf("retry = %+v, %v, %v; want the first purchase", again, created, err)
	}
	_, _, err = f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(991), Description: "cogs"}, "k-1")
	var e *crm.Error
	if !asError(err, &e) || e.Code != crm.ECONFLICT || len(e.Fields) != 1 || e.Fields[0].Field != "Idempotency-Key" {
		t.Fatalf("another purchase with the key: %v", err)
	}
	// The lead form's keys are another space: the same key is free there.
	if _, err := f.svc.Capture(ctx, ada(), "k-1"); err != nil {
		t.Fatalf("lead capture with a purchase's key: %v", err)
	}
	d, _ := f.svc.Customer(ctx, c.ID)
	if len(d.Purchases) != 1 || d.Customer.Deals != 2 || d.Customer.Value[0] != eur(10990) {
		t.Errorf("after retry and reuse: %+v", d)
	}
	// A day later the key is forgotten and records anew.
	f.clock.Advance(25 * time.Hour)
	if _, created, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(5)}, "k-1"); err != nil || !created {
		t.Errorf("expired key: %v, %v", created, err)
	}
}

// Twenty identical posts at once record one purchase; all get it.
func TestConcurrentIdenticalPurchasesRecordOne(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := customerOf(t, f)
	ids := make([]string, 20)
	var created, failed atomic.Int32
	concurrently(20, func(i int) {
		p, ok, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(4990), Description: "a year of oil"}, "same-key")
		if err != nil {
			failed.Add(1)
			t.Errorf("post %d: %v", i, err)
			return
		}
		if ok {
			created.Add(1)
		}
		ids[i] = p.ID
	})
	if created.Load() != 1 || failed.Load() != 0 {
		t.Fatalf("%d recorded, %d failed; want 1 and 0", created.Load(), failed.Load())
	}
	for i, id := range ids {
		if id != ids[0] {
			t.Fatalf("post %d got purchase %s, post 0 got %s", i, id, ids[0])
		}
	}
	d, _ := f.svc.Customer(ctx, c.ID)
	if len(d.Purchases) != 1 || d.Customer.Deals != 2 || d.Customer.Value[0] != eur(14990) {
		t.Errorf("customer = %+v with %d purchases", d.Customer, len(d.Purchases))
	}
	if got := detailTypes(outbox(t, f)); got != "lead.captured,lead.converted,purchase.recorded" {
		t.Errorf("outbox = %s", got)
	}
}

// Different purchases at once all count: none lost to the version check.
func TestConcurrentPurchasesLoseNoUpdate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := customerOf(t, f)
	concurrently(5, func(i int) {
		if _, _, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(int64(100 * (i + 1)))}, ""); err != nil {
			t.Errorf("purchase %d: %v", i, err)
		}
	})
	d, _ := f.svc.Customer(ctx, c.ID)
	if d.Customer.Deals != 6 || d.Customer.Value[0] != eur(10000+1500) || len(d.Purchases) != 5 {
		t.Errorf("customer = %+v with %d purchases", d.Customer, len(d.Purchases))
	}
}

// A purchase costs the same however many the customer has: a read of the
// customer and one transaction, plus a read of the key when one is sent.
func TestPurchaseCost(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := customerOf(t, f)
	for i := range 30 {
		if _, _, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(int64(i))}, ""); err != nil {
			t.Fatal(err)
		}
	}
	f.calls.Reset()
	if _, _, err := f.svc.RecordPurchase(ctx, "agent", c.ID, crm.Purchase{Amount: eur(1)}, "k"); err != nil {
		t.Fatal(err)
	}
	cost := f.calls.Cost()
	if cost.Requests["GetItem"] != 2 || cost.Requests["TransactWriteItems"] != 1 || cost.Total() != 3 {
		t.Errorf("a purchase with a key after 30 others cost %+v", cost)
	}
	t.Logf("a purchase with an Idempotency-Key: %+v", cost)
}
