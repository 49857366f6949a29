package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// Tickets serves the tickets function's routes: the public support form,
// the agents' queue and their work on tickets, and each customer's page of
// their ticket, reached by a signed link.
type Tickets struct {
	Service *ticket.Service
	CORS    CORS
	// RedirectOrigins are the sites a form's redirect field may name.
	RedirectOrigins []string
	// Links verifies the customer page's tokens and signs the link to a
	// ticket that a customer's answer opened.
	Links *links.Keyring
	// LinkTTL is how long a link signed here works; ticket.LinkTTL when 0.
	LinkTTL time.Duration
	// TimeZone shows the times on the customer page; UTC when nil.
	TimeZone *time.Location
}

// Register binds a handler to each of the tickets function's manifest
// routes; it panics when a route has no handler.
func (h *Tickets) Register(api *API) {
	handlers := map[string]HandlerFunc{
		"POST /tickets":              h.submit,
		"OPTIONS /tickets":           h.preflight,
		"POST /tickets/on-behalf":    h.openFor,
		"GET /tickets":               h.list,
		"GET /tickets/{id}":          h.get,
		"PATCH /tickets/{id}":        h.update,
		"POST /tickets/{id}/replies": h.reply,
		"GET /t/{token}":             h.page,
		"POST /t/{token}":            h.answer,
	}
	api.HandleAll("tickets", handlers)
}

func (h *Tickets) preflight(_ context.Context, r *Request) (Response, error) {
	return h.CORS.Preflight(r)
}

// submit takes a support or complaint form, by the rules of the lead form.
func (h *Tickets) submit(ctx context.Context, r *Request) (Response, error) {
	browser := wantsHTML(r)
	resp, err := h.submitResponse(ctx, r, browser)
	if resp, err = formAnswer(browser, resp, err); err != nil {
		return Response{}, err
	}
	return h.CORS.Decorate(r, resp), nil
}

func (h *Tickets) submitResponse(ctx context.Context, r *Request, browser bool) (Response, error) {
	body, err := r.Body(MaxFormBody)
	if err != nil {
		return Response{}, err
	}
	mt, params := r.MediaType()
	in, err := ParseTicketForm(mt, params, body)
	if err != nil {
		return Response{}, err
	}
	res, err := h.Service.Submit(ctx, in.Submission, r.Header("Idempotency-Key"))
	if err != nil {
		return Response{}, err
	}
	return formAccepted{
		id: res.TicketID, duplicate: res.Duplicate, status: string(ticket.StatusNew), location: "/tickets/" + res.TicketID,
		redirect: in.Redirect, pageURL: in.Submission.PageURL, origins: h.RedirectOrigins,
	}.response(browser), nil
}

