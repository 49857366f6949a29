package local_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/local/internal/clock"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/httpapi/openapitest"
)

// stubs is a registry of stand-in handlers wired like the real ones: the
// leads stub writes a PROBE item for each POST /leads, the relay stub
// publishes an event for each PROBE item the stream brings, and the probe
// consumer reports the events the bus and the scheduler deliver.
type stubs struct {
	received chan lambdaevents.EventBridgeEvent
	// mail is the Sender each handler was built with.
	mail map[string]email.Sender
}

// withRapport fills in Rapport's own handler for every function r does not
// stub, so a test names only what it replaces and a function added to the
// manifest needs no edit here.
func withRapport(r *local.Registry) *local.Registry {
	def := local.DefaultRegistry()
	for name, c := range def.HTTP {
		if _, ok := r.HTTP[name]; !ok {
			r.HTTP[name] = c
		}
	}
	for name, c := range def.Stream {
		if _, ok := r.Stream[name]; !ok {
			r.Stream[name] = c
		}
	}
	for name, c := range def.Event {
		if _, ok := r.Event[name]; !ok {
			r.Event[name] = c
		}
	}
	return r
}

func (s *stubs) registry() *local.Registry {
	return withRapport(&local.Registry{
		HTTP: map[string]func(app.Deps) app.HTTPHandler{"leads": s.leads},
		Stream: map[string]func(app.Deps) app.StreamHandler{"relay": func(d app.Deps) app.StreamHandler {
			return func(ctx context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
				for _, r := range e.Records {
					pk := r.Change.Keys["pk"].String()
					if r.EventName != "INSERT" || !strings.HasPrefix(pk, "PROBE#") {
						continue
					}
					errs := d.Publisher.Publish(ctx, []events.Envelope{{
						ID: pk, Source: "test.local", DetailType: "probe.happened", Time: d.Now(),
						Detail: json.RawMessage(`{"event_id":"` + pk + `"}`),
					}})
					if errs[0] != nil {
						return lambdaevents.DynamoDBEventResponse{BatchItemFailures: []lambdaevents.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}}, nil
					}
				}
				return lambdaevents.DynamoDBEventResponse{}, nil
			}
		}},
		Event: map[string]func(app.Deps) app.EventHandler{"probe": func(d app.Deps) app.EventHandler {
			s.record("probe", d)
			return func(_ context.Context, ev lambdaevents.EventBridgeEvent) error {
				s.received <- ev
				return nil
			}
		}},
	})
}

// record notes what the stack built name's handler with.
func (s *stubs) record(name string, d app.Deps) {
	if s.mail == nil {
		s.mail = map[string]email.Sender{}
	}
	s.mail[name] = d.Mail
}

