package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/infra/local"
)

// defaultURL is where `make dev` serves: PORT, default 8080.
func defaultURL() string {
	return "http://127.0.0.1:" + cmp.Or(os.Getenv("PORT"), local.DefaultPort)
}

// clockAnswer is what the stack's clock endpoint answers, a problem's
// detail included.
type clockAnswer struct {
	Now       time.Time      `json:"now"`
	Frozen    bool           `json:"frozen"`
	Fired     map[string]int `json:"fired"` // set after a move
	Retrying  int            `json:"retrying"`
	NextRetry string         `json:"next_retry"`
	Detail    string         `json:"detail"`
}

// stackNow asks the stack at base for its time; ok is false when no stack
// answers there.
func stackNow(base string) (time.Time, bool) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(strings.TrimRight(base, "/") + local.ClockPath)
	if err != nil {
		return time.Time{}, false
	}
	defer resp.Body.Close()
	var a clockAnswer
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&a) != nil || a.Now.IsZero() {
		return time.Time{}, false
	}
	return a.Now, true
}

// moveClock prints the running stack's time, or moves its frozen clock and
// prints the new time: the time alone on stdout, a summary on stderr.
func moveClock(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rapport-local clock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	advance := fs.String("advance", "", "move the clock forward by this much: 90m, 36h, 7d, 1d12h")
	set := fs.String("set", "", "move the clock to this RFC 3339 instant, e.g. 2026-03-09T08:00:00Z")
	base := fs.String("url", defaultURL(), "the running stack")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *advance != "" && *set != "" {
		fmt.Fprintln(stderr, "rapport-local clock: give -advance or -set, not both")
		return 2
	}
	if *advance != "" {
		if _, err := local.ParseAdvance(*advance); err != nil {
			fmt.Fprintf(stderr, "rapport-local clock: -advance: %v\n", err)
			return 2
		}
	}

	endpoint := strings.TrimRight(*base, "/") + local.ClockPath
	var (
		resp *http.Response
		err  error
	)
	if *advance == "" && *set == "" {
		resp, err = http.Get(endpoint)
	} else {
		// No timeout: a long move takes as long as its runs take, and
		// Ctrl-C here stops the move there.
		form := url.Values{}
		if *advance != "" {
			form.Set("advance", *advance)
		} else {
			form.Set("set", *set)
		}
		resp, err = http.PostForm(endpoint, form)
	}
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		fmt.Fprintf(stderr, "rapport-local clock: no local stack answers at %s (%v): start one with `make dev`, or set PORT to the port it runs on\n", *base, err)
		return 1
	}
	defer resp.Body.Close()
	var a clockAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a); err != nil {
		fmt.Fprintf(stderr, "rapport-local clock: %s answered %s, not the clock: is a local stack running there?\n", endpoint, resp.Status)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "rapport-local clock: %s\n", cmp.Or(a.Detail, resp.Status))
		return 1
	}
	fmt.Fprintln(stdout, a.Now.UTC().Format(time.RFC3339Nano))
	switch {
	case !a.Frozen:
		fmt.Fprintf(stderr, "real time: start the stack with %s=2026-03-02T08:00:00Z to freeze the clock and move it\n", local.ClockVar)
	case a.Fired != nil:
		fmt.Fprintln(stderr, summary(a.Fired))
		if a.Retrying > 0 {
			fmt.Fprintf(stderr, "%d failed runs or deliveries wait to retry from %s on: move the clock on to run them\n", a.Retrying, a.NextRetry)
		}
	}
	return 0
}

// summary says how often each schedule ran.
func summary(fired map[string]int) string {
	if len(fired) == 0 {
		return "no schedule fell due"
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(fired)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", name, fired[name]))
	}
	return "ran " + strings.Join(parts, ", ")
}
