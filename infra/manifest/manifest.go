// Package manifest is the one description of how Rapport is put together:
// which functions exist, which HTTP routes reach them and with what role,
// which EventBridge rules feed them, and which schedules fire them.
//
// Both hosts read it: the CDK app (infra/cdk) turns it into AWS resources and
// the local stack (infra/local) into an HTTP server, an in-process bus and
// timers. A route therefore cannot exist in one and not in the other.
package manifest

import "github.com/rapportcrm/rapport/events"

// Role names a staff role carried in the token's groups claim. Roles are
// ordered: a manager may do what an agent may, an admin what a manager may.
type Role string

// Staff roles, lowest first. Public means no token is needed.
const (
	Public  Role = ""
	Agent   Role = "agent"
	Manager Role = "manager"
	Admin   Role = "admin"
)

// Roles lists the staff roles, lowest first; the Cognito user pool has one
// group per role.
var Roles = []Role{Agent, Manager, Admin}

// Kind says how a function is invoked.
type Kind string

// Function kinds.
const (
	HTTP   Kind = "http"   // API Gateway HTTP API, payload format 2.0
	Stream Kind = "stream" // the table's DynamoDB stream
	Event  Kind = "event"  // EventBridge rules and schedules
)

// Function is one Lambda function: one binary built from functions/NAME.
type Function struct {
	Name        string
	Kind        Kind
	Description string
	// What the function may touch; the CDK app grants exactly this.
	Table         TableAccess
	PublishEvents bool // may put events on the bus
	SendEmail     bool // may send email
	// ReadsLinkKeys says the function signs or verifies the customers'
	// links (/t/{token}, /s/{token}): it may read the link keyring secret.
	ReadsLinkKeys bool
}

// TableAccess is the access a function needs to the table.
type TableAccess string

// Table access levels.
const (
	NoTable   TableAccess = ""
	ReadTable TableAccess = "read"
	ReadWrite TableAccess = "read-write"
)

// Route is one HTTP route. Method and Path are in API Gateway's form, so
// "POST /leads/{id}/convert" is both the route key the gateway sends in the
// payload and the key the handler dispatches on.
type Route struct {
	Method   string
	Path     string
	Function string
	// Role is the least role the caller needs; Public routes have no
	// authorizer. The handler checks the role again.
	Role Role
	// Query names the query parameters the route reads. The adapter
	// refuses any other on a staff route with 400 naming it, so a misspelt
	// filter is not silently ignored. Public routes ignore unknown ones:
	// pages add their own, such as tracking parameters.
	Query []string
	// Accepts lists the media types a request body may have; any other is
	// refused with 415 naming these. Empty means application/json for
	// POST, PUT and PATCH, and no body for other methods.
	Accepts []string
	// Produces lists the media types the route answers with (problem+json
	// errors aside); a request whose Accept allows none of them gets 406.
	// Empty means application/json.
	Produces []string
}

// Key returns the route key, "METHOD /path".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Rule routes events from the bus to one consumer function: one rule per
// consumer, matching on source and detail type.
type Rule struct {
	Name        string
	Source      string
	DetailTypes []string
	Function    string
}

// Schedule fires a function on a timer with a fixed detail type, as the
// EventBridge Scheduler does in AWS.
type Schedule struct {
	Name       string
	Expression string // EventBridge Scheduler expression, e.g. "rate(1 minute)" or "cron(0 6 * * ? *)"
	Function   string
	DetailType string // the detail-type the function receives
	// CatchesUp says each run does all the work due up to its instant
	// (the timer sweep does), so when the local clock jumps far ahead,
	// runs may be merged: the local stack then fires at most
	// local.MaxRunsPerMove of them per move, evenly spread. In AWS every
	// run happens.
	CatchesUp bool
}

