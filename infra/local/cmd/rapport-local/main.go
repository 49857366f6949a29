// Command rapport-local runs Rapport on this machine (`make dev`), mints
// bearer tokens for it (`make -s token ROLE=agent`) and moves its clock
// (`make -s clock ADVANCE=90m`).
//
//	rapport-local [-data DIR]                       run the local stack until Ctrl-C
//	                                                (RAPPORT_CLOCK=RFC3339 starts its clock frozen there)
//	rapport-local token -role ROLE [-user NAME] [-data DIR] [-ttl 12h] [-url URL]
//	                                                print a token for the stack's key, issued at the
//	                                                running stack's time (real time if none runs)
//	rapport-local clock [-advance 90m | -set RFC3339] [-url URL]
//	                                                print, or move and print, the running stack's time
//	rapport-local reset [-data DIR] [-url URL]      delete the DynamoDB data and the outbox (make demo),
//	                                                refusing while a stack answers at URL
//	rapport-local recompute -day YYYY-MM-DD [-team T] [-repair] [-url URL]
//	                                                compare (or repair) a day's rollups with their
//	                                                recomputation from the event journal (make recompute)
//
// On a first start with an empty table the stack fills it with the demo
// company's last 90 days (package demo); RAPPORT_DEMO=0 starts it empty.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/local/demo"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// DemoVar set to 0 starts an empty table empty instead of seeding the
// demo company's last 90 days into it.
const DemoVar = "RAPPORT_DEMO"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "token":
			return token(args[1:], stdout, stderr)
		case "clock":
			return moveClock(args[1:], stdout, stderr)
		case "recompute":
			return recompute(args[1:], stdout, stderr)
		case "reset":
			return reset(args[1:], stdout, stderr)
		}
	}
	return serve(args, stdout, stderr)
}

// serve runs the stack until SIGINT or SIGTERM. A second signal kills the
// process at once; dynoxide dies with it (parent-death signal).
func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rapport-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", local.DefaultDir(), "data directory: DynamoDB file, signing key, mail outbox")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	level := new(slog.LevelVar) // INFO
	log := local.NewLogger(stderr, level)
	o := local.Options{Dir: *dir, Log: log, Banner: stdout}
	if os.Getenv(DemoVar) != "0" {
		seed := demo.Seed(demo.Full, stdout)
		// Only into an empty table on a real clock. The stack's log of
		// the seed's tens of thousands of requests, events and mails
		// would cost time and bury the banner: warnings only meanwhile.
		o.Seed = func(ctx context.Context, st *local.Stack) error {
			fmt.Fprintf(stdout, "\n  Seeding the demo company's last 90 days into the empty table (RAPPORT_DEMO=0 make dev starts empty)…\n")
			level.Set(slog.LevelWarn)
			defer level.Set(slog.LevelInfo)
			return seed(ctx, st)
		}
	}
	st, err := local.Start(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local: %v\n", err)
		return 1
	}
	<-ctx.Done()
	stopSignals() // a second Ctrl-C ends the process at once
	if err := st.Wait(); err != nil {
		fmt.Fprintf(stderr, "rapport-local: %v\n", err)
		return 1
	}
	return 0
}

// token prints one bearer token, and nothing else, for the key of the
// local stack whose data is in -data.
func token(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rapport-local token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", local.DefaultDir(), "the local stack's data directory")
	role := fs.String("role", "", "agent, manager or admin")
	ttl := fs.Duration("ttl", local.DefaultTokenTTL, "how long the token is valid")
	user := fs.String("user", "", "the person: the token's sub, with USER@"+auth.EmailDomain+" its email (default local-ROLE)")
	url := fs.String("url", defaultURL(), "the running stack, whose time the token is issued at")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	r := manifest.Role(*role)
	if !slices.Contains(manifest.Roles, r) {
		fmt.Fprintf(stderr, "rapport-local token: -role must be agent, manager or admin (got %q); e.g. make -s token ROLE=agent\n", *role)
		return 2
	}
	key, err := auth.LoadKey(*dir)
	if errors.Is(err, auth.ErrNoKey) {
		fmt.Fprintf(stderr, "rapport-local token: no signing key in %s yet: start the local stack once with `make dev`\n", *dir)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local token: %v\n", err)
		return 1
	}
	subject := *user
	if subject == "" {
		subject = "local-" + *role
	}
	// A stack whose clock stands in the past or the future checks a
	// token's times against its own; ask it for them.
	now := time.Now
	if t, ok := stackNow(*url); ok {
		now = func() time.Time { return t }
	}
	t, err := auth.New(key, now).Mint(r, subject, *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, t)
	return 0
}
