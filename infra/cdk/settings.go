package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/survey"
)

// Context keys a deployer sets in cdk.json or with `cdk deploy -c KEY=VALUE`.
const (
	CtxCORSAllowedOrigins  = "rapport:corsAllowedOrigins"   // list, or comma-separated string
	CtxFormRedirectOrigins = "rapport:formRedirectOrigins"  // list, or comma-separated string
	CtxOrgTimeZone         = "rapport:orgTimeZone"          // IANA name
	CtxOrgCurrency         = "rapport:orgCurrency"          // ISO 4217 code, e.g. EUR
	CtxLeadDuplicateWindow = "rapport:leadDuplicateWindow"  // Go duration, e.g. 720h
	CtxBusinessHours       = "rapport:businessHours"        // e.g. "Mon-Fri 09:00-17:00"
	CtxHolidays            = "rapport:holidays"             // list of dates, or comma-separated string
	CtxMailFrom            = "rapport:mailFrom"             // address SES has verified, e.g. "Rapport <crm@example.com>"
	CtxAppURL              = "rapport:appUrl"               // where links in staff email point; default the API's URL
	CtxFirstContactWithin  = "rapport:firstContactWithin"   // Go duration of working time, e.g. 4h
	CtxCheckInAfter        = "rapport:checkInAfter"         // Go duration, e.g. 720h
	CtxFollowupOverdue     = "rapport:followupOverdueAfter" // Go duration, e.g. 24h
	CtxSalesQueueEmail     = "rapport:salesQueueEmail"      // shared inbox for unassigned follow-ups' reminders
	CtxOrgName             = "rapport:orgName"              // the company's name, as surveys ask "How likely … recommend <name>"
	CtxSLAPolicies         = "rapport:slaPolicies"          // ticket SLA targets, e.g. "urgent=1h/4h,high=4h/1d"
	CtxTicketCloseAfter    = "rapport:ticketCloseAfter"     // Go duration, e.g. 96h
	CtxTicketReopenWithin  = "rapport:ticketReopenWithin"   // Go duration, e.g. 168h
	CtxAlarmEmail          = "rapport:alarmEmail"           // address the alarm topic mails; empty for none
	CtxStage               = "rapport:stage"                // dev or prod; `make deploy STAGE=...` sets it
)

// Context keys of the survey rules (shared/survey's Settings), each a Go
// duration.
const (
	CtxSurveyDelay        = "rapport:surveyDelay"             // after a solved ticket, e.g. 1h
	CtxSurveyRelFirst     = "rapport:surveyRelationshipFirst" // after a customer's first conversion, e.g. 720h
	CtxSurveyRelEvery     = "rapport:surveyRelationshipEvery" // between a customer's relationship surveys, e.g. 2160h
	CtxSurveyQuietPeriod  = "rapport:surveyQuietPeriod"       // least time between two invitations to one person; 0 for none
	CtxSurveyLinkLifetime = "rapport:surveyLinkLifetime"      // how long a survey link works, e.g. 720h
)

// Settings are the deployment's choices, read from CDK context and handed to
// every function in its environment.
type Settings struct {
	CORSAllowedOrigins  []string
	FormRedirectOrigins []string
	OrgTimeZone         string
	OrgCurrency         string
	LeadDuplicateWindow string
	BusinessHours       string
	Holidays            []string
	MailFrom            string
	AppURL              string // "" means the API's URL, set by the stack
	FirstContactWithin  string
	CheckInAfter        string
	FollowupOverdue     string
	SalesQueueEmail     string
	OrgName             string
	SLAPolicies         string
	TicketCloseAfter    string
	TicketReopenWithin  string
	SurveyDelay         string
	SurveyRelFirst      string
	SurveyRelEvery      string
	SurveyQuietPeriod   string
	SurveyLinkLifetime  string
	// AlarmEmail is subscribed to the alarm topic when set. It is not
	// passed to the functions.
	AlarmEmail string
}

