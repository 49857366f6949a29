package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/rollup/rolluptest"
	"github.com/rapportcrm/rapport/shared/scorecard"
)

// errInjected is the failure the flaky client makes up.
var errInjected = errors.New("injected failure")

// flaky passes requests through to the server, except that it can be told
// to fail the next transaction before sending it, or after the server
// applied it (the answer lost on the way back).
type flaky struct {
	dynamo.API
	mu   sync.Mutex
	mode string // "", "refuse" or "lose"
}

func (f *flaky) next(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
}

func (f *flaky) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.mu.Lock()
	mode := f.mode
	f.mode = ""
	f.mu.Unlock()
	if mode == "refuse" {
		return nil, errInjected
	}
	out, err := f.API.TransactWriteItems(ctx, in, opts...)
	if mode == "lose" && err == nil {
		return nil, errInjected
	}
	return out, err
}

// A random stream of 500 events — every kind, redeliveries among them —
// applied by a consumer 30% of whose attempts fail at random (context
// cancelled before anything is sent; the transaction refused before it is
// sent; the transaction applied but its answer lost) and which retries
// each event until it succeeds, leaves exactly the rollups the stream's
// contributions add up to in memory, for every scope and day and over the
// whole span, which crosses a month's end.
func TestRollupStreamWithFailuresEqualsOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 500))
	stream := rolluptest.Stream(t, rng, 500, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), 6)
	f := newRollupFixture(t)
	fl := &flaky{API: f.store.Client}
	f.store.Client = fl

	failures := map[string]int{}
	attempts := 0
	for _, env := range stream {
		cs, err := rollup.Contributions(env, rollupZone)
		if err != nil {
			t.Fatal(err)
		}
		for try := 0; ; try++ {
			if try == 20 {
				t.Fatalf("%s %s: still failing after 20 attempts", env.DetailType, env.ID)
			}
			attempts++
			ctx, cancel := context.WithCancel(context.Background())
			mode := ""
			if rng.IntN(10) < 3 {
				mode = []string{"cancel", "refuse", "lose"}[rng.IntN(3)]
			}
			switch mode {
			case "cancel":
				cancel()
			case "refuse", "lose":
				fl.next(mode)
			}
			err = f.store.Apply(ctx, env.ID, cs)
			cancel()
			fl.next("")
			if mode != "" && mode != "lose" && err == nil && len(cs) > 0 {
				t.Fatalf("%s: %s attempt succeeded", env.ID, mode)
			}
			if err == nil {
				break
			}
			if mode == "" {
				t.Fatalf("%s %s: %v", env.DetailType, env.ID, err)
			}
			failures[mode]++
		}
	}
	t.Logf("%d events, %d attempts, failed: %v", len(stream), attempts, failures)

	oracle, err := rolluptest.Oracle(stream, rollupZone)
	if err != nil {
		t.Fatal(err)
	}
	scopes := []rollup.Scope{rollup.Org, rollup.Team("support"), rollup.Team("sales")}
	checkAgainstOracle(t, f.store, oracle, scopes, "2026-11-26", "2026-12-08")
	// The recomputation from the journal agrees: every event journaled as
	// its producer would, each day rebuilt from the journal alone.
	for _, env := range stream {
		if err := dynamo.Journal(context.Background(), fl.API, f.store.Table, env); err != nil {
			t.Fatal(err)
		}
	}
	checkAgainstRecompute(t, f.store, rollupZone, scopes, "2026-11-26", "2026-12-08")
	if len(oracle) < 20 {
		t.Errorf("the stream touched only %d scope-days", len(oracle))
	}
}

