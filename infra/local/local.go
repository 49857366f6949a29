// Package local runs the whole of Rapport on one machine — the local stack
// behind `make dev` and the end-to-end tests. It starts (or reuses) a
// DynamoDB-compatible server, creates the table from the CDK stack's
// definition, builds each function's handler with the same app
// constructors the Lambdas use, and serves them through a local API
// Gateway with the JWT authorizer's checks, a DynamoDB Streams poller
// feeding the relay, an in-process event bus applying the manifest's
// rules, the schedules on timers, and a mail outbox in a folder.
package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/local/bus"
	"github.com/rapportcrm/rapport/infra/local/dynamodbserver"
	"github.com/rapportcrm/rapport/infra/local/gateway"
	"github.com/rapportcrm/rapport/infra/local/internal/activity"
	"github.com/rapportcrm/rapport/infra/local/internal/clock"
	"github.com/rapportcrm/rapport/infra/local/mail"
	"github.com/rapportcrm/rapport/infra/local/scheduler"
	"github.com/rapportcrm/rapport/infra/local/streams"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/relay"
)

// Defaults of Options.
const (
	DefaultPort     = "8080"
	DefaultTable    = "rapport"
	DefaultBus      = "rapport-local"
	DefaultRegion   = "us-east-1"
	DefaultTokenTTL = 12 * time.Hour
	// DefaultSalesQueue receives the local reminders of unassigned tasks.
	DefaultSalesQueue = "Sales team <sales@rapport.localhost>"
	outboxDirName     = "outbox"
	shutdownDeadline  = 10 * time.Second
)

// Options configure Start. The zero value is `make dev`.
type Options struct {
	// Dir holds the data: the DynamoDB file, the signing key, the link
	// keyring, the outbox (default DefaultDir(): .rapport under the
	// repository root).
	Dir string
	// Addr is the HTTP listen address (default 127.0.0.1:$PORT, PORT
	// defaulting to 8080). "127.0.0.1:0" picks a free port; Stack.URL
	// tells which.
	Addr string
	// Getenv reads the settings (default os.Getenv): PORT, the functions'
	// variables (TABLE_NAME, ORG_TIME_ZONE, CORS_ALLOWED_ORIGINS, …) and
	// AWS_ENDPOINT_URL_DYNAMODB. When the last is empty Start runs its own
	// server (RAPPORT_DYNAMODB: dynoxide, the default, or ddblocal) and
	// points this process's SDK at it through the environment.
	Getenv func(string) string
	// Registry builds the handlers (default DefaultRegistry()). Tests put
	// stubs here.
	Registry *Registry
	// Routes, Rules and Schedules default to the manifest's; tests may add
	// sample rules and schedules.
	Routes    []manifest.Route
	Rules     []manifest.Rule
	Schedules []manifest.Schedule
	// Clock is the stack's time: it drives the schedules and the retries
	// (default the real clock, or one frozen at RAPPORT_CLOCK). A
	// *clock.Fake makes the stack's time movable: it stands still until
	// Stack.Advance, Stack.SetClock or POST /_local/clock moves it, firing
	// the schedules due on the way (see clock.go).
	Clock clock.Clock
	// Now is the handlers' and the authorizer's clock (default Clock.Now).
	Now func() time.Time
	// SettleTimeout bounds each wait, while the clock moves, for the work a
	// schedule's run set off to finish (default DefaultSettleTimeout).
	SettleTimeout time.Duration
	// Log receives the stack's log (default NewLogger(os.Stderr, INFO)).
	Log *slog.Logger
	// Banner, when set, receives the welcome text once the stack is up.
	Banner io.Writer
	// Dynoxide is the server binary (default: found under the repository's
	// node_modules).
	Dynoxide string
	// StreamPoll is the streams poller's idle interval (default 250 ms).
	StreamPoll time.Duration
	// Seed, when set, fills an empty table before Start returns (`make
	// dev`'s demo data; tests leave it nil). On a stack whose clock would
	// be real and whose table is empty, the clock starts frozen SeedSpan
	// before now; Seed moves it (SetClock, SetClockEvery) while it drives
	// the stack through its HTTP API, and the clock then runs on in real
	// time from where Seed left it (RunClock). A table holding anything,
	// or a frozen or given clock, is left as it is and Seed is not called.
	Seed func(ctx context.Context, st *Stack) error
	// SeedSpan is how far back the seeded history begins (default 90 days).
	SeedSpan time.Duration
}

