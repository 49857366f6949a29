package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
)

func ptr[T any](v T) *T { return &v }

func TestUpdateNeedsTheCurrentVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := capture(t, f, "ada@example.com", "web")
	f.clock.Advance(time.Hour)
	l, err := f.svc.UpdateLead(ctx, "agent-1", id, 1, crm.LeadChange{Status: ptr(crm.StatusQualified), Owner: ptr("agent-1")})
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 2 || l.Status != crm.StatusQualified || l.Owner != "agent-1" {
		t.Fatalf("updated lead = %+v", l)
	}
	_, err = f.svc.UpdateLead(ctx, "agent-2", id, 1, crm.LeadChange{Owner: ptr("agent-2")})
	if crm.ErrorCode(err) != crm.EPRECONDITION {
		t.Fatalf("stale update: err = %v, want precondition failed", err)
	}
	d, _ := f.svc.LeadDetail(ctx, id)
	if d.Lead.Owner != "agent-1" || len(d.Timeline) != 2 || d.Timeline[1].Kind != crm.EntryStatusChange || d.Timeline[1].ToStatus != crm.StatusQualified {
		t.Fatalf("after a stale update: lead %+v timeline %+v", d.Lead, d.Timeline)
	}
	// the index moved with the status and owner
	page, _ := f.svc.Leads(ctx, crm.LeadFilter{Status: crm.StatusNew})
	if len(page.Items) != 0 {
		t.Fatalf("still listed as new")
	}
	page, _ = f.svc.Leads(ctx, crm.LeadFilter{Owner: "agent-1"})
	if len(page.Items) != 1 {
		t.Fatalf("not listed by owner")
	}
}

// Two agents editing one lead at once: exactly one wins, the other is told
// to read again; no update is lost silently.
func TestConcurrentEditsNeverLoseAnUpdate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := capture(t, f, "ada@example.com", "web")
	const n = 10
	errs := make([]error, n)
	concurrently(n, func(i int) {
		owner := "agent-" + string(rune('a'+i))
		_, errs[i] = f.svc.UpdateLead(ctx, owner, id, 1, crm.LeadChange{Owner: &owner})
	})
	won := ""
	for i, err := range errs {
		switch crm.ErrorCode(err) {
		case "":
			if won != "" {
				t.Fatalf("two edits of version 1 both succeeded")
			}
			won = "agent-" + string(rune('a'+i))
		case crm.EPRECONDITION, crm.ECONFLICT:
		default:
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	l, _ := f.store.Lead(ctx, id)
	if won == "" || l.Owner != won || l.Version != 2 {
		t.Fatalf("lead owner %q version %d; the winning edit was %q", l.Owner, l.Version, won)
	}
}

func TestLostNeedsAReasonAndConvertedIsFinal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := capture(t, f, "ada@example.com", "web")
	_, err := f.svc.UpdateLead(ctx, "a", id, 1, crm.LeadChange{Status: ptr(crm.StatusLost)})
	var e *crm.Error
	if !asError(err, &e) || e.Code != crm.EINVALID || e.Fields[0].Field != "lost_reason" {
		t.Fatalf("lost without reason: %v", err)
	}
	_, err = f.svc.UpdateLead(ctx, "a", id, 1, crm.LeadChange{Status: ptr(crm.StatusConverted)})
	if crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("converted by edit: %v", err)
	}
	l, err := f.svc.UpdateLead(ctx, "a", id, 1, crm.LeadChange{Status: ptr(crm.StatusLost), LostReason: ptr("chose a competitor")})
	if err != nil || l.LostReason != "chose a competitor" {
		t.Fatalf("lost with reason: %+v, %v", l, err)
	}
}

