package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/followup"
)

// Leads serves the leads function's routes: public form capture, and the
// staff routes to list, read, work and convert leads and to read customers.
type Leads struct {
	Service *crm.LeadService
	CORS    CORS
	// RedirectOrigins are the sites a form's redirect field may name.
	RedirectOrigins []string
	// TimeZone reads date-only list filters as the organisation's days.
	TimeZone *time.Location
	// Followups shows a lead's or customer's open follow-up tasks with it.
	Followups OpenFollowups
	// Tickets shows a customer's latest tickets with it.
	Tickets CustomerTickets
	// Surveys shows a customer's latest survey answers with it.
	Surveys CustomerSurveys
}

// Register binds a handler to each of the leads function's manifest routes.
// It panics when a route has no handler, so a route added to the manifest
// cannot go unserved.
func (h *Leads) Register(api *API) {
	handlers := map[string]HandlerFunc{
		"POST /leads":                    h.capture,
		"OPTIONS /leads":                 h.preflight,
		"GET /leads":                     h.list,
		"GET /leads/{id}":                h.get,
		"PATCH /leads/{id}":              h.update,
		"POST /leads/{id}/activities":    h.addActivity,
		"POST /leads/{id}/convert":       h.convert,
		"GET /customers":                 h.customersByValue,
		"GET /customers/{id}":            h.customer,
		"POST /customers/{id}/purchases": h.recordPurchase,
	}
	api.HandleAll("leads", handlers)
}

func (h *Leads) preflight(_ context.Context, r *Request) (Response, error) {
	return h.CORS.Preflight(r)
}

// capture takes a web form submission. A browser posting a plain form gets
// a page (or a redirect); a script gets JSON.
func (h *Leads) capture(ctx context.Context, r *Request) (Response, error) {
	browser := wantsHTML(r)
	resp, err := h.captureResponse(ctx, r, browser)
	if resp, err = formAnswer(browser, resp, err); err != nil {
		return Response{}, err
	}
	return h.CORS.Decorate(r, resp), nil
}

func (h *Leads) captureResponse(ctx context.Context, r *Request, browser bool) (Response, error) {
	body, err := r.Body(MaxFormBody)
	if err != nil {
		return Response{}, err
	}
	mt, params := r.MediaType()
	in, err := ParseForm(mt, params, body)
	if err != nil {
		return Response{}, err
	}
	res, err := h.Service.Capture(ctx, in.Submission, r.Header("Idempotency-Key"))
	if err != nil {
		return Response{}, err
	}
	return formAccepted{
		id: res.LeadID, duplicate: res.Duplicate, status: string(crm.StatusNew), location: "/leads/" + res.LeadID,
		redirect: in.Redirect, pageURL: in.Submission.PageURL, origins: h.RedirectOrigins,
	}.response(browser), nil
}

