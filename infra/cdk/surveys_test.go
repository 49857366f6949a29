package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/survey"
)

// The real manifest's surveys: customers answer and unsubscribe at their
// signed link without an account, managers send invitations and read the
// results with a staff token, and both the surveys function (which checks
// the links) and the reminders function (which signs the ones it mails)
// read the link keyring. TestLinkKeyring checks that no other function can.
func TestSurveysFromTheManifest(t *testing.T) {
	tpl := realTemplate()
	checkRoutesOf(t, tpl, "surveys",
		[]string{"GET /s/{token}", "POST /s/{token}", "GET /s/{token}/unsubscribe", "POST /s/{token}/unsubscribe"},
		[]string{"POST /surveys/invitations", "GET /surveys/results", "GET /surveys/responses"})

	secret := tpl.one(t, "AWS::SecretsManager::Secret", "LinkKeys")
	for _, name := range []string{"surveys", "reminders"} {
		fn := tpl.function(t, name)
		env := obj(obj(tpl.doc.Resources[fn].Properties["Environment"])["Variables"])
		if !same(env[LinksSecretVariable], ref(secret)) {
			t.Errorf("%s: %s = %v, want the link keyring's ARN", name, LinksSecretVariable, env[LinksSecretVariable])
		}
		if !allows(tpl.statements(t, fn), "secretsmanager:GetSecretValue", is(ref(secret))) {
			t.Errorf("%s cannot read the link keyring", name)
		}
	}
}

// Survey events go to the reminders function — the send timer's
// survey.due (it mails the invitation), survey.invited and
// survey.responded (an unhappy answer becomes a follow-up); ticket.solved
// and ticket.reopened make and cancel the after-ticket invitation — and,
// like every event, to the kpis function (TestKPIsFromTheManifest), and
// to no other.
func TestSurveyRules(t *testing.T) {
	tpl := realTemplate()
	reminders := tpl.function(t, "reminders")
	want := []string{"survey.due", "survey.invited", "survey.responded"}
	if got := tpl.detailTypesTo("rapport.surveys", reminders); !sameSet(got, want) {
		t.Errorf("the reminders function gets %v of the survey events, want %v", got, want)
	}
	for _, f := range manifest.Functions {
		if got := tpl.detailTypesTo("rapport.surveys", tpl.function(t, f.Name)); f.Name != "reminders" && f.Name != "kpis" && len(got) > 0 {
			t.Errorf("%s gets the survey events %v", f.Name, got)
		}
	}

	rule := tpl.doc.Resources[tpl.one(t, "AWS::Events::Rule", "RemindersSurveysRule")].Properties
	bus := tpl.ofType("AWS::Events::EventBus")[0]
	if !same(rule["EventBusName"], ref(bus)) || !same(obj(rule["EventPattern"])["source"], []any{"rapport.surveys"}) ||
		len(list(rule["Targets"])) != 1 || !same(obj(list(rule["Targets"])[0])["Arn"], getAtt(reminders, "Arn")) {
		t.Errorf("rule reminders-surveys: %s, want rapport.surveys on the bus to the reminders function", jsonOf(rule))
	}

	tickets := tpl.detailTypesTo("rapport.tickets", reminders)
	for _, dt := range []string{"ticket.solved", "ticket.reopened"} {
		if !slices.Contains(tickets, dt) {
			t.Errorf("no rule sends %s to the reminders function (it gets %v)", dt, tickets)
		}
	}
}

// The survey rules reach every function as the deployer set them, and
// cdk.json writes down the defaults the code has.
func TestSurveySettings(t *testing.T) {
	tpl := realTemplate()
	for _, f := range manifest.Functions {
		env := obj(obj(tpl.doc.Resources[tpl.function(t, f.Name)].Properties["Environment"])["Variables"])
		for k, v := range map[string]any{
			"SURVEY_DELAY":              testContext[CtxSurveyDelay],
			"SURVEY_RELATIONSHIP_FIRST": testContext[CtxSurveyRelFirst],
			"SURVEY_RELATIONSHIP_EVERY": testContext[CtxSurveyRelEvery],
			"SURVEY_QUIET_PERIOD":       testContext[CtxSurveyQuietPeriod],
			"SURVEY_LINK_LIFETIME":      testContext[CtxSurveyLinkLifetime],
		} {
			if env[k] != v {
				t.Errorf("%s: %s = %v, want %v", f.Name, k, env[k], v)
			}
		}
	}

	ctx, err := rootContext()
	if err != nil {
		t.Fatal(err)
	}
	def := survey.DefaultSettings()
	for key, want := range map[string]time.Duration{
		CtxSurveyDelay:        def.Delay,
		CtxSurveyRelFirst:     def.RelationshipFirst,
		CtxSurveyRelEvery:     def.RelationshipEvery,
		CtxSurveyQuietPeriod:  def.QuietPeriod,
		CtxSurveyLinkLifetime: def.LinkLifetime,
	} {
		if got, err := time.ParseDuration(str(ctx[key])); err != nil || got != want {
			t.Errorf("cdk.json %s = %v, want the default %v", key, ctx[key], want)
		}
	}
}

// A survey rule that is no duration, or out of bounds, stops the synth,
// naming the context key to fix.
func TestBadSurveySettingStopsSynth(t *testing.T) {
	for _, tc := range []struct {
		key string
		bad any
	}{
		{CtxSurveyDelay, "an hour"},
		{CtxSurveyDelay, "-1h"},
		{CtxSurveyRelFirst, "0s"},
		{CtxSurveyRelEvery, "9000h"}, // over a year
		{CtxSurveyQuietPeriod, "-720h"},
		{CtxSurveyLinkLifetime, "forever"},
		{CtxSurveyLinkLifetime, "0"},
	} {
		t.Run(fmt.Sprintf("%s=%v", tc.key, tc.bad), func(t *testing.T) {
			defer func() {
				if msg := fmt.Sprint(recover()); !strings.HasPrefix(msg, "rapport: context: "+tc.key+": ") {
					t.Errorf("panic %q, want one naming %s", msg, tc.key)
				}
			}()
			ctx := map[string]any{tc.key: tc.bad}
			app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
			NewRapportStack(app, "Bad", &RapportStackProps{AssetDir: t.TempDir()})
		})
	}
}
