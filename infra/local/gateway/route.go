package gateway

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/app"
)

// route is a manifest route ready to match: its path template split into
// segments, and the handler of its function.
type route struct {
	manifest.Route
	segments []segment
	handler  app.HTTPHandler
}

// segment is one part of a path template: a literal ("leads"), a parameter
// ("{id}") or a greedy parameter ("{proxy+}") that takes the rest.
type segment struct {
	literal string
	param   string
	greedy  bool
}

// parseTemplate splits an API Gateway path template into segments.
func parseTemplate(path string) ([]segment, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q does not start with /", path)
	}
	if path == "/" {
		return nil, nil
	}
	parts := strings.Split(path[1:], "/")
	segs := make([]segment, 0, len(parts))
	for i, p := range parts {
		switch {
		case p == "":
			return nil, fmt.Errorf("path %q has an empty segment", path)
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			name := p[1 : len(p)-1]
			greedy := strings.HasSuffix(name, "+")
			name = strings.TrimSuffix(name, "+")
			if name == "" || strings.ContainsAny(name, "{}/+") {
				return nil, fmt.Errorf("path %q has a malformed parameter %q", path, p)
			}
			if greedy && i != len(parts)-1 {
				return nil, fmt.Errorf("path %q has a greedy parameter before its end", path)
			}
			segs = append(segs, segment{param: name, greedy: greedy})
		case strings.ContainsAny(p, "{}"):
			return nil, fmt.Errorf("path %q has a malformed segment %q", path, p)
		default:
			segs = append(segs, segment{literal: p})
		}
	}
	return segs, nil
}

// splitPath splits a request's escaped path into decoded segments. A
// segment that is not valid percent-encoding is kept as sent.
func splitPath(escaped string) []string {
	if escaped == "/" || escaped == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for i, p := range parts {
		if d, err := url.PathUnescape(p); err == nil {
			parts[i] = d
		}
	}
	return parts
}

// match reports whether the decoded path segments fit the template, with
// the path parameters it binds.
func (r *route) match(parts []string) (map[string]string, bool) {
	var params map[string]string
	bind := func(name, value string) {
		if params == nil {
			params = map[string]string{}
		}
		params[name] = value
	}
	for i, s := range r.segments {
		if s.greedy {
			if i >= len(parts) {
				return nil, false
			}
			rest := strings.Join(parts[i:], "/")
			if rest == "" {
				return nil, false
			}
			bind(s.param, rest)
			return params, true
		}
		if i >= len(parts) || parts[i] == "" {
			return nil, false
		}
		if s.param != "" {
			bind(s.param, parts[i])
			continue
		}
		if s.literal != parts[i] {
			return nil, false
		}
	}
	if len(parts) != len(r.segments) {
		return nil, false
	}
	return params, true
}

// moreSpecific reports whether a should win over b when both match, as API
// Gateway prefers the route with literal segments where the other has
// parameters, and a parameter over a greedy one.
func moreSpecific(a, b *route) bool {
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		ra, rb := rank(a.segments[i]), rank(b.segments[i])
		if ra != rb {
			return ra < rb
		}
	}
	return len(a.segments) > len(b.segments)
}

func rank(s segment) int {
	switch {
	case s.literal != "":
		return 0
	case !s.greedy:
		return 1
	default:
		return 2
	}
}