func (s *stubs) leads(d app.Deps) app.HTTPHandler {
	s.record("leads", d)
	return func(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		out := map[string]string{"route": req.RouteKey}
		if req.RequestContext.Authorizer != nil {
			out["groups"] = req.RequestContext.Authorizer.JWT.Claims[auth.GroupsClaim]
		}
		if req.RouteKey == "POST /leads" {
			_, err := d.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(d.Config.TableName),
				Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: "PROBE#" + req.RequestContext.RequestID},
					"sk": &types.AttributeValueMemberS{Value: "PROBE"},
				},
			})
			if err != nil {
				return lambdaevents.APIGatewayV2HTTPResponse{}, err
			}
		}
		body, _ := json.Marshal(out)
		return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func call(t *testing.T, method, url, token string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func within(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func receive(t *testing.T, ctx context.Context, ch <-chan lambdaevents.EventBridgeEvent, what string) lambdaevents.EventBridgeEvent {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-ctx.Done():
		t.Fatalf("no %s arrived", what)
		return lambdaevents.EventBridgeEvent{}
	}
}

// TestStackEndToEnd starts the whole stack in-process against the DynamoDB
// server of `make test`, with stub handlers, and follows a request through
// the gateway, the authorizer, the table, its stream, the relay, the bus
// and a rule, and a schedule through the scheduler; then it stops the
// stack and checks that nothing is left running.
func TestStackEndToEnd(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run with infra/scripts/with-dynamodb.sh dynoxide -- go test ./infra/local/...")
	}
	s := &stubs{received: make(chan lambdaevents.EventBridgeEvent, 10)}
	clk := clock.NewFake(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var banner strings.Builder
	st, err := local.Start(ctx, local.Options{
		Dir:      t.TempDir(),
		Addr:     "127.0.0.1:0",
		Getenv:   env(map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": "local-test-" + randomHex(4)}),
		Registry: s.registry(),
		Rules: []manifest.Rule{
			{Name: "probe-rule", Source: "test.local", DetailTypes: []string{"probe.happened"}, Function: "probe"},
			{Name: "never", Source: "test.local", DetailTypes: []string{"other"}, Function: "probe"},
		},
		Schedules:  []manifest.Schedule{{Name: "probe-tick", Expression: "rate(1 minute)", Function: "probe", DetailType: "probe.tick"}},
		Clock:      clk,
		Log:        local.NewLogger(io.Discard, nil),
		Banner:     &banner,
		StreamPoll: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = st.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(st.Table)})
	})
	if st.DynamoDBPID != 0 || st.DynamoDBEndpoint != endpoint {
		t.Errorf("the stack should use the given server, not start its own: pid %d endpoint %q", st.DynamoDBPID, st.DynamoDBEndpoint)
	}
	for _, want := range []string{st.URL, "make -s token ROLE=agent", "outbox"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	agent, err := st.Token(manifest.Agent)
	if err != nil {
		t.Fatal(err)
	}

	// The demo form.
	code, page := call(t, "GET", st.URL+"/", "", nil)
	if code != 200 || !strings.Contains(page, `action="/leads"`) || !strings.Contains(page, `name="website"`) {
		t.Errorf("GET /: %d\n%s", code, page)
	}
	// A public route needs no token; the stub writes a PROBE item.
	code, body := call(t, "POST", st.URL+"/leads", "", strings.NewReader("name=Ana&source=demo-form"))
	if code != 200 || !strings.Contains(body, `"route":"POST /leads"`) || strings.Contains(body, "groups") {
		t.Errorf("POST /leads: %d %s", code, body)
	}
	// A staff route: 401 without a token or with a foreign one, claims with one.
	if code, body := call(t, "GET", st.URL+"/leads", "", nil); code != 401 || !strings.Contains(body, `"Unauthorized"`) {
		t.Errorf("GET /leads without a token: %d %s", code, body)
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	foreign, _ := auth.New(otherKey, nil).Mint(manifest.Admin, "x", time.Hour)
	if code, _ := call(t, "GET", st.URL+"/leads", foreign, nil); code != 401 {
		t.Errorf("GET /leads with another key's token: %d", code)
	}
	if code, body := call(t, "GET", st.URL+"/leads/L1", agent, nil); code != 200 || !strings.Contains(body, `"groups":"[agent]"`) {
		t.Errorf("GET /leads/L1 with a token: %d %s", code, body)
	}
	if code, _ := call(t, "DELETE", st.URL+"/leads", agent, nil); code != 405 {
		t.Errorf("DELETE /leads: %d", code)
	}

	// The PROBE item went through the stream, the relay stub and the bus
	// to the rule's consumer.
	wait := within(t, 30*time.Second)
	ev := receive(t, wait, s.received, "event from the stream")
	if ev.Source != "test.local" || ev.DetailType != "probe.happened" || !strings.Contains(string(ev.Detail), "PROBE#") {
		t.Errorf("bus event = %+v", ev)
	}
	// The schedule fires when the clock says so.
	if _, err := st.Advance(wait, time.Minute); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, wait, s.received, "scheduled event"); ev.Source != "aws.scheduler" || ev.DetailType != "probe.tick" {
		t.Errorf("scheduled event = %+v", ev)
	}

	// Mail goes to the outbox, and only functions the manifest lets send
	// email get a Sender, as only they may call SES in AWS.
	if s.mail["leads"] != nil || s.mail["probe"] != st.Mailer {
		t.Errorf("senders %v: leads may not mail, probe (not in the manifest) may", s.mail)
	}
	if _, err := st.Mailer.Send(context.Background(), email.Message{To: []string{"a@example.com"}, Subject: "hi", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(st.Outbox, "*.eml")); len(files) != 1 {
		t.Errorf("outbox holds %v", files)
	}

	cancel()
	if err := st.Wait(); err != nil {
		t.Errorf("stopping: %v", err)
	}
	if conn, err := net.Dial("tcp", strings.TrimPrefix(st.URL, "http://")); err == nil {
		conn.Close()
		t.Error("the HTTP server still accepts connections")
	}
	select {
	case ev := <-s.received:
		t.Errorf("an event after the stop: %+v", ev)
	default:
	}
}

// TestStackRunsItsOwnServerAndKeepsTheData starts the stack the way
// `make dev` does — no AWS_ENDPOINT_URL_DYNAMODB — twice on one data
// directory, and checks that the second start finds the first one's data
// and key, and that each stop leaves no server running; for the default
// server (dynoxide) and for DynamoDB Local.
func TestStackRunsItsOwnServerAndKeepsTheData(t *testing.T) {
	for _, server := range []string{"", "ddblocal"} {
		t.Run(cmp.Or(server, "default"), func(t *testing.T) { testOwnServerKeepsData(t, server) })
	}
}

func testOwnServerKeepsData(t *testing.T, server string) {
	// Start points this process's SDK at its dynoxide through the
	// environment; restore the environment afterwards.
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, os.Getenv(k))
	}
	dir := t.TempDir()
	s := &stubs{received: make(chan lambdaevents.EventBridgeEvent, 10)}
	start := func() (*local.Stack, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		st, err := local.Start(ctx, local.Options{
			Dir: dir, Addr: "127.0.0.1:0", Getenv: env(map[string]string{"RAPPORT_DYNAMODB": server}),
			Registry: s.registry(), Log: local.NewLogger(io.Discard, nil), StreamPoll: 20 * time.Millisecond,
		})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		return st, cancel
	}
	stopped := func(st *local.Stack, cancel context.CancelFunc) {
		t.Helper()
		cancel()
		if err := st.Wait(); err != nil {
			t.Errorf("stopping: %v", err)
		}
		if err := syscall.Kill(st.DynamoDBPID, 0); err == nil {
			t.Errorf("%s (pid %d) still runs after the stack stopped", st.DynamoDBServer, st.DynamoDBPID)
		}
	}

	first, cancel := start()
	if first.DynamoDBPID == 0 || first.Table != local.DefaultTable || first.DynamoDBServer != cmp.Or(server, "dynoxide") {
		t.Fatalf("pid %d table %q server %q", first.DynamoDBPID, first.Table, first.DynamoDBServer)
	}
	if _, err := os.Stat(first.DynamoDBData); err != nil || !strings.HasPrefix(first.DynamoDBData, dir) {
		t.Errorf("no data at %s: %v", first.DynamoDBData, err)
	}
	if code, _ := call(t, "POST", first.URL+"/leads", "", strings.NewReader("name=Ana")); code != 200 {
		t.Fatalf("POST /leads: %d", code)
	}
	token, err := first.Token(manifest.Manager)
	if err != nil {
		t.Fatal(err)
	}
	stopped(first, cancel)

	second, cancel := start()
	defer func() { stopped(second, cancel) }()
	scan, err := second.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(second.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if scan.Count != 1 {
		t.Errorf("the second start sees %d items, want the first start's 1", scan.Count)
	}
	if code, body := call(t, "GET", second.URL+"/leads", token, nil); code != 200 || !strings.Contains(body, "[manager]") {
		t.Errorf("a token minted before the restart: %d %s", code, body)
	}
	u, _ := url.Parse(second.DynamoDBEndpoint)
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("%s listens on %q", second.DynamoDBServer, u.Host)
	}
}