func TestFirstContactRecordsResponseTime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := capture(t, f, "ada@example.com", "web")
	f.clock.Advance(30 * time.Minute)
	if _, err := f.svc.AddActivity(ctx, "agent-1", id, crm.Activity{Kind: crm.ActivityNote, Note: "looked them up"}); err != nil {
		t.Fatal(err)
	}
	l, _ := f.store.Lead(ctx, id)
	if l.FirstContactAt != nil {
		t.Fatalf("a note counted as contact")
	}
	f.clock.Advance(15 * time.Minute)
	if _, err := f.svc.AddActivity(ctx, "agent-1", id, crm.Activity{Kind: crm.ActivityCall, Note: "left a voicemail"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.svc.AddActivity(ctx, "agent-1", id, crm.Activity{Kind: crm.ActivityEmail}); err != nil {
		t.Fatal(err)
	}
	d, _ := f.svc.LeadDetail(ctx, id)
	want := d.Lead.CapturedAt.Add(45 * time.Minute)
	if d.Lead.FirstContactAt == nil || !d.Lead.FirstContactAt.Equal(want) || d.Lead.Status != crm.StatusContacted {
		t.Fatalf("first contact %v status %s, want %v contacted", d.Lead.FirstContactAt, d.Lead.Status, want)
	}
	if len(d.Timeline) != 4 {
		t.Fatalf("timeline has %d entries, want submission and three activities", len(d.Timeline))
	}
}

func TestConvertMakesACustomerAndARepeatCustomerAddsUp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := capture(t, f, "ada@example.com", "web")
	c, err := f.svc.Convert(ctx, "agent-1", first, crm.Conversion{Deal: crm.Money{Minor: 125050, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Deals != 1 || len(c.Value) != 1 || c.Value[0].Minor != 125050 {
		t.Fatalf("customer = %+v", c)
	}
	if _, err := f.svc.Convert(ctx, "agent-1", first, crm.Conversion{Deal: crm.Money{Minor: 1, Currency: "EUR"}}); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("second conversion of one lead: %v", err)
	}
	// The same person comes back after the duplicate window: a new lead,
	// the same customer.
	f.clock.Advance(40 * 24 * time.Hour)
	second := capture(t, f, "ada@example.com", "referral")
	f.clock.Advance(time.Hour)
	c2, err := f.svc.Convert(ctx, "agent-2", second, crm.Conversion{Deal: crm.Money{Minor: 50000, Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID != c.ID || c2.Deals != 2 || c2.Value[0].Minor != 175050 {
		t.Fatalf("repeat customer = %+v, want %s with 2 deals worth 1750.50", c2, c.ID)
	}
	d, err := f.svc.Customer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Leads) != 2 || d.Leads[0].Lead.ID != first || d.Leads[1].Lead.ID != second {
		t.Fatalf("customer's leads = %d", len(d.Leads))
	}
	last := d.Leads[1].Timeline[len(d.Leads[1].Timeline)-1]
	if last.Kind != crm.EntryConversion || last.Deal.Minor != 50000 {
		t.Fatalf("conversion entry = %+v", last)
	}
	l, _ := f.store.Lead(ctx, first)
	if l.Status != crm.StatusConverted || l.CustomerID != c.ID || l.Deal.Minor != 125050 {
		t.Fatalf("converted lead = %+v", l)
	}
}

func TestConcurrentConversionsOfOneLeadMakeOneDeal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := capture(t, f, "ada@example.com", "web")
	const n = 8
	errs := make([]error, n)
	concurrently(n, func(i int) {
		_, errs[i] = f.svc.Convert(ctx, "agent", id, crm.Conversion{Deal: crm.Money{Minor: 1000, Currency: "EUR"}})
	})
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if crm.ErrorCode(err) != crm.ECONFLICT {
			t.Fatalf("conversion: %v", err)
		}
	}
	l, _ := f.store.Lead(ctx, id)
	d, _ := f.svc.Customer(ctx, l.CustomerID)
	if ok != 1 || d.Customer.Deals != 1 || d.Customer.Value[0].Minor != 1000 {
		t.Fatalf("%d conversions succeeded; customer has %d deals worth %v", ok, d.Customer.Deals, d.Customer.Value)
	}
}

func TestUnknownRecordsAreNotFound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	missing := crm.NewID(f.clock.Now())
	if _, err := f.svc.LeadDetail(ctx, missing); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("lead: %v", err)
	}
	if _, err := f.svc.Customer(ctx, missing); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("customer: %v", err)
	}
	if _, err := f.svc.UpdateLead(ctx, "a", missing, 1, crm.LeadChange{Owner: ptr("a")}); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("update: %v", err)
	}
	if _, err := f.svc.LeadDetail(ctx, "../../etc"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("malformed id: %v", err)
	}
}