// Stack is a running local stack. It stops when Start's context ends.
type Stack struct {
	// URL is the HTTP API's base URL, e.g. "http://127.0.0.1:8080".
	URL string
	// Dir is the data directory; Outbox the folder mail goes to.
	Dir, Outbox string
	// DynamoDBEndpoint is the DynamoDB server in use; DynamoDBPID is the
	// process id of the server the stack started, 0 when the server was
	// given. DynamoDBServer names that server (ddblocal or dynoxide) and
	// DynamoDBData is where it keeps the data.
	DynamoDBEndpoint string
	DynamoDBPID      int
	DynamoDBServer   string
	DynamoDBData     string
	// Table is the table's name.
	Table string
	// Auth mints tokens the stack accepts.
	Auth *auth.Authority
	// Links is the keyring the functions sign customers' links with
	// (LinksFile in Dir), so a test can open a ticket's page as its
	// customer would.
	Links *links.Keyring
	// Mailer delivers into Outbox.
	Mailer email.Sender
	// DynamoDB is the client the handlers use.
	DynamoDB *dynamodb.Client
	// Config is the functions' configuration.
	Config config.Config

	now   func() time.Time
	bus   *bus.Bus
	mover *mover // nil when the clock is real
	// seeding is set while Options.Seed runs: the clock is the demo's
	// and cannot be moved by hand.
	seeding atomic.Bool
	done    chan struct{}
	err     error
}

// Token returns a bearer token for role, valid for DefaultTokenTTL from the
// stack's time, for the person local-ROLE.
func (s *Stack) Token(role manifest.Role) (string, error) {
	return s.TokenFor(role, "")
}

// TokenFor returns a bearer token for role whose subject is user (default
// local-ROLE), so that several people can be tried on one stack.
func (s *Stack) TokenFor(role manifest.Role, user string) (string, error) {
	if user == "" {
		user = "local-" + string(role)
	}
	return s.Auth.Mint(role, user, DefaultTokenTTL)
}

// Done is closed once everything the stack started has stopped.
func (s *Stack) Done() <-chan struct{} { return s.done }

// Wait blocks until the stack has stopped and returns what went wrong in
// stopping, or the failure that stopped it early.
func (s *Stack) Wait() error {
	<-s.done
	return s.err
}

