package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// BenchmarkLeadToScorecard measures how fresh the scorecard is: from
// posting a new lead through the gateway to the moment GET
// /scorecard?period=day counts it, on the whole local stack on real time
// (the table, its stream, the relay, the bus, the kpis function and the
// scorecard function), on the test's DynamoDB server with the stack's
// default stream poll interval. Each iteration posts one distinct lead and
// polls the scorecard until the day's leads captured (the samples of
// best_lead_source_share) reach the number posted; it reports the median
// and the slowest as ms-median/op and ms-max/op:
//
//	infra/scripts/with-dynamodb.sh dynoxide -- go test -run '^$' -bench LeadToScorecard ./infra/local/
func BenchmarkLeadToScorecard(b *testing.B) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		b.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run with infra/scripts/with-dynamodb.sh dynoxide -- go test ./infra/local/...")
	}
	reg := local.DefaultRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := local.Start(ctx, local.Options{
		Dir: b.TempDir(), Addr: "127.0.0.1:0",
		Getenv:   env(map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": "local-bench-" + randomHex(4)}),
		Registry: &reg, Rules: manifest.Rules, Schedules: manifest.Schedules,
		Log: local.NewLogger(io.Discard, nil),
	})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	defer func() {
		cancel()
		if err := st.Wait(); err != nil {
			b.Error(err)
		}
		_, _ = st.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(st.Table)})
	}()
	manager, err := st.TokenFor(manifest.Manager, "bench-manager")
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	// counted reads the day's leads captured from the scorecard.
	counted := func() (int64, error) {
		req, _ := http.NewRequest(http.MethodGet, st.URL+"/scorecard?period=day", nil)
		req.Header.Set("Authorization", "Bearer "+manager)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET /scorecard: %d %s", resp.StatusCode, body)
		}
		var card cardJSON
		if err := json.Unmarshal(body, &card); err != nil {
			return 0, err
		}
		return card.kpi("best_lead_source_share").Samples, nil
	}
	base, err := counted()
	if err != nil {
		b.Fatal(err)
	}
	lats := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		began := time.Now()
		req, _ := http.NewRequest(http.MethodPost, st.URL+"/leads", strings.NewReader(leadForm(i)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("POST /leads: %d", resp.StatusCode)
		}
		// A day that turns midnight in the middle (UTC) starts from zero;
		// the bench needs a minute, so that is rare, and fails loudly.
		deadline := began.Add(30 * time.Second)
		for tick := time.NewTicker(pollEvery); ; <-tick.C {
			n, err := counted()
			if err != nil {
				b.Fatal(err)
			}
			if n >= base+int64(i)+1 {
				tick.Stop()
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("lead %d not on the day's scorecard after 30 s (counted %d, want %d)", i, n, base+int64(i)+1)
			}
		}
		lats = append(lats, time.Since(began))
	}
	b.StopTimer()
	slices.Sort(lats)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lats[len(lats)/2]), "ms-median/op")
	b.ReportMetric(ms(lats[len(lats)-1]), "ms-max/op")
}

// pollEvery paces the polls of the scorecard: the condition is read again
// at this interval (not waited for by it), which bounds the measurement's
// resolution while leaving the two CPUs to the work being measured.
const pollEvery = 5 * time.Millisecond

// cardJSON is as much of GET /scorecard's JSON as the local tests read.
type cardJSON struct {
	Period struct {
		ID       string `json:"id"`
		TimeZone string `json:"time_zone"`
	} `json:"period"`
	Team         *string `json:"team"`
	Perspectives []struct {
		KPIs []kpiJSON `json:"kpis"`
	} `json:"perspectives"`
}

type kpiJSON struct {
	ID       string   `json:"id"`
	Value    *float64 `json:"value"`
	Samples  int64    `json:"samples"`
	Previous *float64 `json:"previous"`
}

// kpi returns the KPI id of the card; the zero kpiJSON when it is absent.
func (c cardJSON) kpi(id string) kpiJSON {
	for _, p := range c.Perspectives {
		for _, k := range p.KPIs {
			if k.ID == id {
				return k
			}
		}
	}
	return kpiJSON{}
}
