package httpapi

import (
	"encoding/json"
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/crm"
)

// The HTTP rules every route keeps, checked by the adapter from the
// route's manifest entry before its handler runs, so a new route keeps them
// without code of its own:
//
//   - a query parameter a staff route does not declare: 400 naming it;
//   - a body in a media type the route does not accept: 415 naming those
//     it does (also in Accept-Post or Accept-Patch);
//   - an Accept header that allows nothing the route answers with: 406
//     naming what it does;
//   - a JSON body that is not well-formed JSON: 400 (RFC 9110); well-formed
//     JSON that breaks a rule is the handler's 422.

// bodyTypes returns the media types r takes a request body in.
func bodyTypes(r manifest.Route) []string {
	if len(r.Accepts) > 0 {
		return r.Accepts
	}
	switch r.Method {
	case "POST", "PUT", "PATCH":
		return []string{"application/json"}
	}
	return nil
}

// answerTypes returns the media types r answers with.
func answerTypes(r manifest.Route) []string {
	if len(r.Produces) > 0 {
		return r.Produces
	}
	return []string{"application/json"}
}

// conform checks req against the rules above and returns the first
// breach as a domain error.
func conform(rt manifest.Route, req *Request) error {
	if rt.Role != manifest.Public {
		var v []crm.FieldError
		for name := range req.QueryStringParameters {
			if !slices.Contains(rt.Query, name) {
				v = append(v, crm.FieldError{Field: name, Reason: "is not a query parameter of " + rt.Key() + "; it takes " + listOr(rt.Query, "none")})
			}
		}
		if len(v) > 0 {
			slices.SortFunc(v, func(a, b crm.FieldError) int { return strings.Compare(a.Field, b.Field) })
			names := make([]string, len(v))
			for i, f := range v {
				names[i] = f.Field
			}
			return &crm.Error{Code: crm.EMALFORMED, Message: "unknown query parameter " + strings.Join(names, ", "), Fields: v}
		}
	}

	if types := bodyTypes(rt); len(types) > 0 {
		mt, _ := req.MediaType()
		hasBody := req.APIGatewayV2HTTPRequest.Body != "" || req.Header("Content-Type") != ""
		if hasBody && !slices.Contains(types, mt) {
			return &crm.Error{Code: crm.EUNSUPPORTED, Message: "send the body as " + listOr(types, ""),
				Fields: []crm.FieldError{{Field: "Content-Type", Reason: "must be " + listOr(types, "")}}}
		}
		if isJSON(mt) && req.APIGatewayV2HTTPRequest.Body != "" {
			b, err := req.Body(len(req.APIGatewayV2HTTPRequest.Body))
			if err != nil {
				return err
			}
			if !json.Valid(b) {
				return malformed("body", "is not well-formed JSON")
			}
		}
	}

	if rt.Method != "OPTIONS" {
		if types := answerTypes(rt); !acceptable(req.Header("Accept"), types) {
			return &crm.Error{Code: crm.ENOTACCEPTABLE, Message: rt.Key() + " answers with " + listOr(types, ""),
				Fields: []crm.FieldError{{Field: "Accept", Reason: "must allow " + listOr(types, "")}}}
		}
	}
	return nil
}

// unsupported adds to a 415 answer the header that names the accepted
// media types: Accept-Post (W3C LDP) or Accept-Patch (RFC 5789).
func unsupported(rt manifest.Route, resp Response) Response {
	switch rt.Method {
	case "POST", "PATCH":
		resp.Headers["Accept-"+strings.ToUpper(rt.Method[:1])+strings.ToLower(rt.Method[1:])] = strings.Join(bodyTypes(rt), ", ")
	}
	return resp
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

func malformed(field, reason string) error {
	return &crm.Error{Code: crm.EMALFORMED, Message: "malformed " + field, Fields: []crm.FieldError{{Field: field, Reason: reason}}}
}

// listOr joins items as "a, b or c", or returns none for no items.
func listOr(items []string, none string) string {
	switch len(items) {
	case 0:
		return none
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// acceptable reports whether an Accept header allows one of types. No
// header allows anything.
func acceptable(header string, types []string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	for _, t := range types {
		if quality(header, t) > 0 {
			return true
		}
	}
	return false
}

// quality returns the weight the most specific media range of an Accept
// header gives mediaType (RFC 9110 §12.5.1), 0 when none matches.
func quality(header, mediaType string) float64 {
	typ, sub, _ := strings.Cut(mediaType, "/")
	best, bestRank := 0.0, -1
	for _, part := range strings.Split(header, ",") {
		mr, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		rt, rs, _ := strings.Cut(mr, "/")
		rank := -1
		switch {
		case rt == typ && rs == sub:
			rank = 2
		case rt == typ && rs == "*":
			rank = 1
		case rt == "*" && rs == "*":
			rank = 0
		}
		if rank <= bestRank {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
				q = 0
			}
		}
		best, bestRank = q, rank
	}
	return best
}