// Start starts the stack and returns once it serves requests. Everything
// it started stops when ctx ends; Wait or Done tell when that is done.
func Start(ctx context.Context, o Options) (*Stack, error) {
	frozen, err := frozenClock(o)
	if err != nil {
		return nil, err
	}
	if frozen != nil {
		o.Clock = frozen
	}
	mayseed := o.Seed != nil && o.Clock == nil
	o = withDefaults(o)
	st := &Stack{Dir: o.Dir, Outbox: filepath.Join(o.Dir, outboxDirName), done: make(chan struct{})}
	var cleanup []func(context.Context) error // run in reverse on failure and at shutdown
	fail := func(err error) (*Stack, error) {
		stop(cleanup, o.Log)
		return nil, err
	}

	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (set PORT to use another port): %w", o.Addr, err)
	}
	cleanup = append(cleanup, func(context.Context) error { _ = ln.Close(); return nil })
	port := ln.Addr().(*net.TCPAddr).Port
	st.URL = fmt.Sprintf("http://127.0.0.1:%d", port)

	key, err := auth.LoadOrCreateKey(o.Dir)
	if err != nil {
		return fail(err)
	}
	if st.Links, err = LoadOrCreateLinks(o.Dir); err != nil {
		return fail(err)
	}

	// DynamoDB: the server named by the SDK's own variable, else our own.
	var dbDone <-chan struct{} // closed if our server exits
	var dbLog string
	if endpoint := o.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); endpoint != "" {
		st.DynamoDBEndpoint = endpoint
	} else {
		srv, err := startDynamoDB(ctx, o)
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, srv.stop...)
		dbDone, dbLog = srv.Done(), srv.log
		st.DynamoDBEndpoint, st.DynamoDBPID = srv.Endpoint, srv.PID
		st.DynamoDBServer, st.DynamoDBData = string(srv.Kind), srv.data
		if err := pointSDKAt(srv.Endpoint, o.Getenv); err != nil {
			return fail(err)
		}
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithDefaultRegion(DefaultRegion))
	if err != nil {
		return fail(fmt.Errorf("load AWS config: %w", err))
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	st.DynamoDB = ddb

	cfg, err := config.FromEnv(localEnv(o.Getenv, port))
	if err != nil {
		return fail(fmt.Errorf("configuration: %w", err))
	}
	st.Table, st.Config = cfg.TableName, cfg
	if err := dynamo.EnsureTable(ctx, ddb, cfg.TableName, schema.Rapport); err != nil {
		return fail(fmt.Errorf("%w (is the DynamoDB server at %s running?)", err, st.DynamoDBEndpoint))
	}
	seeding := false
	if mayseed {
		if seeding, err = tableEmpty(ctx, ddb, cfg.TableName); err != nil {
			return fail(err)
		}
	}
	if seeding {
		// The demo's history is lived on a movable clock that starts
		// SeedSpan ago, on the hour.
		fake := clock.NewFake(time.Now().Add(-o.SeedSpan).UTC().Truncate(time.Hour))
		o.Clock, o.Now = fake, fake.Now
	}
	st.now = o.Now
	st.Auth = auth.New(key, o.Now)

	outbox := &mail.Outbox{Dir: st.Outbox, From: cfg.MailFrom, Log: o.Log, Now: o.Now} // dated by the stack's clock, frozen or not
	st.Mailer = outbox

	// The handlers, built as each Lambda's main builds its own. The bus
	// needs the event handlers and the relay needs the bus, so the relay's
	// publisher forwards to the bus once it exists.
	pub := &forward{}
	hs, err := o.Registry.build(func(name string) app.Deps {
		d := app.Deps{Config: cfg, DynamoDB: ddb, Now: o.Now, Log: o.Log.With("fn", name)}
		if f, ok := manifest.FunctionNamed(name); !ok || f.PublishEvents {
			d.Publisher = pub
		}
		if f, ok := manifest.FunctionNamed(name); !ok || f.SendEmail {
			d.Mail = outbox // as in AWS, where only SendEmail functions may mail
		}
		if f, ok := manifest.FunctionNamed(name); !ok || f.ReadsLinkKeys {
			d.Links = st.Links // as in AWS, where only ReadsLinkKeys functions may read the keyring
		}
		return d
	})
	if err != nil {
		return fail(err)
	}
	if err := hs.check(o.Routes, o.Rules, o.Schedules); err != nil {
		return fail(err)
	}
	work := &activity.Tracker{} // the runs and deliveries in flight, for the movable clock
	b, err := bus.New(bus.Options{Rules: o.Rules, Handlers: hs.event, Clock: o.Clock, Log: o.Log, Region: awsCfg.Region, Activity: work})
	if err != nil {
		return fail(err)
	}
	pub.p, st.bus = b, b
	gw, err := gateway.New(gateway.Options{
		Routes: o.Routes, Handlers: hs.http, Authorizer: st.Auth, Now: o.Now, Log: o.Log, Region: awsCfg.Region,
	})
	if err != nil {
		return fail(err)
	}
	sched, err := scheduler.New(scheduler.Options{
		Schedules: o.Schedules, Handlers: hs.event, Location: cfg.TimeZone, Clock: o.Clock, Log: o.Log, Region: awsCfg.Region,
	})
	if err != nil {
		return fail(err)
	}
	var pollers []*streams.Poller
	if len(hs.stream) > 0 {
		arn, err := streams.StreamARN(ctx, ddb, cfg.TableName)
		if err != nil {
			return fail(err)
		}
		sc := streams.NewClient(awsCfg, ddb)
		checkpoints := filepath.Join(o.Dir, StreamsDirName)
		if err := os.MkdirAll(checkpoints, 0o700); err != nil {
			return fail(err)
		}
		for name, h := range hs.stream {
			pollers = append(pollers, streams.New(sc, arn, h, streams.Options{
				Interval: o.StreamPoll, Region: awsCfg.Region, Log: o.Log.With("fn", name),
				Checkpoints: streams.NewFileCheckpoints(filepath.Join(checkpoints, name+".json")),
			}))
		}
	}
	for _, f := range manifest.Functions {
		if f.Kind == manifest.Stream && hs.stream[f.Name] == nil {
			o.Log.Warn("function not wired: it has no handler in the registry", "fn", f.Name)
		}
	}

	// Run. Background work gets its own context so shutdown can stop it in
	// order: requests first, then the timers and the poller, then the bus
	// they feed, then the database.
	cleanup = append(cleanup, func(ctx context.Context) error { return st.mover.closeBus(ctx, b, o.Log) })
	runCtx, cancelRun := context.WithCancel(context.Background())
	var running sync.WaitGroup
	cleanup = append(cleanup, func(context.Context) error { cancelRun(); running.Wait(); return nil })
	if fake, ok := o.Clock.(*clock.Fake); ok {
		st.mover = &mover{
			clk: fake, sched: sched, pollers: pollers, activity: work, runCtx: runCtx, stopping: ctx,
			spawn: func(f func()) { running.Go(f) }, timeout: o.SettleTimeout, log: o.Log, turn: make(chan struct{}, 1),
		}
	} else {
		running.Go(func() { sched.Run(runCtx) })
	}
	for _, p := range pollers {
		running.Go(func() {
			if err := p.Run(runCtx); err != nil {
				o.Log.Error("streams poller stopped", "err", err)
			}
		})
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", serveDemoForm)
	mux.HandleFunc("GET /support", serveDemoSupportForm)
	mux.HandleFunc(ClockPath, st.serveClock)
	mux.HandleFunc("GET "+ScorecardPagePath, st.serveScorecardPage(gw))
	mux.Handle("/", gw)
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	cleanup = append(cleanup, func(ctx context.Context) error {
		err := server.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			_ = server.Close()
		}
		return err
	})

	// The stack serves while a seed runs: the banner comes first, so that
	// a newcomer can watch the history fill in.
	st.seeding.Store(seeding)
	if o.Banner != nil {
		printBanner(o.Banner, st)
	}
	if seeding {
		began := time.Now()
		o.Log.Info("seeding the demo data: an empty table (RAPPORT_DEMO=0 starts empty)")
		err := o.Seed(ctx, st)
		if err == nil {
			err = st.RunClock(ctx)
		}
		st.seeding.Store(false)
		if err != nil {
			return fail(fmt.Errorf("seed the demo data: %w", err))
		}
		o.Log.Info("seeded the demo data", "seconds", fmt.Sprintf("%.1f", time.Since(began).Seconds()))
		if o.Banner != nil {
			fmt.Fprintf(o.Banner, "  Ready          the demo is in, after %.0f s; the clock runs in real time from now on\n\n", time.Since(began).Seconds())
		}
	}
	o.Log.Info("ready", "url", st.URL, "table", st.Table, "dynamodb", st.DynamoDBEndpoint)

	go func() {
		var cause error
		select {
		case <-ctx.Done():
		case err := <-served:
			cause = fmt.Errorf("HTTP server stopped: %w", err)
		case <-dbDone:
			cause = errors.New("the DynamoDB server exited unexpectedly; see " + display(dbLog))
		}
		if cause != nil {
			o.Log.Error("stopping", "err", cause)
		} else {
			o.Log.Info("stopping")
		}
		err := stop(cleanup, o.Log)
		st.err = errors.Join(cause, err)
		o.Log.Info("stopped")
		close(st.done)
	}()
	return st, nil
}

