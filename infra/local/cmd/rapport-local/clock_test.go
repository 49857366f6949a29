package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/local/auth"
)

// startStack runs the local stack with the real handlers on the test's
// DynamoDB server, with the given settings, until the test ends.
func startStack(t *testing.T, settings map[string]string) *local.Stack {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run with infra/scripts/with-dynamodb.sh dynoxide -- go test ./infra/local/...")
	}
	vars := map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": "cmd-test-" + time.Now().Format("150405.000000")}
	for k, v := range settings {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := local.Start(ctx, local.Options{
		Dir: t.TempDir(), Addr: "127.0.0.1:0", Getenv: func(k string) string { return vars[k] },
		Log: local.NewLogger(io.Discard, nil), StreamPoll: 20 * time.Millisecond,
	})
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
	return st
}

// cli runs the command and returns its exit code, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// status is the status of GET /leads with token.
func status(t *testing.T, st *local.Stack, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", st.URL+"/leads", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTokensAndTheClockOfAFrozenStack drives `make -s token` and
// `make -s clock` against a stack frozen in the past: tokens for named
// people are issued at the stack's time and accepted there, the clock
// moves into the future, and the tokens minted then are accepted too.
func TestTokensAndTheClockOfAFrozenStack(t *testing.T) {
	st := startStack(t, map[string]string{local.ClockVar: "2025-01-06T08:00:00Z"})

	code, out, errOut := cli("clock", "-url", st.URL)
	if code != 0 || out != "2025-01-06T08:00:00Z\n" || errOut != "" {
		t.Fatalf("clock: %d %q %q", code, out, errOut)
	}

	code, out, errOut = cli("token", "-role", "agent", "-user", "agent-2", "-data", st.Dir, "-url", st.URL)
	if code != 0 || errOut != "" {
		t.Fatalf("token: %d %q", code, errOut)
	}
	past := strings.TrimSpace(out)
	if got := status(t, st, past); got != 200 {
		t.Errorf("a token for agent-2 at the stack's past time: %d", got)
	}
	claims, err := st.Auth.Authorize(past)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Claims["sub"] != "agent-2" || claims.Claims["email"] != "agent-2@example.com" || claims.Claims[auth.GroupsClaim] != "[agent]" ||
		claims.Claims["iat"] != "1736150400" {
		t.Errorf("claims %v", claims.Claims)
	}
	_, out, _ = cli("token", "-role", "agent", "-data", st.Dir, "-url", st.URL)
	if other, _ := st.Auth.Authorize(strings.TrimSpace(out)); other == nil || other.Claims["sub"] != "local-agent" {
		t.Errorf("a token without -user: %v", other)
	}

	future := time.Now().UTC().AddDate(1, 0, 0).Truncate(time.Second).Format(time.RFC3339)
	code, out, errOut = cli("clock", "-set", future, "-url", st.URL)
	// Years of the minute's sweep run local.MaxRunsPerMove times. The
	// nightly snapshot (00:05) and value ranking (00:30) catch up too:
	// after each run the stack skips their runs within a thousandth of the
	// move, so each runs every other night here. The weekly report, which does not catch up, runs every Monday
	// at 08:00 (UTC, the default zone).
	from := time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	to, _ := time.Parse(time.RFC3339, future)
	gap := to.Sub(from) / local.MaxRunsPerMove
	nights, ranks, mondays := 0, 0, 0
	var skipUntil, skipRanksUntil time.Time
	for d := time.Date(2025, 1, 7, 0, 5, 0, 0, time.UTC); !d.After(to); d = d.AddDate(0, 0, 1) {
		if !d.Before(skipUntil) {
			nights++
			skipUntil = d.Add(gap)
		}
		if r := d.Add(25 * time.Minute); !r.After(to) && !r.Before(skipRanksUntil) {
			ranks++
			skipRanksUntil = r.Add(gap)
		}
		if at := d.Add(7*time.Hour + 55*time.Minute); d.Weekday() == time.Monday && !at.After(to) {
			mondays++
		}
	}
	summary := fmt.Sprintf("ran customers-rank-value ×%d, reminders-sweep ×%d, scorecard-snapshot ×%d, weekly-report ×%d\n", ranks, local.MaxRunsPerMove, nights, mondays)
	if code != 0 || out != future+"\n" || errOut != summary {
		t.Fatalf("clock -set %s: %d %q %q", future, code, out, errOut)
	}
	if got := status(t, st, past); got != 401 {
		t.Errorf("a token whose expiry the clock passed: %d", got)
	}
	_, out, _ = cli("token", "-role", "manager", "-data", st.Dir, "-url", st.URL)
	if got := status(t, st, strings.TrimSpace(out)); got != 200 {
		t.Errorf("a token at the stack's future time: %d", got)
	}

	code, out, _ = cli("clock", "-advance", "1d12h", "-url", st.URL)
	want, _ := time.Parse(time.RFC3339, future)
	if code != 0 || out != want.Add(36*time.Hour).Format(time.RFC3339)+"\n" {
		t.Errorf("clock -advance 1d12h: %d %q", code, out)
	}
	code, _, errOut = cli("clock", "-set", "2025-01-01T00:00:00Z", "-url", st.URL)
	if code != 1 || !strings.Contains(errOut, "only moves forward") {
		t.Errorf("clock -set backwards: %d %q", code, errOut)
	}
}

func TestClockOfARealStackOrOfNone(t *testing.T) {
	st := startStack(t, nil)
	code, out, errOut := cli("clock", "-url", st.URL)
	if now, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(out)); code != 0 || err != nil || time.Since(now).Abs() > time.Minute ||
		!strings.Contains(errOut, "real time") {
		t.Errorf("clock of a real stack: %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli("clock", "-advance", "90m", "-url", st.URL)
	if code != 1 || out != "" || !strings.Contains(errOut, local.ClockVar+"=") {
		t.Errorf("clock -advance on a real stack: %d %q %q", code, out, errOut)
	}

	for name, tc := range map[string]struct {
		args []string
		code int
		says string
	}{
		"no stack":   {[]string{"clock", "-advance", "90m", "-url", "http://127.0.0.1:1"}, 1, "no local stack answers at http://127.0.0.1:1"},
		"both":       {[]string{"clock", "-advance", "90m", "-set", "2026-03-02T08:00:00Z"}, 2, "not both"},
		"bad length": {[]string{"clock", "-advance", "soon"}, 2, "-advance"},
	} {
		code, out, errOut := cli(tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.says) {
			t.Errorf("%s: %d %q %q", name, code, out, errOut)
		}
	}
}