// Functions lists every Lambda function.
var Functions = []Function{
	{
		Name:          "leads",
		Kind:          HTTP,
		Description:   "Captures leads from web forms and lets staff work them into customers.",
		Table:         ReadWrite,
		PublishEvents: false,
	},
	{
		Name:        "staff",
		Kind:        HTTP,
		Description: "Staff profiles: each person's name, email, time zone, team and daily digest; the admin's staff list.",
		Table:       ReadWrite,
	},
	{
		Name:          "tickets",
		Kind:          HTTP,
		Description:   "Tickets and complaints: the public support form, the agents' queue with SLA clocks, and each customer's signed ticket page.",
		Table:         ReadWrite,
		ReadsLinkKeys: true,
	},
	{
		Name:          "surveys",
		Kind:          HTTP,
		Description:   "Surveys: the one-use answer pages of CSAT, NPS and CES invitations, unsubscribing, and the managers' results and answers.",
		Table:         ReadWrite,
		ReadsLinkKeys: true,
	},
	{
		Name:        "followups",
		Kind:        HTTP,
		Description: "Follow-up tasks: the plan of the day and the week, made by hand and by Rapport for new leads and customers.",
		Table:       ReadWrite,
	},
	{
		Name:        "scorecard",
		Kind:        HTTP,
		Description: "The balanced scorecard of a day, week, month or quarter, for the organisation or a team, read from the day rollups: JSON, CSV or a page; and the targets it is scored against.",
		// Reads rollups; writes only the scorecard config.
		Table: ReadWrite,
	},
	{
		Name:          "reminders",
		Kind:          Event,
		Description:   "Sweeps the timers every minute, makes the automatic follow-up tasks, emails due reminders, daily digests, ticket mail and the managers' weekly scorecard report, and closes solved tickets.",
		Table:         ReadWrite,
		SendEmail:     true,
		ReadsLinkKeys: true,
	},
	{
		Name:        "kpis",
		Kind:        Event,
		Description: "Adds every event to the day rollups the scorecard is computed from, each event once, and stores each period's scorecard just after it ends.",
		Table:       ReadWrite,
	},
	{
		Name:          "relay",
		Kind:          Stream,
		Description:   "Publishes the events written to the table's outbox onto the event bus, once each.",
		Table:         ReadWrite,
		PublishEvents: true,
	},
}

