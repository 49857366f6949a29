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

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/email"
)

// Config holds every setting any function reads. Each function reads the
// whole set; the CDK app and the local stack set the same variables.
type Config struct {
	// TableName is the DynamoDB table (TABLE_NAME). Required.
	TableName string
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
}

// Defaults applied when a variable is unset.
const (
	DefaultDuplicateWindow = 30 * 24 * time.Hour
	DefaultTimeZone        = "UTC"
	DefaultBusinessHours   = calendar.DefaultHours
	DefaultMailFrom        = "Rapport <rapport@localhost>"
)

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
	return c, nil
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
