package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

// chain is a registry of stand-ins that make every scheduled run set off a
// chain of work: the run writes a PROBE item; the relay stub publishes
// probe.happened for it; the consumer records it and, for a first-
// generation event, writes a second item, whose event the consumer fails
// once before it takes it. So each run is done only when two events,
// three writes and a retry have gone through the stream, relay and bus.
type chain struct {
	failSecondOnce bool
	release        chan struct{} // the block handler waits for it

	mu       sync.Mutex
	runs     []string            // "schedule@instant", in the order they ran
	runNows  []time.Time         // the handlers' Now during each run
	handled  map[string]int      // PROBE id → deliveries the consumer accepted
	attempts map[string]int      // PROBE id → deliveries the consumer saw
	claims   []map[string]string // the claims of each staff request
}

func newChain() *chain {
	return &chain{handled: map[string]int{}, attempts: map[string]int{}, release: make(chan struct{})}
}

func put(ctx context.Context, d app.Deps, id, gen string) error {
	_, err := d.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.Config.TableName),
		Item: map[string]types.AttributeValue{
			"pk":  &types.AttributeValueMemberS{Value: "PROBE#" + id},
			"sk":  &types.AttributeValueMemberS{Value: "PROBE"},
			"gen": &types.AttributeValueMemberS{Value: gen},
		},
	})
	return err
}

func (c *chain) registry() *local.Registry {
	run := func(d app.Deps) app.EventHandler {
		return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
			name := ev.Resources[0][strings.LastIndex(ev.Resources[0], "/")+1:]
			id := name + "@" + ev.Time.UTC().Format(time.RFC3339)
			c.mu.Lock()
			c.runs = append(c.runs, id)
			c.runNows = append(c.runNows, d.Now())
			c.mu.Unlock()
			return put(ctx, d, id, "1")
		}
	}
	block := func(app.Deps) app.EventHandler {
		return func(ctx context.Context, _ lambdaevents.EventBridgeEvent) error {
			select {
			case <-c.release:
			case <-ctx.Done():
			}
			return nil
		}
	}
	return withRapport(&local.Registry{
		HTTP: map[string]func(app.Deps) app.HTTPHandler{"leads": func(app.Deps) app.HTTPHandler {
			return func(_ context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
				if a := req.RequestContext.Authorizer; a != nil {
					c.mu.Lock()
					c.claims = append(c.claims, a.JWT.Claims)
					c.mu.Unlock()
				}
				return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}, nil
			}
		}},
		Stream: map[string]func(app.Deps) app.StreamHandler{"relay": func(d app.Deps) app.StreamHandler {
			return func(ctx context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
				for _, r := range e.Records {
					pk := r.Change.Keys["pk"].String()
					if r.EventName != "INSERT" || !strings.HasPrefix(pk, "PROBE#") {
						continue
					}
					gen := r.Change.NewImage["gen"].String()
					detail, _ := json.Marshal(map[string]string{"event_id": pk, "id": strings.TrimPrefix(pk, "PROBE#"), "gen": gen})
					if errs := d.Publisher.Publish(ctx, []events.Envelope{{
						ID: pk, Source: "test.local", DetailType: "probe.happened", Time: d.Now(), Detail: detail,
					}}); errs[0] != nil {
						return lambdaevents.DynamoDBEventResponse{BatchItemFailures: []lambdaevents.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}}, nil
					}
				}
				return lambdaevents.DynamoDBEventResponse{}, nil
			}
		}},
		Event: map[string]func(app.Deps) app.EventHandler{
			"run":   run,
			"block": block,
			"trivial": func(app.Deps) app.EventHandler {
				return func(context.Context, lambdaevents.EventBridgeEvent) error { return nil }
			},
			"consume": func(d app.Deps) app.EventHandler {
				return func(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
					var detail struct{ ID, Gen string }
					if err := json.Unmarshal(ev.Detail, &detail); err != nil {
						return err
					}
					c.mu.Lock()
					c.attempts[detail.ID]++
					fail := c.failSecondOnce && detail.Gen == "2" && c.attempts[detail.ID] == 1
					c.mu.Unlock()
					if fail {
						return fmt.Errorf("the consumer fails %s once", detail.ID)
					}
					if detail.Gen == "1" {
						if err := put(ctx, d, detail.ID+"/2", "2"); err != nil {
							return err
						}
					}
					c.mu.Lock()
					c.handled[detail.ID]++
					c.mu.Unlock()
					return nil
				}
			},
		},
	})
}

