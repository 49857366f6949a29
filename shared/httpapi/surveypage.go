package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/survey"
)

// The survey page, /s/{token}, that an invitation's links open, and its
// unsubscribe page. The token is checked before anything is read, and a
// token that fails, an invitation that was never sent and one that is
// gone all get the same friendly page, which says nothing of the
// invitation or whether it exists: 404, or 410 once a genuine link has
// expired.
//
// A GET never records anything: mail scanners open every link in an
// email, the one-click ?score=N links included (see package survey). The
// page's form posts the answer; a second answer, from a double click or
// another device, is thanked again and changes nothing.

// surveyPagePath is where an invitation's page lives, before its token.
const surveyPagePath = "/s/"

// page shows the invitation's questions. ?score=N chooses N for the first
// question in advance, as the invitation email's one-click links ask;
// ?answered=1, the redirect after an answer, thanks the person. An
// invitation answered before is thanked, whatever the query says.
func (h *Surveys) page(ctx context.Context, r *Request) (Response, error) {
	tok, id, refusal, ok := h.verify(r, false)
	if !ok {
		return refusal, nil
	}
	inv, err := h.Service.Invitation(ctx, id)
	if err == nil {
		err = closed(inv, h.now())
	}
	if errors.Is(err, survey.ErrAnswered) {
		return customerPage(http.StatusOK, render("survey-thanks", surveyThanks{Token: tok, Again: r.QueryStringParameters["answered"] == ""})), nil
	}
	if resp, ok := closedPage(err); ok {
		return resp, nil
	}
	if err != nil {
		return Response{}, err
	}
	var chosen surveyAnswerInput
	if s := r.QueryStringParameters["score"]; len(inv.Questions) > 0 {
		if _, ok := survey.ParseScore(inv.Questions[0], s); ok {
			chosen.set(inv.Questions[0], s)
		}
	}
	return customerPage(http.StatusOK, render("survey", h.pageData(inv, tok, chosen, nil))), nil
}

// answer records the one answer from the page's form and sends the
// browser to the page, which thanks them, so a reload sends nothing
// again. An answer given before is thanked (200) and counted once; a
// choice missing or off the scale, or a comment too long, shows the page
// again (422) with each error beside its field and what was chosen kept,
// and writes nothing.
func (h *Surveys) answer(ctx context.Context, r *Request) (Response, error) {
	mt, params := r.MediaType()
	tok, id, refusal, ok := h.verify(r, false)
	if !ok && isJSON(mt) {
		return linkProblem(refusal.StatusCode), nil
	}
	if !ok {
		return refusal, nil
	}
	body, err := r.Body(MaxSurveyBody)
	if crm.ErrorCode(err) == crm.ETOOLARGE {
		tooLarge := &crm.Error{Code: crm.EINVALID, Fields: []crm.FieldError{{Field: survey.CommentField, Reason: "is longer than 2000 characters"}}}
		return h.formAgain(ctx, id, tok, http.StatusRequestEntityTooLarge, surveyAnswerInput{}, tooLarge)
	}
	if err != nil {
		return Response{}, err
	}
	in, err := surveyForm.parse(mt, params, body)
	if err != nil {
		return Response{}, err
	}
	if isJSON(mt) {
		return h.answerJSON(ctx, id, in)
	}
	_, err = h.Service.Answer(ctx, id, in.values())
	var e *crm.Error
	switch {
	case errors.Is(err, survey.ErrAnswered):
		return customerPage(http.StatusOK, render("survey-thanks", surveyThanks{Token: tok, Again: true})), nil
	case errors.As(err, &e) && e.Code == crm.EINVALID:
		return h.formAgain(ctx, id, tok, http.StatusUnprocessableEntity, in, e)
	}
	if resp, ok := closedPage(err); ok {
		return resp, nil
	}
	if err != nil {
		return Response{}, err
	}
	resp := Redirect(surveyPagePath + tok + "?answered=1")
	privatePage(resp.Headers)
	return resp, nil
}

// answerJSON records an answer a script sent as JSON, such as a
// company's own survey widget: 201 when recorded, 200 when the invitation
// was answered before (counted once either way), problem+json otherwise.
func (h *Surveys) answerJSON(ctx context.Context, id string, in surveyAnswerInput) (Response, error) {
	_, err := h.Service.Answer(ctx, id, in.values())
	switch {
	case err == nil:
		return privateJSON(http.StatusCreated, "answered"), nil
	case errors.Is(err, survey.ErrAnswered):
		return privateJSON(http.StatusOK, "already_answered"), nil
	}
	if resp, ok := closedPage(err); ok {
		return linkProblem(resp.StatusCode), nil
	}
	return Response{}, err
}

func privateJSON(status int, answer string) Response {
	resp := JSON(status, map[string]string{"status": answer})
	privatePage(resp.Headers)
	return resp
}

