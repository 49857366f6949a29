package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
)

// customers makes n customers through the service, each converted with a
// deal of 1.00 EUR, and returns their IDs.
func customers(t *testing.T, f fixture, n int) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	for i := range n {
		// A second apart, so the ids, which begin with their instant,
		// sort in the order made: equal revenues list by id.
		f.clock.Advance(time.Second)
		sub := ada()
		sub.Name, sub.Email = fmt.Sprintf("Customer %03d", i), fmt.Sprintf("c%03d@example.com", i)
		res, err := f.svc.Capture(ctx, sub, "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.Convert(ctx, "agent-1", res.LeadID, crm.Conversion{Deal: eur(100)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	return ids
}

// byValue lists every customer by value through pages of limit, as
// "name:rank:minor" strings, and how many pages it took.
func byValue(t *testing.T, f fixture, limit int) ([]string, int) {
	t.Helper()
	var got []string
	cursor, pages := "", 0
	for {
		page, err := f.svc.CustomersByValue(context.Background(), crm.ValueFilter{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range page.Items {
			got = append(got, fmt.Sprintf("%s:%d:%d", v.Name, v.Rank, v.Revenue.Minor))
		}
		if cursor = page.NextCursor; cursor == "" {
			return got, pages
		}
	}
}

func TestValueRanksAreWrittenChangedAndCleared(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := customers(t, f, 3)
	store := &dynamo.ValueStore{Client: f.calls, Table: f.store.Table}
	day1 := time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC)

	ranks := crm.RankByValue(map[string]int64{ids[0]: 500, ids[1]: 900, ids[2]: 0, "01KNOSUCHCUSTOMER000000000": 50}, "EUR")
	rep, err := store.SaveValueRanks(ctx, ranks, day1)
	if err != nil || rep != (crm.ValueReport{Ranked: 2, Written: 2}) {
		t.Fatalf("first run = %+v, %v; want two written, the unknown customer skipped", rep, err)
	}
	d, err := f.svc.Customer(ctx, ids[1])
	if err != nil || d.Value == nil || d.Value.Rank != 5 || d.Value.Revenue != eur(900) || !d.Value.RankedAt.Equal(day1) {
		t.Fatalf("customer 1 value = %+v, %v", d.Value, err)
	}
	if d, _ := f.svc.Customer(ctx, ids[2]); d.Value != nil {
		t.Errorf("customer 2 (no revenue) value = %+v, want none", d.Value)
	}

	// The same ranks again write nothing: one query of the index, and a
	// read of the unknown customer, which is looked for again.
	f.calls.Reset()
	rep, err = store.SaveValueRanks(ctx, ranks, day1.Add(time.Minute))
	if err != nil || rep != (crm.ValueReport{Ranked: 2, Unchanged: 2}) {
		t.Fatalf("second run = %+v, %v", rep, err)
	}
	if c := f.calls.Cost(); c.Requests["Query"] != 1 || c.Requests["GetItem"] != 1 || c.Total() != 2 || c.WCU != 0 {
		t.Errorf("second run cost %+v, want one query, one read and no write", c)
	}

	// Next day: customer 0 drops out, customer 2 pays; customer 1 keeps
	// rank 5 but its revenue moved, so it is rewritten with the new day.
	day2 := day1.Add(24 * time.Hour)
	rep, err = store.SaveValueRanks(ctx, crm.RankByValue(map[string]int64{ids[1]: 950, ids[2]: 40}, "EUR"), day2)
	if err != nil || rep != (crm.ValueReport{Ranked: 2, Written: 2, Cleared: 1}) {
		t.Fatalf("day 2 = %+v, %v", rep, err)
	}
	if d, _ := f.svc.Customer(ctx, ids[0]); d.Value != nil {
		t.Errorf("customer 0 still ranked: %+v", d.Value)
	}
	if d, _ := f.svc.Customer(ctx, ids[2]); d.Value == nil || d.Value.Rank != 3 || !d.Value.RankedAt.Equal(day2) {
		t.Errorf("customer 2 value = %+v, want rank 3 at day 2", d.Value)
	}
	if got, _ := byValue(t, f, 10); fmt.Sprint(got) != "[Customer 001:5:950 Customer 002:3:40]" {
		t.Errorf("by value = %v", got)
	}
	// A purchase rewrites the customer item; the rank, an item of its
	// own, stays.
	if _, _, err := f.svc.RecordPurchase(ctx, "agent-1", ids[1], crm.Purchase{Amount: eur(5)}, ""); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.Customer(ctx, ids[1]); d.Value == nil || d.Value.Rank != 5 {
		t.Errorf("after a purchase, customer 1 value = %+v", d.Value)
	}
}

func TestCustomersByValueListsHighestFirstInPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := customers(t, f, 7)
	store := &dynamo.ValueStore{Client: f.calls, Table: f.store.Table}
	// Revenues 10,20,…,70 and a tie at 20 to check the order within one.
	rev := map[string]int64{}
	for i, id := range ids {
		rev[id] = int64(i+1) * 10
	}
	rev[ids[0]] = 20
	if _, err := store.SaveValueRanks(ctx, crm.RankByValue(rev, "EUR"), f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	want := "[Customer 006:5:70 Customer 005:5:60 Customer 004:4:50 Customer 003:3:40 Customer 002:3:30 Customer 001:2:20 Customer 000:2:20]"
	for _, limit := range []int{1, 2, 3, 7, 100} {
		got, pages := byValue(t, f, limit)
		if fmt.Sprint(got) != want {
			t.Errorf("limit %d: %v, want %s", limit, got, want)
		}
		if wantPages := (7 + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	// A cursor of another list is refused, naming cursor.
	leads, err := f.svc.Leads(ctx, crm.LeadFilter{Limit: 1})
	if err != nil || leads.NextCursor == "" {
		t.Fatalf("leads page = %+v, %v", leads, err)
	}
	for _, bad := range []string{leads.NextCursor, "not-a-cursor"} {
		_, err := f.svc.CustomersByValue(ctx, crm.ValueFilter{Cursor: bad})
		if e, ok := err.(*crm.Error); !ok || e.Code != crm.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "cursor" {
			t.Errorf("cursor %q: %v, want EINVALID naming cursor", bad, err)
		}
	}
}

// TestValueRankingCost measures a ranking of 100 customers: the first
// run, a rerun the same day, and a day on which ten revenues moved and
// five customers dropped out.
func TestValueRankingCost(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := customers(t, f, 100)
	store := &dynamo.ValueStore{Client: f.calls, Table: f.store.Table}
	rev := map[string]int64{}
	for i, id := range ids {
		rev[id] = int64(1000 + 37*i)
	}
	run := func(name string) {
		f.calls.Reset()
		rep, err := store.SaveValueRanks(ctx, crm.RankByValue(rev, "EUR"), f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		c := f.calls.Cost()
		t.Logf("%s: %+v; %d requests %v, %.1f RCU, %.1f WCU", name, rep, c.Total(), c.Requests, c.RCU, c.WCU)
	}
	run("first run, 100 customers")
	first := f.calls.Cost()
	if first.Requests["GetItem"] != 100 || first.Requests["PutItem"] != 100 || first.Requests["Query"] != 1 {
		t.Errorf("first run %v, want one query, 100 reads of names, 100 puts", first.Requests)
	}
	run("second run, same day")
	if c := f.calls.Cost(); c.Total() != 1 || c.WCU != 0 {
		t.Errorf("second run %+v, want the one query", c)
	}
	for i := range 10 {
		rev[ids[i]] += 5
	}
	for i := 95; i < 100; i++ {
		delete(rev, ids[i])
	}
	f.clock.Advance(24 * time.Hour)
	run("next day, 10 moved, 5 dropped")
	if c := f.calls.Cost(); c.Requests["DeleteItem"] != 5 || c.Requests["GetItem"] != 0 {
		t.Errorf("next day %v, want 5 deletes and no reads of names", c.Requests)
	}
}
