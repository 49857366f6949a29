package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// Throttling of the API's default stage, for all routes together. Public
// routes take anonymous traffic; this caps what a flood can cost.
const (
	apiRateLimit  = 50  // requests per second, sustained
	apiBurstLimit = 100 // requests at once
)

// Staff sign-in. The password policy is the length NIST SP 800-63B asks of
// passwords chosen by people plus every character class (cdk-nag's COG1).
const (
	staffPasswordMinLength = 14
	staffTokenMinutes      = 15 // ID and access tokens
	staffRefreshHours      = 12
)

// accessLogFormat is one JSON line per request. It records what an
// operator needs to see requests the functions never saw (authorizer
// rejections, throttling) and leaves out the caller's IP address.
const accessLogFormat = `{"requestId":"$context.requestId","time":"$context.requestTime",` +
	`"routeKey":"$context.routeKey","status":"$context.status",` +
	`"latencyMs":"$context.responseLatency","integrationStatus":"$context.integrationStatus",` +
	`"integrationLatencyMs":"$context.integrationLatency","authorizerError":"$context.authorizer.error",` +
	`"integrationError":"$context.integrationErrorMessage","error":"$context.error.message"}`

// addHTTPAPI creates the staff's user pool and the HTTP API with one route
// per manifest route: staff routes behind the JWT authorizer, public routes
// open. CORS is not configured on the API: the leads and tickets handlers
// answer their own preflight (OPTIONS /leads, OPTIONS /tickets) for the
// origins in their environment.
func (s *rapportStack) addHTTPAPI() (awsapigatewayv2.HttpApi, awscognito.UserPool, awscognito.UserPoolClient) {
	pool := awscognito.NewUserPool(s.stack, jsii.String("Staff"), &awscognito.UserPoolProps{
		UserPoolName: jsii.String("rapport-" + string(s.stage) + "-staff"),
		// Staff accounts are created by an administrator, never by visitors.
		SelfSignUpEnabled:   jsii.Bool(false),
		SignInAliases:       &awscognito.SignInAliases{Email: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		AutoVerify:          &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		// A lost password is reset through the verified email address only:
		// SMS recovery would make the phone number a second way in.
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(staffPasswordMinLength),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireDigits:        jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		// Every staff member signs in with a one-time code from an
		// authenticator app (TOTP). SMS codes are not offered: they can be
		// intercepted or ported away with the phone number.
		Mfa:             awscognito.Mfa_REQUIRED,
		MfaSecondFactor: &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		// The Plus plan's threat protection blocks sign-ins with passwords
		// known from breaches and risky sign-ins (new device, location,
		// credential stuffing): staff accounts open the whole customer base.
		FeaturePlan:                  awscognito.FeaturePlan_PLUS,
		StandardThreatProtectionMode: awscognito.StandardThreatProtectionMode_FULL_FUNCTION,
		DeletionProtection:           jsii.Bool(s.stage.retained()),
		RemovalPolicy:                s.stage.removalPolicy(),
	})
	client := pool.AddClient(jsii.String("StaffClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret: jsii.Bool(false),
		// SRP for applications; USER_PASSWORD_AUTH so an administrator can
		// get a token with the AWS CLI (see the README). Both end in the
		// TOTP challenge.
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true), UserPassword: jsii.Bool(true)},
		DisableOAuth:               jsii.Bool(true),
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		// Short-lived tokens: a stolen one is useful for minutes. A refresh
		// token lasts a working day, so each staff member passes MFA daily.
		AccessTokenValidity:  awscdk.Duration_Minutes(jsii.Number(staffTokenMinutes)),
		IdTokenValidity:      awscdk.Duration_Minutes(jsii.Number(staffTokenMinutes)),
		RefreshTokenValidity: awscdk.Duration_Hours(jsii.Number(staffRefreshHours)),
	})
	// One group per role; the token's cognito:groups claim carries them. A
	// lower precedence wins when Cognito must pick one, so the highest role
	// gets 0.
	for i, role := range s.man.Roles {
		awscognito.NewUserPoolGroup(s.stack, jsii.String(constructID(string(role))+"Group"), &awscognito.UserPoolGroupProps{
			UserPool:    pool,
			GroupName:   jsii.String(string(role)),
			Description: jsii.String("Rapport role " + string(role)),
			Precedence:  jsii.Number(float64(len(s.man.Roles) - 1 - i)),
		})
	}

	// The issuer is the pool's URL; the token's iss claim must equal it.
	// API Gateway checks the token's signature, issuer, expiry, and that its
	// aud (ID token) or client_id (access token) is this client.
	issuer := fmt.Sprintf("https://cognito-idp.%s.%s/%s", *s.stack.Region(), *s.stack.UrlSuffix(), *pool.UserPoolId())
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("StaffJwt"), jsii.String(issuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			JwtAudience:    jsii.Strings(*client.UserPoolClientId()),
			IdentitySource: jsii.Strings("$request.header.Authorization"),
		})

	api := awsapigatewayv2.NewHttpApi(s.stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Rapport CRM"),
		CreateDefaultStage: jsii.Bool(false),
	})
	accessLogs := awslogs.NewLogGroup(s.stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: s.stage.removalPolicy(),
	})
	stage := awsapigatewayv2.NewHttpStage(s.stack, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(apiRateLimit),
			BurstLimit: jsii.Number(apiBurstLimit),
		},
	})
	// The L2 stage takes access log settings only as a jsii interface; the
	// underlying resource takes them as plain properties.
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})

	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, r := range s.man.Routes {
		integration, ok := integrations[r.Function]
		if !ok {
			integration = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(constructID(r.Function)+"Integration"),
				s.functions[r.Function], &awsapigatewayv2integrations.HttpLambdaIntegrationProps{
					PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
				})
			integrations[r.Function] = integration
		}
		props := &awsapigatewayv2.HttpRouteProps{
			HttpApi:     api,
			RouteKey:    awsapigatewayv2.HttpRouteKey_With(jsii.String(r.Path), awsapigatewayv2.HttpMethod(r.Method)),
			Integration: integration,
		}
		if r.Role != manifest.Public {
			props.Authorizer = authorizer
		}
		route := awsapigatewayv2.NewHttpRoute(s.stack, jsii.String("Route"+constructID(r.Key())), props)
		if r.Role == manifest.Public {
			cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
				Id:     jsii.String("AwsSolutions-APIG4"),
				Reason: jsii.String(publicRouteReason(r)),
			}}, jsii.Bool(true))
		}
	}
	return api, pool, client
}

// publicRouteReason says why a route has no authorizer, for cdk-nag's
// APIG4 suppression: public routes are public by design.
func publicRouteReason(r manifest.Route) string {
	if r.Method == "OPTIONS" {
		return "CORS preflight: browsers send it without credentials by definition (Fetch standard); " +
			"the handler allows only the configured origins."
	}
	return "Public by design (its manifest role is Public): " + r.Key() + " answers people without a staff account, " +
		"such as visitors posting a web form. Its handler treats the input as hostile (size limits, honeypot, CORS " +
		"allowlist, idempotency, signed tokens where a link carries one) and the stage's throttling caps what a flood costs."
}
