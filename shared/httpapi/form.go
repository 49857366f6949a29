package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/survey"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// MaxFormBody is the largest submission a public form (a lead or a
// ticket) accepts, in bytes.
const MaxFormBody = 32 << 10

// formSpec is the field table of one public form: where each field it
// knows goes in T, and where its custom fields go. One parser serves
// every form, so each keeps the same rules: the first of repeated fields
// wins, unknown fields (a submit button's name) are ignored, files are
// not accepted, and JSON values must be scalars.
type formSpec[T any] struct {
	// limit is the largest body accepted, in bytes.
	limit  int
	fields map[string]func(*T) *string
	// custom is where custom[NAME] fields (forms) or the "custom" object
	// (JSON) go; nil for a form that takes none.
	custom func(*T) *map[string]string
}

// FormInput is a parsed lead submission and where to send the browser after.
type FormInput struct {
	Submission crm.Submission
	Redirect   string
}

// leadForm is the lead form's field table.
var leadForm = formSpec[FormInput]{
	limit: MaxFormBody,
	fields: map[string]func(*FormInput) *string{
		"name":         func(f *FormInput) *string { return &f.Submission.Name },
		"email":        func(f *FormInput) *string { return &f.Submission.Email },
		"phone":        func(f *FormInput) *string { return &f.Submission.Phone },
		"company":      func(f *FormInput) *string { return &f.Submission.Company },
		"message":      func(f *FormInput) *string { return &f.Submission.Message },
		"source":       func(f *FormInput) *string { return &f.Submission.Source },
		"utm_source":   func(f *FormInput) *string { return &f.Submission.UTMSource },
		"utm_medium":   func(f *FormInput) *string { return &f.Submission.UTMMedium },
		"utm_campaign": func(f *FormInput) *string { return &f.Submission.UTMCampaign },
		"utm_term":     func(f *FormInput) *string { return &f.Submission.UTMTerm },
		"utm_content":  func(f *FormInput) *string { return &f.Submission.UTMContent },
		"referrer":     func(f *FormInput) *string { return &f.Submission.Referrer },
		"page_url":     func(f *FormInput) *string { return &f.Submission.PageURL },
		"consent":      func(f *FormInput) *string { return &f.Submission.Consent },
		"website":      func(f *FormInput) *string { return &f.Submission.Honeypot },
		"redirect":     func(f *FormInput) *string { return &f.Redirect },
	},
	custom: func(f *FormInput) *map[string]string { return &f.Submission.Custom },
}

// ParseForm reads a lead submission sent as a plain HTML form
// (application/x-www-form-urlencoded or multipart/form-data) or as JSON.
// Fields it does not know, such as a submit button's name, are ignored;
// custom fields are sent as custom[NAME] (forms) or a "custom" object (JSON).
func ParseForm(mediaType string, params map[string]string, body []byte) (FormInput, error) {
	return leadForm.parse(mediaType, params, body)
}

// TicketFormInput is a parsed support or complaint form and where to send
// the browser after.
type TicketFormInput struct {
	Submission ticket.Submission
	Redirect   string
}

// ticketForm is the support form's field table.
var ticketForm = formSpec[TicketFormInput]{
	limit: MaxFormBody,
	fields: map[string]func(*TicketFormInput) *string{
		"name":      func(f *TicketFormInput) *string { return &f.Submission.Name },
		"email":     func(f *TicketFormInput) *string { return &f.Submission.Email },
		"phone":     func(f *TicketFormInput) *string { return &f.Submission.Phone },
		"subject":   func(f *TicketFormInput) *string { return &f.Submission.Subject },
		"message":   func(f *TicketFormInput) *string { return &f.Submission.Message },
		"kind":      func(f *TicketFormInput) *string { return &f.Submission.Kind },
		"category":  func(f *TicketFormInput) *string { return &f.Submission.Category },
		"reference": func(f *TicketFormInput) *string { return &f.Submission.Reference },
		"page_url":  func(f *TicketFormInput) *string { return &f.Submission.PageURL },
		"website":   func(f *TicketFormInput) *string { return &f.Submission.Honeypot },
		"redirect":  func(f *TicketFormInput) *string { return &f.Redirect },
	},
	custom: func(f *TicketFormInput) *map[string]string { return &f.Submission.Custom },
}

// ParseTicketForm reads a support or complaint form, by the rules of
// ParseForm.
func ParseTicketForm(mediaType string, params map[string]string, body []byte) (TicketFormInput, error) {
	return ticketForm.parse(mediaType, params, body)
}

// MaxAnswerBody is the largest answer a customer may post from their
// ticket page, in bytes: a message of ticket.MaxMessage characters in any
// script still fits once the browser has percent-encoded it.
const MaxAnswerBody = 64 << 10

// answerInput is what the customer page's form sends.
type answerInput struct{ Message string }

var answerForm = formSpec[answerInput]{
	limit: MaxAnswerBody,
	fields: map[string]func(*answerInput) *string{
		"message": func(a *answerInput) *string { return &a.Message },
	},
}

// MaxSurveyBody is the largest answer a survey page may post, in bytes: a
// comment of survey.MaxComment characters in any script still fits once
// the browser has percent-encoded it.
const MaxSurveyBody = 32 << 10

