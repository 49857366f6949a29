// Package openapitest checks the answers tests see against the API's
// contract, docs/openapi.json (OpenAPI 3.1): for the operation of each
// request, the status must be documented, and the content type, the body's
// schema and the documented headers must match. The handler tests pass
// every response through it, so the document cannot drift from the code.
//
// It is for tests only; no function imports it.
package openapitest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// DocumentFile is the contract, relative to the repository root.
const DocumentFile = "docs/openapi.json"

// TallyVariable names a file each test binary adds its count to, as
// "PACKAGE COUNT" lines, so `make test` can print the total.
const TallyVariable = "RAPPORT_OPENAPI_TALLY"

// server is the origin requests are made against: the document's server,
// so paths match without a base path.
const server = "http://127.0.0.1:8080"

var (
	validated atomic.Int64
	loaded    = sync.OnceValues(load)
)

// DocumentPath returns the path of the contract, found by walking up from
// the working directory (a package's directory under test) to the root.
func DocumentPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, filepath.FromSlash(DocumentFile))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s above the working directory", DocumentFile)
		}
		dir = parent
	}
}

func load() (validator.Validator, error) {
	p, err := DocumentPath()
	if err != nil {
		return nil, err
	}
	spec, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", DocumentFile, err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("build a validator for %s: %w", DocumentFile, errors.Join(errs...))
	}
	return v, nil
}

// Validator returns the validator of the contract, built once.
func Validator() (validator.Validator, error) { return loaded() }

// Check validates resp, the answer to the API Gateway request ev.
func Check(tb testing.TB, ev lambdaevents.APIGatewayV2HTTPRequest, resp lambdaevents.APIGatewayV2HTTPResponse) {
	tb.Helper()
	method, path, ok := strings.Cut(ev.RouteKey, " ")
	if !ok {
		tb.Fatalf("openapi: route key %q is not METHOD /path", ev.RouteKey)
	}
	for name, value := range ev.PathParameters {
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(value))
	}
	q := url.Values{}
	for k, v := range ev.QueryStringParameters {
		q.Set(k, v)
	}
	req, err := http.NewRequest(method, server+path, nil)
	if err != nil {
		tb.Fatalf("openapi: %v", err)
	}
	req.URL.RawQuery = q.Encode()
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			tb.Fatalf("openapi: %s answered a body marked base64 that is not: %v", ev.RouteKey, err)
		}
	}
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	check(tb, req, &http.Response{StatusCode: resp.StatusCode, Header: header, Body: io.NopCloser(strings.NewReader(string(body)))})
}

// CheckHTTP validates resp, the answer to req over HTTP (the local
// gateway). It reads resp's body and puts it back for the caller.
func CheckHTTP(tb testing.TB, req *http.Request, resp *http.Response) {
	tb.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("openapi: read the answer: %v", err)
	}
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	r := req.Clone(req.Context())
	r.URL, _ = url.Parse(server + req.URL.RequestURI())
	copied := *resp
	copied.Body = io.NopCloser(strings.NewReader(string(body)))
	check(tb, r, &copied)
}

func check(tb testing.TB, req *http.Request, resp *http.Response) {
	tb.Helper()
	v, err := loaded()
	if err != nil {
		tb.Fatalf("openapi: %v", err)
	}
	validated.Add(1)
	if ok, errs := v.ValidateHttpResponse(req, resp); !ok {
		tb.Errorf("openapi: %s %s answered %d %s, which %s does not allow:\n%s", req.Method, req.URL.Path,
			resp.StatusCode, resp.Header.Get("Content-Type"), DocumentFile, describe(errs))
	}
}

// describe renders validation errors, with the schema failures under them.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s: %s\n", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "      %s: %s\n", f.FieldPath, f.Reason)
		}
	}
	return b.String()
}

// Count returns how many answers this test binary has validated.
func Count() int64 { return validated.Load() }

// Report prints the count for the package named pkg and adds it to the
// file named by TallyVariable, if set. Call it from TestMain after m.Run.
func Report(pkg string) {
	n := Count()
	fmt.Printf("openapi: %d responses validated against %s in %s\n", n, DocumentFile, pkg)
	path := os.Getenv(TallyVariable)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %d\n", pkg, n)
}