// startStack starts the stack on the test's DynamoDB server with the
// chain's handlers, the given schedules and settings, and stops it at the
// end of the test.
func startStack(t *testing.T, c *chain, schedules []manifest.Schedule, settings map[string]string, tune ...func(*local.Options)) (*local.Stack, context.CancelFunc) {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run with infra/scripts/with-dynamodb.sh dynoxide -- go test ./infra/local/...")
	}
	vars := map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": "local-test-" + randomHex(4)}
	for k, v := range settings {
		vars[k] = v
	}
	o := local.Options{
		Dir:        t.TempDir(),
		Addr:       "127.0.0.1:0",
		Getenv:     env(vars),
		Registry:   c.registry(),
		Rules:      []manifest.Rule{{Name: "probe-consumer", Source: "test.local", DetailTypes: []string{"probe.happened"}, Function: "consume"}},
		Schedules:  schedules,
		Log:        local.NewLogger(io.Discard, nil),
		StreamPoll: 20 * time.Millisecond,
	}
	for _, f := range tune {
		f(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := local.Start(ctx, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := st.Wait(); err != nil {
			t.Errorf("stopping: %v", err)
		}
		_, _ = st.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(st.Table)})
	})
	return st, cancel
}

// clockAnswer is the clock endpoint's answer, problems included.
type clockAnswer struct {
	Now    string         `json:"now"`
	Frozen bool           `json:"frozen"`
	From   string         `json:"from"`
	Fired  map[string]int `json:"fired"`
	Detail string         `json:"detail"`
	// Retrying and NextRetry tell of failed work waiting for the clock.
	Retrying  int    `json:"retrying"`
	NextRetry string `json:"next_retry"`
	Errors    []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func clockCall(t *testing.T, st *local.Stack, method string, form url.Values, header map[string]string) (int, string, clockAnswer) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, st.URL+local.ClockPath, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a clockAnswer
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%s %s: %d %q is not JSON", method, local.ClockPath, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), a
}

