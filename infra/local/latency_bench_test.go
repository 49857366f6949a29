package local_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/internal/growth"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
)

// The latency guards: a new lead must cost the same after thousands of
// leads as on an empty table (DESIGN.md: cost does not grow with history).
// Each posts RAPPORT_BENCH_LEADS distinct people (default 20,000) from four
// clients at once, after growth.Warmup posts that are not measured, and
// reports the median latency of the first and the last tenth of the posts
// and their ratio (last/first), which should stay within 1.3. They are
// fixed work, not b.N iterations: run them with -benchtime 1x.

const benchClients = 4

func benchLeads(b *testing.B) int {
	if n, err := strconv.Atoi(os.Getenv("RAPPORT_BENCH_LEADS")); err == nil && n >= 10 {
		return n
	}
	return 20000
}

// leadForm is the i-th distinct person's contact form, as a browser posts it.
func leadForm(i int) string {
	return url.Values{
		"name":       {fmt.Sprintf("Person %d", i)},
		"email":      {fmt.Sprintf("person%d@example.com", i)},
		"company":    {"Analytical Engines"},
		"message":    {"Please call me about pricing for a team of twelve."},
		"source":     {"contact-page"},
		"utm_source": {"newsletter"},
		"consent":    {"on"},
	}.Encode()
}

// BenchmarkNewLeadLatency calls the leads function's real handler in
// process, as the Lambda runtime would, against the local server the
// benchmarks run on (AWS_ENDPOINT_URL_DYNAMODB):
//
//	infra/scripts/with-dynamodb.sh ddblocal -- go test -run '^$' -bench NewLeadLatency -benchtime 1x ./infra/local/
//	infra/scripts/with-dynamodb.sh dynoxide -- go test -run '^$' -bench NewLeadLatency -benchtime 1x ./infra/local/
func BenchmarkNewLeadLatency(b *testing.B) {
	client, table := dynamotest.NewTable(b)
	cfg, err := config.FromEnv(func(k string) string { return map[string]string{"TABLE_NAME": table}[k] })
	if err != nil {
		b.Fatal(err)
	}
	handler := app.Leads(app.Deps{Config: cfg, DynamoDB: client, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s, err := growth.RunWarm(benchLeads(b), benchClients, func(i int) error {
		resp, err := handler(context.Background(), lambdaevents.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "POST /leads", Body: leadForm(i),
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
			RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
				RequestID: "bench-" + strconv.Itoa(i),
				HTTP:      lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/leads", SourceIP: "127.0.0.1"},
			},
		})
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d: %s", resp.StatusCode, resp.Body)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Report(b)
}

// BenchmarkNewLeadLatencyHTTP runs the local stack as `make dev` does — its
// own DynamoDB server with the data in a file, the streams poller, the
// relay and the bus — in a temporary directory, and posts the contact form
// over HTTP on the loopback interface. RAPPORT_DYNAMODB chooses the server
// as for `make dev`:
//
//	go test -run '^$' -bench NewLeadLatencyHTTP -benchtime 1x ./infra/local/
func BenchmarkNewLeadLatencyHTTP(b *testing.B) {
	st := startAsMakeDev(b)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}, Timeout: time.Minute}
	s, err := growth.RunWarm(benchLeads(b), benchClients, func(i int) error {
		req, err := http.NewRequest(http.MethodPost, st.URL+"/leads", strings.NewReader(leadForm(i)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Report(b)
}

// startAsMakeDev runs the local stack as `make dev` does — its own
// DynamoDB server with the data in a file, the streams poller, the relay
// and the bus — in a temporary directory, until the benchmark ends.
// RAPPORT_DYNAMODB chooses the server as for `make dev`.
func startAsMakeDev(b *testing.B) *local.Stack {
	b.Helper()
	// Start points this process's SDK at its server through the
	// environment; restore the environment afterwards.
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN"} {
		b.Setenv(k, os.Getenv(k))
	}
	ctx, cancel := context.WithCancel(context.Background())
	began := time.Now()
	st, err := local.Start(ctx, local.Options{
		Dir: b.TempDir(), Addr: "127.0.0.1:0",
		Getenv: func(k string) string {
			if k == "RAPPORT_DYNAMODB" {
				return os.Getenv(k)
			}
			return ""
		},
		Log: local.NewLogger(io.Discard, nil),
	})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	b.Logf("local stack on %s started in %v", st.DynamoDBEndpoint, time.Since(began).Round(time.Millisecond))
	b.Cleanup(func() {
		cancel()
		if err := st.Wait(); err != nil {
			b.Error(err)
		}
	})
	return st
}
