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
)

// MaxFormBody is the largest lead submission accepted, in bytes.
const MaxFormBody = 32 << 10

// FormInput is a parsed lead submission and where to send the browser after.
type FormInput struct {
	Submission crm.Submission
	Redirect   string
}

// formFields maps each accepted field name to where it goes.
var formFields = map[string]func(*FormInput) *string{
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
}

// ParseForm reads a lead submission sent as a plain HTML form
// (application/x-www-form-urlencoded or multipart/form-data) or as JSON.
// Fields it does not know, such as a submit button's name, are ignored;
// custom fields are sent as custom[NAME] (forms) or a "custom" object (JSON).
func ParseForm(mediaType string, params map[string]string, body []byte) (FormInput, error) {
	if len(body) > MaxFormBody {
		return FormInput{}, crm.Errorf(crm.ETOOLARGE, "the body is larger than %d bytes", MaxFormBody)
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return FormInput{}, malformed("body", "is not well-formed form encoding")
		}
		return fromValues(vals)
	case "multipart/form-data":
		return parseMultipart(params["boundary"], body)
	case "application/json":
		return parseJSONForm(body)
	}
	return FormInput{}, crm.Errorf(crm.EUNSUPPORTED,
		"send the form as application/x-www-form-urlencoded, multipart/form-data or application/json")
}

func invalidBody(reason string) error {
	return &crm.Error{Code: crm.EINVALID, Message: "invalid body", Fields: []crm.FieldError{{Field: "body", Reason: reason}}}
}

// fromValues takes the first value of each field.
func fromValues(vals map[string][]string) (FormInput, error) {
	var in FormInput
	var v crm.Invalid
	for name, values := range vals {
		if len(values) == 0 {
			continue
		}
		if field, ok := formFields[name]; ok {
			*field(&in) = values[0]
			continue
		}
		if key, ok := customName(name); ok {
			if in.Submission.Custom == nil {
				in.Submission.Custom = map[string]string{}
			}
			if len(in.Submission.Custom) >= crm.MaxCustomFields {
				v.Add("custom", "has more than 20 fields")
				break
			}
			in.Submission.Custom[key] = values[0]
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

func parseMultipart(boundary string, body []byte) (FormInput, error) {
	if boundary == "" {
		return FormInput{}, malformed("body", "multipart/form-data needs a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	vals := map[string][]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return FormInput{}, malformed("body", "is not well-formed multipart/form-data")
		}
		if p.FileName() != "" {
			continue // files are not accepted; the field is ignored
		}
		b, err := io.ReadAll(io.LimitReader(p, MaxFormBody))
		if err != nil {
			return FormInput{}, malformed("body", "is not well-formed multipart/form-data")
		}
		vals[p.FormName()] = append(vals[p.FormName()], string(b))
	}
	return fromValues(vals)
}

func parseJSONForm(body []byte) (FormInput, error) {
	if !json.Valid(body) {
		return FormInput{}, malformed("body", "is not well-formed JSON")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return FormInput{}, invalidBody("must be a JSON object")
	}
	var in FormInput
	var v crm.Invalid
	for name, val := range raw {
		if field, ok := formFields[name]; ok {
			s, ok := jsonScalar(val)
			if !ok {
				v.Add(name, "must be a string")
				continue
			}
			*field(&in) = s
			continue
		}
		if name == "custom" {
			var custom map[string]any
			if err := json.Unmarshal(val, &custom); err != nil {
				v.Add("custom", "must be an object of strings")
				continue
			}
			if len(custom) > crm.MaxCustomFields {
				v.Add("custom", "has more than 20 fields")
				continue
			}
			in.Submission.Custom = map[string]string{}
			for k, cv := range custom {
				s, ok := cv.(string)
				if !ok {
					v.Add("custom."+k, "must be a string")
					continue
				}
				in.Submission.Custom[k] = s
			}
		}
	}
	return in, v.Err()
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