// TestAdvanceFiresEveryRunInOrderAndWaitsForItsWork starts the stack frozen
// with RAPPORT_CLOCK, advances it over HTTP, and checks that when the POST
// returns, every run due has fired, once, in order, with the clock at its
// instant, and every event each run set off — through the stream, the
// relay, the bus, a consumer's own write and a retry — has been handled.
func TestAdvanceFiresEveryRunInOrderAndWaitsForItsWork(t *testing.T) {
	c := newChain()
	c.failSecondOnce = true
	st, stop := startStack(t, c, []manifest.Schedule{
		{Name: "tick", Expression: "rate(1 minute)", Function: "run", DetailType: "probe.tick"},
		{Name: "quarter", Expression: "cron(0/15 * * * ? *)", Function: "run", DetailType: "probe.quarter"},
	}, map[string]string{local.ClockVar: "2026-03-02T08:00:00Z"})

	code, _, a := clockCall(t, st, "GET", nil, nil)
	if code != 200 || a.Now != "2026-03-02T08:00:00Z" || !a.Frozen {
		t.Fatalf("GET clock: %d %+v", code, a)
	}

	code, _, a = clockCall(t, st, "POST", url.Values{"advance": {"30m"}}, nil)
	if code != 200 || a.Now != "2026-03-02T08:30:00Z" || a.From != "2026-03-02T08:00:00Z" || !a.Frozen ||
		a.Fired["tick"] != 30 || a.Fired["quarter"] != 2 || len(a.Fired) != 2 {
		t.Fatalf("POST advance=30m: %d %+v", code, a)
	}
	// The handlers ran in goroutines of the stack: read what they recorded
	// under the lock, failing only with Errorf while it is held.
	c.mu.Lock()
	var want []string
	for m := 1; m <= 30; m++ {
		at := time.Date(2026, 3, 2, 8, m, 0, 0, time.UTC).Format(time.RFC3339)
		want = append(want, "tick@"+at)
		if m%15 == 0 {
			want = append(want, "quarter@"+at) // after tick: manifest order
		}
	}
	if strings.Join(c.runs, " ") != strings.Join(want, " ") {
		t.Errorf("runs\n got %v\nwant %v", c.runs, want)
	}
	for i, now := range c.runNows {
		if at := c.runs[i][strings.Index(c.runs[i], "@")+1:]; now.UTC().Format(time.RFC3339) != at {
			t.Errorf("run %s saw the time %s", c.runs[i], now)
		}
	}
	// By the time the POST returned, each run's two events were handled,
	// once each, the second after one failed delivery and its retry a
	// second later — except the runs at the very end, whose retries are
	// due after it and wait for the next move.
	last := "2026-03-02T08:30:00Z"
	for _, run := range want {
		if strings.HasSuffix(run, last) {
			if c.handled[run] != 1 || c.handled[run+"/2"] != 0 || c.attempts[run+"/2"] != 1 {
				t.Errorf("run %s: handled %d and %d (after %d attempts), want the second waiting", run, c.handled[run], c.handled[run+"/2"], c.attempts[run+"/2"])
			}
			continue
		}
		if c.handled[run] != 1 || c.handled[run+"/2"] != 1 || c.attempts[run+"/2"] != 2 {
			t.Errorf("run %s: handled %d and %d (after %d attempts)", run, c.handled[run], c.handled[run+"/2"], c.attempts[run+"/2"])
		}
	}
	if len(c.handled) != 2*len(want)-2 {
		t.Errorf("the consumer handled %d events, want %d", len(c.handled), 2*len(want)-2)
	}
	if a.Retrying != 2 || a.NextRetry != "2026-03-02T08:30:01Z" {
		t.Errorf("the answer says %d retrying from %q, want 2 from 08:30:01", a.Retrying, a.NextRetry)
	}
	c.mu.Unlock()

	// The next second runs them.
	code, _, a = clockCall(t, st, "POST", url.Values{"advance": {"1s"}}, nil)
	c.mu.Lock()
	if code != 200 || len(a.Fired) != 0 || a.Retrying != 0 {
		t.Errorf("POST advance=1s: %d %+v", code, a)
	}
	for _, run := range []string{"tick@" + last, "quarter@" + last} {
		if c.handled[run+"/2"] != 1 || c.attempts[run+"/2"] != 2 {
			t.Errorf("run %s: the retry did not run: handled %d after %d attempts", run, c.handled[run+"/2"], c.attempts[run+"/2"])
		}
	}
	if got := st.Now().UTC().Format(time.RFC3339); got != "2026-03-02T08:30:01Z" {
		t.Errorf("the stack's time is %s", got)
	}
	c.mu.Unlock()

	// Stopping with retries waiting on the frozen clock drops them at
	// once, without an error: the frozen time is dropped with them.
	code, _, a = clockCall(t, st, "POST", url.Values{"set": {"2026-03-02T08:45:00Z"}}, nil)
	if code != 200 || a.Retrying != 2 {
		t.Fatalf("POST set=08:45: %d %+v", code, a)
	}
	started := time.Now()
	stop()
	if err := st.Wait(); err != nil {
		t.Errorf("stopping with retries waiting: %v", err)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Errorf("stopping with retries waiting took %s", took)
	}
}