// SettingsFromContext reads the settings from the construct tree's context
// and checks them with the same parser the functions use at cold start, so a
// malformed origin, time zone, business calendar, SLA policy or survey rule
// fails `cdk synth`, naming its key, rather than every Lambda after the
// deployment.
func SettingsFromContext(node constructs.Node) (Settings, error) {
	var s Settings
	var err error
	if s.CORSAllowedOrigins, err = contextList(node, CtxCORSAllowedOrigins); err != nil {
		return Settings{}, err
	}
	if s.FormRedirectOrigins, err = contextList(node, CtxFormRedirectOrigins); err != nil {
		return Settings{}, err
	}
	if s.OrgTimeZone, err = contextString(node, CtxOrgTimeZone); err != nil {
		return Settings{}, err
	}
	if s.OrgTimeZone == "" {
		s.OrgTimeZone = config.DefaultTimeZone
	}
	if s.LeadDuplicateWindow, err = contextString(node, CtxLeadDuplicateWindow); err != nil {
		return Settings{}, err
	}
	if s.LeadDuplicateWindow == "" {
		s.LeadDuplicateWindow = config.DefaultDuplicateWindow.String()
	}
	if s.BusinessHours, err = contextString(node, CtxBusinessHours); err != nil {
		return Settings{}, err
	}
	if s.BusinessHours == "" {
		s.BusinessHours = config.DefaultBusinessHours
	}
	if s.Holidays, err = contextList(node, CtxHolidays); err != nil {
		return Settings{}, err
	}
	if s.MailFrom, err = contextString(node, CtxMailFrom); err != nil {
		return Settings{}, err
	}
	if s.MailFrom == "" {
		s.MailFrom = config.DefaultMailFrom
	}
	surveys := survey.DefaultSettings()
	for _, v := range []struct {
		key  string
		into *string
		def  string
	}{
		{CtxOrgCurrency, &s.OrgCurrency, config.DefaultCurrency},
		{CtxAppURL, &s.AppURL, ""},
		{CtxFirstContactWithin, &s.FirstContactWithin, config.DefaultFirstContact.String()},
		{CtxCheckInAfter, &s.CheckInAfter, config.DefaultCheckInAfter.String()},
		{CtxFollowupOverdue, &s.FollowupOverdue, config.DefaultOverdueAfter.String()},
		{CtxSalesQueueEmail, &s.SalesQueueEmail, ""},
		{CtxOrgName, &s.OrgName, ""},
		{CtxSLAPolicies, &s.SLAPolicies, sla.DefaultPoliciesString},
		{CtxTicketCloseAfter, &s.TicketCloseAfter, config.DefaultCloseAfter.String()},
		{CtxTicketReopenWithin, &s.TicketReopenWithin, config.DefaultReopenWithin.String()},
		{CtxSurveyDelay, &s.SurveyDelay, surveys.Delay.String()},
		{CtxSurveyRelFirst, &s.SurveyRelFirst, surveys.RelationshipFirst.String()},
		{CtxSurveyRelEvery, &s.SurveyRelEvery, surveys.RelationshipEvery.String()},
		{CtxSurveyQuietPeriod, &s.SurveyQuietPeriod, surveys.QuietPeriod.String()},
		{CtxSurveyLinkLifetime, &s.SurveyLinkLifetime, surveys.LinkLifetime.String()},
	} {
		if *v.into, err = contextString(node, v.key); err != nil {
			return Settings{}, err
		}
		if *v.into == "" {
			*v.into = v.def
		}
	}
	if s.AlarmEmail, err = contextString(node, CtxAlarmEmail); err != nil {
		return Settings{}, err
	}
	if s.AlarmEmail != "" {
		if a, err := mail.ParseAddress(s.AlarmEmail); err != nil || a.Address != s.AlarmEmail {
			return Settings{}, fmt.Errorf("%s: %q is not an email address such as ops@example.com", CtxAlarmEmail, s.AlarmEmail)
		}
	}
	// The table and bus names are tokens until deployment; any non-empty
	// value stands in for them here.
	env := s.Environment("table", "bus")
	if _, err := config.FromEnv(func(k string) string { return env[k] }); err != nil {
		return Settings{}, namingContextKey(err)
	}
	return s, nil
}

