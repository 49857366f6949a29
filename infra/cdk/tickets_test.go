package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// The real manifest's tickets: the function exists, its customers' routes
// (the support form, the signed ticket page) are open and its agents'
// routes are behind the staff authorizer, and the ticket events reach the
// reminders function that mails them.
func TestTicketsFromTheManifest(t *testing.T) {
	tpl := realTemplate()
	checkRoutesOf(t, tpl, "tickets",
		[]string{"POST /tickets", "OPTIONS /tickets", "GET /t/{token}", "POST /t/{token}"},
		[]string{"POST /tickets/on-behalf", "GET /tickets", "GET /tickets/{id}", "PATCH /tickets/{id}", "POST /tickets/{id}/replies"})

	// Ticket events are mailed by the reminders function.
	mailed := tpl.detailTypesTo("rapport.tickets", tpl.function(t, "reminders"))
	for _, dt := range []string{"ticket.opened", "ticket.replied", "ticket.solved", "ticket.sla_warning",
		"ticket.sla_breached", "ticket.sla_escalated", "ticket.close_due"} {
		if !slices.Contains(mailed, dt) {
			t.Errorf("no rule sends %s to the reminders function (it gets %v)", dt, mailed)
		}
	}
}

// checkRoutesOf checks that the manifest gives function exactly the routes
// public and staff, that each reaches the function, and that the public
// ones are open while the staff ones need the staff authorizer's token.
func checkRoutesOf(t *testing.T, tpl *template, function string, public, staff []string) {
	t.Helper()
	fn := tpl.function(t, function)
	authorizer := tpl.ofType("AWS::ApiGatewayV2::Authorizer")[0]

	routes := map[string]map[string]any{}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		p := tpl.doc.Resources[id].Properties
		routes[str(p["RouteKey"])] = p
	}
	var want []string
	for _, r := range manifest.RoutesOf(function) {
		want = append(want, r.Key())
	}
	if got := slices.Concat(public, staff); !sameSet(got, want) {
		t.Fatalf("the manifest's %s routes are %v; this test knows %v", function, want, got)
	}
	for _, key := range want {
		p, ok := routes[key]
		if !ok {
			t.Errorf("%s: no route", key)
			continue
		}
		integration := str(obj(list(list(obj(p["Target"])["Fn::Join"])[1])[1])["Ref"])
		if !same(tpl.doc.Resources[integration].Properties["IntegrationUri"], getAtt(fn, "Arn")) {
			t.Errorf("%s does not reach the %s function", key, function)
		}
		if slices.Contains(public, key) {
			if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
				t.Errorf("%s is for customers but needs authorization %v %v", key, p["AuthorizationType"], p["AuthorizerId"])
			}
		} else if p["AuthorizationType"] != "JWT" || !same(p["AuthorizerId"], ref(authorizer)) {
			t.Errorf("%s is for staff but has authorization %v %v", key, p["AuthorizationType"], p["AuthorizerId"])
		}
	}
}

