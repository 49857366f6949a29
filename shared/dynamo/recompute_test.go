package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/rollup/rolluptest"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// checkAgainstRecompute asserts that the stored rollups of every day
// first to last (in zone), for the scopes named and every scope the
// recomputation finds, equal RollupStore.Recompute's.
func checkAgainstRecompute(t testing.TB, s *dynamo.RollupStore, zone *time.Location, scopes []rollup.Scope, first, last string) {
	t.Helper()
	ctx := context.Background()
	from, err := period.Parse(first, zone)
	if err != nil {
		t.Fatal(err)
	}
	to, err := period.Parse(last, zone)
	if err != nil {
		t.Fatal(err)
	}
	for d := from; d.ID() <= to.ID(); d = d.Next() {
		rec, err := s.Recompute(ctx, zone, d)
		if err != nil {
			t.Fatal(err)
		}
		all := map[rollup.Scope]bool{}
		for _, sc := range scopes {
			all[sc] = true
		}
		for sc := range rec {
			all[sc] = true
		}
		for sc := range all {
			got, err := s.Day(ctx, sc, d)
			if err != nil {
				t.Fatal(err)
			}
			want := rec[sc]
			if want == nil {
				want = &scorecard.Rollup{}
			}
			sameRollup(t, fmt.Sprintf("%s on %s, against the recomputation", sc, d.ID()), got, want)
		}
	}
}

// Events produced by the real stores — a lead captured, a ticket opened —
// are journaled with their change; the journal recomputes exactly what the
// kpis function applied from the same events, for a day in a zone east of
// UTC and one west of it, each local day spanning two UTC dates.
func TestRecomputeFromTheJournalOfRealStores(t *testing.T) {
	ctx := context.Background()
	for _, zoneName := range []string{"Asia/Tokyo", "America/Los_Angeles"} {
		t.Run(zoneName, func(t *testing.T) {
			zone, err := time.LoadLocation(zoneName)
			if err != nil {
				t.Fatal(err)
			}
			f := newTicketFixture(t)
			store := &dynamo.RollupStore{Client: f.calls, Table: f.store.Table, Now: f.clock.Now}
			// Events at 10:00 and 22:00 UTC of one date, 08:00 and 10:00
			// of the next: in Tokyo (UTC+9) and Los Angeles (UTC−8) they
			// fall on two local days, each spanning two UTC dates.
			start := f.clock.Now()
			for i, step := range []time.Duration{0, 12 * time.Hour, 10 * time.Hour, 2 * time.Hour} {
				f.clock.Advance(step)
				capture(t, f.fixture, fmt.Sprintf("person%d@example.com", i), "website")
				sub := grievance()
				sub.Message = fmt.Sprintf("%s (%d)", sub.Message, i)
				f.submit(t, sub)
			}
			envs := outbox(t, f.fixture)
			if n := countType(envs, events.LeadCapturedType) + countType(envs, events.TicketOpenedType); n != 8 {
				t.Fatalf("%d leads and tickets in the outbox, want 8", n)
			}
			for _, env := range envs {
				cs, err := rollup.Contributions(env, zone)
				if err != nil {
					t.Fatal(err)
				}
				if err := store.Apply(ctx, env.ID, cs); err != nil {
					t.Fatal(err)
				}
			}
			first := period.Containing(start, period.Day, zone)
			last := period.Containing(start.Add(24*time.Hour), period.Day, zone)
			checkAgainstRecompute(t, store, zone, []rollup.Scope{rollup.Org}, first.ID(), last.ID())
			total := 0
			for d := first; d.ID() <= last.ID(); d = d.Next() {
				rec, err := store.Recompute(ctx, zone, d)
				if err != nil {
					t.Fatal(err)
				}
				total += int(rec[rollup.Org].Count(scorecard.LeadsCaptured))
			}
			if total != 4 {
				t.Errorf("%d leads recomputed over the days, want 4", total)
			}
		})
	}
}