// contextKeys are the context keys of the variables a deployer sets.
var contextKeys = map[string]string{
	"ORG_TIME_ZONE":          CtxOrgTimeZone,
	"ORG_CURRENCY":           CtxOrgCurrency,
	"CORS_ALLOWED_ORIGINS":   CtxCORSAllowedOrigins,
	"FORM_REDIRECT_ORIGINS":  CtxFormRedirectOrigins,
	"LEAD_DUPLICATE_WINDOW":  CtxLeadDuplicateWindow,
	"BUSINESS_HOURS":         CtxBusinessHours,
	"BUSINESS_HOLIDAYS":      CtxHolidays,
	"MAIL_FROM":              CtxMailFrom,
	"APP_URL":                CtxAppURL,
	"FIRST_CONTACT_WITHIN":   CtxFirstContactWithin,
	"CHECK_IN_AFTER":         CtxCheckInAfter,
	"FOLLOWUP_OVERDUE_AFTER": CtxFollowupOverdue,
	"SALES_QUEUE_EMAIL":      CtxSalesQueueEmail,
	"ORG_NAME":               CtxOrgName,
	"SLA_POLICIES":           CtxSLAPolicies,
	"TICKET_CLOSE_AFTER":     CtxTicketCloseAfter,
	"TICKET_REOPEN_WITHIN":   CtxTicketReopenWithin,

	"SURVEY_DELAY":              CtxSurveyDelay,
	"SURVEY_RELATIONSHIP_FIRST": CtxSurveyRelFirst,
	"SURVEY_RELATIONSHIP_EVERY": CtxSurveyRelEvery,
	"SURVEY_QUIET_PERIOD":       CtxSurveyQuietPeriod,
	"SURVEY_LINK_LIFETIME":      CtxSurveyLinkLifetime,
}

// surveyVariables are the variables of the fields survey.Settings.Check
// names when it refuses a value (a negative delay, a link that never
// expires): its error names the field, not the variable it was read from.
var surveyVariables = map[string]string{
	"delay":              "SURVEY_DELAY",
	"relationship_first": "SURVEY_RELATIONSHIP_FIRST",
	"relationship_every": "SURVEY_RELATIONSHIP_EVERY",
	"quiet_period":       "SURVEY_QUIET_PERIOD",
	"link_lifetime":      "SURVEY_LINK_LIFETIME",
}

