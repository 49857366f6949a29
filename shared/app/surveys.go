package app

import (
	"github.com/rapportcrm/rapport/shared/httpapi"
)

// Surveys builds the surveys function's HTTP handler: the page each
// invited person answers by their signed link, unsubscribing, and the
// managers' invitations, results and answers, over the same surveys
// domain the reminders function invites and mails with (surveyDomain). A
// missing keyring is a wiring error and panics here, at cold start.
func Surveys(d Deps) HTTPHandler {
	if d.Links == nil {
		panic("app.Surveys: Deps.Links is nil")
	}
	api := httpapi.New(d.Log)
	h := &httpapi.Surveys{
		Service:  surveyDomain(d),
		Links:    d.Links,
		TimeZone: d.Config.TimeZone,
		OrgName:  d.Config.OrgName,
	}
	h.Register(api)
	return api.Serve
}
