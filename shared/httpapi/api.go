// Package httpapi adapts API Gateway HTTP API requests (payload format 2.0)
// to the domain: it routes by route key, checks the caller's role, reads
// bodies within limits, writes JSON, and turns domain errors into RFC 9457
// problem details through one status table.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/crm"
)

// Request is one HTTP request as the gateway delivered it, with the caller
// the authorizer vouched for.
type Request struct {
	lambdaevents.APIGatewayV2HTTPRequest
	Caller Caller
}

// Header returns the named request header; API Gateway lower-cases names.
func (r *Request) Header(name string) string { return r.Headers[strings.ToLower(name)] }

// Response is what a handler answers.
type Response = lambdaevents.APIGatewayV2HTTPResponse

// HandlerFunc serves one route.
type HandlerFunc func(ctx context.Context, r *Request) (Response, error)

type route struct {
	manifest.Route
	handler HandlerFunc
}

// API dispatches requests to handlers by route key.
type API struct {
	routes map[string]route
	log    *slog.Logger
	// cors decorates every answer on a public route, the adapter's own
	// refusals included, so a page's script can read why it was refused.
	cors *CORS
}

// New returns an API that logs internal errors to log.
func New(log *slog.Logger) *API {
	return &API{routes: map[string]route{}, log: log}
}

// Handle serves r: its route key (e.g. "POST /leads/{id}/convert"), least
// role, query parameters and media types come from the manifest, so gateway,
// adapter and handler agree.
func (a *API) Handle(r manifest.Route, h HandlerFunc) {
	a.routes[r.Key()] = route{Route: r, handler: h}
}

// HandleAll binds each of function's manifest routes to its handler in
// handlers, by route key. It panics when a route has no handler, so a route
// added to the manifest cannot go unserved.
func (a *API) HandleAll(function string, handlers map[string]HandlerFunc) {
	for _, r := range manifest.RoutesOf(function) {
		fn, ok := handlers[r.Key()]
		if !ok {
			panic("no handler for route " + r.Key())
		}
		a.Handle(r, fn)
	}
}

// DecorateCORS makes every answer on a public route carry c's allowance for
// a listed origin.
func (a *API) DecorateCORS(c CORS) { a.cors = &c }

// Serve is the Lambda handler. It never returns an error: every failure is
// an HTTP answer, and an internal one is logged with the request id only.
func (a *API) Serve(ctx context.Context, ev lambdaevents.APIGatewayV2HTTPRequest) (resp Response, _ error) {
	rt, ok := a.routes[ev.RouteKey]
	if !ok {
		return Problem(crm.Errorf(crm.ENOTFOUND, "no route %s", ev.RouteKey)), nil
	}
	req := &Request{APIGatewayV2HTTPRequest: ev, Caller: callerOf(ev)}
	if rt.Role != manifest.Public {
		if err := req.Caller.Need(rt.Role); err != nil {
			return Problem(err), nil
		}
	} else if a.cors != nil && rt.Method != "OPTIONS" {
		defer func() { resp = a.cors.Decorate(req, resp) }()
	}
	if err := conform(rt.Route, req); err != nil {
		resp := Problem(err)
		if crm.ErrorCode(err) == crm.EUNSUPPORTED {
			resp = unsupported(rt.Route, resp)
		}
		return resp, nil
	}
	defer func() {
		if p := recover(); p != nil {
			a.log.ErrorContext(ctx, "handler panicked", "route", ev.RouteKey,
				"request_id", ev.RequestContext.RequestID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = Problem(crm.Errorf(crm.EINTERNAL, "internal error"))
		}
	}()
	resp, err := rt.handler(ctx, req)
	if err != nil {
		switch code := crm.ErrorCode(err); {
		case code == crm.EINTERNAL:
			a.log.ErrorContext(ctx, "request failed", "route", ev.RouteKey,
				"request_id", ev.RequestContext.RequestID, "error", err.Error())
		case crm.Temporary(code):
			a.log.WarnContext(ctx, "request refused for now", "route", ev.RouteKey,
				"request_id", ev.RequestContext.RequestID, "error", err.Error())
		}
		return Problem(err), nil
	}
	return resp, nil
}

// JSON answers status with v as JSON.
func JSON(status int, v any, headers ...string) Response {
	h := map[string]string{"Content-Type": "application/json"}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return Response{StatusCode: status, Headers: h, Body: mustJSON(v)}
}

// HTML answers status with a page.
func HTML(status int, page string) Response {
	return Response{StatusCode: status, Body: page, Headers: map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
		"X-Content-Type-Options":  "nosniff",
	}}
}

// Redirect answers 303 See Other to location.
func Redirect(location string) Response {
	return Response{StatusCode: http.StatusSeeOther, Headers: map[string]string{"Location": location}}
}

// pageLimit reads a list's limit parameter: 0 when absent (the list's
// default), else a whole number from 1 to crm.MaxPage, with an error for
// "limit" added to v otherwise.
func pageLimit(s string, v *crm.Invalid) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > crm.MaxPage {
		v.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(crm.MaxPage))
	}
	return n
}
