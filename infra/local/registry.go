package local

import (
	"fmt"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

// Registry names the constructor of each function's handler: the same
// app.* constructors each Lambda's main calls, so the local stack runs the
// handler code that runs in AWS. A function is registered under its
// manifest name and in the map of its kind.
type Registry struct {
	HTTP   map[string]func(app.Deps) app.HTTPHandler
	Stream map[string]func(app.Deps) app.StreamHandler
	Event  map[string]func(app.Deps) app.EventHandler
}

// DefaultRegistry is every function Rapport has. Add a function here when
// its app constructor exists; Start refuses a manifest route, rule or
// schedule whose function has none.
func DefaultRegistry() Registry {
	return Registry{
		HTTP: map[string]func(app.Deps) app.HTTPHandler{
			"leads":     app.Leads,
			"tickets":   app.Tickets,
			"surveys":   app.Surveys,
			"followups": app.Followups,
			"staff":     app.Staff,
			"scorecard": app.Scorecard,
		},
		Stream: map[string]func(app.Deps) app.StreamHandler{
			"relay": app.Relay,
		},
		Event: map[string]func(app.Deps) app.EventHandler{
			"reminders": app.Reminders,
			"kpis":      app.KPIs,
		},
	}
}

// handlers are the built handlers of every registered function.
type handlers struct {
	http   map[string]app.HTTPHandler
	stream map[string]app.StreamHandler
	event  map[string]app.EventHandler
}

// build calls each constructor with the deps of its function. A
// constructor that panics (one not written yet) is reported as an error.
func (r Registry) build(deps func(name string) app.Deps) (handlers, error) {
	h := handlers{http: map[string]app.HTTPHandler{}, stream: map[string]app.StreamHandler{}, event: map[string]app.EventHandler{}}
	for name, c := range r.HTTP {
		if err := construct(name, func() { h.http[name] = c(deps(name)) }); err != nil {
			return h, err
		}
	}
	for name, c := range r.Stream {
		if err := construct(name, func() { h.stream[name] = c(deps(name)) }); err != nil {
			return h, err
		}
	}
	for name, c := range r.Event {
		if err := construct(name, func() { h.event[name] = c(deps(name)) }); err != nil {
			return h, err
		}
	}
	return h, nil
}

func construct(name string, f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("build the %s handler: %v", name, p)
		}
	}()
	f()
	return nil
}

// check refuses a route, rule or schedule whose function has no handler of
// the right kind, naming the place to register it.
func (h handlers) check(routes []manifest.Route, rules []manifest.Rule, schedules []manifest.Schedule) error {
	const where = "register it in infra/local's DefaultRegistry"
	for _, r := range routes {
		if h.http[r.Function] == nil {
			return fmt.Errorf("route %s: function %q has no HTTP handler; %s", r.Key(), r.Function, where)
		}
	}
	for _, r := range rules {
		if h.event[r.Function] == nil {
			return fmt.Errorf("rule %s: function %q has no event handler; %s", r.Name, r.Function, where)
		}
	}
	for _, s := range schedules {
		if h.event[s.Function] == nil {
			return fmt.Errorf("schedule %s: function %q has no event handler; %s", s.Name, s.Function, where)
		}
	}
	return nil
}
