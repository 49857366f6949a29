package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/shared/crm"
)

// What every public form (leads, tickets) answers, written once: a
// browser posting a plain form gets a page or a redirect, a script gets
// JSON; the form itself is read by formSpec.

// wantsHTML reports whether the request comes from a browser posting a
// plain form, which should get a page rather than JSON.
func wantsHTML(r *Request) bool { return strings.Contains(r.Header("Accept"), "text/html") }

// formAccepted is a public form's accepted submission and what to answer.
type formAccepted struct {
	id        string
	duplicate bool
	// status is the new record's status, shown on 201 only; location its
	// staff URL.
	status, location string
	// redirect and pageURL are the form's redirect and page_url fields;
	// origins are those a browser may be sent back to.
	redirect, pageURL string
	origins           []string
}

// response answers 201 for a new record and 200 for a duplicate: a browser
// gets a 303 to an allowed redirect or the thank-you page, a script
// {id, duplicate, status} with Location.
func (a formAccepted) response(browser bool) Response {
	status := http.StatusCreated
	if a.duplicate {
		status = http.StatusOK
	}
	if browser {
		if target, ok := allowedRedirect(a.origins, a.redirect); ok {
			return Redirect(target)
		}
		back, _ := allowedRedirect(a.origins, a.pageURL)
		return HTML(status, thanksPage(back))
	}
	body := map[string]any{"id": a.id, "duplicate": a.duplicate}
	if !a.duplicate {
		body["status"] = a.status
		return JSON(status, body, "Location", a.location)
	}
	return JSON(status, body)
}

// formAnswer turns a public form's invalid input into a page naming the
// fields at fault for a browser; any other failure stays an error, which
// the adapter answers as problem+json (and logs, if internal).
func formAnswer(browser bool, resp Response, err error) (Response, error) {
	var e *crm.Error
	if browser && errors.As(err, &e) && (e.Code == crm.EINVALID || e.Code == crm.EMALFORMED) {
		return HTML(StatusOf(err), invalidPage(e)), nil
	}
	return resp, err
}

// allowedRedirect returns target if it is an absolute URL on one of
// origins; anything else would make the form an open redirect.
func allowedRedirect(origins []string, target string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(target))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", false
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	return u.String(), slices.Contains(origins, origin)
}