// What counting costs, per event and per counted event, and what reading
// a day, week, month and quarter costs afterwards; figures for the
// closing note, from the local server's capacity reports.
func TestRollupCost(t *testing.T) {
	ctx := context.Background()
	f := newRollupFixture(t)
	type measured struct {
		label string
		env   events.Envelope
	}
	var runs []measured
	for _, env := range samples(t) {
		if env.DetailType != events.FollowupCompletedType {
			runs = append(runs, measured{env.DetailType, env})
			continue
		}
		// The samples' follow-up is one task, counted by its overdue
		// event: measure another task's completion, then this one's.
		runs = append(runs,
			measured{env.DetailType, rolluptest.Edit(t, env, "done-other", map[string]any{"followup_id": "T-other"})},
			measured{env.DetailType + " (after overdue)", env})
	}
	for _, run := range runs {
		cs, err := rollup.Contributions(run.env, rollupZone)
		if err != nil {
			t.Fatal(err)
		}
		f.calls.Reset()
		if err := f.store.Apply(ctx, run.env.ID, cs); err != nil {
			t.Fatal(err)
		}
		first := f.calls.Cost()
		f.calls.Reset()
		if err := f.store.Apply(ctx, run.env.ID, cs); err != nil {
			t.Fatal(err)
		}
		again := f.calls.Cost()
		if len(cs) > 0 {
			t.Logf("%-36s %d contributions: %v %.1f WCU %.1f RCU; redelivered: %v %.1f WCU",
				run.label, len(cs), first.Requests, first.WCU, first.RCU, again.Requests, again.WCU)
		}
	}

	rng := rand.New(rand.NewPCG(7, 7))
	stream := rolluptest.Stream(t, rng, 500, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), 6)
	g := newRollupFixture(t)
	counted := 0
	for _, env := range stream {
		cs, err := rollup.Contributions(env, rollupZone)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 0 {
			counted++
		}
		if err := g.store.Apply(ctx, env.ID, cs); err != nil {
			t.Fatal(err)
		}
	}
	c := g.calls.Cost()
	t.Logf("stream of %d events, %d counted: %v; per counted event %.2f requests, %.2f WCU, %.2f RCU",
		len(stream), counted, c.Requests, float64(c.Total())/float64(counted), c.WCU/float64(counted), c.RCU/float64(counted))

	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, kind := range period.Kinds() {
		p := period.Containing(at, kind, rollupZone)
		days := p.Days()
		g.calls.Reset()
		r, err := g.store.Range(ctx, rollup.Org, days[0], days[len(days)-1])
		if err != nil {
			t.Fatal(err)
		}
		rc := g.calls.Cost()
		t.Logf("read %-7s %s (org): %v %.1f RCU, %d leads captured", kind, p.ID(), rc.Requests, rc.RCU, r.Count(scorecard.LeadsCaptured))
	}
}

// A day with 8,000 paying customers — far beyond a Rapport
// organisation's — is spread over the key shards, and the top-20% revenue
// share read back is exact. The largest item's size per customer it holds
// gives the day's capacity under DynamoDB's 400 KB item limit.
func TestRollupManyCustomersInADay(t *testing.T) {
	if testing.Short() {
		t.Skip("8,000 customers")
	}
	ctx := context.Background()
	f := newRollupFixture(t)
	d := day(t, "2026-12-03")
	const batches, customers = 8, 8 * 1000
	want := &scorecard.Rollup{}
	for batch := range batches {
		var adds scorecard.Rollup
		for i := range 1000 {
			customer := fmt.Sprintf("01CUST%020d", batch*1000+i)
			amount := int64(1 + (batch*1000+i)%997*100)
			_ = adds.AddSum(scorecard.ConversionRevenue, amount, "EUR")
			_ = adds.AddTo(scorecard.RevenueByCustomer, customer, amount)
			_ = adds.AddTo(scorecard.SalesByCustomer, customer, 1)
		}
		_ = adds.Add(scorecard.LeadsConverted, 1000)
		if err := f.store.Apply(ctx, fmt.Sprintf("batch-%d", batch), []rollup.Contribution{{Day: d, Adds: adds}}); err != nil {
			t.Fatal(err)
		}
		_ = want.Merge(&adds)
	}
	got, err := f.store.Day(ctx, rollup.Org, d)
	if err != nil {
		t.Fatal(err)
	}
	sameRollup(t, "the day", got, want)
	share, _ := scorecard.DefaultCatalogue().KPI(scorecard.KPITopCustomerRevenueShare)
	g, _ := share.Measure(got)
	w, _ := share.Measure(want)
	if g != w || g.Samples != customers {
		t.Errorf("top-20%% share %+v, want %+v over %d customers", g, w, customers)
	}
	largest := largestRollupItem(t, f)
	perItem := float64(customers) / 64 // key shards
	t.Logf("%d customers in a day: top-20%% share %.4f%%; largest item %d bytes, about %.0f bytes a customer: %.0f customers a day fit",
		customers, g.Value, largest, float64(largest)/perItem, 64*400_000/(float64(largest)/perItem))
}

// largestRollupItem returns the size, as DynamoDB reckons it (names and
// values), of the biggest rollup item in f's table.
func largestRollupItem(t *testing.T, f rollupFixture) int {
	t.Helper()
	var out *dynamodb.ScanOutput
	var err error
	client := f.calls.API.(*dynamodb.Client)
	largest := 0
	in := &dynamodb.ScanInput{TableName: &f.store.Table}
	for {
		// A scan is fine here: the test's table is small and no request
		// path scans.
		out, err = client.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			largest = max(largest, itemSize(it))
		}
		if out.LastEvaluatedKey == nil {
			return largest
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// itemSize estimates an item's size as DynamoDB bills it: each
// attribute's name and value, a number taking about one byte per two
// significant digits plus one.
func itemSize(it map[string]types.AttributeValue) int {
	n := 0
	for name, v := range it {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += (len(strings.TrimLeft(v.Value, "-0"))+1)/2 + 1
		default:
			n += 8
		}
	}
	return n
}