// namingContextKey puts the context key a deployer edits in front of a
// configuration error, which names the variable it read ("SLA_POLICIES:
// sla policy urgent: …" becomes "rapport:slaPolicies: SLA_POLICIES: …") or,
// when a survey rule is out of bounds, the rule's field ("survey settings:
// invalid delay (delay: …)" becomes "rapport:surveyDelay: survey settings: …").
func namingContextKey(err error) error {
	var invalid *crm.Error
	if errors.As(err, &invalid) && len(invalid.Fields) > 0 {
		if key, ok := contextKeys[surveyVariables[invalid.Fields[0].Field]]; ok {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	msg := err.Error()
	for variable, key := range contextKeys {
		if rest, ok := strings.CutPrefix(msg, variable); ok && (strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, " ")) {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return err
}

// Environment returns the variables shared/config reads, for a function of
// a stack whose table and bus have the given names; LinksSecretVariable is
// added to the functions that read the link keyring (grantLinkKeys).
func (s Settings) Environment(tableName, busName string) map[string]string {
	return map[string]string{
		"TABLE_NAME":             tableName,
		"EVENT_BUS_NAME":         busName,
		"ORG_TIME_ZONE":          s.OrgTimeZone,
		"ORG_CURRENCY":           s.OrgCurrency,
		"CORS_ALLOWED_ORIGINS":   strings.Join(s.CORSAllowedOrigins, ","),
		"FORM_REDIRECT_ORIGINS":  strings.Join(s.FormRedirectOrigins, ","),
		"LEAD_DUPLICATE_WINDOW":  s.LeadDuplicateWindow,
		"BUSINESS_HOURS":         s.BusinessHours,
		"BUSINESS_HOLIDAYS":      strings.Join(s.Holidays, ","),
		"MAIL_FROM":              s.MailFrom,
		"APP_URL":                s.AppURL,
		"FIRST_CONTACT_WITHIN":   s.FirstContactWithin,
		"CHECK_IN_AFTER":         s.CheckInAfter,
		"FOLLOWUP_OVERDUE_AFTER": s.FollowupOverdue,
		"SALES_QUEUE_EMAIL":      s.SalesQueueEmail,
		"ORG_NAME":               s.OrgName,
		"SLA_POLICIES":           s.SLAPolicies,
		"TICKET_CLOSE_AFTER":     s.TicketCloseAfter,
		"TICKET_REOPEN_WITHIN":   s.TicketReopenWithin,

		"SURVEY_DELAY":              s.SurveyDelay,
		"SURVEY_RELATIONSHIP_FIRST": s.SurveyRelFirst,
		"SURVEY_RELATIONSHIP_EVERY": s.SurveyRelEvery,
		"SURVEY_QUIET_PERIOD":       s.SurveyQuietPeriod,
		"SURVEY_LINK_LIFETIME":      s.SurveyLinkLifetime,
	}
}

// checkSender refuses a sender in a domain that cannot be on the internet
// (the local stack's rapport@localhost, .invalid, .test, …) once some
// function sends email: SES would refuse every message, and the deployer
// learns it at synth rather than from missing mail.
func (s Settings) checkSender(fns []manifest.Function) error {
	if !slices.ContainsFunc(fns, func(f manifest.Function) bool { return f.SendEmail }) {
		return nil
	}
	addr, err := mail.ParseAddress(s.MailFrom)
	if err != nil {
		return fmt.Errorf("%s is not an address", CtxMailFrom)
	}
	_, domain, _ := strings.Cut(strings.ToLower(addr.Address), "@")
	local := !strings.Contains(domain, ".")
	for _, tld := range []string{".localhost", ".invalid", ".test", ".local", ".internal"} {
		local = local || strings.HasSuffix(domain, tld)
	}
	if local {
		return fmt.Errorf("%s is %s, from which SES cannot send: set it in cdk.json to an address or domain verified in SES", CtxMailFrom, addr.Address)
	}
	return nil
}

// contextString reads a string context value; absent is "".
func contextString(node constructs.Node, key string) (string, error) {
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	default:
		return "", fmt.Errorf("%s must be a string, not %v", key, v)
	}
}

// contextList reads a list context value. cdk.json gives a JSON list; on the
// command line (-c KEY=VALUE) it arrives as a string, which may be
// comma-separated or a JSON list.
func contextList(node constructs.Node, key string) ([]string, error) {
	var out []string
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case nil:
	case string:
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "[") {
			if err := json.Unmarshal([]byte(v), &out); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			break
		}
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	case []any:
		for _, item := range v {
			str, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("%s must list strings, not %v", key, item)
			}
			if str = strings.TrimSpace(str); str != "" {
				out = append(out, str)
			}
		}
	default:
		return nil, fmt.Errorf("%s must be a list, not %v", key, v)
	}
	for _, item := range out {
		if strings.Contains(item, ",") {
			return nil, fmt.Errorf("%s: %q holds a comma", key, item)
		}
	}
	return out, nil
}
