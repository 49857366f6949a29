package local_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// A lead posted twice from the web form and a complaint from the support
// form, at 22:30 on a Monday in New York (03:30 UTC on Tuesday), are
// counted once each, after the clock moves and the stream, the relay, the
// bus and the kpis rules have done their work, in Monday's organisation
// rollup: the day is the organisation's, not UTC's.
func TestFormsAreCountedInTheDaysRollup(t *testing.T) {
	at := time.Date(2026, 3, 3, 3, 30, 0, 0, time.UTC)
	reg := local.DefaultRegistry()
	st, _ := startStack(t, &chain{}, nil, map[string]string{local.ClockVar: at.Format(time.RFC3339), "ORG_TIME_ZONE": "America/New_York"}, func(o *local.Options) {
		o.Registry, o.Rules, o.Schedules = &reg, manifest.Rules, manifest.Schedules
	})
	ctx := within(t, 2*time.Minute)
	lead := "name=Ada+Lovelace&email=ada%40example.com&company=Analytical+Engines&source=website"
	for range 2 { // the second post is a duplicate: one lead
		if code, body := call(t, "POST", st.URL+"/leads", "", strings.NewReader(lead)); code != 201 && code != 200 {
			t.Fatalf("POST /leads: %d %s", code, body)
		}
	}
	complaint := "name=Grace+Hopper&email=grace%40example.com&subject=Broken+invoice&message=Charged+twice.&kind=complaint"
	if code, body := call(t, "POST", st.URL+"/tickets", "", strings.NewReader(complaint)); code != 201 {
		t.Fatalf("POST /tickets: %d %s", code, body)
	}
	if _, err := st.Advance(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}

	zone, _ := time.LoadLocation("America/New_York")
	store := &dynamo.RollupStore{Client: st.DynamoDB, Table: st.Table}
	monday := period.Containing(at, period.Day, zone)
	if monday.ID() != "2026-03-02" {
		t.Fatalf("the day in New York is %s", monday.ID())
	}
	got, err := store.Day(context.Background(), rollup.Org, monday)
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[scorecard.Counter]int64{scorecard.LeadsCaptured: 1, scorecard.TicketsOpened: 1, scorecard.ComplaintsOpened: 1} {
		if n := got.Count(c); n != want {
			t.Errorf("%s on %s: %d, want %d", c, monday.ID(), n, want)
		}
	}
	if e := got.Entries(scorecard.LeadsBySource); e["website"] != 1 || len(e) != 1 {
		t.Errorf("leads by source on %s: %v, want website 1", monday.ID(), e)
	}
	tuesday, err := store.Day(context.Background(), rollup.Org, monday.Next())
	if err != nil {
		t.Fatal(err)
	}
	if n := tuesday.Count(scorecard.LeadsCaptured) + tuesday.Count(scorecard.TicketsOpened); n != 0 {
		t.Errorf("%d counted on Tuesday, the UTC day, want 0", n)
	}
}