// TestMovingTheClockRefusesBadRequests checks the endpoint's answers to
// what it must not do: each is a problem naming the field, and none moves
// the clock.
func TestMovingTheClockRefusesBadRequests(t *testing.T) {
	c := newChain()
	st, _ := startStack(t, c, nil, map[string]string{local.ClockVar: "2026-03-02T09:00:00+01:00"})
	if got := st.Now().Format(time.RFC3339); got != "2026-03-02T08:00:00Z" {
		t.Fatalf("RAPPORT_CLOCK with an offset starts at %s, want 08:00Z", got)
	}
	for name, tc := range map[string]struct {
		form   url.Values
		header map[string]string
		status int
		field  string
		says   string
	}{
		"nothing":       {url.Values{}, nil, 400, "advance", "exactly one"},
		"both":          {url.Values{"advance": {"1h"}, "set": {"2026-03-03T00:00:00Z"}}, nil, 400, "set", "exactly one"},
		"negative":      {url.Values{"advance": {"-5m"}}, nil, 400, "advance", "-5m"},
		"zero":          {url.Values{"advance": {"0s"}}, nil, 400, "advance", "positive"},
		"not a length":  {url.Values{"advance": {"soon"}}, nil, 400, "advance", "soon"},
		"not a time":    {url.Values{"set": {"tomorrow"}}, nil, 400, "set", "RFC 3339"},
		"backwards":     {url.Values{"set": {"2026-03-02T07:59:59Z"}}, nil, 400, "set", "only moves forward"},
		"from a page":   {url.Values{"advance": {"1h"}}, map[string]string{"Origin": "https://evil.example"}, 403, "", "web page"},
		"from too much": {url.Values{"advance": {strings.Repeat("9", 2000)}}, nil, 400, "", "1 KiB"},
	} {
		code, ctype, a := clockCall(t, st, "POST", tc.form, tc.header)
		named := tc.field == ""
		for _, e := range a.Errors {
			named = named || e.Field == tc.field
		}
		if code != tc.status || ctype != "application/problem+json" || !named || !strings.Contains(a.Detail, tc.says) {
			t.Errorf("%s: %d %s %+v", name, code, ctype, a)
		}
	}
	if code, _, _ := clockCall(t, st, "DELETE", nil, nil); code != 405 {
		t.Errorf("DELETE: %d", code)
	}
	if got := st.Now().Format(time.RFC3339); got != "2026-03-02T08:00:00Z" {
		t.Errorf("a refused request moved the clock to %s", got)
	}
	// Setting it to where it stands is no move, and no error.
	if code, _, a := clockCall(t, st, "POST", url.Values{"set": {"2026-03-02T08:00:00Z"}}, nil); code != 200 || a.Now != "2026-03-02T08:00:00Z" {
		t.Errorf("set to now: %d %+v", code, a)
	}
	// The stack's own page may move it.
	if code, _, a := clockCall(t, st, "POST", url.Values{"set": {"2026-03-09T08:00:00Z"}}, map[string]string{"Origin": st.URL}); code != 200 || a.Now != "2026-03-09T08:00:00Z" {
		t.Errorf("set from the stack's origin: %d %+v", code, a)
	}
}

// TestAMoveThatDoesNotSettleSaysSo: a run whose work does not finish
// within the settle timeout ends the move there, with a problem that says
// where the clock stands and what it waited for.
func TestAMoveThatDoesNotSettleSaysSo(t *testing.T) {
	c := newChain()
	st, _ := startStack(t, c, []manifest.Schedule{
		{Name: "stuck", Expression: "rate(1 minute)", Function: "block", DetailType: "probe.stuck"},
	}, map[string]string{local.ClockVar: "2026-03-02T08:00:00Z"}, func(o *local.Options) { o.SettleTimeout = 300 * time.Millisecond })
	defer close(c.release)
	code, ctype, a := clockCall(t, st, "POST", url.Values{"advance": {"10m"}}, nil)
	if code != 504 || ctype != "application/problem+json" ||
		!strings.Contains(a.Detail, "after the run of stuck at 2026-03-02T08:01:00Z") ||
		!strings.Contains(a.Detail, "the clock stands at 2026-03-02T08:01:00Z") {
		t.Errorf("POST advance=10m with a stuck run: %d %s %+v", code, ctype, a)
	}
	if got := st.Now().UTC().Format(time.RFC3339); got != "2026-03-02T08:01:00Z" {
		t.Errorf("the clock stands at %s", got)
	}
}

// TestARealClockCannotBeMoved: without RAPPORT_CLOCK the clock is real,
// says so, and a move is refused with a problem that says how to freeze it.
func TestARealClockCannotBeMoved(t *testing.T) {
	st, _ := startStack(t, newChain(), nil, nil)
	before := time.Now()
	code, _, a := clockCall(t, st, "GET", nil, nil)
	now, err := time.Parse(time.RFC3339Nano, a.Now)
	if code != 200 || a.Frozen || err != nil || now.Before(before.Add(-time.Second)) || now.After(time.Now().Add(time.Second)) {
		t.Errorf("GET clock: %d %+v", code, a)
	}
	code, ctype, a := clockCall(t, st, "POST", url.Values{"advance": {"90m"}}, nil)
	if code != 409 || ctype != "application/problem+json" || !strings.Contains(a.Detail, local.ClockVar+"=") {
		t.Errorf("POST advance on a real clock: %d %s %+v", code, ctype, a)
	}
	if _, err := st.Advance(context.Background(), time.Hour); err != local.ErrClockReal {
		t.Errorf("Advance on a real clock: %v", err)
	}
}

