// Package config reads a function's settings from its environment once, at
// cold start, so that a missing or malformed setting fails the function's
// initialisation rather than a customer's request.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/email"
	"github.com/rapportcrm/rapport/shared/sla"
	"github.com/rapportcrm/rapport/shared/survey"
)

// Config holds every setting any function reads. Each function reads the
// whole set; the CDK app and the local stack set the same variables.
type Config struct {
	// TableName is the DynamoDB table (TABLE_NAME). Required.
	TableName string
	// OrgName is the organisation's name as its customers know it
	// (ORG_NAME, e.g. "Acme Support"), used in survey questions and the
	// invitation mail; "" lets them say "us". At most MaxOrgName
	// characters, on one line.
	OrgName string
	// TimeZone is the organisation's IANA time zone (ORG_TIME_ZONE, default
	// UTC); periods and reminders are computed in it.
	TimeZone *time.Location
	// Calendar is the organisation's business calendar in TimeZone:
	// working hours (BUSINESS_HOURS, default "Mon-Fri 09:00-17:00") and
	// holidays (BUSINESS_HOLIDAYS, local dates such as
	// "2026-12-25,2026-12-26", default none). Working-hour deadlines,
	// "next working morning" and SLA clocks run on it.
	Calendar calendar.Calendar
	// CORSOrigins lists the origins whose web pages may post leads with
	// JavaScript (CORS_ALLOWED_ORIGINS, comma-separated, e.g.
	// "https://www.example.com"). Empty allows none.
	CORSOrigins []string
	// RedirectOrigins lists the origins a form's "redirect" field may send a
	// browser back to after a submission (FORM_REDIRECT_ORIGINS,
	// comma-separated). Empty allows none: the thank-you page is shown.
	RedirectOrigins []string
	// DuplicateWindow is how long a second submission by the same person is
	// added to the first lead instead of making a new one
	// (LEAD_DUPLICATE_WINDOW, a Go duration, default 720h = 30 days).
	DuplicateWindow time.Duration
	// EventBusName is the EventBridge bus the relay publishes to
	// (EVENT_BUS_NAME).
	EventBusName string
	// MailFrom is the sender of Rapport's email (MAIL_FROM, an address
	// such as "Rapport <rapport@example.com>", default DefaultMailFrom). In
	// AWS, SES must have verified the address or its domain.
	MailFrom string
	// AppURL is where links in staff email point (APP_URL), e.g.
	// "https://crm.example.com"; "/leads/<id>" and the like are added.
	// The CDK stack defaults it to the API's URL.
	AppURL string
	// FirstContactWithin is the working time a new lead's first-contact
	// task is due after capture (FIRST_CONTACT_WITHIN, default 4h).
	FirstContactWithin time.Duration
	// CheckInAfter is when a new customer's check-in task falls due after
	// the conversion (CHECK_IN_AFTER, default 720h = 30 days).
	CheckInAfter time.Duration
	// OverdueAfter is how long after its due instant an open follow-up
	// publishes followup.overdue (FOLLOWUP_OVERDUE_AFTER, default 24h).
	OverdueAfter time.Duration
	// SalesQueueEmail receives the reminders of unassigned follow-ups
	// (SALES_QUEUE_EMAIL, a shared sales inbox; empty sends none).
	SalesQueueEmail string
	// SLAPolicies are the ticket SLA targets per priority, in business time
	// on Calendar (SLA_POLICIES, e.g. "urgent=1h/4h,high=4h/1d", default
	// sla.DefaultPoliciesString; priorities not named keep their default).
	SLAPolicies sla.Policies
	// TicketCloseAfter is how long after its solve a ticket closes by
	// itself unless the customer answers (TICKET_CLOSE_AFTER, default 96h).
	TicketCloseAfter time.Duration
	// TicketReopenWithin is how long after the solve a customer's answer
	// reopens a ticket; later, it opens a new one that follows it
	// (TICKET_REOPEN_WITHIN, default 168h).
	TicketReopenWithin time.Duration
	// LinksSecretARN names the Secrets Manager secret holding the keyring
	// that signs customers' links (LINKS_SECRET_ARN); set for the
	// functions that sign or verify them. The local stack passes a keyring
	// generated on the machine instead.
	LinksSecretARN string
	// Surveys are the survey rules: the delay after a solved ticket
	// (SURVEY_DELAY, default 1h), the relationship rhythm
	// (SURVEY_RELATIONSHIP_FIRST 720h after a first conversion, then every
	// SURVEY_RELATIONSHIP_EVERY 2160h), the least time between two
	// invitations to one person (SURVEY_QUIET_PERIOD, 720h; 0 turns it
	// off) and how long a link works (SURVEY_LINK_LIFETIME, 720h).
	Surveys survey.Settings
	// Currency is the organisation's currency (ORG_CURRENCY, an ISO 4217
	// code, default DefaultCurrency). Deals and purchases in another are
	// refused; the rollups, the scorecard's revenue and the customers'
	// value ranks count in it.
	Currency string
}

