package demo_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/demo"
	"github.com/rapportcrm/rapport/infra/local/localtest"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// week is the shrunk demo the test lives through: a week, 60 leads.
var week = demo.Plan{Leads: 60, Tickets: 30, Seed: 7, Workers: 4, SweepEvery: time.Hour}

func start(t *testing.T, seed func(context.Context, *local.Stack) error) *local.Stack {
	t.Helper()
	return startOn(t, localtest.TableName("demo-test"), seed)
}

func startOn(t *testing.T, table string, seed func(context.Context, *local.Stack) error) *local.Stack {
	t.Helper()
	st, _ := localtest.Start(t, table, local.Options{Seed: seed, SeedSpan: 7 * 24 * time.Hour})
	return st
}

// TestDemoWeekIsWhatAUserSees seeds a week on a real stack, as `make dev`
// seeds 90 days, and checks what a newcomer would look at.
func TestDemoWeekIsWhatAUserSees(t *testing.T) {
	var counts *demo.Counts
	st := start(t, func(ctx context.Context, st *local.Stack) error {
		if !st.Frozen() || time.Since(st.Now()) < 6*24*time.Hour {
			return fmt.Errorf("the seed runs on a clock frozen a week ago; it shows %s", st.Now())
		}
		c, err := demo.Run(ctx, st, week)
		counts = c
		return err
	})
	t.Logf("seeded: %s", counts)

	// Afterwards the clock runs on in real time from now.
	if st.Frozen() {
		t.Error("the clock is still frozen after the seed")
	}
	if d := time.Since(st.Now()); d < -time.Minute || d > time.Minute {
		t.Errorf("the stack's time is %s, %s from now", st.Now(), d)
	}
	if _, err := st.Advance(context.Background(), time.Hour); !errors.Is(err, local.ErrClockReal) {
		t.Errorf("Advance after the seed: %v, want ErrClockReal", err)
	}

	leads := localtest.All(t, st, manifest.Agent, "/leads")
	if int64(len(leads)) != counts.Leads || counts.Leads < 40 {
		t.Errorf("GET /leads lists %d leads; the seed made %d", len(leads), counts.Leads)
	}
	emails := map[string]int{}
	for _, l := range leads {
		e, _ := l["email"].(string)
		emails[e]++
		if strings.HasSuffix(e, "@spam.example") {
			t.Errorf("a spam post became lead %v", l["id"])
		}
	}
	for e, n := range emails {
		if n > 1 {
			t.Errorf("%d leads for one address", n)
			_ = e
		}
	}
	if counts.Duplicates == 0 || counts.Spam == 0 || counts.Converted == 0 || counts.Contacted == 0 {
		t.Errorf("the week has no duplicates, spam, contacts or conversions: %s", counts)
	}

	// Some ticket's SLA clock says breached: one still open, or solved or
	// closed since (the queue's sla=breached lists only tickets overdue
	// now, which depends on the hour the test runs).
	breached := 0
	for _, q := range []string{"", "?status=solved", "?status=closed"} {
		for _, tk := range localtest.All(t, st, manifest.Agent, "/tickets"+q) {
			clocks, _ := tk["sla"].(map[string]any)
			for _, c := range clocks {
				if c, _ := c.(map[string]any); c["status"] == "breached" {
					breached++
					break
				}
			}
		}
	}
	if breached == 0 {
		t.Errorf("no ticket breached its SLA: %s", counts)
	}
	if counts.Tickets < 20 || counts.Solved == 0 {
		t.Errorf("tickets: %s", counts)
	}

	month := st.Now().Format("2006-01")
	var csat struct {
		Answers int `json:"answers"`
	}
	answers := 0
	for _, q := range []string{"csat", "nps", "ces"} {
		for _, period := range []string{st.Now().AddDate(0, 0, -7).Format("2006-01"), month} {
			localtest.Get(t, st, manifest.Manager, "/surveys/results?question="+q+"&period="+period, &csat)
			answers += csat.Answers
		}
		if st.Now().AddDate(0, 0, -7).Format("2006-01") == month {
			answers -= csat.Answers // one month counted twice
		}
	}
	if counts.Answers == 0 || answers < int(counts.Answers) {
		t.Errorf("GET /surveys/results counts %d answers; the seed gave %d", answers, counts.Answers)
	}

	// The scorecard has data for the last 7 days: revenue, CSAT, SLA, and
	// the lead response time from the reps' logged calls.
	seen := map[string]bool{}
	for d := range 8 {
		day := st.Now().AddDate(0, 0, -d).Format("2006-01-02")
		var card struct {
			Perspectives []struct {
				KPIs []struct {
					ID    string   `json:"id"`
					Value *float64 `json:"value"`
				} `json:"kpis"`
			} `json:"perspectives"`
		}
		localtest.Get(t, st, manifest.Manager, "/scorecard?period=day&at="+day, &card)
		for _, p := range card.Perspectives {
			for _, k := range p.KPIs {
				if k.Value != nil {
					seen[k.ID] = true
				}
			}
		}
	}
	for _, k := range []string{"revenue", "csat", "ces", "sla_compliance", "lead_response_time"} {
		if !seen[k] {
			t.Errorf("the scorecard has no %s on any day of the week; it has %v", k, seen)
		}
	}
}

