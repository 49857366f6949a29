package app

import (
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/httpapi"
)

// Leads builds the leads function's HTTP handler: public form capture and the
// staff routes for leads and customers.
func Leads(d Deps) HTTPHandler {
	api := httpapi.New(d.Log)
	h := &httpapi.Leads{
		Service: &crm.LeadService{
			Store:           &dynamo.LeadStore{Client: d.DynamoDB, Table: d.Config.TableName},
			Teams:           teamsOfStaff{StaffService(d)},
			Now:             d.Now,
			DuplicateWindow: d.Config.DuplicateWindow,
			Currency:        d.Config.Currency,
		},
		CORS: httpapi.CORS{
			Origins: d.Config.CORSOrigins,
			Methods: []string{"POST"},
			Headers: []string{"Content-Type", "Idempotency-Key"},
		},
		RedirectOrigins: d.Config.RedirectOrigins,
		TimeZone:        d.Config.TimeZone,
		Followups:       &dynamo.FollowupStore{Client: d.DynamoDB, Table: d.Config.TableName},
		Tickets:         &dynamo.TicketStore{Client: d.DynamoDB, Table: d.Config.TableName},
		Surveys:         &dynamo.SurveyStore{Client: d.DynamoDB, Table: d.Config.TableName},
	}
	api.DecorateCORS(h.CORS)
	h.Register(api)
	return api.Serve
}
