// Package gateway is the local stand-in for API Gateway's HTTP API: it
// matches each request against the manifest's routes, does the JWT
// authorizer's work for staff routes, turns the request into a payload
// format 2.0 event, calls the function's handler — the same code the Lambda
// runs — and writes the handler's response back.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/local/internal/invoke"
	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
	"github.com/rapportcrm/rapport/shared/httpapi"
)

// Limits API Gateway applies that the local gateway applies too.
const (
	// MaxBodyBytes is HTTP API's payload limit: larger requests get 413.
	MaxBodyBytes = 10 << 20
	// Timeout is HTTP API's integration timeout: a slower handler's answer
	// is replaced by 503.
	Timeout = 30 * time.Second
)

// Authorizer does the JWT authorizer's work for routes that need a role:
// it checks the token in the Authorization header (with or without the
// "Bearer " prefix) and returns what API Gateway passes to the function.
// The gateway answers 401 when it returns an error; its text goes into the
// WWW-Authenticate header, so it must not carry the token.
type Authorizer interface {
	Authorize(authorization string) (*lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, error)
}

// Options configure a Gateway.
type Options struct {
	// Routes to serve; usually manifest.Routes.
	Routes []manifest.Route
	// Handlers holds each function's HTTP handler by function name. Every
	// route's function must have one.
	Handlers map[string]app.HTTPHandler
	// Authorizer checks tokens for routes with a role. Required when any
	// route has one.
	Authorizer Authorizer
	// Now stamps requestContext.time; default time.Now.
	Now func() time.Time
	// Log receives one line per request: route key, status and duration,
	// never the path, query or body, which can hold personal data.
	Log *slog.Logger
	// Region names the region in the Lambda context; default us-east-1.
	Region string
	// APIID is requestContext.apiId; default "local".
	APIID string
	// MaxBodyBytes overrides MaxBodyBytes (tests).
	MaxBodyBytes int64
	// Timeout overrides Timeout (tests).
	Timeout time.Duration
}

// Gateway serves the routes. It implements http.Handler.
type Gateway struct {
	routes []*route
	o      Options
}

var _ http.Handler = (*Gateway)(nil)

// New checks the routes and their handlers and returns a Gateway.
func New(o Options) (*Gateway, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.APIID == "" {
		o.APIID = "local"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = MaxBodyBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = Timeout
	}
	g := &Gateway{o: o}
	seen := map[string]bool{}
	for _, r := range o.Routes {
		if seen[r.Key()] {
			return nil, fmt.Errorf("route %s is declared twice", r.Key())
		}
		seen[r.Key()] = true
		segs, err := parseTemplate(r.Path)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", r.Key(), err)
		}
		h := o.Handlers[r.Function]
		if h == nil {
			return nil, fmt.Errorf("route %s: function %q has no handler", r.Key(), r.Function)
		}
		if r.Role != manifest.Public && o.Authorizer == nil {
			return nil, fmt.Errorf("route %s needs role %s but the gateway has no authorizer", r.Key(), r.Role)
		}
		g.routes = append(g.routes, &route{Route: r, segments: segs, handler: h})
	}
	return g, nil
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)

	rt, params, allowed := g.find(r.Method, r.URL.EscapedPath())
	if rt == nil {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeProblem(w, http.StatusMethodNotAllowed, "Method Not Allowed",
				fmt.Sprintf("%s is not a method of this path; it accepts %s.", r.Method, strings.Join(allowed, ", ")))
		} else {
			writeProblem(w, http.StatusNotFound, "Not Found", "No route matches this path.")
		}
		g.o.Log.Info("http", "route", "none", "method", r.Method, "status", statusOf(allowed), "ms", time.Since(start).Milliseconds())
		return
	}

	status := g.serve(w, r, rt, params, requestID)
	g.o.Log.Info("http", "route", rt.Key(), "status", status, "ms", time.Since(start).Milliseconds(), "request_id", requestID)
}

func statusOf(allowed []string) int {
	if len(allowed) > 0 {
		return http.StatusMethodNotAllowed
	}
	return http.StatusNotFound
}

// serve authorizes, translates, invokes and writes the response, and
// returns the status written.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string, requestID string) int {
	var jwt *lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription
	if rt.Role != manifest.Public {
		header := r.Header.Get("Authorization")
		if header == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return http.StatusUnauthorized
		}
		claims, err := g.o.Authorizer.Authorize(header)
		if err != nil {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer scope="" error="invalid_token" error_description=%q`,
				strings.ReplaceAll(err.Error(), `"`, "'")))
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return http.StatusUnauthorized
		}
		jwt = claims
	}

	req, err := g.request(r, rt, params, requestID)
	if errors.Is(err, errTooLarge) {
		writeProblem(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large",
			fmt.Sprintf("The request body is larger than %d bytes.", g.o.MaxBodyBytes))
		return http.StatusRequestEntityTooLarge
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "The request body could not be read.")
		return http.StatusBadRequest
	}
	if jwt != nil {
		req.RequestContext.Authorizer = &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwt}
	}

	ctx, cancel := context.WithTimeout(r.Context(), g.o.Timeout)
	defer cancel()
	ctx = invoke.Context(ctx, g.o.Region, rt.Function)
	var resp lambdaevents.APIGatewayV2HTTPResponse
	err = invoke.Safely(func() error {
		var err error
		resp, err = rt.handler(ctx, req)
		return err
	})
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		g.o.Log.Error("handler timed out", "route", rt.Key(), "request_id", requestID)
		w.Header().Set("Retry-After", httpapi.RetryAfter)
		writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		return http.StatusServiceUnavailable
	case err != nil:
		// A failed invocation: API Gateway hides the error from the client.
		g.o.Log.Error("handler failed", "route", rt.Key(), "request_id", requestID, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError
	}
	if err := writeResponse(w, resp); err != nil {
		g.o.Log.Error("handler returned a malformed response", "route", rt.Key(), "request_id", requestID, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError
	}
	return resp.StatusCode
}

// find returns the most specific route matching method and path with its
// path parameters; when none matches but the path does under other
// methods, it returns those methods.
func (g *Gateway) find(method, escapedPath string) (*route, map[string]string, []string) {
	parts := splitPath(escapedPath)
	var best *route
	var bestParams map[string]string
	var allowed []string
	for _, rt := range g.routes {
		params, ok := rt.match(parts)
		if !ok {
			continue
		}
		if rt.Method != method && rt.Method != "ANY" {
			if !slices.Contains(allowed, rt.Method) {
				allowed = append(allowed, rt.Method)
			}
			continue
		}
		if best == nil || moreSpecific(rt, best) || (!moreSpecific(best, rt) && best.Method == "ANY") {
			best, bestParams = rt, params
		}
	}
	if best != nil {
		return best, bestParams, nil
	}
	slices.Sort(allowed)
	return nil, nil, allowed
}
