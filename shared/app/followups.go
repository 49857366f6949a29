package app

import (
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/httpapi"
)

// Followups builds the followups function's HTTP handler: the staff routes
// to plan, make and work follow-up tasks.
func Followups(d Deps) HTTPHandler {
	api := httpapi.New(d.Log)
	h := &httpapi.Followups{Service: followupService(d)}
	h.Register(api)
	return api.Serve
}

// followupService is the follow-up domain over the table, reading owners'
// time zones from their staff profiles.
func followupService(d Deps) *followup.Service {
	return &followup.Service{
		Store:              &dynamo.FollowupStore{Client: d.DynamoDB, Table: d.Config.TableName},
		Zones:              staffZones{StaffService(d)},
		Teams:              teamsOfStaff{StaffService(d)},
		Calendar:           d.Config.Calendar,
		FirstContactWithin: d.Config.FirstContactWithin,
		CheckInAfter:       d.Config.CheckInAfter,
		OverdueAfter:       d.Config.OverdueAfter,
		Now:                d.Now,
	}
}