// A counter corrupted by hand shows in Compare; Repair makes the day equal
// its recomputation, and a redelivery of an event of the day afterwards
// changes nothing.
func TestRepairMakesTheDayEqualItsRecomputation(t *testing.T) {
	ctx := context.Background()
	f := newRollupFixture(t)
	client := f.calls.API
	rng := rolluptest.Sample(t, events.TicketOpenedType)
	var envs []events.Envelope
	for i := range 5 {
		env := rolluptest.Edit(t, rng, fmt.Sprintf("01REPAIR%018d", i), map[string]any{"team": "support"})
		envs = append(envs, env)
		if err := dynamo.Journal(ctx, client, f.store.Table, env); err != nil {
			t.Fatal(err)
		}
		if i < 4 { // the last one journaled but never applied
			if err := f.apply(t, env); err != nil {
				t.Fatal(err)
			}
		}
	}
	cs, err := rollup.Contributions(envs[0], rollupZone)
	if err != nil {
		t.Fatal(err)
	}
	d := cs[0].Day
	// Corrupt: the org's count shard of the first event gains 40 tickets.
	out, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName: &f.store.Table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "ROLLUP#ORG#" + d.ID()[:7]},
			":sk": &types.AttributeValueMemberS{Value: d.ID() + "#count#"},
		},
	})
	if err != nil || len(out.Items) == 0 {
		t.Fatalf("count items: %v, %v", out, err)
	}
	if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &f.store.Table, Key: map[string]types.AttributeValue{"pk": out.Items[0]["pk"], "sk": out.Items[0]["sk"]},
		UpdateExpression:          aws.String("ADD #c :n"),
		ExpressionAttributeNames:  map[string]string{"#c": "c." + string(scorecard.TicketsOpened)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "40"}},
	}); err != nil {
		t.Fatal(err)
	}

	cmp, err := f.store.Compare(ctx, rollupZone, d)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal() || len(cmp.Scopes) != 2 {
		t.Fatalf("compare after corruption: %+v, want org and support, differing", cmp)
	}
	org := cmp.Scopes[0]
	want := rollup.Difference{Name: "counters." + string(scorecard.TicketsOpened), Stored: 44, Recomputed: 5}
	if len(org.Differences) == 0 || org.Differences[len(org.Differences)-1] != want && !containsDiff(org.Differences, want) {
		t.Errorf("org differences %+v, want %+v among them", org.Differences, want)
	}
	if cmp.Scopes[1].Scope != rollup.Team("support") || cmp.Scopes[1].Equal() {
		t.Errorf("support: %+v, want the unapplied event's difference", cmp.Scopes[1])
	}

	rep, err := f.store.Repair(ctx, rollupZone, d)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Equal() || rep.Changed || rep.Events != 5 {
		t.Fatalf("after repair: %+v", rep)
	}
	checkAgainstRecompute(t, f.store, rollupZone, []rollup.Scope{rollup.Org, rollup.Team("support")}, d.ID(), d.ID())
	for _, env := range envs {
		if err := f.apply(t, env); err != nil {
			t.Fatal(err)
		}
	}
	after, err := f.store.Compare(ctx, rollupZone, d)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Equal() {
		t.Errorf("redelivery after repair changed the day: %+v", after)
	}
	got, err := f.store.Day(ctx, rollup.Org, d)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Count(scorecard.TicketsOpened); n != 5 {
		t.Errorf("tickets opened after repair and redelivery: %d, want 5", n)
	}
}

func containsDiff(ds []rollup.Difference, want rollup.Difference) bool {
	for _, d := range ds {
		if d == want {
			return true
		}
	}
	return false
}

// What recomputing a day of 1,000 events costs: requests and read
// capacity, from the local server's reports.
func TestRecomputeCost(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 events")
	}
	ctx := context.Background()
	f := newRollupFixture(t)
	client := f.calls.API
	samples := []events.Envelope{
		rolluptest.Sample(t, events.LeadCapturedType), rolluptest.Sample(t, events.TicketOpenedType),
		rolluptest.Sample(t, events.TicketRepliedType), rolluptest.Sample(t, events.SurveyRespondedType),
	}
	base := time.Date(2026, 12, 3, 8, 0, 0, 0, rollupZone)
	for i := range 1000 {
		at := base.Add(time.Duration(i) * 30 * time.Second).UTC()
		env := samples[i%len(samples)]
		changes := map[string]any{"occurred_at": at}
		for _, field := range []string{"captured_at", "opened_at", "replied_at", "answered_at"} {
			changes[field] = at
		}
		env = rolluptest.Edit(t, env, fmt.Sprintf("01COST%020d", i), changes)
		if err := dynamo.Journal(ctx, client, f.store.Table, env); err != nil {
			t.Fatal(err)
		}
	}
	d := day(t, "2026-12-03")
	f.calls.Reset()
	rec, err := f.store.Recompute(ctx, rollupZone, d)
	if err != nil {
		t.Fatal(err)
	}
	c := f.calls.Cost()
	if n := rec[rollup.Org].Count(scorecard.LeadsCaptured); n != 250 {
		t.Errorf("%d leads recomputed, want 250", n)
	}
	t.Logf("recompute a day of 1,000 events: %v, %.1f RCU", c.Requests, c.RCU)
}
