package httpapi

import (
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
)

func TestCallerReadsGroupsAsTheGatewayFlattensThem(t *testing.T) {
	for groups, want := range map[string]manifest.Role{
		"[agent]":           manifest.Agent,
		"[agent manager]":   manifest.Manager,
		`["admin"]`:         manifest.Admin,
		"agent,manager":     manifest.Manager,
		"[sales marketing]": "",
		"":                  "",
	} {
		ev := lambdaevents.APIGatewayV2HTTPRequest{RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
			Authorizer: &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
					Claims: map[string]string{"sub": "u1", "cognito:groups": groups}}}}}
		c := callerOf(ev)
		var best manifest.Role
		for _, r := range c.Roles {
			if rank(r) > rank(best) {
				best = r
			}
		}
		if best != want {
			t.Errorf("groups %q: best role %q, want %q", groups, best, want)
		}
		if want != "" && c.Need(manifest.Agent) != nil {
			t.Errorf("groups %q: not allowed agent routes", groups)
		}
		if want == manifest.Agent && c.Need(manifest.Manager) == nil {
			t.Errorf("an agent passed a manager check")
		}
	}
}

func TestCallerEmailAndHighestRole(t *testing.T) {
	for _, c := range []struct {
		claims map[string]string
		email  string
		role   manifest.Role
	}{
		{map[string]string{"sub": "u1", "email": "ana@example.com", "email_verified": "true", "cognito:groups": "[agent admin]"}, "ana@example.com", manifest.Admin},
		{map[string]string{"sub": "u1", "email": "ana@example.com", "cognito:groups": "[manager]"}, "ana@example.com", manifest.Manager},
		{map[string]string{"sub": "u1", "email": "ana@example.com", "email_verified": "false", "cognito:groups": "[agent]"}, "", manifest.Agent},
		{map[string]string{"sub": "u1"}, "", manifest.Public},
	} {
		ev := lambdaevents.APIGatewayV2HTTPRequest{RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
			Authorizer: &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c.claims}}}}
		got := callerOf(ev)
		if got.Email != c.email || got.Highest() != c.role {
			t.Errorf("claims %v: email %q highest %q, want %q %q", c.claims, got.Email, got.Highest(), c.email, c.role)
		}
	}
}
