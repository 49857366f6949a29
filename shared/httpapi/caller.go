package httpapi

import (
	"encoding/json"
	"slices"
	"strings"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/crm"
)

// Caller is the staff member the gateway's JWT authorizer vouched for.
type Caller struct {
	// Subject is the token's "sub": a stable id, not a name or address.
	Subject string
	Roles   []manifest.Role
	// Email is the token's "email" claim, unless the token says it is not
	// verified. It fills a new staff profile's address; never log it.
	Email string
}

// groupsClaim is where Cognito puts a user's groups.
const groupsClaim = "cognito:groups"

// callerOf reads the caller from the authorizer's claims. API Gateway
// flattens claim values to strings: Cognito's groups array arrives as
// "[agent manager]"; a JSON array or a comma list is read too.
func callerOf(ev lambdaevents.APIGatewayV2HTTPRequest) Caller {
	auth := ev.RequestContext.Authorizer
	if auth == nil || auth.JWT == nil {
		return Caller{}
	}
	c := Caller{Subject: auth.JWT.Claims["sub"]}
	if auth.JWT.Claims["email_verified"] != "false" {
		c.Email = auth.JWT.Claims["email"]
	}
	for _, g := range parseGroups(auth.JWT.Claims[groupsClaim]) {
		if slices.Contains(manifest.Roles, manifest.Role(g)) {
			c.Roles = append(c.Roles, manifest.Role(g))
		}
	}
	return c
}

func parseGroups(v string) []string {
	v = strings.TrimSpace(v)
	var list []string
	if strings.HasPrefix(v, "[\"") && json.Unmarshal([]byte(v), &list) == nil {
		return list
	}
	v = strings.Trim(v, "[]")
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
}

// rank orders roles: each may do what those below it may.
func rank(r manifest.Role) int { return slices.Index(manifest.Roles, r) }

// Highest returns the caller's highest staff role, or Public for none.
func (c Caller) Highest() manifest.Role {
	best := manifest.Public
	for _, r := range c.Roles {
		if rank(r) > rank(best) {
			best = r
		}
	}
	return best
}

// Need returns nil if the caller holds role or a higher one.
func (c Caller) Need(role manifest.Role) error {
	if c.Subject == "" {
		return crm.Errorf(crm.EUNAUTHORIZED, "a staff token is required")
	}
	for _, r := range c.Roles {
		if rank(r) >= rank(role) {
			return nil
		}
	}
	return crm.Errorf(crm.EFORBIDDEN, "this needs the %s role", role)
}
