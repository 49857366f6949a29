// Package localtest is what tests of a running local stack share: reading
// the API as a staff member would, with a token the stack mints.
package localtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/local"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// TableName returns a table name of its own for a test: prefix and a
// random suffix.
func TableName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Start runs a local stack for t in table on the DynamoDB server the test
// command started (AWS_ENDPOINT_URL_DYNAMODB), with o's other options, a
// temporary data folder, a free port, a quiet log and a quick stream
// poller. It stops the stack and drops the table when the test ends, and
// returns the stack and the context it runs in.
func Start(t testing.TB, table string, o local.Options) (*local.Stack, context.Context) {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run with infra/scripts/with-dynamodb.sh dynoxide -- go test …")
	}
	vars := map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": table}
	o.Dir, o.Addr, o.Getenv = t.TempDir(), "127.0.0.1:0", func(k string) string { return vars[k] }
	o.Log, o.StreamPoll = local.NewLogger(io.Discard, nil), 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	st, err := local.Start(ctx, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = st.Wait()
		_, _ = st.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(st.Table)})
	})
	return st, ctx
}

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
