package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/local/auth"
)

func TestTokenPrintsOneLineThatVerifies(t *testing.T) {
	dir := t.TempDir()
	key, err := auth.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"agent", "manager", "admin"} {
		var stdout, stderr bytes.Buffer
		// Port 1 is closed: no stack answers, so the token is minted at
		// real time.
		if code := run([]string{"token", "-role", role, "-data", dir, "-url", "http://127.0.0.1:1"}, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", role, code, stderr.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("%s: stderr %q", role, stderr.String())
		}
		out := stdout.String()
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || strings.Count(out, ".") != 2 {
			t.Fatalf("%s: want one token line, got %q", role, out)
		}
		claims, err := auth.New(key, time.Now).Authorize("Bearer " + strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("%s: the printed token does not verify: %v", role, err)
		}
		if claims.Claims[auth.GroupsClaim] != "["+role+"]" || claims.Claims["sub"] != "local-"+role {
			t.Errorf("%s: claims %v", role, claims.Claims)
		}
	}
}

func TestTokenErrorsGoToStderr(t *testing.T) {
	withKey := t.TempDir()
	if _, err := auth.LoadOrCreateKey(withKey); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		code int
		says string
	}{
		"no role":      {[]string{"token", "-data", withKey}, 2, "-role must be"},
		"bad role":     {[]string{"token", "-role", "owner", "-data", withKey}, 2, "-role must be"},
		"no key yet":   {[]string{"token", "-role", "agent", "-data", t.TempDir()}, 1, "make dev"},
		"unknown flag": {[]string{"token", "-rol", "agent"}, 2, "flag provided but not defined"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || stdout.Len() != 0 || !strings.Contains(stderr.String(), tc.says) {
			t.Errorf("%s: exit %d stdout %q stderr %q", name, code, stdout.String(), stderr.String())
		}
	}
}