// Routes lists every HTTP route.
var Routes = []Route{
	{Method: "POST", Path: "/leads", Function: "leads", Role: Public,
		Accepts:  []string{"application/x-www-form-urlencoded", "multipart/form-data", "application/json"},
		Produces: []string{"application/json", "text/html"}},
	{Method: "OPTIONS", Path: "/leads", Function: "leads", Role: Public},
	{Method: "GET", Path: "/leads", Function: "leads", Role: Agent,
		Query: []string{"status", "owner", "source", "created_from", "created_to", "limit", "cursor"}},
	{Method: "GET", Path: "/leads/{id}", Function: "leads", Role: Agent},
	{Method: "PATCH", Path: "/leads/{id}", Function: "leads", Role: Agent},
	{Method: "POST", Path: "/leads/{id}/activities", Function: "leads", Role: Agent},
	{Method: "POST", Path: "/leads/{id}/convert", Function: "leads", Role: Agent},
	// Customers by value: sort=value is the one order (and required).
	{Method: "GET", Path: "/customers", Function: "leads", Role: Agent,
		Query: []string{"sort", "limit", "cursor"}},
	{Method: "GET", Path: "/customers/{id}", Function: "leads", Role: Agent},
	{Method: "POST", Path: "/customers/{id}/purchases", Function: "leads", Role: Agent},

	{Method: "POST", Path: "/tickets", Function: "tickets", Role: Public,
		Accepts:  []string{"application/x-www-form-urlencoded", "multipart/form-data", "application/json"},
		Produces: []string{"application/json", "text/html"}},
	{Method: "OPTIONS", Path: "/tickets", Function: "tickets", Role: Public},
	{Method: "POST", Path: "/tickets/on-behalf", Function: "tickets", Role: Agent},
	{Method: "GET", Path: "/tickets", Function: "tickets", Role: Agent,
		Query: []string{"status", "priority", "kind", "owner", "sla", "limit", "cursor"}},
	{Method: "GET", Path: "/tickets/{id}", Function: "tickets", Role: Agent},
	{Method: "PATCH", Path: "/tickets/{id}", Function: "tickets", Role: Agent},
	{Method: "POST", Path: "/tickets/{id}/replies", Function: "tickets", Role: Agent},
	// The customer's page of a ticket, reached by the signed link in every
	// ticket email: read the public thread, answer with a plain form.
	{Method: "GET", Path: "/t/{token}", Function: "tickets", Role: Public,
		Produces: []string{"text/html"}},
	{Method: "POST", Path: "/t/{token}", Function: "tickets", Role: Public,
		Accepts:  []string{"application/x-www-form-urlencoded", "multipart/form-data"},
		Produces: []string{"text/html"}},

	{Method: "POST", Path: "/surveys/invitations", Function: "surveys", Role: Manager},
	{Method: "GET", Path: "/surveys/results", Function: "surveys", Role: Manager,
		Query: []string{"question", "period"}},
	{Method: "GET", Path: "/surveys/responses", Function: "surveys", Role: Manager,
		Query: []string{"question", "period", "max_score", "limit", "cursor"}},
	// The survey page, reached by the signed link in an invitation: a GET
	// never records an answer (mail scanners open every link); the form
	// posts it. ?score=N, the one-click links, only preselects N.
	{Method: "GET", Path: "/s/{token}", Function: "surveys", Role: Public,
		Produces: []string{"text/html"}},
	{Method: "POST", Path: "/s/{token}", Function: "surveys", Role: Public,
		Accepts:  []string{"application/x-www-form-urlencoded", "multipart/form-data", "application/json"},
		Produces: []string{"text/html", "application/json"}},
	{Method: "GET", Path: "/s/{token}/unsubscribe", Function: "surveys", Role: Public,
		Produces: []string{"text/html"}},
	{Method: "POST", Path: "/s/{token}/unsubscribe", Function: "surveys", Role: Public,
		Accepts:  []string{"application/x-www-form-urlencoded", "multipart/form-data"},
		Produces: []string{"text/html"}},

	// The scorecard, chosen by Accept: the engine's document as JSON, one
	// CSV row per KPI, or a page of tiles with each KPI's last periods.
	// snapshot=true reads the card stored when the period ended (see
	// GET /scorecard/snapshots) instead of scoring it now.
	{Method: "GET", Path: "/scorecard", Function: "scorecard", Role: Manager,
		Query:    []string{"period", "at", "team", "snapshot"},
		Produces: []string{"application/json", "text/csv", "text/html"}},
	// The targets, baselines, thresholds and weights the scorecard is
	// scored against; PUT needs If-Match ("0" before the first change).
	{Method: "GET", Path: "/scorecard/config", Function: "scorecard", Role: Admin},
	{Method: "PUT", Path: "/scorecard/config", Function: "scorecard", Role: Admin},
	// Leads, conversions, conversion rate and revenue per lead source and
	// UTM campaign: where marketing money works.
	{Method: "GET", Path: "/scorecard/sources", Function: "scorecard", Role: Manager,
		Query: []string{"period", "at", "team"}},
	// The snapshots stored just after each period ended, newest first.
	{Method: "GET", Path: "/scorecard/snapshots", Function: "scorecard", Role: Manager,
		Query: []string{"period", "team", "limit", "cursor"}},
	// A day's stored rollups against their recomputation from the event
	// journal (docs/kpis.md); POST makes the stored equal the recomputed.
	{Method: "GET", Path: "/scorecard/recompute", Function: "scorecard", Role: Admin,
		Query: []string{"day", "team"}},
	{Method: "POST", Path: "/scorecard/recompute", Function: "scorecard", Role: Admin,
		Query: []string{"day", "team"}},

	{Method: "POST", Path: "/followups", Function: "followups", Role: Agent},
	{Method: "GET", Path: "/followups", Function: "followups", Role: Agent,
		Query: []string{"owner", "when", "limit", "cursor"}},
	{Method: "GET", Path: "/followups/{id}", Function: "followups", Role: Agent},
	{Method: "PATCH", Path: "/followups/{id}", Function: "followups", Role: Agent},

	{Method: "GET", Path: "/me", Function: "staff", Role: Agent},
	{Method: "PUT", Path: "/me", Function: "staff", Role: Agent},
	{Method: "GET", Path: "/staff", Function: "staff", Role: Admin,
		Query: []string{"team", "role", "limit", "cursor"}},
	{Method: "GET", Path: "/staff/{sub}", Function: "staff", Role: Admin},
	{Method: "PATCH", Path: "/staff/{sub}", Function: "staff", Role: Admin},
}

