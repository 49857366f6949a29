package app

import (
	"context"

	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/httpapi"
	"github.com/rapportcrm/rapport/shared/staff"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// Tickets builds the tickets function's HTTP handler: the public support
// form, the agents' routes and each customer's signed ticket page. A
// missing keyring is a wiring error and panics here, at cold start.
func Tickets(d Deps) HTTPHandler {
	if d.Links == nil {
		panic("app.Tickets: Deps.Links is nil")
	}
	api := httpapi.New(d.Log)
	h := &httpapi.Tickets{
		Service: TicketService(d),
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

// TicketService builds the tickets domain over the table: SLA clocks on
// the organisation's calendar and policies, owners' teams from their staff
// profiles.
func TicketService(d Deps) *ticket.Service {
	return &ticket.Service{
		Store:        ticketStore(d),
		Rules:        ticket.Rules{Policies: d.Config.SLAPolicies, Calendar: d.Config.Calendar},
		Teams:        staffTeams{StaffService(d)},
		CloseAfter:   d.Config.TicketCloseAfter,
		ReopenWithin: d.Config.TicketReopenWithin,
		Now:          d.Now,
	}
}

func ticketStore(d Deps) *dynamo.TicketStore {
	return &dynamo.TicketStore{Client: d.DynamoDB, Table: d.Config.TableName}
}

// staffTeams gives an owner's team from their profile; "" for someone
// with no profile yet.
type staffTeams struct{ staff *staff.Service }

func (t staffTeams) TeamOf(ctx context.Context, sub string) (string, error) {
	p, err := t.staff.Profile(ctx, sub)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return p.Team, nil
}
