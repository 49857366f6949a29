package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/config"
	"github.com/rapportcrm/rapport/shared/sla"
)

func TestRealManifestIsValid(t *testing.T) {
	if err := DefaultManifest().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := sampleManifest().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Manifest)
		want   string
	}{
		{"duplicate function", func(m *Manifest) { m.Functions = append(m.Functions, m.Functions[0]) }, "listed twice"},
		{"route to unknown function", func(m *Manifest) {
			m.Routes = append(m.Routes, manifest.Route{Method: "GET", Path: "/x", Function: "nope", Role: manifest.Agent})
		}, `"nope", which is not in Functions`},
		{"route to stream function", func(m *Manifest) {
			m.Routes = append(m.Routes, manifest.Route{Method: "GET", Path: "/x", Function: "relay", Role: manifest.Agent})
		}, `must be "http"`},
		{"duplicate route", func(m *Manifest) { m.Routes = append(m.Routes, m.Routes[0]) }, "listed twice"},
		{"lower-case method", func(m *Manifest) {
			m.Routes = append(m.Routes, manifest.Route{Method: "get", Path: "/x", Function: "leads"})
		}, "method"},
		{"role without group", func(m *Manifest) {
			m.Routes = append(m.Routes, manifest.Route{Method: "GET", Path: "/x", Function: "leads", Role: "owner"})
		}, `role "owner"`},
		{"rule to http function", func(m *Manifest) {
			m.Rules = append(m.Rules, manifest.Rule{Name: "r", Source: "s", DetailTypes: []string{"d"}, Function: "leads"})
		}, `must be "event"`},
		{"rule without detail type", func(m *Manifest) {
			m.Rules = append(m.Rules, manifest.Rule{Name: "r", Source: "s", Function: "kpis"})
		}, "detail type"},
		{"schedule to unknown function", func(m *Manifest) {
			m.Schedules = append(m.Schedules, manifest.Schedule{Name: "s", Expression: "rate(1 minute)", DetailType: "d", Function: "nope"})
		}, "not in Functions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleManifest()
			m.Routes = slices.Clone(m.Routes)
			tt.change(m)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestConstructID(t *testing.T) {
	for in, want := range map[string]string{
		"leads":                    "Leads",
		"POST /leads/{id}/convert": "PostLeadsIdConvert",
		"OPTIONS /leads":           "OptionsLeads",
		"kpis-leads":               "KpisLeads",
		"leadCaptured":             "LeadCaptured",
	} {
		if got := constructID(in); got != want {
			t.Errorf("constructID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOutdir(t *testing.T) {
	t.Setenv("CDK_OUTDIR", "")
	if got := outdir(); got != "cdk.out" {
		t.Errorf("run directly: %q, want cdk.out", got)
	}
	// The CLI runs in the repository root and names cdk.json's "output".
	t.Setenv("CDK_OUTDIR", "infra/cdk/cdk.out")
	if got, want := outdir(), filepath.Join("..", "..", "infra", "cdk", "cdk.out"); got != want {
		t.Errorf("under the CLI: %q, want %q", got, want)
	}
	abs := t.TempDir()
	t.Setenv("CDK_OUTDIR", abs)
	if got := outdir(); got != abs {
		t.Errorf("absolute: %q", got)
	}
}

func TestResolveCLIPaths(t *testing.T) {
	env := map[string]string{"CDK_PERF_COUNTERS_FILE": "infra/cdk/cdk.out/performance-counters.json"}
	set := func(k, v string) error { env[k] = v; return nil }
	if err := resolveCLIPaths(func(k string) string { return env[k] }, set); err != nil {
		t.Fatal(err)
	}
	if got, want := env["CDK_PERF_COUNTERS_FILE"], filepath.Join("..", "..", "infra", "cdk", "cdk.out", "performance-counters.json"); got != want {
		t.Errorf("resolved to %q, want %q", got, want)
	}
}

func TestRootContextHasEveryKey(t *testing.T) {
	ctx, err := rootContext()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{CtxAlarmEmail}
	for _, k := range contextKeys {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if _, ok := ctx[k]; !ok {
			t.Errorf("cdk.json has no context key %s", k)
		}
	}
}

func TestCheckAssets(t *testing.T) {
	dir := t.TempDir()
	if err := checkAssets(DefaultManifest(), dir); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("no binaries: %v, want a hint to run make build", err)
	}
	for _, f := range manifest.Functions {
		os.MkdirAll(filepath.Join(dir, f.Name), 0o755)
		os.WriteFile(filepath.Join(dir, f.Name, "bootstrap"), nil, 0o644)
	}
	if err := checkAssets(DefaultManifest(), dir); err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Errorf("binaries without x bit: %v", err)
	}
	for _, f := range manifest.Functions {
		os.Chmod(filepath.Join(dir, f.Name, "bootstrap"), 0o755)
	}
	if err := checkAssets(DefaultManifest(), dir); err != nil {
		t.Error(err)
	}
}

// TestSettingsFromContext reads context as cdk.json and the command line
// give it, and refuses what the functions would refuse at cold start.
func TestSettingsFromContext(t *testing.T) {
	settings := func(ctx map[string]any) (s Settings, err error) {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		return SettingsFromContext(app.Node())
	}

	s, err := settings(map[string]any{})
	if err != nil || s.OrgTimeZone != "UTC" || s.LeadDuplicateWindow != "720h0m0s" || len(s.CORSAllowedOrigins) != 0 ||
		s.BusinessHours != "Mon-Fri 09:00-17:00" || len(s.Holidays) != 0 ||
		s.MailFrom != "Rapport <rapport@localhost>" || s.SLAPolicies != sla.DefaultPoliciesString ||
		s.TicketCloseAfter != "96h0m0s" || s.TicketReopenWithin != "168h0m0s" ||
		s.SurveyDelay != "1h0m0s" || s.SurveyRelFirst != "720h0m0s" || s.SurveyRelEvery != "2160h0m0s" ||
		s.SurveyQuietPeriod != "720h0m0s" || s.SurveyLinkLifetime != "720h0m0s" {
		t.Errorf("defaults: %+v, %v", s, err)
	}
	s, err = settings(map[string]any{
		CtxCORSAllowedOrigins:  "https://a.example.com, https://b.example.com",
		CtxFormRedirectOrigins: `["https://a.example.com"]`,
		CtxLeadDuplicateWindow: "48h",
		CtxBusinessHours:       "Sun-Thu 08:00-16:00",
		CtxHolidays:            "2026-12-25, 2027-01-01",
	})
	if err != nil || !slices.Equal(s.CORSAllowedOrigins, []string{"https://a.example.com", "https://b.example.com"}) ||
		!slices.Equal(s.FormRedirectOrigins, []string{"https://a.example.com"}) || s.LeadDuplicateWindow != "48h" ||
		s.BusinessHours != "Sun-Thu 08:00-16:00" || !slices.Equal(s.Holidays, []string{"2026-12-25", "2027-01-01"}) {
		t.Errorf("command-line strings: %+v, %v", s, err)
	}

	for key, bad := range map[string]any{
		CtxCORSAllowedOrigins:  []any{"www.example.com"},
		CtxFormRedirectOrigins: []any{"https://example.com/thanks"},
		CtxOrgTimeZone:         "Mars/Olympus",
		CtxLeadDuplicateWindow: "30 days",
		CtxBusinessHours:       "Mon-Fri 9-17",
		CtxHolidays:            []any{"2026-12-25", "25.12.2026"},
		CtxMailFrom:            "crm at example.com",
		CtxSLAPolicies:         "urgent=1h",
		CtxTicketCloseAfter:    "0s",
		CtxTicketReopenWithin:  "a week",
		CtxOrgCurrency:         "EURO",
	} {
		if _, err := settings(map[string]any{key: bad}); err == nil {
			t.Errorf("%s = %v accepted", key, bad)
		}
	}
	// The organisation's currency: EUR unless set, an ISO 4217 code, and
	// a wrong one names its key.
	if s, err := settings(map[string]any{}); err != nil || s.OrgCurrency != "EUR" || s.Environment("t", "b")["ORG_CURRENCY"] != "EUR" {
		t.Errorf("default currency: %q, %v", s.OrgCurrency, err)
	}
	if s, err := settings(map[string]any{CtxOrgCurrency: "CHF"}); err != nil || s.Environment("t", "b")["ORG_CURRENCY"] != "CHF" {
		t.Errorf("CHF: %+v, %v", s.OrgCurrency, err)
	}
	if _, err := settings(map[string]any{CtxOrgCurrency: "XYZ"}); err == nil || !strings.HasPrefix(err.Error(), CtxOrgCurrency+": ORG_CURRENCY") {
		t.Errorf("XYZ: %v, want an error naming %s", err, CtxOrgCurrency)
	}
	// The calendar's errors name the variable and the part at fault.
	if _, err := settings(map[string]any{CtxHolidays: []any{"2026-12-25", "25.12.2026"}}); err == nil ||
		!strings.Contains(err.Error(), `BUSINESS_HOLIDAYS: "25.12.2026"`) {
		t.Errorf("bad holiday: %v", err)
	}
}

// A bad setting stops the synth with a message that names it.
func TestBadSettingStopsSynth(t *testing.T) {
	defer func() {
		r := recover()
		if msg := fmt.Sprint(r); !strings.Contains(msg, "CORS_ALLOWED_ORIGINS") {
			t.Errorf("panic %q, want one naming CORS_ALLOWED_ORIGINS", msg)
		}
	}()
	ctx := map[string]any{CtxCORSAllowedOrigins: []any{"example.com"}}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	NewRapportStack(app, "Bad", &RapportStackProps{AssetDir: t.TempDir()})
}

// Once a function sends email, a sender SES cannot send from stops the
// synth, naming the key; without one, the local default is fine.
func TestSenderMustBeDeliverableOnceAFunctionMails(t *testing.T) {
	mails := []manifest.Function{{Name: "mailer", SendEmail: true}}
	for from, ok := range map[string]bool{
		"Rapport <rapport@localhost>":     false,
		"crm@mail.localhost":              false,
		"crm@rapport.test":                false,
		"crm@example":                     false,
		"Rapport <crm@example.com>":       true,
		"Équipe <crm@mail.example.co.uk>": true,
	} {
		err := Settings{MailFrom: from}.checkSender(mails)
		if ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), CtxMailFrom)) {
			t.Errorf("%q: %v", from, err)
		}
	}

	// In the stack: the sample manifest has a function that mails, and the
	// repository's cdk.json keeps the local sender.
	defer func() {
		if msg := fmt.Sprint(recover()); !strings.Contains(msg, CtxMailFrom) {
			t.Errorf("panic %q, want one naming %s", msg, CtxMailFrom)
		}
	}()
	ctx, err := rootContext()
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	NewRapportStack(app, "LocalSender", &RapportStackProps{Manifest: sampleManifest(), AssetDir: t.TempDir()})
}

