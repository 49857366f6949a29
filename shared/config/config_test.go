package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"TABLE_NAME": "rapport"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TimeZone.String() != "UTC" || c.DuplicateWindow != 30*24*time.Hour || c.CORSOrigins != nil || c.RedirectOrigins != nil ||
		c.MailFrom != "Rapport <rapport@localhost>" {
		t.Fatalf("defaults = %+v", c)
	}
	if c.Calendar.String() != "Mon-Fri 09:00-17:00 UTC" {
		t.Fatalf("default calendar = %s", c.Calendar)
	}
}

func TestReadsEverySetting(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"TABLE_NAME": "rapport", "EVENT_BUS_NAME": "bus", "ORG_TIME_ZONE": "Europe/Berlin",
		"CORS_ALLOWED_ORIGINS":  "https://www.Example.com, http://localhost:8080/",
		"FORM_REDIRECT_ORIGINS": "https://www.example.com",
		"LEAD_DUPLICATE_WINDOW": "48h",
		"BUSINESS_HOURS":        "Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00",
		"BUSINESS_HOLIDAYS":     "2026-12-25, 2026-12-24",
		"MAIL_FROM":             " Équipe Rapport <crm@example.com> ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TimeZone.String() != "Europe/Berlin" || c.EventBusName != "bus" || c.DuplicateWindow != 48*time.Hour ||
		strings.Join(c.CORSOrigins, " ") != "https://www.example.com http://localhost:8080" || c.MailFrom != "Équipe Rapport <crm@example.com>" {
		t.Fatalf("config = %+v", c)
	}
	// The calendar is in the organisation's zone.
	if c.Calendar.String() != "Mon-Thu 09:00-12:30,13:30-17:00; Fri 09:00-15:00 Europe/Berlin, holidays 2026-12-24,2026-12-25" {
		t.Fatalf("calendar = %s", c.Calendar)
	}
}

// A bad setting fails the cold start, naming the variable.
func TestBadSettingsNameTheVariable(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"TABLE_NAME":            {},
		"ORG_TIME_ZONE":         {"TABLE_NAME": "t", "ORG_TIME_ZONE": "Mars/Olympus"},
		"CORS_ALLOWED_ORIGINS":  {"TABLE_NAME": "t", "CORS_ALLOWED_ORIGINS": "www.example.com"},
		"FORM_REDIRECT_ORIGINS": {"TABLE_NAME": "t", "FORM_REDIRECT_ORIGINS": "https://example.com/thanks"},
		"LEAD_DUPLICATE_WINDOW": {"TABLE_NAME": "t", "LEAD_DUPLICATE_WINDOW": "30 days"},
		"BUSINESS_HOURS":        {"TABLE_NAME": "t", "BUSINESS_HOURS": "Mon-Fri 9-17"},
		"BUSINESS_HOLIDAYS":     {"TABLE_NAME": "t", "BUSINESS_HOLIDAYS": "25.12.2026"},
		"MAIL_FROM":             {"TABLE_NAME": "t", "MAIL_FROM": "crm@example.com\r\nBcc: all@example.com"},
	} {
		if _, err := FromEnv(env(vars)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// A sender that is not an address fails the start without repeating it.
func TestMailFromIsAnAddress(t *testing.T) {
	for _, bad := range []string{"nobody", "Crm <crm@example.com", "crm@example.com, b@example.com"} {
		_, err := FromEnv(env(map[string]string{"TABLE_NAME": "t", "MAIL_FROM": bad}))
		if err == nil || !strings.Contains(err.Error(), "MAIL_FROM") || strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// The organisation's name is one line of text, trimmed, that fits a mail
// subject; unset, the survey wording says "us".
func TestOrgName(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"TABLE_NAME": "t", "ORG_NAME": " Acme Support "}))
	if err != nil || c.OrgName != "Acme Support" {
		t.Fatalf("org name = %q, %v", c.OrgName, err)
	}
	if c, _ := FromEnv(env(map[string]string{"TABLE_NAME": "t"})); c.OrgName != "" {
		t.Fatalf("default org name = %q", c.OrgName)
	}
	for _, bad := range []string{"Acme\r\nBcc: all@example.com", "Acme\tSupport", strings.Repeat("é", MaxOrgName+1)} {
		if _, err := FromEnv(env(map[string]string{"TABLE_NAME": "t", "ORG_NAME": bad})); err == nil || !strings.Contains(err.Error(), "ORG_NAME") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestOrgCurrency(t *testing.T) {
	for given, want := range map[string]string{"": "EUR", " USD ": "USD", "JPY": "JPY"} {
		c, err := FromEnv(env(map[string]string{"TABLE_NAME": "rapport", "ORG_CURRENCY": given}))
		if err != nil || c.Currency != want {
			t.Errorf("ORG_CURRENCY %q: %q, %v; want %s", given, c.Currency, err, want)
		}
	}
	for _, bad := range []string{"eur", "EURO", "XXX", "ABC", "€"} {
		_, err := FromEnv(env(map[string]string{"TABLE_NAME": "rapport", "ORG_CURRENCY": bad}))
		if err == nil || !strings.HasPrefix(err.Error(), "ORG_CURRENCY ") {
			t.Errorf("ORG_CURRENCY %q: %v, want an error naming ORG_CURRENCY", bad, err)
		}
	}
}
