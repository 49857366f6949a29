package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/gateway"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/crm"
)

// The form load: loadClients clients post the contact form as fast as the
// stack answers for loadDuration (RAPPORT_BENCH_LOAD, default 30s), each
// post a person drawn at random from loadPeople, so that many posts are
// duplicates of an earlier one. The same load then goes to a bare handler
// that does one PutItem, served by the same local gateway on the same
// DynamoDB server: the floor the leads function is compared against.
const (
	loadClients = 50
	loadPeople  = 4000
)

func loadDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("RAPPORT_BENCH_LOAD")); err == nil && d > 0 {
		return d
	}
	return 30 * time.Second
}

// loadResult is what one load run measured.
type loadResult struct {
	requests, errors int
	took             time.Duration
	latencies        []time.Duration
	people           map[int]bool // the distinct people posted, when posting leads
}

func (r loadResult) report(b *testing.B, prefix string) {
	slices.Sort(r.latencies)
	q := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		return float64(r.latencies[int(p*float64(len(r.latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(r.requests)/r.took.Seconds(), prefix+"req/s")
	b.ReportMetric(q(0.5), prefix+"ms-p50")
	b.ReportMetric(q(0.99), prefix+"ms-p99")
	b.ReportMetric(float64(r.errors), prefix+"errors")
}

// runLoad has loadClients clients post body(person) to url for d; a post
// succeeds when it answers 2xx.
func runLoad(url string, d time.Duration, body func(person int) string) loadResult {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadClients}, Timeout: time.Minute}
	var (
		mu       sync.Mutex
		res      = loadResult{people: map[int]bool{}}
		wg       sync.WaitGroup
		failures atomic.Int64
	)
	began := time.Now()
	end := began.Add(d)
	for c := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(c), 42))
			var mine []time.Duration
			var people []int
			for time.Now().Before(end) {
				person := rnd.IntN(loadPeople)
				start := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body(person)))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Accept", "application/json")
				resp, err := hc.Do(req)
				ok := err == nil && resp.StatusCode/100 == 2
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mine = append(mine, time.Since(start))
				if !ok {
					failures.Add(1)
					continue
				}
				people = append(people, person)
			}
			mu.Lock()
			res.latencies = append(res.latencies, mine...)
			for _, p := range people {
				res.people[p] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.took = time.Since(began)
	res.requests, res.errors = len(res.latencies), int(failures.Load())
	return res
}

// BenchmarkFormLoad runs the form load against the local stack as `make
// dev` runs it (its own DynamoDB server, streams, relay, bus and
// consumers), then against the bare handler, and reports both and the
// leads stored, which must equal the distinct people posted. Fixed work:
// run with -benchtime 1x.
func BenchmarkFormLoad(b *testing.B) {
	st := startAsMakeDev(b)
	d := loadDuration()

	leads := runLoad(st.URL+"/leads", d, leadForm)
	stored := countLeads(b, st)
	leads.report(b, "leads-")
	b.ReportMetric(float64(len(leads.people)), "distinct-people")
	b.ReportMetric(float64(stored), "leads-stored")
	if stored != len(leads.people) || leads.errors != 0 {
		b.Errorf("%d errors; %d leads stored for %d distinct people", leads.errors, stored, len(leads.people))
	}

	bare := runLoad(bareGateway(b, st), d, leadForm)
	bare.report(b, "bare-")
	if bare.errors != 0 {
		b.Errorf("the bare handler answered %d errors", bare.errors)
	}
}

// bareGateway serves POST /bare, whose handler puts the form as one item
// and answers 201, through the local gateway, and returns its URL.
func bareGateway(b *testing.B, st *local.Stack) string {
	var n atomic.Int64
	handler := func(ctx context.Context, r lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		_, err := st.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table), Item: map[string]types.AttributeValue{
			"pk":   &types.AttributeValueMemberS{Value: fmt.Sprintf("BARE#%d", n.Add(1))},
			"sk":   &types.AttributeValueMemberS{Value: "BARE"},
			"form": &types.AttributeValueMemberS{Value: r.Body},
		}})
		if err != nil {
			return lambdaevents.APIGatewayV2HTTPResponse{}, err
		}
		return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusCreated, Body: "{}"}, nil
	}
	gw, err := gateway.New(gateway.Options{
		Routes:   []manifest.Route{{Method: "POST", Path: "/bare", Function: "bare", Role: manifest.Public}},
		Handlers: map[string]app.HTTPHandler{"bare": handler},
	})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: gw}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/bare"
}

// countLeads walks GET /leads as a manager and returns how many leads it
// lists.
func countLeads(b *testing.B, st *local.Stack) int {
	tok, err := st.Token(manifest.Manager)
	if err != nil {
		b.Fatal(err)
	}
	n, cursor := 0, ""
	for {
		url := fmt.Sprintf("%s/leads?limit=%d", st.URL, crm.MaxPage)
		if cursor != "" {
			url += "&cursor=" + neturl.QueryEscape(cursor)
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET /leads: %d %v", resp.StatusCode, err)
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n
		}
		cursor = page.NextCursor
	}
}
