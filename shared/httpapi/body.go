package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"strings"

	"github.com/rapportcrm/rapport/shared/crm"
)

// Body returns the request body as bytes, at most limit of them.
func (r *Request) Body(limit int) ([]byte, error) {
	tooLarge := crm.Errorf(crm.ETOOLARGE, "the body is larger than %d bytes", limit)
	if !r.IsBase64Encoded {
		if len(r.APIGatewayV2HTTPRequest.Body) > limit {
			return nil, tooLarge
		}
		return []byte(r.APIGatewayV2HTTPRequest.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(r.APIGatewayV2HTTPRequest.Body)) > limit+3 {
		return nil, tooLarge
	}
	b, err := base64.StdEncoding.DecodeString(r.APIGatewayV2HTTPRequest.Body)
	if err != nil {
		return nil, malformed("body", "is not valid base64")
	}
	if len(b) > limit {
		return nil, tooLarge
	}
	return b, nil
}

// MediaType returns the request's content type without parameters, lower
// case, and its parameters.
func (r *Request) MediaType() (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(r.Header("Content-Type"))
	if err != nil {
		return "", nil
	}
	return strings.ToLower(mt), params
}

// maxJSONBody bounds staff requests' JSON bodies.
const maxJSONBody = 16 << 10

// DecodeJSON reads a JSON object body into v. Unknown fields are an error
// naming the field, so a typo is not silently ignored on staff routes.
//
// Not well-formed JSON is EMALFORMED (400); well-formed JSON of the wrong
// shape (an array, a field of the wrong type, an unknown field) is
// EINVALID (422).
func (r *Request) DecodeJSON(v any) error {
	b, err := r.Body(maxJSONBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return malformed("body", "is empty; send a JSON object")
	}
	if mt, _ := r.MediaType(); !isJSON(mt) {
		return crm.Errorf(crm.EUNSUPPORTED, "send the body as application/json")
	}
	if !json.Valid(b) {
		return malformed("body", "is not well-formed JSON")
	}
	if b = bytes.TrimSpace(b); b[0] != '{' {
		return &crm.Error{Code: crm.EINVALID, Message: "invalid body", Fields: []crm.FieldError{{Field: "body", Reason: "must be a JSON object"}}}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError names the field a JSON decoding error is about.
func jsonError(err error) error {
	var field, reason string
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		field, reason = e.Field, "must be a JSON "+jsonKind(e.Type.Kind().String())
	default:
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			field, reason = strings.Trim(f, `"`), "is not a known field"
		} else {
			field, reason = "body", "must be a JSON object"
		}
	}
	if field == "" {
		field = "body"
	}
	return &crm.Error{Code: crm.EINVALID, Message: "invalid " + field, Fields: []crm.FieldError{{Field: field, Reason: reason}}}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	default:
		return "number"
	}
}