// TestABadClockSettingStopsTheStart: the stack does not start on a clock
// it cannot read, and says which setting is wrong.
func TestABadClockSettingStopsTheStart(t *testing.T) {
	_, err := local.Start(context.Background(), local.Options{
		Dir: t.TempDir(), Addr: "127.0.0.1:0", Getenv: env(map[string]string{local.ClockVar: "2026-03-02 08:00"}),
	})
	if err == nil || !strings.Contains(err.Error(), local.ClockVar) || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("Start with a bad clock: %v", err)
	}
}

// TestTokensFollowTheStacksClock: a token minted at the stack's time and
// for a named person is accepted whether the clock stands in the past or
// in the future, carries that person's sub and email, and expires on the
// stack's clock.
func TestTokensFollowTheStacksClock(t *testing.T) {
	c := newChain()
	st, _ := startStack(t, c, nil, map[string]string{local.ClockVar: "2025-01-06T08:00:00Z"}) // the past
	get := func(token string) int {
		code, _ := call(t, "GET", st.URL+"/leads", token, nil)
		return code
	}
	past, err := st.TokenFor(manifest.Agent, "agent-2")
	if err != nil {
		t.Fatal(err)
	}
	if code := get(past); code != 200 {
		t.Fatalf("a token minted at the stack's past time: %d", code)
	}
	// The same person's token minted at real time was issued in the
	// stack's future, and is refused.
	key, err := auth.LoadKey(st.Dir)
	if err != nil {
		t.Fatal(err)
	}
	realTime, err := auth.New(key, time.Now).Mint(manifest.Agent, "agent-2", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code := get(realTime); code != 401 {
		t.Errorf("a token minted at real time, ahead of the stack's clock: %d, want 401", code)
	}
	if _, err := st.SetClock(context.Background(), time.Now().AddDate(2, 0, 0)); err != nil { // the future
		t.Fatal(err)
	}
	if code := get(past); code != 401 {
		t.Errorf("a token whose expiry the clock passed: %d, want 401", code)
	}
	future, err := st.Token(manifest.Manager)
	if err != nil {
		t.Fatal(err)
	}
	if code := get(future); code != 200 {
		t.Errorf("a token minted at the stack's future time: %d", code)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.claims) != 2 {
		t.Fatalf("claims %v", c.claims)
	}
	for i, want := range []map[string]string{
		{"sub": "agent-2", "email": "agent-2@example.com", auth.GroupsClaim: "[agent]"},
		{"sub": "local-manager", "email": "local-manager@example.com", auth.GroupsClaim: "[manager]"},
	} {
		for k, v := range want {
			if c.claims[i][k] != v {
				t.Errorf("request %d: claim %s = %q, want %q", i, k, c.claims[i][k], v)
			}
		}
	}
}

// TestALongAdvance moves a frozen stack five hours through a once-a-minute
// schedule with a trivial handler — 300 runs, each followed by a wait for
// quiet — and reports how long that takes.
func TestALongAdvance(t *testing.T) {
	st, _ := startStack(t, newChain(), []manifest.Schedule{
		{Name: "tick", Expression: "rate(1 minute)", Function: "trivial", DetailType: "probe.tick"},
	}, map[string]string{local.ClockVar: "2026-03-02T08:00:00Z"})
	start := time.Now()
	code, _, a := clockCall(t, st, "POST", url.Values{"advance": {"5h"}}, nil)
	took := time.Since(start)
	if code != 200 || a.Fired["tick"] != 300 || a.Now != "2026-03-02T13:00:00Z" {
		t.Fatalf("POST advance=5h: %d %+v", code, a)
	}
	t.Logf("advance=5h: 300 runs of a trivial handler, each followed by a wait for quiet, took %s (%s a run)", took.Round(time.Millisecond), (took / 300).Round(10*time.Microsecond))
}
