package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// recomputeAnswer is the part of /scorecard/recompute's document the
// summary prints, a problem's detail and errors included.
type recomputeAnswer struct {
	Day     string `json:"day"`
	Equal   bool   `json:"equal"`
	Events  int    `json:"events"`
	Changed bool   `json:"changed"`
	Scopes  []struct {
		Scope       string `json:"scope"`
		Equal       bool   `json:"equal"`
		Differences []struct {
			Name       string `json:"name"`
			Stored     int64  `json:"stored"`
			Recomputed int64  `json:"recomputed"`
		} `json:"differences"`
	} `json:"scopes"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// recompute asks the running stack, as an admin, to compare a day's
// rollups with their recomputation from the journal (or, with -repair, to
// repair them), and prints a summary per scope. It exits 1 when the day
// differs (after a repair: when it still does, or changed meanwhile).
func recompute(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rapport-local recompute", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", local.DefaultDir(), "the local stack's data directory")
	day := fs.String("day", "", "the day, in the organisation's time zone: 2026-12-01")
	team := fs.String("team", "", "a team to compare besides those the day's events name")
	repair := fs.Bool("repair", false, "make the stored rollups equal the recomputation")
	base := fs.String("url", defaultURL(), "the running stack")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *day == "" {
		fmt.Fprintln(stderr, "rapport-local recompute: -day is required; e.g. make recompute DAY=2026-12-01 [REPAIR=1]")
		return 2
	}
	key, err := auth.LoadKey(*dir)
	if errors.Is(err, auth.ErrNoKey) {
		fmt.Fprintf(stderr, "rapport-local recompute: no signing key in %s yet: start the local stack once with `make dev`\n", *dir)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local recompute: %v\n", err)
		return 1
	}
	now, ok := stackNow(*base)
	if !ok {
		fmt.Fprintf(stderr, "rapport-local recompute: no stack answers at %s: start it with `make dev`\n", *base)
		return 1
	}
	token, err := auth.New(key, func() time.Time { return now }).Mint(manifest.Admin, "local-admin", 5*time.Minute)
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local recompute: %v\n", err)
		return 1
	}
	method := http.MethodGet
	if *repair {
		method = http.MethodPost
	}
	q := url.Values{"day": {*day}}
	if *team != "" {
		q.Set("team", *team)
	}
	req, err := http.NewRequest(method, strings.TrimRight(*base, "/")+"/scorecard/recompute?"+q.Encode(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local recompute: %v\n", err)
		return 1
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "rapport-local recompute: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	var a recomputeAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&a); err != nil {
		fmt.Fprintf(stderr, "rapport-local recompute: %s: %v\n", resp.Status, err)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "rapport-local recompute: %s: %s\n", resp.Status, a.Detail)
		for _, e := range a.Errors {
			fmt.Fprintf(stderr, "  %s %s\n", e.Field, e.Reason)
		}
		return 1
	}
	verb := "compared"
	if *repair {
		verb = "repaired"
	}
	fmt.Fprintf(stdout, "%s %s: %d events counted\n", verb, a.Day, a.Events)
	for _, s := range a.Scopes {
		if s.Equal {
			fmt.Fprintf(stdout, "  %-12s equal\n", s.Scope)
			continue
		}
		fmt.Fprintf(stdout, "  %-12s %d differences\n", s.Scope, len(s.Differences))
		for _, d := range s.Differences {
			fmt.Fprintf(stdout, "    %-48s stored %d, recomputed %d\n", d.Name, d.Stored, d.Recomputed)
		}
	}
	if a.Changed {
		fmt.Fprintln(stdout, "changed while repairing; run again")
	}
	if !a.Equal || a.Changed {
		return 1
	}
	return 0
}
