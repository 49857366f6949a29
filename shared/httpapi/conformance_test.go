package httpapi

import (
	"testing"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/crm"
)

func TestAcceptable(t *testing.T) {
	json := []string{"application/json"}
	page := []string{"application/json", "text/html"}
	for _, c := range []struct {
		header string
		types  []string
		want   bool
	}{
		{"", json, true},
		{"application/json", json, true},
		{"application/*", json, true},
		{"*/*", json, true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", json, true}, // a browser
		{"application/json, text/plain, */*", json, true},                               // axios
		{"text/html", json, false},
		{"text/html", page, true},
		{"image/png, text/csv;q=0.5", json, false},
		{"application/json;q=0", json, false},
		{"*/*, application/json;q=0", json, false}, // the specific range wins
		{"application/json;q=0, */*", page, true},
		{"application/json;q=bogus", json, false},
		{"not a media type", json, false},
	} {
		if got := acceptable(c.header, c.types); got != c.want {
			t.Errorf("acceptable(%q, %v) = %v, want %v", c.header, c.types, got, c.want)
		}
	}
}

func TestListOr(t *testing.T) {
	for in, want := range map[string][]string{"none": nil, "a": {"a"}, "a or b": {"a", "b"}, "a, b or c": {"a", "b", "c"}} {
		if got := listOr(want, "none"); got != in {
			t.Errorf("listOr(%v) = %q, want %q", want, got, in)
		}
	}
}

// The defaults a route gets when its manifest entry declares nothing.
func TestRouteMediaTypeDefaults(t *testing.T) {
	if got := bodyTypes(manifest.Route{Method: "PATCH"}); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("PATCH takes %v", got)
	}
	if got := bodyTypes(manifest.Route{Method: "GET"}); got != nil {
		t.Errorf("GET takes a body: %v", got)
	}
	if got := answerTypes(manifest.Route{Method: "GET"}); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("GET answers %v", got)
	}
}

// 429 and 503 tell the caller when to come back; nothing else does.
func TestRetryAfter(t *testing.T) {
	for code, want := range map[string]string{crm.ETOOMANY: RetryAfter, crm.EUNAVAILABLE: RetryAfter, crm.EINTERNAL: "", crm.EINVALID: ""} {
		resp := Problem(crm.Errorf(code, "x"))
		if got := resp.Headers["Retry-After"]; got != want {
			t.Errorf("%s (%d): Retry-After %q, want %q", code, resp.StatusCode, got, want)
		}
	}
	if s := StatusOf(crm.Errorf(crm.ETOOMANY, "x")); s != 429 {
		t.Errorf("too many: %d", s)
	}
	if s := StatusOf(crm.Errorf(crm.EMALFORMED, "x")); s != 400 {
		t.Errorf("malformed: %d", s)
	}
}
