package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// httpMethods are the methods an HTTP API route key may name.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// Validate reports the first entry that could not be deployed: a name used
// twice, a route, rule or schedule naming a function that does not exist or
// is not invoked that way, a role without a Cognito group. Checking here
// turns a typo in the manifest into a synth error that names it, instead of
// a half-built stack or a CloudFormation failure minutes into a deployment.
func (m Manifest) Validate() error {
	fns := map[string]manifest.Function{}
	for _, f := range m.Functions {
		if f.Name == "" {
			return fmt.Errorf("a function has no name")
		}
		if _, dup := fns[f.Name]; dup {
			return fmt.Errorf("function %q is listed twice", f.Name)
		}
		switch f.Kind {
		case manifest.HTTP, manifest.Stream, manifest.Event:
		default:
			return fmt.Errorf("function %q has unknown kind %q", f.Name, f.Kind)
		}
		switch f.Table {
		case manifest.NoTable, manifest.ReadTable, manifest.ReadWrite:
		default:
			return fmt.Errorf("function %q has unknown table access %q", f.Name, f.Table)
		}
		fns[f.Name] = f
	}
	target := func(what, fn string, kind manifest.Kind) error {
		f, ok := fns[fn]
		if !ok {
			return fmt.Errorf("%s names function %q, which is not in Functions", what, fn)
		}
		if f.Kind != kind {
			return fmt.Errorf("%s names function %q of kind %q; it must be %q", what, fn, f.Kind, kind)
		}
		return nil
	}

	keys := map[string]bool{}
	for _, r := range m.Routes {
		if !slices.Contains(httpMethods, r.Method) {
			return fmt.Errorf("route %q: method must be one of %v", r.Key(), httpMethods)
		}
		if !strings.HasPrefix(r.Path, "/") {
			return fmt.Errorf("route %q: path must start with /", r.Key())
		}
		if keys[r.Key()] {
			return fmt.Errorf("route %q is listed twice", r.Key())
		}
		keys[r.Key()] = true
		if err := target("route "+r.Key(), r.Function, manifest.HTTP); err != nil {
			return err
		}
		if r.Role != manifest.Public && !slices.Contains(m.Roles, r.Role) {
			return fmt.Errorf("route %q needs role %q, which is not in Roles", r.Key(), r.Role)
		}
	}

	rules := map[string]bool{}
	for _, r := range m.Rules {
		if r.Name == "" || rules[r.Name] {
			return fmt.Errorf("rule %q: name is empty or listed twice", r.Name)
		}
		rules[r.Name] = true
		if r.Source == "" || len(r.DetailTypes) == 0 {
			return fmt.Errorf("rule %q: needs a source and at least one detail type", r.Name)
		}
		if err := target("rule "+r.Name, r.Function, manifest.Event); err != nil {
			return err
		}
	}

	schedules := map[string]bool{}
	for _, s := range m.Schedules {
		if s.Name == "" || schedules[s.Name] {
			return fmt.Errorf("schedule %q: name is empty or listed twice", s.Name)
		}
		schedules[s.Name] = true
		if s.Expression == "" || s.DetailType == "" {
			return fmt.Errorf("schedule %q: needs an expression and a detail type", s.Name)
		}
		if err := target("schedule "+s.Name, s.Function, manifest.Event); err != nil {
			return err
		}
	}
	return nil
}

// constructID turns a manifest name or route key into a construct id:
// "POST /leads/{id}/convert" becomes "PostLeadsIdConvert". Construct ids may
// not contain "/", and CloudFormation logical ids keep only letters and
// digits anyway.
func constructID(s string) string {
	var b strings.Builder
	start, prevUpper := true, false
	for _, r := range s {
		lower, upper := r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z'
		switch {
		case lower && start:
			r -= 'a' - 'A'
		case upper && !start && prevUpper:
			r += 'a' - 'A' // "POST" → "Post"
		case !lower && !upper && (r < '0' || r > '9'):
			start = true
			continue
		}
		b.WriteRune(r)
		start, prevUpper = false, upper
	}
	return b.String()
}
