package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/survey"
)

// Surveys serves the surveys function's routes: the page each invited
// person answers by the signed link in their invitation, unsubscribing
// from it, and the managers' invitations, results and answers.
type Surveys struct {
	Service *survey.Service
	// Links verifies the tokens of the survey pages (links.Survey).
	Links *links.Keyring
	// TimeZone is the organisation's: the zone results' periods are
	// reckoned in. The service's calendar zone when nil.
	TimeZone *time.Location
	// OrgName is the organisation's name as its customers know it, in the
	// questions' wording; "" says "us".
	OrgName string
}

// Register binds a handler to each of the surveys function's manifest
// routes; it panics when a route has no handler.
func (h *Surveys) Register(api *API) {
	handlers := map[string]HandlerFunc{
		"POST /surveys/invitations":   h.invite,
		"GET /surveys/results":        h.results,
		"GET /surveys/responses":      h.responses,
		"GET /s/{token}":              h.page,
		"POST /s/{token}":             h.answer,
		"GET /s/{token}/unsubscribe":  h.unsubscribePage,
		"POST /s/{token}/unsubscribe": h.unsubscribe,
	}
	api.HandleAll("surveys", handlers)
}

// invite sends an invitation at once, to a customer or an address. A
// person the rules refuse (no address, opted out, inside the quiet
// period) is 409 with the rule as errors[0].reason.
func (h *Surveys) invite(ctx context.Context, r *Request) (Response, error) {
	var body struct {
		CustomerID string   `json:"customer_id"`
		Email      string   `json:"email"`
		Questions  []string `json:"questions"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	m := survey.ByHand{CustomerID: body.CustomerID, Email: body.Email}
	for _, q := range body.Questions {
		m.Questions = append(m.Questions, survey.Question(q))
	}
	inv, err := h.Service.Invite(ctx, m)
	if why := survey.Refused(err); why != "" {
		return Response{}, refused(err, why, body.CustomerID != "")
	}
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusCreated, toInvitationJSON(inv, h.now())), nil
}

// refused answers a person the rules will not invite: 409 naming the
// field the person was given by and the rule (survey.NoEmail, OptedOut or
// QuietPeriod) as its reason, with the rule in words as the detail.
func refused(err error, why string, byCustomer bool) error {
	field, detail := "email", err.Error()
	if byCustomer {
		field = "customer_id"
	}
	if why == survey.NoEmail {
		detail = "the person has no email address"
	}
	return &crm.Error{Code: crm.ECONFLICT, Message: detail, Fields: []crm.FieldError{{Field: field, Reason: why}}}
}

// results answers a question's result in a period: counts per score,
// responses, invitations sent, the response rate and the standard score.
func (h *Surveys) results(ctx context.Context, r *Request) (Response, error) {
	q := r.QueryStringParameters
	var v crm.Invalid
	question := h.questionParam(q["question"], true, &v)
	p, _ := h.periodParam(q["period"], &v)
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	res, err := h.Service.Results(ctx, question, p)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toResultJSON(res, p)), nil
}

// responses lists answers newest first, with their comments, for a
// manager to read and answer the unhappy ones.
func (h *Surveys) responses(ctx context.Context, r *Request) (Response, error) {
	q := r.QueryStringParameters
	var v crm.Invalid
	f := survey.ResponseQuery{Question: h.questionParam(q["question"], false, &v), Cursor: q["cursor"]}
	if s := q["period"]; s != "" {
		if p, ok := h.periodParam(s, &v); ok {
			f.From, f.To = p.Start(), p.End()
		}
	}
	if s := q["max_score"]; s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case f.Question == "":
			v.Add("max_score", "needs question: a score is on one question's scale")
		case err != nil || !f.Question.Allows(n):
			lo, hi := f.Question.Scale()
			v.Add("max_score", "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		}
		f.MaxScore, f.MaxScoreSet = n, true
	}
	f.Limit = pageLimit(q["limit"], &v)
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	page, err := h.Service.Responses(ctx, f)
	if err != nil {
		return Response{}, err
	}
	items := make([]responseJSON, len(page.Responses))
	for i, resp := range page.Responses {
		items[i] = toResponseJSON(resp)
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": orNil(page.Next)}), nil
}

// questionParam reads the question parameter; "" when it is optional and
// absent.
func (h *Surveys) questionParam(s string, required bool, v *crm.Invalid) survey.Question {
	if s == "" && !required {
		return ""
	}
	q, ok := survey.ParseQuestion(s)
	if !ok {
		v.Add("question", "must be nps, csat or ces")
	}
	return q
}

// periodParam reads the period parameter in the organisation's zone: a day,
// ISO week, month or quarter; this week when absent. It reports false,
// with the reason in v, when s names no period.
func (h *Surveys) periodParam(s string, v *crm.Invalid) (period.Period, bool) {
	if s == "" {
		return period.Containing(h.now(), period.Week, h.zone()), true
	}
	p, err := period.Parse(s, h.zone())
	var pe *period.ParseError
	switch {
	case errors.As(err, &pe):
		v.Add("period", pe.Reason)
	case err != nil:
		v.Add("period", "must be a day (2026-12-01), ISO week (2026-W48), month (2026-12) or quarter (2026-Q4)")
	}
	return p, err == nil
}

// zone is the organisation's time zone.
func (h *Surveys) zone() *time.Location {
	if h.TimeZone != nil {
		return h.TimeZone
	}
	return h.Service.Calendar.Location()
}

// now is the service's clock.
func (h *Surveys) now() time.Time { return h.Service.Now().UTC() }
