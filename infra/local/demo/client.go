package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/rapportcrm/rapport/infra/local"
)

// client speaks to the stack's HTTP API as the company's web forms and
// staff do: public routes bare, staff routes with a bearer token minted
// for the person at the stack's current time.
type client struct {
	st   *local.Stack
	http *http.Client

	mu     sync.Mutex
	tokens map[string]string // by sub, for the current slot
}

func newClient(st *local.Stack, workers int) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers + 2
	return &client{st: st, http: &http.Client{Transport: tr}, tokens: map[string]string{}}
}

// renewTokens drops the tokens, so the next request mints them at the
// stack's new time (a token lives 12 hours of that time).
func (c *client) renewTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.tokens)
}

func (c *client) token(p person) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[p.Sub]; ok {
		return t, nil
	}
	t, err := c.st.TokenFor(p.Role, p.Sub)
	if err != nil {
		return "", err
	}
	c.tokens[p.Sub] = t
	return t, nil
}

// answer is an HTTP answer: its status, ETag and decoded JSON body.
type answer struct {
	Status int
	ETag   string
	Body   map[string]any
}

func (a answer) str(k string) string {
	s, _ := a.Body[k].(string)
	return s
}

// do sends method path with body (JSON unless it is url.Values) as who
// (nil: the public), with extra headers. A 5xx is an error; 4xx answers
// are returned for the caller to judge.
func (c *client) do(ctx context.Context, who *person, method, path string, body any, header map[string]string) (answer, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return answer{}, err
		}
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.st.URL+path, rd)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if who != nil {
		t, err := c.token(*who)
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Authorization", "Bearer "+t)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	a := answer{Status: resp.StatusCode, ETag: resp.Header.Get("ETag")}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		_ = json.Unmarshal(raw, &a.Body)
	}
	if a.Status >= 500 {
		return a, fmt.Errorf("%s %s: %d %s", method, path, a.Status, bytes.TrimSpace(raw))
	}
	return a, nil
}

// want sends a request and fails unless the status is one of ok.
func (c *client) want(ctx context.Context, who *person, method, path string, body any, header map[string]string, ok ...int) (answer, error) {
	a, err := c.do(ctx, who, method, path, body, header)
	if err != nil {
		return a, err
	}
	for _, s := range ok {
		if a.Status == s {
			return a, nil
		}
	}
	return a, fmt.Errorf("%s %s: %d %v", method, path, a.Status, a.Body)
}

// patch changes the resource at path with If-Match, starting from etag
// ("1" when empty) and reading the ETag again if something else (a
// consumer) changed it first.
func (c *client) patch(ctx context.Context, who person, path, etag string, change map[string]any) error {
	if etag == "" {
		etag = `"1"`
	}
	for range 3 {
		a, err := c.do(ctx, &who, http.MethodPatch, path, change, map[string]string{"If-Match": etag})
		if err != nil {
			return err
		}
		switch a.Status {
		case http.StatusOK:
			return nil
		case http.StatusPreconditionFailed, http.StatusConflict:
			got, err := c.want(ctx, &who, http.MethodGet, path, nil, nil, http.StatusOK)
			if err != nil {
				return err
			}
			etag = got.ETag
		default:
			return fmt.Errorf("PATCH %s: %d %v", path, a.Status, a.Body)
		}
	}
	return fmt.Errorf("PATCH %s: still conflicting", path)
}
