package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/links"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// The customer's page of a ticket, /t/{token}: the public thread and a
// plain form to answer, working without JavaScript. The token is checked
// before anything is read or written; a token that fails gets a friendly
// page that says nothing of the ticket or whether it exists.

// page shows the ticket's public thread; ?answered=1 thanks the customer
// for the answer they just sent.
func (h *Tickets) page(ctx context.Context, r *Request) (Response, error) {
	id, refusal, ok := h.verify(r)
	if !ok {
		return refusal, nil
	}
	return h.threadPage(ctx, id, http.StatusOK, answerState{answered: r.QueryStringParameters["answered"] != ""})
}

// answer takes the customer's answer from the page's form. It goes to the
// ticket, or to a new ticket that follows a closed one; either way the
// browser is sent to that ticket's page, so a reload does not send it
// twice. A message that is empty or too long shows the page again with
// the error beside the field, and writes nothing.
func (h *Tickets) answer(ctx context.Context, r *Request) (Response, error) {
	id, refusal, ok := h.verify(r)
	if !ok {
		return refusal, nil
	}
	body, err := r.Body(MaxAnswerBody)
	if crm.ErrorCode(err) == crm.ETOOLARGE {
		return h.threadPage(ctx, id, http.StatusRequestEntityTooLarge,
			answerState{problem: tooLong})
	}
	if err != nil {
		return Response{}, err
	}
	mt, params := r.MediaType()
	in, err := answerForm.parse(mt, params, body)
	if err != nil {
		return Response{}, err
	}
	res, err := h.Service.CustomerAnswer(ctx, id, in.Message)
	var e *crm.Error
	switch {
	case errors.As(err, &e) && e.Code == crm.EINVALID:
		return h.threadPage(ctx, id, http.StatusUnprocessableEntity, answerState{message: in.Message, problem: answerProblem(e)})
	case crm.ErrorCode(err) == crm.ENOTFOUND:
		return customerPage(http.StatusNotFound, render("ticket-gone", nil)), nil
	case err != nil:
		return Response{}, err
	}
	tok := r.PathParameters["token"]
	if res.TicketID != id {
		if tok, err = h.Links.Sign(links.Ticket, res.TicketID, h.now().Add(h.linkTTL())); err != nil {
			return Response{}, crm.Errorf(crm.EINTERNAL, "sign the page of ticket %s: %v", res.TicketID, err)
		}
	}
	resp := Redirect(ticket.PagePath + tok + "?answered=1")
	privatePage(resp.Headers)
	return resp, nil
}

// verify checks the page's token: it returns the ticket id, or the
// friendly page to answer with (404 for a token Rapport did not sign, 410
// for one that expired).
func (h *Tickets) verify(r *Request) (string, Response, bool) {
	c, err := h.Links.Verify(r.PathParameters["token"], links.Ticket, h.now())
	switch {
	case errors.Is(err, links.ErrExpired):
		return "", customerPage(http.StatusGone, render("ticket-expired", nil)), false
	case err != nil:
		return "", customerPage(http.StatusNotFound, render("ticket-gone", nil)), false
	}
	return c.ID, Response{}, true
}

func (h *Tickets) linkTTL() time.Duration {
	if h.LinkTTL > 0 {
		return h.LinkTTL
	}
	return ticket.LinkTTL
}

// answerState is what the page shows around its form.
type answerState struct {
	answered bool
	message  string // the answer to show again, beside problem
	problem  string
}

// threadPage renders ticket id's page with status. A ticket that no
// longer exists gets the same page as a link that does not work.
func (h *Tickets) threadPage(ctx context.Context, id string, status int, st answerState) (Response, error) {
	t, thread, err := h.Service.PublicThread(ctx, id)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return customerPage(http.StatusNotFound, render("ticket-gone", nil)), nil
	}
	if err != nil {
		return Response{}, err
	}
	return customerPage(status, render("ticket", h.pageData(t, thread, st))), nil
}

// answerProblem says in words what is wrong with the message.
func answerProblem(e *crm.Error) string {
	for _, f := range e.Fields {
		switch {
		case f.Field != "message":
		case strings.Contains(f.Reason, "required"):
			return "Please write your message before sending it."
		case strings.Contains(f.Reason, "longer"):
			return tooLong
		}
	}
	return "We could not read your message: please type it again."
}

const tooLong = "Your message is too long: please shorten it to 5,000 characters or fewer."

// customerPage answers a page a customer reaches by a signed link: their
// ticket, or a survey. The link in its address is the key to the ticket
// or the invitation, so the page is kept out of caches, search engines
// and other sites' Referer headers, and may not be framed.
func customerPage(status int, page string) Response {
	resp := HTML(status, page)
	resp.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	privatePage(resp.Headers)
	return resp
}

func privatePage(h map[string]string) {
	h["Cache-Control"] = "no-store"
	h["Referrer-Policy"] = "no-referrer"
	h["X-Robots-Tag"] = "noindex, nofollow"
}
