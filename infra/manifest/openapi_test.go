package manifest_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/httpapi/openapitest"
)

// The OpenAPI document and the route table describe one API: every route
// is documented with the right security, and nothing else is.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var op struct {
				Security []map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			for _, r := range manifest.Routes {
				if r.Key() == strings.ToUpper(method)+" "+path && (r.Role == manifest.Public) != (len(op.Security) == 0) {
					t.Errorf("%s: documented security %v, but the route's role is %q", r.Key(), op.Security, r.Role)
				}
			}
		}
	}
	var routes []string
	for _, r := range manifest.Routes {
		routes = append(routes, r.Key())
	}
	slices.Sort(documented)
	slices.Sort(routes)
	if !slices.Equal(documented, routes) {
		t.Errorf("docs/openapi.json documents\n  %v\nthe manifest routes\n  %v", documented, routes)
	}
}

// The document itself is valid OpenAPI 3.1: it passes the specification's
// own schema, so the tools that read it (and the response checks in the
// handler tests) see what it means.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	v, err := openapitest.Validator()
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("%s: %s (line %d)", e.Message, e.Reason, e.SpecLine)
			for _, f := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", f.FieldPath, f.Reason)
			}
		}
	}
}