// Defaults applied when a variable is unset.
const (
	DefaultDuplicateWindow = 30 * 24 * time.Hour
	DefaultTimeZone        = "UTC"
	DefaultCurrency        = "EUR"
	DefaultBusinessHours   = calendar.DefaultHours
	DefaultMailFrom        = "Rapport <rapport@localhost>"
	DefaultFirstContact    = 4 * time.Hour
	DefaultCheckInAfter    = 30 * 24 * time.Hour
	DefaultOverdueAfter    = 24 * time.Hour
	DefaultCloseAfter      = 96 * time.Hour
	DefaultReopenWithin    = 168 * time.Hour
)

// MaxOrgName is the longest ORG_NAME: it lands in mail subjects.
const MaxOrgName = 100

// FromEnv reads the configuration through getenv (os.Getenv in a function,
// a map in tests).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:    strings.TrimSpace(getenv("TABLE_NAME")),
		EventBusName: strings.TrimSpace(getenv("EVENT_BUS_NAME")),
	}
	if c.TableName == "" {
		return Config{}, fmt.Errorf("TABLE_NAME is not set")
	}

	tz := strings.TrimSpace(getenv("ORG_TIME_ZONE"))
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Config{}, fmt.Errorf("ORG_TIME_ZONE %q is not an IANA time zone: %w", tz, err)
	}
	c.TimeZone = loc
	if c.Currency = strings.TrimSpace(getenv("ORG_CURRENCY")); c.Currency == "" {
		c.Currency = DefaultCurrency
	} else if !crm.IsCurrency(c.Currency) {
		return Config{}, fmt.Errorf("ORG_CURRENCY %q is not an ISO 4217 currency code such as EUR", c.Currency)
	}
	if c.OrgName, err = orgName(getenv("ORG_NAME")); err != nil {
		return Config{}, err
	}

	hours := strings.TrimSpace(getenv("BUSINESS_HOURS"))
	if hours == "" {
		hours = DefaultBusinessHours
	}
	if c.Calendar, err = calendar.Parse(hours, getenv("BUSINESS_HOLIDAYS"), loc); err != nil {
		// Name the variable at fault, not Parse's argument.
		var pe *calendar.ParseError
		if errors.As(err, &pe) && pe.Arg == "holidays" {
			return Config{}, fmt.Errorf("BUSINESS_HOLIDAYS: %s", pe.Reason)
		} else if pe != nil {
			return Config{}, fmt.Errorf("BUSINESS_HOURS: %s", pe.Reason)
		}
		return Config{}, fmt.Errorf("BUSINESS_HOURS: %w", err)
	}

	if c.CORSOrigins, err = origins(getenv("CORS_ALLOWED_ORIGINS")); err != nil {
		return Config{}, fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err)
	}
	if c.RedirectOrigins, err = origins(getenv("FORM_REDIRECT_ORIGINS")); err != nil {
		return Config{}, fmt.Errorf("FORM_REDIRECT_ORIGINS: %w", err)
	}

	c.DuplicateWindow = DefaultDuplicateWindow
	if w := strings.TrimSpace(getenv("LEAD_DUPLICATE_WINDOW")); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("LEAD_DUPLICATE_WINDOW %q is not a positive duration such as 720h", w)
		}
		c.DuplicateWindow = d
	}

	c.MailFrom = DefaultMailFrom
	if from := strings.TrimSpace(getenv("MAIL_FROM")); from != "" {
		// The value is not repeated: it may be a person's address.
		if _, err := email.ParseAddress(from); err != nil {
			return Config{}, fmt.Errorf(`MAIL_FROM is not an address such as "Rapport <rapport@example.com>"`)
		}
		c.MailFrom = from
	}
	for _, d := range []struct {
		name, value string
		into        *time.Duration
		def         time.Duration
	}{
		{"FIRST_CONTACT_WITHIN", getenv("FIRST_CONTACT_WITHIN"), &c.FirstContactWithin, DefaultFirstContact},
		{"CHECK_IN_AFTER", getenv("CHECK_IN_AFTER"), &c.CheckInAfter, DefaultCheckInAfter},
		{"FOLLOWUP_OVERDUE_AFTER", getenv("FOLLOWUP_OVERDUE_AFTER"), &c.OverdueAfter, DefaultOverdueAfter},
		{"TICKET_CLOSE_AFTER", getenv("TICKET_CLOSE_AFTER"), &c.TicketCloseAfter, DefaultCloseAfter},
		{"TICKET_REOPEN_WITHIN", getenv("TICKET_REOPEN_WITHIN"), &c.TicketReopenWithin, DefaultReopenWithin},
	} {
		if *d.into, err = duration(d.value, d.def); err != nil {
			return Config{}, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	if c.SLAPolicies, err = sla.ParsePolicies(getenv("SLA_POLICIES"), c.Calendar); err != nil {
		return Config{}, fmt.Errorf("SLA_POLICIES: %w", err)
	}
	c.LinksSecretARN = strings.TrimSpace(getenv("LINKS_SECRET_ARN"))
	if c.Surveys, err = surveySettings(getenv); err != nil {
		return Config{}, err
	}
	if c.AppURL = strings.TrimRight(strings.TrimSpace(getenv("APP_URL")), "/"); c.AppURL != "" {
		if u, err := url.Parse(c.AppURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Config{}, fmt.Errorf("APP_URL %q is not a URL such as https://crm.example.com", c.AppURL)
		}
	}
	if c.SalesQueueEmail = strings.TrimSpace(getenv("SALES_QUEUE_EMAIL")); c.SalesQueueEmail != "" {
		if _, err := email.ParseAddress(c.SalesQueueEmail); err != nil {
			return Config{}, fmt.Errorf("SALES_QUEUE_EMAIL is not an email address")
		}
	}
	return c, nil
}

// surveySettings reads the survey rules, each a Go duration.
func surveySettings(getenv func(string) string) (survey.Settings, error) {
	st := survey.DefaultSettings()
	for _, d := range []struct {
		name string
		into *time.Duration
	}{
		{"SURVEY_DELAY", &st.Delay},
		{"SURVEY_RELATIONSHIP_FIRST", &st.RelationshipFirst},
		{"SURVEY_RELATIONSHIP_EVERY", &st.RelationshipEvery},
		{"SURVEY_QUIET_PERIOD", &st.QuietPeriod},
		{"SURVEY_LINK_LIFETIME", &st.LinkLifetime},
	} {
		v := strings.TrimSpace(getenv(d.name))
		if v == "" {
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil {
			return survey.Settings{}, fmt.Errorf("%s %q is not a duration such as 720h", d.name, v)
		}
		*d.into = parsed
	}
	if err := st.Check(); err != nil {
		return survey.Settings{}, fmt.Errorf("survey settings: %w", err)
	}
	return st, nil
}

// orgName reads the organisation's name: one line of text, at most
// MaxOrgName characters.
func orgName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return "", fmt.Errorf("ORG_NAME must be one line of text")
	case utf8.RuneCountInString(s) > MaxOrgName:
		return "", fmt.Errorf("ORG_NAME must be at most %d characters", MaxOrgName)
	}
	return s, nil
}

// duration reads a positive Go duration, or def when s is empty.
func duration(s string, def time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 4h", s)
	}
	return d, nil
}

// origins parses a comma-separated list of origins ("scheme://host[:port]").
func origins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, fmt.Errorf("%q is not an origin such as https://www.example.com", o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}
