package app

import (
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/httpapi"
	"github.com/rapportcrm/rapport/shared/staff"
)

// Staff builds the staff function's HTTP handler: each person's profile
// (/me) and the admin's staff routes (/staff).
func Staff(d Deps) HTTPHandler {
	api := httpapi.New(d.Log)
	profiles := &httpapi.Staff{Service: StaffService(d)}
	profiles.Register(api)
	return api.Serve
}

// StaffService builds the staff profile service on the table, for the
// handlers that read or write profiles.
func StaffService(d Deps) *staff.Service {
	return &staff.Service{
		Store:   &dynamo.StaffStore{Client: d.DynamoDB, Table: d.Config.TableName},
		Now:     d.Now,
		OrgZone: d.Config.TimeZone,
	}
}