// stop runs the cleanups in reverse order within shutdownDeadline.
func stop(cleanup []func(context.Context) error, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownDeadline)
	defer cancel()
	var errs []error
	for i := len(cleanup) - 1; i >= 0; i-- {
		if err := cleanup[i](ctx); err != nil {
			log.Warn("shutdown", "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func withDefaults(o Options) Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Dir == "" {
		o.Dir = DefaultDir()
	}
	if abs, err := filepath.Abs(o.Dir); err == nil {
		o.Dir = abs
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:" + cmp.Or(o.Getenv("PORT"), DefaultPort)
	}
	if o.Registry == nil {
		r := DefaultRegistry()
		o.Registry = &r
	}
	if o.Routes == nil {
		o.Routes = manifest.Routes
	}
	if o.Rules == nil {
		o.Rules = manifest.Rules
	}
	if o.Schedules == nil {
		o.Schedules = manifest.Schedules
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Now == nil {
		o.Now = o.Clock.Now
	}
	if o.SeedSpan <= 0 {
		o.SeedSpan = 90 * 24 * time.Hour
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = DefaultSettleTimeout
	}
	if o.Log == nil {
		o.Log = NewLogger(os.Stderr, slog.LevelInfo)
	}
	if o.Dynoxide == "" {
		if wd, err := os.Getwd(); err == nil {
			o.Dynoxide, _ = dynamodbserver.FindBinary(wd)
		}
		if o.Dynoxide == "" {
			o.Dynoxide = dynamodbserver.BinaryPath
		}
	}
	return o
}

// pointSDKAt makes this process's AWS SDK talk to the local server, through
// the SDK's own variables, with static local credentials so that no real
// account's credentials or profile are used.
func pointSDKAt(endpoint string, getenv func(string) string) error {
	vars := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": endpoint,
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_REGION":                cmp.Or(getenv("AWS_REGION"), DefaultRegion),
	}
	for k, v := range vars {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"} {
		if err := os.Unsetenv(k); err != nil {
			return fmt.Errorf("unset %s: %w", k, err)
		}
	}
	return nil
}

// localEnv gives the functions' settings local defaults: the table and bus
// names, and this server's origins added to the CORS and redirect
// allowlists so the demo form works.
func localEnv(getenv func(string) string, port int) func(string) string {
	origins := fmt.Sprintf("http://127.0.0.1:%d,http://localhost:%d", port, port)
	return func(k string) string {
		v := getenv(k)
		switch k {
		case "TABLE_NAME":
			return cmp.Or(v, DefaultTable)
		case "EVENT_BUS_NAME":
			return cmp.Or(v, DefaultBus)
		case "CORS_ALLOWED_ORIGINS", "FORM_REDIRECT_ORIGINS":
			if strings.TrimSpace(v) == "" {
				return origins
			}
			return v + "," + origins
		case "APP_URL":
			return cmp.Or(v, fmt.Sprintf("http://127.0.0.1:%d", port))
		case "SALES_QUEUE_EMAIL":
			return cmp.Or(v, DefaultSalesQueue)
		}
		return v
	}
}

// forward is the relay's publisher: it forwards to the bus, which is built
// after the handlers.
type forward struct{ p relay.Publisher }

func (f *forward) Publish(ctx context.Context, envs []events.Envelope) []error {
	return f.p.Publish(ctx, envs)
}