// openFor opens a ticket for a caller on the phone, by email or in chat.
func (h *Tickets) openFor(ctx context.Context, r *Request) (Response, error) {
	var body struct {
		Name      string            `json:"name"`
		Email     string            `json:"email"`
		Phone     string            `json:"phone"`
		Subject   string            `json:"subject"`
		Message   string            `json:"message"`
		Kind      string            `json:"kind"`
		Category  string            `json:"category"`
		Reference string            `json:"reference"`
		Custom    map[string]string `json:"custom"`
		Channel   string            `json:"channel"`
		Priority  string            `json:"priority"`
		Owner     string            `json:"owner"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	in := ticket.StaffOpening{
		Submission: ticket.Submission{Name: body.Name, Email: body.Email, Phone: body.Phone, Subject: body.Subject,
			Message: body.Message, Kind: body.Kind, Category: body.Category, Reference: body.Reference, Custom: body.Custom},
		Channel: body.Channel, Priority: body.Priority, Owner: me(r, body.Owner),
	}
	t, err := h.Service.OpenFor(ctx, r.Caller.Subject, in, r.Header("Idempotency-Key"))
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusCreated, h.toJSON(t), "ETag", etag(t.Version), "Location", "/tickets/"+t.ID), nil
}

// me reads "me" as the caller.
func me(r *Request, owner string) string {
	if owner == "me" {
		return r.Caller.Subject
	}
	return owner
}

// unassigned is the owner filter of the queue nobody owns.
const unassigned = "unassigned"

func (h *Tickets) list(ctx context.Context, r *Request) (Response, error) {
	q := r.QueryStringParameters
	f := ticket.Filter{Cursor: q["cursor"]}
	var v crm.Invalid
	if s := q["status"]; s != "" {
		st, ok := ticket.ParseStatus(s)
		if !ok {
			v.Add("status", "must be new, open, pending, on_hold, solved or closed")
		}
		f.Status = st
	}
	if s := q["priority"]; s != "" {
		if f.Priority = sla.Priority(s); !f.Priority.Valid() {
			v.Add("priority", "must be low, normal, high or urgent")
		}
	}
	if s := q["kind"]; s != "" {
		k, ok := ticket.ParseKind(s)
		if !ok {
			v.Add("kind", "must be request, question, complaint or incident")
		}
		f.Kind = k
	}
	switch s := q["owner"]; s {
	case "":
	case unassigned:
		f.OwnerSet = true
	default:
		f.Owner, f.OwnerSet = me(r, s), true
	}
	switch s := ticket.SLAState(q["sla"]); s {
	case "", ticket.AtRisk, ticket.Breached:
		f.SLA = s
	default:
		v.Add("sla", "must be at_risk or breached")
	}
	f.Limit = pageLimit(q["limit"], &v)
	if err := v.Err(); err != nil {
		return Response{}, err
	}
	page, err := h.Service.List(ctx, f)
	if err != nil {
		return Response{}, err
	}
	items := make([]ticketJSON, len(page.Tickets))
	for i, t := range page.Tickets {
		items[i] = h.toJSON(t)
	}
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": next}), nil
}

func (h *Tickets) get(ctx context.Context, r *Request) (Response, error) {
	d, err := h.Service.Detail(ctx, r.PathParameters["id"])
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, toTicketDetailJSON(d), "ETag", etag(d.Ticket.Version)), nil
}

func (h *Tickets) update(ctx context.Context, r *Request) (Response, error) {
	version, err := ifMatch(r, true)
	if err != nil {
		return Response{}, err
	}
	var body struct {
		Status   *string `json:"status"`
		Priority *string `json:"priority"`
		Owner    *string `json:"owner"`
		Kind     *string `json:"kind"`
		Category *string `json:"category"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	p := ticket.Patch{Status: body.Status, Priority: body.Priority, Owner: body.Owner, Kind: body.Kind, Category: body.Category}
	if p.Owner != nil {
		owner := me(r, *p.Owner)
		p.Owner = &owner
	}
	t, err := h.Service.Update(ctx, r.Caller.Subject, r.PathParameters["id"], version, p)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, h.toJSON(t), "ETag", etag(t.Version)), nil
}

// reply adds a public reply (emailed to the requester) or an internal note.
func (h *Tickets) reply(ctx context.Context, r *Request) (Response, error) {
	var body struct {
		Body   string  `json:"body"`
		Public *bool   `json:"public"`
		Status *string `json:"status"`
	}
	if err := r.DecodeJSON(&body); err != nil {
		return Response{}, err
	}
	if body.Public == nil {
		return Response{}, fieldError("public", "is required: true for a reply the customer is emailed, false for an internal note")
	}
	e, t, err := h.Service.Reply(ctx, r.Caller.Subject, r.PathParameters["id"],
		ticket.Reply{Body: body.Body, Public: *body.Public, Status: body.Status})
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusCreated, map[string]any{"entry": toTicketEntryJSON(e), "ticket": h.toJSON(t)},
		"ETag", etag(t.Version)), nil
}

// now is the service's clock.
func (h *Tickets) now() time.Time { return h.Service.Now().UTC() }

// toJSON shows t with its SLA clocks as they stand now.
func (h *Tickets) toJSON(t ticket.Ticket) ticketJSON {
	first, res := h.Service.Rules.Snapshots(t, h.now())
	return toTicketJSON(t, first, res)
}
