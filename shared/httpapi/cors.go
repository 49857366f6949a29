package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/shared/crm"
)

// CORS answers browsers on public routes for the configured origins only.
type CORS struct {
	// Origins are allowed, e.g. "https://www.example.com".
	Origins []string
	// Methods and Headers are what a page may send.
	Methods []string
	Headers []string
}

// allowed returns the request's Origin if it is on the list.
func (c CORS) allowed(r *Request) (string, bool) {
	o := strings.ToLower(strings.TrimSuffix(r.Header("Origin"), "/"))
	return o, o != "" && slices.Contains(c.Origins, o)
}

// Preflight answers an OPTIONS request: 204 with the allowances for a
// listed origin, 403 for any other.
func (c CORS) Preflight(r *Request) (Response, error) {
	origin, ok := c.allowed(r)
	method := strings.ToUpper(r.Header("Access-Control-Request-Method"))
	if !ok {
		return Response{}, &crm.Error{Code: crm.EFORBIDDEN, Message: "this origin may not post here",
			Fields: []crm.FieldError{{Field: "Origin", Reason: "is not on the allowed origins list"}}}
	}
	if !slices.Contains(c.Methods, method) {
		return Response{}, &crm.Error{Code: crm.EFORBIDDEN, Message: "this method is not allowed",
			Fields: []crm.FieldError{{Field: "Access-Control-Request-Method", Reason: "must be one of " + strings.Join(c.Methods, ", ")}}}
	}
	return Response{StatusCode: http.StatusNoContent, Headers: map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Methods": strings.Join(c.Methods, ", "),
		"Access-Control-Allow-Headers": strings.Join(c.Headers, ", "),
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	}}, nil
}

// Decorate adds the allowance to an actual response for a listed origin, so
// the page's script may read the answer.
func (c CORS) Decorate(r *Request, resp Response) Response {
	origin, ok := c.allowed(r)
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["Vary"] = "Origin"
	if ok {
		resp.Headers["Access-Control-Allow-Origin"] = origin
	}
	return resp
}