func (h *Leads) list(ctx context.Context, r *Request) (Response, error) {
	q := r.QueryStringParameters
	f := crm.LeadFilter{Source: strings.ToLower(q["source"]), Owner: q["owner"], Cursor: q["cursor"]}
	var v crm.Invalid
	if f.Owner == "me" {
		f.Owner = r.Caller.Subject
	}
	if s := q["status"]; s != "" {
		st, ok := crm.ParseLeadStatus(s)
		if !ok {
			v.Add("status", "must be new, contacted, qualified, converted or lost")
		}
		f.Status = st
	}
	f.From = h.parseInstant(q["created_from"], "created_from", false, &v)
	f.To = h.parseInstant(q["created_to"], "created_to", true, &v)
	f.Limit = pageLimit(q["limit"], &v)
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	page, err := h.Service.Leads(ctx, f)
	if err != nil {
		return Response{}, err
	}
	items := make([]leadJSON, len(page.Items))
	for i, l := range page.Items {
		items[i] = toLeadJSON(l)
	}
	var next *string
	if page.NextCursor != "" {
		next = &page.NextCursor
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": next}), nil
}

// parseInstant reads an RFC 3339 instant, or a date in the organisation's
// time zone: its start, or for an upper bound the start of the next day,
// so created_to=2026-11-22 includes that whole day.
func (h *Leads) parseInstant(s, field string, upper bool, v *crm.Invalid) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	d, err := time.ParseInLocation(time.DateOnly, s, h.TimeZone)
	if err != nil {
		v.Add(field, "must be a date (2026-11-22) or an RFC 3339 time")
		return time.Time{}
	}
	if upper {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func (h *Leads) get(ctx context.Context, r *Request) (Response, error) {
	d, err := h.Service.LeadDetail(ctx, r.PathParameters["id"])
	if err != nil {
		return Response{}, err
	}
	j := struct {
		leadDetailJSON
		Followups []followupJSON `json:"followups"`
	}{leadDetailJSON: toLeadDetailJSON(d)}
	if j.Followups, err = openFollowupsJSON(ctx, h.Followups, followup.Subject{Kind: followup.SubjectLead, ID: d.Lead.ID}); err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, j, "ETag", etag(d.Lead.Version)), nil
}

func (h *Leads) update(ctx context.Context, r *Request) (Response, error) {
	version, err := ifMatch(r, true)
	if err != nil {
		return Response{}, err
	}
	var body struct {
		Status     *string `json:"status"`
		LostReason *string `json:"lost_reason"`
		Owner      *string `json:"owner"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	change := crm.LeadChange{LostReason: body.LostReason, Owner: body.Owner}
	if body.Status != nil {
		st, ok := crm.ParseLeadStatus(*body.Status)
		if !ok {
			return Response{}, fieldError("status", "must be new, contacted, qualified, converted or lost")
		}
		change.Status = &st
	}
	l, err := h.Service.UpdateLead(ctx, r.Caller.Subject, r.PathParameters["id"], version, change)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toLeadJSON(l), "ETag", etag(l.Version)), nil
}

func (h *Leads) addActivity(ctx context.Context, r *Request) (Response, error) {
	var body struct {
		Type string `json:"type"`
		Note string `json:"note"`
		At   string `json:"at"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	a := crm.Activity{Kind: crm.ActivityKind(body.Type), Note: body.Note}
	if body.At != "" {
		t, err := time.Parse(time.RFC3339, body.At)
		if err != nil {
			return Response{}, fieldError("at", "must be an RFC 3339 time such as 2026-11-22T10:00:00Z")
		}
		a.At = t
	}
	e, err := h.Service.AddActivity(ctx, r.Caller.Subject, r.PathParameters["id"], a)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusCreated, toEntryJSON(e)), nil
}

func (h *Leads) convert(ctx context.Context, r *Request) (Response, error) {
	version, err := ifMatch(r, false)
	if err != nil {
		return Response{}, err
	}
	var body struct {
		DealValue json.RawMessage `json:"deal_value"`
		Currency  string          `json:"currency"`
		Note      string          `json:"note"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	deal, err := parseMoney(body.DealValue, body.Currency, "deal_value")
	if err != nil {
		return Response{}, err
	}
	c, err := h.Service.Convert(ctx, r.Caller.Subject, r.PathParameters["id"], crm.Conversion{Deal: deal, Note: body.Note, IfMatch: version})
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, map[string]any{"lead_id": r.PathParameters["id"], "customer": toCustomerJSON(c)},
		"Location", "/customers/"+c.ID), nil
}

// parseMoney reads an amount sent as a JSON number or string in currency,
// naming field or "currency" when it is wrong.
func parseMoney(raw json.RawMessage, currency, field string) (crm.Money, error) {
	amount, ok := decimalText(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return crm.Money{}, fieldError(field, "is required")
	} else if !ok {
		return crm.Money{}, fieldError(field, "must be a decimal amount such as 1250.50")
	}
	m, err := crm.ParseMoney(amount, currency)
	if err != nil {
		if strings.HasPrefix(err.Error(), "currency") {
			field = "currency"
		}
		return crm.Money{}, fieldError(field, err.Error())
	}
	return m, nil
}

// recordPurchase records what a customer bought: 201 with the purchase, or
// 200 with the first one when its Idempotency-Key was seen before.
func (h *Leads) recordPurchase(ctx context.Context, r *Request) (Response, error) {
	var body struct {
		Amount      json.RawMessage `json:"amount"`
		Currency    string          `json:"currency"`
		PurchasedAt string          `json:"purchased_at"`
		Description string          `json:"description"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	amount, err := parseMoney(body.Amount, body.Currency, "amount")
	if err != nil {
		return Response{}, err
	}
	p := crm.Purchase{Amount: amount, Description: body.Description}
	if body.PurchasedAt != "" {
		if p.At, err = time.Parse(time.RFC3339, body.PurchasedAt); err != nil {
			return Response{}, fieldError("purchased_at", "must be an RFC 3339 time such as 2026-11-22T10:00:00Z")
		}
	}
	id := r.PathParameters["id"]
	p, created, err := h.Service.RecordPurchase(ctx, r.Caller.Subject, id, p, r.Header("Idempotency-Key"))
	if err != nil {
		return Response{}, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	// A purchase is read with its customer; it has no page of its own.
	return JSON(status, toPurchaseJSON(p), "Location", "/customers/"+id), nil
}

// customersByValue lists the ranked customers, the highest
// trailing-twelve-month revenue first. sort=value is required: it is the
// one order the list has, and naming it leaves room for others.
func (h *Leads) customersByValue(ctx context.Context, r *Request) (Response, error) {
	q := r.QueryStringParameters
	var v crm.Invalid
	if q["sort"] != "value" {
		v.Add("sort", "must be value: customers are listed by value")
	}
	f := crm.ValueFilter{Limit: pageLimit(q["limit"], &v), Cursor: q["cursor"]}
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	page, err := h.Service.CustomersByValue(ctx, f)
	if err != nil {
		return Response{}, err
	}
	items := make([]customerValueJSON, len(page.Items))
	for i, c := range page.Items {
		items[i] = toCustomerValueJSON(c)
	}
	var next *string
	if page.NextCursor != "" {
		next = &page.NextCursor
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": next}), nil
}

func (h *Leads) customer(ctx context.Context, r *Request) (Response, error) {
	d, err := h.Service.Customer(ctx, r.PathParameters["id"])
	if err != nil {
		return Response{}, err
	}
	j := struct {
		customerDetailJSON
		Followups []followupJSON       `json:"followups"`
		Tickets   []customerTicketJSON `json:"tickets"`
		Surveys   []responseJSON       `json:"survey_answers"`
	}{customerDetailJSON: toCustomerDetailJSON(d)}
	if j.Followups, err = openFollowupsJSON(ctx, h.Followups, followup.Subject{Kind: followup.SubjectCustomer, ID: d.Customer.ID}); err != nil {
		return Response{}, err
	}
	if j.Tickets, err = customerTicketsJSON(ctx, h.Tickets, d.Customer.ID); err != nil {
		return Response{}, err
	}
	if j.Surveys, err = customerSurveysJSON(ctx, h.Surveys, d.Customer.ID); err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, j), nil
}

// etag quotes a record's version as an entity tag.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the version named by If-Match; required makes its absence
// a 428, so no edit is made blind.
func ifMatch(r *Request, required bool) (int64, error) {
	h := strings.TrimSpace(r.Header("If-Match"))
	if h == "" {
		if required {
			return 0, crm.Errorf(crm.EPRECONDITIONREQUIRED, "send If-Match with the ETag of what you read")
		}
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, fieldError("If-Match", "must be the ETag you read, such as \"3\"")
	}
	return v, nil
}

func fieldError(field, reason string) error {
	return &crm.Error{Code: crm.EINVALID, Message: "invalid " + field, Fields: []crm.FieldError{{Field: field, Reason: reason}}}
}