// TestRealHandlersCaptureAFormLead runs the stack with the real handlers —
// the registry `make dev` uses — plus a probe consumer on a rule for lead
// events: a plain HTML form post makes one lead, a second post of the same
// person does not, staff list it with a token, and the relay publishes
// lead.captured once through the stream to the bus.
func TestRealHandlersCaptureAFormLead(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run with infra/scripts/with-dynamodb.sh dynoxide -- go test ./infra/local/...")
	}
	received := make(chan lambdaevents.EventBridgeEvent, 10)
	reg := local.DefaultRegistry()
	reg.Event["probe"] = func(app.Deps) app.EventHandler {
		return func(_ context.Context, ev lambdaevents.EventBridgeEvent) error { received <- ev; return nil }
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := local.Start(ctx, local.Options{
		Dir:        t.TempDir(),
		Addr:       "127.0.0.1:0",
		Getenv:     env(map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": "local-test-" + randomHex(4)}),
		Registry:   &reg,
		Rules:      []manifest.Rule{{Name: "probe-leads", Source: events.SourceLeads, DetailTypes: []string{events.LeadCapturedType}, Function: "probe"}},
		Log:        local.NewLogger(io.Discard, nil),
		StreamPoll: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = st.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(st.Table)})
	})

	form := url.Values{"name": {"Ana Pérez"}, "email": {"Ana@Example.com"}, "company": {"Acme"}, "source": {"demo-form"}, "consent": {"true"}, "website": {""}}
	post := func() int {
		req, _ := http.NewRequest("POST", st.URL+"/leads", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		openapitest.CheckHTTP(t, req, resp)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code >= 300 {
		t.Fatalf("first post: %d", code)
	}
	if code := post(); code >= 300 {
		t.Fatalf("second post: %d", code)
	}
	token, err := st.Token(manifest.Agent)
	if err != nil {
		t.Fatal(err)
	}
	code, body := call(t, "GET", st.URL+"/leads", token, nil)
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Source string `json:"source"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Items) != 1 || list.Items[0].Source != "demo-form" {
		t.Fatalf("GET /leads: %d %s", code, body)
	}

	wait := within(t, 30*time.Second)
	ev := receive(t, wait, received, "lead.captured from the relay")
	if ev.DetailType != events.LeadCapturedType || !strings.Contains(string(ev.Detail), list.Items[0].ID) {
		t.Errorf("event = %+v", ev)
	}
	if strings.Contains(string(ev.Detail), "example.com") || strings.Contains(string(ev.Detail), "Ana") {
		t.Errorf("the event carries personal data: %s", ev.Detail)
	}
	cancel()
	if err := st.Wait(); err != nil {
		t.Errorf("stopping: %v", err)
	}
	select {
	case ev := <-received:
		t.Errorf("a second event: %+v", ev)
	default:
	}
}
