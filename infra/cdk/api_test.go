package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/infra/manifest"
)

func TestRoutes(t *testing.T) {
	tpl := realTemplate()
	routes := map[string]map[string]any{}
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		p := tpl.doc.Resources[id].Properties
		routes[str(p["RouteKey"])] = p
	}
	if len(routes) != len(manifest.Routes) {
		t.Errorf("%d routes, want one per manifest route (%d)", len(routes), len(manifest.Routes))
	}
	authorizers := tpl.ofType("AWS::ApiGatewayV2::Authorizer")
	if len(authorizers) != 1 {
		t.Fatalf("authorizers %v, want one", authorizers)
	}

	for _, r := range manifest.Routes {
		p, ok := routes[r.Key()]
		if !ok {
			t.Errorf("%s: no route", r.Key())
			continue
		}
		// The route reaches the manifest's function, with payload format 2.0.
		target := list(obj(p["Target"])["Fn::Join"])
		integration := ""
		if len(target) == 2 {
			integration = str(obj(list(target[1])[1])["Ref"])
		}
		ip := tpl.doc.Resources[integration].Properties
		if !same(ip["IntegrationUri"], getAtt(tpl.function(t, r.Function), "Arn")) || ip["PayloadFormatVersion"] != "2.0" {
			t.Errorf("%s: integration %v, want function %s with payload 2.0", r.Key(), ip, r.Function)
		}

		staff := r.Role != manifest.Public
		if staff && (p["AuthorizationType"] != "JWT" || !same(p["AuthorizerId"], ref(authorizers[0]))) {
			t.Errorf("%s needs role %s but has authorization %v %v", r.Key(), r.Role, p["AuthorizationType"], p["AuthorizerId"])
		}
		if !staff && (p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil) {
			t.Errorf("%s is public but has authorization %v %v", r.Key(), p["AuthorizationType"], p["AuthorizerId"])
		}
	}

	// The leads handler answers preflight itself; a gateway CORS
	// configuration would answer OPTIONS before it and ignore its allowlist.
	for _, id := range tpl.ofType("AWS::ApiGatewayV2::Api") {
		if c, ok := tpl.doc.Resources[id].Properties["CorsConfiguration"]; ok {
			t.Errorf("the API configures CORS itself: %v", c)
		}
	}
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"StageName":  "$default",
			"AutoDeploy": true,
			"DefaultRouteSettings": map[string]any{
				"ThrottlingRateLimit":  apiRateLimit,
				"ThrottlingBurstLimit": apiBurstLimit,
			},
			"AccessLogSettings": map[string]any{"Format": accessLogFormat},
		})
	})
	if !json.Valid([]byte(strings.ReplaceAll(accessLogFormat, "$", ""))) {
		t.Errorf("access log format is not JSON: %s", accessLogFormat)
	}
}

func TestAuthorizer(t *testing.T) {
	tpl := realTemplate()
	pool := tpl.one(t, "AWS::Cognito::UserPool", "Staff")
	client := tpl.one(t, "AWS::Cognito::UserPoolClient", "StaffStaffClient")
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
			"AuthorizerType": "JWT",
			"IdentitySource": []any{"$request.header.Authorization"},
			"JwtConfiguration": map[string]any{
				"Audience": []any{ref(client)},
				"Issuer": map[string]any{"Fn::Join": []any{"", []any{
					"https://cognito-idp.", map[string]any{"Ref": "AWS::Region"}, ".", map[string]any{"Ref": "AWS::URLSuffix"}, "/", ref(pool),
				}}},
			},
		})
	})
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{
			"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
			"UsernameAttributes":    []any{"email"},
		})
	})
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), map[string]any{
			"UserPoolId":        ref(pool),
			"GenerateSecret":    false,
			"ExplicitAuthFlows": assertions.Match_ArrayWith(&[]any{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}),
		})
	})
	var groups []string
	for _, id := range tpl.ofType("AWS::Cognito::UserPoolGroup") {
		p := tpl.doc.Resources[id].Properties
		if !same(p["UserPoolId"], ref(pool)) {
			t.Errorf("group %v is not in the staff pool", p["GroupName"])
		}
		groups = append(groups, str(p["GroupName"]))
	}
	slices.Sort(groups)
	var roles []string
	for _, r := range manifest.Roles {
		roles = append(roles, string(r))
	}
	slices.Sort(roles)
	if !slices.Equal(groups, roles) {
		t.Errorf("groups %v, want one per role %v", groups, roles)
	}
}
