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