// Every variable shared/config reads is set on every function, so a setting
// added there cannot be forgotten here and fail the functions' cold start.
func TestEnvironmentCoversConfig(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "shared", "config", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`getenv\("([A-Z0-9_]+)"\)`).FindAllStringSubmatch(string(src), -1)
	if len(read) == 0 {
		t.Fatal("found no getenv calls in shared/config/config.go")
	}
	env := Settings{}.Environment("table", "bus")
	env[LinksSecretVariable] = "" // set by grantLinkKeys on the functions that read the keyring
	variables := map[string]bool{}
	for _, m := range read {
		variables[m[1]] = true
	}
	// A variable named in a table and read in a loop (the survey rules)
	// escapes the pattern; what FromEnv asks for while reading the stack's
	// environment catches it.
	if _, err := config.FromEnv(func(k string) string { variables[k] = true; return env[k] }); err != nil {
		t.Fatalf("shared/config refuses the stack's defaults: %v", err)
	}
	for v := range variables {
		if _, ok := env[v]; !ok {
			t.Errorf("shared/config reads %s, which the stack does not set", v)
		}
	}
	// A deployer's setting's errors name its context key.
	for k := range (Settings{}).Environment("table", "bus") {
		if _, ok := contextKeys[k]; !ok && k != "TABLE_NAME" && k != "EVENT_BUS_NAME" {
			t.Errorf("%s has no context key in contextKeys", k)
		}
	}
}