// Rules lists the event bus rules.
var Rules = []Rule{
	{
		// New leads get a first-contact task; first contact completes it; a
		// new customer gets a check-in task.
		Name: "reminders-leads", Source: "rapport.leads", Function: "reminders",
		DetailTypes: []string{"lead.captured", "lead.updated", "lead.converted"},
	},
	{
		// A task falling due emails its owner; a digest timer sends the
		// day's digest.
		Name: "reminders-mail", Source: "rapport.reminders", Function: "reminders",
		DetailTypes: []string{"followup.due", "staff.digest_due"},
	},
	{
		// Ticket mail: the requester's acknowledgement, staff replies and
		// the solve; SLA warnings, breaches and escalations to staff; and
		// the auto-close of solved tickets.
		Name: "reminders-tickets", Source: "rapport.tickets", Function: "reminders",
		DetailTypes: []string{"ticket.opened", "ticket.replied", "ticket.solved", "ticket.reopened",
			"ticket.sla_warning", "ticket.sla_breached", "ticket.sla_escalated", "ticket.close_due"},
	},
	{
		// Surveys: an invitation's timer sends it (survey.due); a sent
		// invitation is mailed; an unhappy answer gets a follow-up task.
		// ticket.solved and ticket.reopened (rule reminders-tickets) make
		// and cancel after-ticket invitations; lead.converted
		// (reminders-leads) starts a customer's relationship rhythm.
		Name: "reminders-surveys", Source: "rapport.surveys", Function: "reminders",
		DetailTypes: []string{"survey.due", "survey.invited", "survey.responded"},
	},
	// The kpis function adds every event to the day rollups (docs/kpis.md,
	// "How events are counted"): one rule per source, matching every
	// detail type the catalogue lists for it, so a new event reaches the
	// rollups without an edit here. Events that feed no counter cost an
	// invocation that changes nothing.
	allOf("kpis-leads", events.SourceLeads, "kpis"),
	allOf("kpis-reminders", events.SourceReminders, "kpis"),
	allOf("kpis-tickets", events.SourceTickets, "kpis"),
	allOf("kpis-surveys", events.SourceSurveys, "kpis"),
}

// allOf returns the rule called name sending every detail type of source
// in the event catalogue to function. Rules list detail types rather than
// leave them out to mean "all": both hosts match on the list, and an
// EventBridge pattern names what it matches.
func allOf(name, source, function string) Rule {
	r := Rule{Name: name, Source: source, Function: function}
	for _, d := range events.Catalogue() {
		if d.EventSource() == source {
			r.DetailTypes = append(r.DetailTypes, d.DetailType())
		}
	}
	return r
}

// SweepDetailType is the detail type of the timer sweep's schedule.
const SweepDetailType = "reminders.sweep"

// RankValueDetailType is the detail type of the daily ranking of the
// customers by value.
const RankValueDetailType = "customers.rank_value"

// SnapshotDetailType is the detail type of the scorecard snapshot's
// schedule.
const SnapshotDetailType = "scorecard.snapshot"

// WeeklyReportDetailType is the detail type of the weekly report's
// schedule.
const WeeklyReportDetailType = "scorecard.weekly_report"

// Schedules lists the timers. Cron expressions are read in the
// organisation's time zone, on both hosts.
var Schedules = []Schedule{
	{Name: "reminders-sweep", Expression: "rate(1 minute)", Function: "reminders", DetailType: SweepDetailType, CatchesUp: true},
	// Just after midnight: yesterday's card, on Mondays last week's, on
	// the 1st last month's, on a quarter's first day last quarter's; a
	// run stores whatever earlier runs missed, so runs may merge.
	{Name: "scorecard-snapshot", Expression: "cron(5 0 * * ? *)", Function: "kpis", DetailType: SnapshotDetailType, CatchesUp: true},
	// Ranks the customers by their revenue in the 365 days that ended at
	// midnight, in the organisation's zone: the kpis function keeps the
	// rollups it reads. Each run reads the whole window, so merged runs
	// lose nothing.
	{Name: "customers-rank-value", Expression: "cron(30 0 * * ? *)", Function: "kpis", DetailType: RankValueDetailType, CatchesUp: true},
	// Monday 08:00: last week's scorecard to every manager, once each.
	{Name: "weekly-report", Expression: "cron(0 8 ? * MON *)", Function: "reminders", DetailType: WeeklyReportDetailType},
}

// FunctionNamed returns the function called name and whether it exists.
func FunctionNamed(name string) (Function, bool) {
	for _, f := range Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// RoutesOf returns the routes served by the function called name.
func RoutesOf(name string) []Route {
	var out []Route
	for _, r := range Routes {
		if r.Function == name {
			out = append(out, r)
		}
	}
	return out
}
