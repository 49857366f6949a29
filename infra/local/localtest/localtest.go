// Package localtest is what tests of a running local stack share: reading
// the API as a staff member would, with a token the stack mints.
package localtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// Get reads path as a person of role, asking for JSON, and decodes the
// answer into out; any answer but 200 fails the test.
func Get(t testing.TB, st *local.Stack, role manifest.Role, path string, out any) {
	t.Helper()
	tok, err := st.Token(role)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, st.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// All walks every page of a staff list (items and next_cursor) as a
// person of role and returns the items.
func All(t testing.TB, st *local.Stack, role manifest.Role, path string) []map[string]any {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var items []map[string]any
	cursor := ""
	for {
		var p struct {
			Items []map[string]any `json:"items"`
			Next  string           `json:"next_cursor"`
		}
		Get(t, st, role, path+sep+"limit=100"+cursor, &p)
		items = append(items, p.Items...)
		if p.Next == "" {
			return items
		}
		cursor = "&cursor=" + p.Next
	}
}
