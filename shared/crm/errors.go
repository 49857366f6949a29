// Package crm is Rapport's domain: leads, their timelines and customers, the
// rules that govern them, and the interfaces of the stores that keep them. It
// imports only the standard library and the event catalogue; nothing here
// knows about AWS or HTTP.
package crm

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. The HTTP adapter maps each to one status, in one table.
const (
	EMALFORMED            = "malformed"             // the request is not well-formed (a body that is not JSON, an unknown query parameter)
	EINVALID              = "invalid"               // well-formed input breaks a rule; FieldErrors say which
	ENOTFOUND             = "not_found"             // no such record
	ECONFLICT             = "conflict"              // the record's state does not allow the change
	EPRECONDITION         = "precondition_failed"   // If-Match names a stale version
	EPRECONDITIONREQUIRED = "precondition_required" // a change needs If-Match
	EUNAUTHORIZED         = "unauthorized"          // no valid caller
	EFORBIDDEN            = "forbidden"             // the caller's role is too low
	ETOOLARGE             = "too_large"             // the body is over its limit
	EUNSUPPORTED          = "unsupported_media"     // the body's content type is not accepted
	ENOTACCEPTABLE        = "not_acceptable"        // the caller accepts no media type the route answers with
	ETOOMANY              = "too_many_requests"     // the caller sent more than its share; retry later
	EUNAVAILABLE          = "unavailable"           // a dependency is overloaded or down; retry later
	EINTERNAL             = "internal"              // anything else; the caller sees no detail
)

// Temporary reports whether a caller may succeed by sending the same
// request again later, unchanged.
func Temporary(code string) bool { return code == ETOOMANY || code == EUNAVAILABLE }

// FieldError names one field and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is the domain's error: a code, a message safe to show to the caller,
// and for EINVALID the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, or EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// Invalid collects field errors; its Err is nil while it is empty.
type Invalid struct{ fields []FieldError }

// Add records that field is wrong for reason.
func (v *Invalid) Add(field, reason string) { v.fields = append(v.fields, FieldError{field, reason}) }

// Has reports whether an error was added for field.
func (v *Invalid) Has(field string) bool {
	for _, f := range v.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns an EINVALID *Error naming every field added, or nil.
func (v *Invalid) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	names := make([]string, len(v.fields))
	for i, f := range v.fields {
		names[i] = f.Field
	}
	return &Error{Code: EINVALID, Message: "invalid " + strings.Join(names, ", "), Fields: v.fields}
}
