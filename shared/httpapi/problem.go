package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rapportcrm/rapport/shared/crm"
)

// statuses is the one table from domain error codes to HTTP statuses.
// A request that is not well-formed (RFC 9110: a body that is not JSON, a
// query parameter the route does not take) is 400; 422 is kept for
// well-formed input that breaks a rule.
var statuses = map[string]int{
	crm.EMALFORMED:            http.StatusBadRequest,
	crm.EINVALID:              http.StatusUnprocessableEntity,
	crm.ENOTFOUND:             http.StatusNotFound,
	crm.ECONFLICT:             http.StatusConflict,
	crm.EPRECONDITION:         http.StatusPreconditionFailed,
	crm.EPRECONDITIONREQUIRED: http.StatusPreconditionRequired,
	crm.EUNAUTHORIZED:         http.StatusUnauthorized,
	crm.EFORBIDDEN:            http.StatusForbidden,
	crm.ETOOLARGE:             http.StatusRequestEntityTooLarge,
	crm.EUNSUPPORTED:          http.StatusUnsupportedMediaType,
	crm.ENOTACCEPTABLE:        http.StatusNotAcceptable,
	crm.ETOOMANY:              http.StatusTooManyRequests,
	crm.EUNAVAILABLE:          http.StatusServiceUnavailable,
	crm.EINTERNAL:             http.StatusInternalServerError,
}

// RetryAfter is the Retry-After, in seconds, of a 429 or 503 answer: long
// enough for DynamoDB's on-demand capacity to catch up, short enough that a
// form's visitor is still there.
const RetryAfter = "2"

// problem is an RFC 9457 problem details document. Errors names the fields
// at fault for invalid input.
type problem struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail,omitempty"`
	Code   string           `json:"code"`
	Errors []crm.FieldError `json:"errors,omitempty"`
}

// Problem answers err as problem+json. Internal errors show no detail.
func Problem(err error) Response {
	code := crm.ErrorCode(err)
	status := statuses[code]
	p := problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code}
	var e *crm.Error
	if errors.As(err, &e) && code != crm.EINTERNAL {
		p.Detail, p.Errors = e.Message, e.Fields
	}
	h := map[string]string{"Content-Type": "application/problem+json"}
	if crm.Temporary(code) {
		h["Retry-After"] = RetryAfter
	}
	return Response{StatusCode: status, Headers: h, Body: mustJSON(p)}
}

// StatusOf returns the HTTP status an error is answered with.
func StatusOf(err error) int { return statuses[crm.ErrorCode(err)] }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the package's own response types are marshalled here.
		panic("marshal response: " + err.Error())
	}
	return string(b)
}