// surveyAnswerInput is what a survey page's form sends: a score per
// question, under the question's id, and the comment.
type surveyAnswerInput struct {
	NPS, CSAT, CES, Comment string
}

var surveyForm = formSpec[surveyAnswerInput]{
	limit: MaxSurveyBody,
	fields: map[string]func(*surveyAnswerInput) *string{
		string(survey.NPS):  func(a *surveyAnswerInput) *string { return &a.NPS },
		string(survey.CSAT): func(a *surveyAnswerInput) *string { return &a.CSAT },
		string(survey.CES):  func(a *surveyAnswerInput) *string { return &a.CES },
		survey.CommentField: func(a *surveyAnswerInput) *string { return &a.Comment },
	},
}

// values returns the answer in the shape survey.CheckAnswer reads. A
// question left blank is not sent at all, as a browser sends no field for
// a radio group with nothing chosen; the comment always is.
func (a surveyAnswerInput) values() map[string][]string {
	out := map[string][]string{survey.CommentField: {a.Comment}}
	for q, s := range map[survey.Question]string{survey.NPS: a.NPS, survey.CSAT: a.CSAT, survey.CES: a.CES} {
		if s != "" {
			out[string(q)] = []string{s}
		}
	}
	return out
}

// parse reads a body in mediaType by s's table.
func (s formSpec[T]) parse(mediaType string, params map[string]string, body []byte) (T, error) {
	var zero T
	if len(body) > s.limit {
		return zero, crm.Errorf(crm.ETOOLARGE, "the body is larger than %d bytes", s.limit)
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return zero, malformed("body", "is not well-formed form encoding")
		}
		return s.fromValues(vals)
	case "multipart/form-data":
		return s.parseMultipart(params["boundary"], body)
	case "application/json":
		return s.parseJSON(body)
	}
	return zero, crm.Errorf(crm.EUNSUPPORTED,
		"send the form as application/x-www-form-urlencoded, multipart/form-data or application/json")
}

func invalidBody(reason string) error {
	return &crm.Error{Code: crm.EINVALID, Message: "invalid body", Fields: []crm.FieldError{{Field: "body", Reason: reason}}}
}

// fromValues takes the first value of each field.
func (s formSpec[T]) fromValues(vals map[string][]string) (T, error) {
	var in T
	var v crm.Invalid
	for name, values := range vals {
		if len(values) == 0 {
			continue
		}
		if field, ok := s.fields[name]; ok {
			*field(&in) = values[0]
			continue
		}
		if key, ok := customName(name); ok && s.custom != nil {
			custom := s.custom(&in)
			if *custom == nil {
				*custom = map[string]string{}
			}
			if len(*custom) >= crm.MaxCustomFields {
				v.Add("custom", "has more than 20 fields")
				break
			}
			(*custom)[key] = values[0]
		}
	}
	return in, v.Err()
}

// customName reads "custom[plan]" as "plan".
func customName(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "custom[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", false
	}
	return strings.TrimSuffix(rest, "]"), true
}

func (s formSpec[T]) parseMultipart(boundary string, body []byte) (T, error) {
	var zero T
	if boundary == "" {
		return zero, malformed("body", "multipart/form-data needs a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	vals := map[string][]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return zero, malformed("body", "is not well-formed multipart/form-data")
		}
		if p.FileName() != "" {
			continue // files are not accepted; the field is ignored
		}
		b, err := io.ReadAll(io.LimitReader(p, int64(s.limit)))
		if err != nil {
			return zero, malformed("body", "is not well-formed multipart/form-data")
		}
		vals[p.FormName()] = append(vals[p.FormName()], string(b))
	}
	return s.fromValues(vals)
}

func (s formSpec[T]) parseJSON(body []byte) (T, error) {
	var in T
	if !json.Valid(body) {
		return in, malformed("body", "is not well-formed JSON")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return in, invalidBody("must be a JSON object")
	}
	var v crm.Invalid
	for name, val := range raw {
		if field, ok := s.fields[name]; ok {
			str, ok := jsonScalar(val)
			if !ok {
				v.Add(name, "must be a string")
				continue
			}
			*field(&in) = str
			continue
		}
		if name == "custom" && s.custom != nil {
			readCustom(val, s.custom(&in), &v)
		}
	}
	return in, v.Err()
}

// readCustom reads a JSON "custom" object of strings into *into.
func readCustom(val json.RawMessage, into *map[string]string, v *crm.Invalid) {
	var custom map[string]any
	if err := json.Unmarshal(val, &custom); err != nil {
		v.Add("custom", "must be an object of strings")
		return
	}
	if len(custom) > crm.MaxCustomFields {
		v.Add("custom", "has more than 20 fields")
		return
	}
	*into = map[string]string{}
	for k, cv := range custom {
		s, ok := cv.(string)
		if !ok {
			v.Add("custom."+k, "must be a string")
			continue
		}
		(*into)[k] = s
	}
}

// jsonScalar reads a JSON string, or a boolean or number as its text (a
// consent checkbox sent as true), and refuses objects and arrays.
func jsonScalar(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			return "true", true
		}
		return "false", true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	if string(raw) == "null" {
		return "", true
	}
	return "", false
}
