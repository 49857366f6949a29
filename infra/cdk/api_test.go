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
}

// Staff accounts are hard to take over: a long password of every character
// class, a TOTP code at every sign-in (never SMS), recovery by the verified
// email only, threat protection on, tokens that expire in minutes.
func TestStaffSignIn(t *testing.T) {
	tpl := realTemplate()
	poolProps := tpl.doc.Resources[tpl.one(t, "AWS::Cognito::UserPool", "Staff")].Properties
	want := map[string]any{
		"Policies": map[string]any{"PasswordPolicy": map[string]any{
			"MinimumLength": float64(staffPasswordMinLength), "RequireLowercase": true, "RequireUppercase": true,
			"RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": float64(3),
		}},
		"MfaConfiguration":       "ON",
		"EnabledMfas":            []any{"SOFTWARE_TOKEN_MFA"},
		"AccountRecoverySetting": map[string]any{"RecoveryMechanisms": []any{map[string]any{"Name": "verified_email", "Priority": float64(1)}}},
		"UserPoolTier":           "PLUS",
		"UserPoolAddOns":         map[string]any{"AdvancedSecurityMode": "ENFORCED"},
		"AdminCreateUserConfig":  map[string]any{"AllowAdminCreateUserOnly": true},
	}
	for k, v := range want {
		if !same(poolProps[k], v) {
			t.Errorf("user pool %s = %s, want %s", k, jsonOf(poolProps[k]), jsonOf(v))
		}
	}
	clientProps := tpl.doc.Resources[tpl.one(t, "AWS::Cognito::UserPoolClient", "StaffStaffClient")].Properties
	for k, v := range map[string]any{
		"AccessTokenValidity": float64(staffTokenMinutes), "IdTokenValidity": float64(staffTokenMinutes),
		"RefreshTokenValidity": float64(staffRefreshHours * 60),
		"TokenValidityUnits":   map[string]any{"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"},
	} {
		if !same(clientProps[k], v) {
			t.Errorf("client %s = %s, want %s", k, jsonOf(clientProps[k]), jsonOf(v))
		}
	}
	pool := tpl.one(t, "AWS::Cognito::UserPool", "Staff")
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