// detailTypesTo returns the detail types of source that some rule sends to
// the function with logical id fn.
func (t *template) detailTypesTo(source, fn string) []string {
	var out []string
	for _, id := range t.ofType("AWS::Events::Rule") {
		p := t.doc.Resources[id].Properties
		pattern := obj(p["EventPattern"])
		if !same(pattern["source"], []any{source}) {
			continue
		}
		for _, target := range list(p["Targets"]) {
			if same(obj(target)["Arn"], getAtt(fn, "Arn")) {
				for _, dt := range list(pattern["detail-type"]) {
					out = append(out, str(dt))
				}
			}
		}
	}
	return out
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// The link keyring is one secret the stack generates in shared/links'
// stored form; exactly the functions that sign or verify links (tickets,
// surveys and reminders) may read it and are told its ARN. Prod keeps it
// when the stack goes, dev does not.
func TestLinkKeyring(t *testing.T) {
	var readers []string
	for _, f := range manifest.Functions {
		if f.ReadsLinkKeys {
			readers = append(readers, f.Name)
		}
	}
	if !sameSet(readers, []string{"tickets", "surveys", "reminders"}) {
		t.Errorf("functions reading the link keys: %v, want tickets, surveys and reminders", readers)
	}

	for _, tc := range []struct {
		tpl    *template
		stage  Stage
		policy string
	}{
		{realTemplate(), StageProd, "Retain"},
		{devTemplate(), StageDev, "Delete"},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			tpl := tc.tpl
			id := tpl.one(t, "AWS::SecretsManager::Secret", "LinkKeys")
			if len(tpl.ofType("AWS::SecretsManager::Secret")) != 1 {
				t.Errorf("secrets %v, want only the link keyring", tpl.ofType("AWS::SecretsManager::Secret"))
			}
			secret := tpl.doc.Resources[id]
			if out := tpl.doc.Outputs["LinkKeysSecretArn"]; !same(out["Value"], ref(id)) {
				t.Errorf("output LinkKeysSecretArn %v, want the secret's ARN for the rotation", out)
			}
			if secret.DeletionPolicy != tc.policy || secret.UpdateReplacePolicy != tc.policy {
				t.Errorf("deletion policy %q, replace policy %q; want %q", secret.DeletionPolicy, secret.UpdateReplacePolicy, tc.policy)
			}
			gen := obj(secret.Properties["GenerateSecretString"])
			if gen["GenerateStringKey"] != "k1" || gen["ExcludePunctuation"] != true || gen["PasswordLength"] != float64(64) ||
				gen["IncludeSpace"] == true {
				t.Errorf("generator %s, want a 64-character key k1 of letters and digits", jsonOf(gen))
			}
			var template map[string]string
			if err := json.Unmarshal([]byte(str(gen["SecretStringTemplate"])), &template); err != nil ||
				!same(template, map[string]string{"current": "k1"}) {
				t.Errorf("template %v (%v), want {\"current\":\"k1\"}", gen["SecretStringTemplate"], err)
			}

			for _, f := range manifest.Functions {
				fn := tpl.function(t, f.Name)
				env := obj(obj(tpl.doc.Resources[fn].Properties["Environment"])["Variables"])
				arn, named := env[LinksSecretVariable]
				if named != f.ReadsLinkKeys || (named && !same(arn, ref(id))) {
					t.Errorf("%s: %s = %v, want the secret's ARN: %v", f.Name, LinksSecretVariable, arn, f.ReadsLinkKeys)
				}
				sts := tpl.statements(t, fn)
				if got := allows(sts, "secretsmanager:GetSecretValue", is(ref(id))); got != f.ReadsLinkKeys {
					t.Errorf("%s may read the link keyring: %v, want %v", f.Name, got, f.ReadsLinkKeys)
				}
				for _, s := range sts {
					for _, a := range s.Actions {
						if strings.HasPrefix(a, "secretsmanager:") && (a != "secretsmanager:GetSecretValue" || !same(s.Resources, []any{ref(id)})) {
							t.Errorf("%s is granted %s on %v; it only reads the link keyring", f.Name, a, s.Resources)
						}
					}
				}
			}
		})
	}
}

// A stack whose functions sign no links has no keyring to pay for.
func TestNoLinkReadersNoKeyring(t *testing.T) {
	m := DefaultManifest()
	leads, _ := manifest.FunctionNamed("leads")
	m.Functions = []manifest.Function{leads}
	m.Routes = manifest.RoutesOf("leads")
	m.Rules, m.Schedules = nil, nil
	tpl := synth(&m, testContext, StageDev)
	tpl.function(t, "leads")
	if ids := tpl.ofType("AWS::SecretsManager::Secret"); len(ids) != 0 {
		t.Errorf("secrets %v in a stack without link readers", ids)
	}
}

// The ticket settings reach every function; a malformed one stops the
// synth, naming the context key to fix.
func TestTicketSettings(t *testing.T) {
	tpl := realTemplate()
	for _, f := range manifest.Functions {
		env := obj(obj(tpl.doc.Resources[tpl.function(t, f.Name)].Properties["Environment"])["Variables"])
		for k, v := range map[string]any{
			"SLA_POLICIES":         testContext[CtxSLAPolicies],
			"TICKET_CLOSE_AFTER":   testContext[CtxTicketCloseAfter],
			"TICKET_REOPEN_WITHIN": testContext[CtxTicketReopenWithin],
		} {
			if env[k] != v {
				t.Errorf("%s: %s = %v, want %v", f.Name, k, env[k], v)
			}
		}
	}

	for key, bad := range map[string]any{
		CtxSLAPolicies:        "urgent=4h/1h", // first response after resolution
		CtxTicketCloseAfter:   "4 days",
		CtxTicketReopenWithin: "-168h",
	} {
		t.Run(key, func(t *testing.T) {
			defer func() {
				if msg := fmt.Sprint(recover()); !strings.HasPrefix(msg, "rapport: context: "+key+": ") {
					t.Errorf("panic %q, want one naming %s", msg, key)
				}
			}()
			ctx := map[string]any{key: bad}
			app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
			NewRapportStack(app, "Bad", &RapportStackProps{AssetDir: t.TempDir()})
		})
	}
}

// The SMG4 suppression on the keyring says how it is rotated instead.
func TestLinkKeyringRotationIsExplained(t *testing.T) {
	found := false
	for _, f := range realNag().findings {
		if f.Rule == "AwsSolutions-SMG4" {
			found = true
			if f.Compliance != "Suppressed" || !strings.Contains(f.Reason, "README") || !strings.Contains(f.Reason, "previous") {
				t.Errorf("SMG4 on %s: %s %q", f.Resource, f.Compliance, f.Reason)
			}
		}
	}
	if !found {
		t.Errorf("cdk-nag did not check the keyring's rotation (AwsSolutions-SMG4)")
	}
}
