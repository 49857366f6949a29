// Command rapport-local runs Rapport on this machine (`make dev`) and mints
// bearer tokens for it (`make -s token ROLE=agent`).
//
//	rapport-local [-data DIR]                       run the local stack until Ctrl-C
//	rapport-local token -role ROLE [-data DIR] [-ttl 12h] [-sub NAME]
//	                                                print a token for the stack's key
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
	"github.com/rapportcrm/rapport/infra/manifest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return token(args[1:], stdout, stderr)
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

	log := local.NewLogger(stderr, slog.LevelInfo)
	st, err := local.Start(ctx, local.Options{Dir: *dir, Log: log, Banner: stdout})
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
	sub := fs.String("sub", "", "the token's subject (default local-ROLE)")
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
	subject := *sub
	if subject == "" {
		subject = "local-" + *role
	}
	t, err := auth.New(key, time.Now).Mint(r, subject, *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, t)
	return 0
}
