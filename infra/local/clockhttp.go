package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ClockPath is the movable clock's control endpoint on the stack's own
// HTTP server. It is not an API route — API Gateway has no such path and
// the manifest's routes never start with "_" — and exists only locally.
//
//	GET  /_local/clock                → {"now": "…", "frozen": true|false}
//	POST /_local/clock  advance=90m   → moves a frozen clock forward
//	POST /_local/clock  set=RFC3339   → moves it to an instant
//
// A POST answers {"now", "frozen", "from", "fired": {schedule: runs}} once
// the move's work is done, with "retrying" and "next_retry" when failed
// work waits for a retry due after the move's end; 409 when the clock is real, 400 for a bad or
// backward value, 504 when the work does not settle in time.
const ClockPath = "/_local/clock"

// clockState is GET's answer.
type clockState struct {
	Now    string `json:"now"`
	Frozen bool   `json:"frozen"`
}

// moveState is a POST's answer.
type moveState struct {
	clockState
	From  string         `json:"from"`
	Fired map[string]int `json:"fired"`
	// Retrying counts the failed runs and deliveries that wait for a
	// retry due after now, at NextRetry at the earliest.
	Retrying  int    `json:"retrying"`
	NextRetry string `json:"next_retry,omitempty"`
}

// serveClock is ClockPath's handler.
func (s *Stack) serveClock(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, clockState{Now: stamp(s.Now()), Frozen: s.Frozen()})
	case http.MethodPost:
		s.moveClock(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeClockProblem(w, http.StatusMethodNotAllowed, "method_not_allowed",
			r.Method+" is not allowed on "+ClockPath+": GET reads the clock, POST moves it", nil)
	}
}

// moveClock answers a POST: exactly one of the fields advance and set, in
// the query or a form body.
func (s *Stack) moveClock(w http.ResponseWriter, r *http.Request) {
	// A web page in a browser must not move a developer's clock: browsers
	// name the page's origin on a cross-origin POST; curl sends none.
	if o := r.Header.Get("Origin"); o != "" && o != s.URL && o != strings.Replace(s.URL, "127.0.0.1", "localhost", 1) {
		writeClockProblem(w, http.StatusForbidden, "forbidden", "the clock is moved from this machine's command line, not from a web page ("+o+")", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		writeClockProblem(w, http.StatusBadRequest, "invalid", "the body is not a form of at most 1 KiB: send advance=90m or set=2026-03-02T08:00:00Z", nil)
		return
	}
	advance, set := strings.TrimSpace(r.Form.Get("advance")), strings.TrimSpace(r.Form.Get("set"))
	if (advance == "") == (set == "") {
		writeClockProblem(w, http.StatusBadRequest, "invalid", "give exactly one of advance and set",
			[]fieldError{{"advance", "give a duration such as 90m, 24h or 7d, or else set"}, {"set", "give an RFC 3339 instant such as 2026-03-02T08:00:00Z, or else advance"}})
		return
	}
	if s.seeding.Load() {
		writeClockProblem(w, http.StatusConflict, "conflict", ErrSeeding.Error(), nil)
		return
	}
	if !s.Frozen() {
		writeClockProblem(w, http.StatusConflict, "conflict", ErrClockReal.Error(), nil)
		return
	}
	var (
		mv  Move
		err error
	)
	if advance != "" {
		d, perr := ParseAdvance(advance)
		if perr != nil {
			writeClockProblem(w, http.StatusBadRequest, "invalid", "advance: "+perr.Error(), []fieldError{{"advance", perr.Error()}})
			return
		}
		mv, err = s.Advance(r.Context(), d)
	} else {
		t, perr := time.Parse(time.RFC3339, set)
		if perr != nil {
			reason := fmt.Sprintf("%q is not an RFC 3339 instant such as 2026-03-02T08:00:00Z", set)
			writeClockProblem(w, http.StatusBadRequest, "invalid", "set: "+reason, []fieldError{{"set", reason}})
			return
		}
		mv, err = s.SetClock(r.Context(), t)
	}
	switch {
	case errors.Is(err, ErrClockBackwards):
		field := "set"
		if advance != "" {
			field = "advance"
		}
		writeClockProblem(w, http.StatusBadRequest, "invalid", field+": "+err.Error(), []fieldError{{field, err.Error()}})
	case errors.Is(err, ErrNotSettled):
		writeClockProblem(w, http.StatusGatewayTimeout, "not_settled", err.Error(), nil)
	case err != nil:
		writeClockProblem(w, http.StatusServiceUnavailable, "interrupted",
			fmt.Sprintf("the move stopped at %s: %v", stamp(s.Now()), err), nil)
	default:
		a := moveState{clockState: clockState{Now: stamp(mv.To), Frozen: true}, From: stamp(mv.From), Fired: mv.Fired, Retrying: mv.Retrying}
		if mv.Retrying > 0 && !mv.NextRetry.IsZero() {
			a.NextRetry = stamp(mv.NextRetry)
		}
		writeJSON(w, http.StatusOK, a)
	}
}

// ParseAdvance reads how far to move the clock: a Go duration ("90m",
// "1h30m", "36h"), optionally led by whole days ("7d", "1d12h"). It must be
// positive.
func ParseAdvance(v string) (time.Duration, error) {
	rest := v
	var days int64
	if i := strings.IndexByte(v, 'd'); i >= 0 {
		n, err := strconv.ParseInt(v[:i], 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 90m, 24h or 7d", v)
		}
		days, rest = n, v[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 90m, 24h or 7d", v)
		}
	}
	if days > int64(100*365) {
		return 0, fmt.Errorf("%q is more than a hundred years", v)
	}
	d += time.Duration(days) * 24 * time.Hour
	if d <= 0 {
		return 0, fmt.Errorf("%q does not move the clock: give a positive duration", v)
	}
	return d, nil
}

// fieldError names a field at fault, as the API's problems do.
type fieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// writeClockProblem writes an RFC 9457 problem shaped like the API's own.
func writeClockProblem(w http.ResponseWriter, status int, code, detail string, fields []fieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type   string       `json:"type"`
		Title  string       `json:"title"`
		Status int          `json:"status"`
		Detail string       `json:"detail"`
		Code   string       `json:"code"`
		Errors []fieldError `json:"errors,omitempty"`
	}{"about:blank", http.StatusText(status), status, detail, code, fields})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
