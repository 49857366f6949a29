package app

// Leads builds the leads function's HTTP handler: public form capture and the
// staff routes for leads and customers.
func Leads(d Deps) HTTPHandler {
	panic("not built yet")
}