// TestNoSeedLeavesTheTableEmpty: without a seed (RAPPORT_DEMO=0, and every
// other test's stack) the table stays empty and the clock real.
func TestNoSeedLeavesTheTableEmpty(t *testing.T) {
	st := start(t, nil)
	if st.Frozen() {
		t.Error("the clock is frozen")
	}
	if leads := localtest.All(t, st, manifest.Agent, "/leads"); len(leads) != 0 {
		t.Errorf("%d leads in a stack started without the demo", len(leads))
	}
	out, err := st.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(st.Table), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 {
		t.Errorf("the table holds %v", out.Items)
	}
}

// TestSeedOnlyIntoAnEmptyTable: a table holding anything is never seeded.
func TestSeedOnlyIntoAnEmptyTable(t *testing.T) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	table := "demo-test-" + hex.EncodeToString(b)
	first := startOn(t, table, nil)
	resp, err := http.Post(first.URL+"/leads", "application/json", strings.NewReader(`{"email":"ada@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /leads: %d", resp.StatusCode)
	}
	again := startOn(t, table, func(context.Context, *local.Stack) error {
		t.Error("the seed ran on a table holding a lead")
		return nil
	})
	if again.Frozen() {
		t.Error("the clock is frozen")
	}
	if leads := localtest.All(t, again, manifest.Agent, "/leads"); len(leads) != 1 {
		t.Errorf("%d leads, want the one posted", len(leads))
	}
}

// TestTheBannerComesFirstWhileTheSeedRuns: `make dev` shows where to look
// before the seed is done, serves the scorecard page meanwhile, and keeps
// hands off the demo's clock until the banner says Ready.
func TestTheBannerComesFirstWhileTheSeedRuns(t *testing.T) {
	var banner bytes.Buffer
	moveClock := func(st *local.Stack) (int, string) {
		resp, err := http.PostForm(st.URL+local.ClockPath, url.Values{"advance": {"1h"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	seeded := false
	st, _ := localtest.Start(t, localtest.TableName("demo-test"), local.Options{
		Banner: &banner, SeedSpan: 7 * 24 * time.Hour,
		Seed: func(ctx context.Context, st *local.Stack) error {
			seeded = true
			if b := banner.String(); !strings.Contains(b, "Rapport is running at "+st.URL) || !strings.Contains(b, "while the demo data is seeded") {
				t.Errorf("while seeding, the banner reads:\n%s", b)
			}
			if strings.Contains(banner.String(), "\n  Ready ") {
				t.Error("the banner says Ready before the seed is done")
			}
			resp, err := http.Get(st.URL + local.ScorecardPagePath)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the scorecard page answers %d while seeding", resp.StatusCode)
			}
			if code, body := moveClock(st); code != http.StatusConflict || !strings.Contains(body, "being seeded") {
				t.Errorf("moving the clock by hand while seeding: %d %s", code, body)
			}
			_, err = demo.Run(ctx, st, demo.Plan{Leads: 5, Tickets: 2, Seed: 1, Workers: 2, SweepEvery: 6 * time.Hour})
			return err
		},
	})
	if !seeded {
		t.Fatal("the seed did not run on an empty table")
	}
	if !strings.Contains(banner.String(), "\n  Ready ") {
		t.Errorf("after the seed, the banner reads:\n%s", banner.String())
	}
	if code, body := moveClock(st); code != http.StatusConflict || !strings.Contains(body, "real time") {
		t.Errorf("moving the clock after the seed: %d %s", code, body)
	}
}