// linkProblem is the problem+json of a survey link that takes no answer:
// 404 for one that does not work, 410 for one that expired. Like the
// pages, it says nothing of the invitation.
func linkProblem(status int) Response {
	p := problem{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Code: crm.ENOTFOUND, Detail: "this survey link does not work"}
	if status == http.StatusGone {
		p.Code, p.Detail = "expired", "this survey link has expired"
	}
	resp := Response{StatusCode: status, Headers: map[string]string{"Content-Type": "application/problem+json"}, Body: mustJSON(p)}
	privatePage(resp.Headers)
	return resp
}

// formAgain shows invitation id's page again with status, the choices
// in kept and the errors of e beside their fields. An invitation closed
// meanwhile gets its own page instead.
func (h *Surveys) formAgain(ctx context.Context, id, tok string, status int, in surveyAnswerInput, e *crm.Error) (Response, error) {
	inv, err := h.Service.Invitation(ctx, id)
	if err == nil {
		err = closed(inv, h.now())
	}
	if errors.Is(err, survey.ErrAnswered) {
		return customerPage(http.StatusOK, render("survey-thanks", surveyThanks{Token: tok, Again: true})), nil
	}
	if resp, ok := closedPage(err); ok {
		return resp, nil
	}
	if err != nil {
		return Response{}, err
	}
	return customerPage(status, render("survey", h.pageData(inv, tok, in, e))), nil
}

// unsubscribePage asks the person to confirm, with a form that posts.
// An expired link still opens it: a person must always be able to opt
// out.
func (h *Surveys) unsubscribePage(ctx context.Context, r *Request) (Response, error) {
	tok, id, refusal, ok := h.verify(r, true)
	if !ok {
		return refusal, nil
	}
	if resp, ok, err := h.sentInvitation(ctx, id); !ok {
		return resp, err
	}
	return customerPage(http.StatusOK, render("survey-unsubscribe", surveyThanks{Token: tok})), nil
}

// unsubscribe opts the person out of every survey, however often it is
// sent, from the confirmation page or a mail client's one-click
// unsubscribe (RFC 8058), whose body it does not need to read.
func (h *Surveys) unsubscribe(ctx context.Context, r *Request) (Response, error) {
	_, id, refusal, ok := h.verify(r, true)
	if !ok {
		return refusal, nil
	}
	if resp, ok, err := h.sentInvitation(ctx, id); !ok {
		return resp, err
	}
	if err := h.Service.OptOut(ctx, id); err != nil {
		if resp, ok := closedPage(err); ok {
			return resp, nil
		}
		return Response{}, err
	}
	return customerPage(http.StatusOK, render("survey-unsubscribed", nil)), nil
}

// sentInvitation checks that invitation id was sent, whatever became of
// it since; otherwise it returns the page (or the error) to answer with.
func (h *Surveys) sentInvitation(ctx context.Context, id string) (Response, bool, error) {
	inv, err := h.Service.Invitation(ctx, id)
	if err == nil && inv.SentAt == nil {
		err = survey.ErrNotSent
	}
	if resp, ok := closedPage(err); ok {
		return resp, false, nil
	}
	return Response{}, err == nil, err
}

// verify checks the page's token: it returns the token and the
// invitation id, or the friendly page to answer with (404 for a token
// Rapport did not sign for a survey, 410 for one that expired). With
// acceptExpired, a genuine token past its expiry passes too.
func (h *Surveys) verify(r *Request, acceptExpired bool) (tok, id string, refusal Response, ok bool) {
	tok = r.PathParameters["token"]
	c, err := h.Links.Verify(tok, links.Survey, h.now())
	if errors.Is(err, links.ErrExpired) && acceptExpired {
		// Verify vouches for a token at any instant before its expiry,
		// and the epoch is before every expiry: this checks the
		// signature alone.
		c, err = h.Links.Verify(tok, links.Survey, time.Unix(0, 0))
	}
	switch {
	case errors.Is(err, links.ErrExpired):
		return "", "", customerPage(http.StatusGone, render("survey-closed", nil)), false
	case err != nil:
		return "", "", customerPage(http.StatusNotFound, render("survey-gone", nil)), false
	}
	return tok, c.ID, Response{}, true
}

// closed returns why inv can take no answer at now, as survey.CheckAnswer
// would: ErrAnswered, ErrExpired or ErrNotSent; nil while it can.
func closed(inv survey.Invitation, now time.Time) error {
	switch inv.StatusAt(now) {
	case survey.StatusSent:
		return nil
	case survey.StatusAnswered:
		return survey.ErrAnswered
	case survey.StatusExpired:
		return survey.ErrExpired
	}
	return survey.ErrNotSent
}

// closedPage returns the friendly page of an invitation that is gone or
// was never sent (404) or has expired (410), saying nothing of it.
func closedPage(err error) (Response, bool) {
	switch {
	case errors.Is(err, survey.ErrExpired):
		return customerPage(http.StatusGone, render("survey-closed", nil)), true
	case errors.Is(err, survey.ErrNotSent), crm.ErrorCode(err) == crm.ENOTFOUND:
		return customerPage(http.StatusNotFound, render("survey-gone", nil)), true
	}
	return Response{}, false
}
