package app

import (
	"github.com/rapportcrm/rapport/shared/httpapi"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// Tickets builds the tickets function's HTTP handler: the public support
// form, the agents' routes and each customer's signed ticket page, over
// the same tickets domain the reminders function closes and mails with
// (ticketDomain). A missing keyring is a wiring error and panics here, at
// cold start.
func Tickets(d Deps) HTTPHandler {
	if d.Links == nil {
		panic("app.Tickets: Deps.Links is nil")
	}
	api := httpapi.New(d.Log)
	h := &httpapi.Tickets{
		Service: ticketDomain(d),
		CORS: httpapi.CORS{
			Origins: d.Config.CORSOrigins,
			Methods: []string{"POST"},
			Headers: []string{"Content-Type", "Idempotency-Key"},
		},
		RedirectOrigins: d.Config.RedirectOrigins,
		Links:           d.Links,
		LinkTTL:         ticket.LinkTTL,
		TimeZone:        d.Config.TimeZone,
	}
	api.DecorateCORS(h.CORS)
	h.Register(api)
	return api.Serve
}
