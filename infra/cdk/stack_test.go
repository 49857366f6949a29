package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/infra/manifest"
	"github.com/rapportcrm/rapport/shared/dynamo/schema"
)

func TestTable(t *testing.T) {
	tpl := realTemplate()
	ids := tpl.ofType("AWS::DynamoDB::Table")
	if len(ids) != 1 {
		t.Fatalf("want one table, found %v", ids)
	}
	table := tpl.doc.Resources[ids[0]]
	if table.DeletionPolicy != "Retain" || table.UpdateReplacePolicy != "Retain" {
		t.Errorf("deleting or replacing the stack would delete the CRM's data: DeletionPolicy %q, UpdateReplacePolicy %q",
			table.DeletionPolicy, table.UpdateReplacePolicy)
	}

	var gsis []any
	for _, ix := range schema.Rapport.Indexes {
		gsis = append(gsis, map[string]any{
			"IndexName": ix.Name,
			"KeySchema": []any{
				map[string]any{"AttributeName": ix.PartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": ix.SortKey, "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		})
	}
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema": []any{
				map[string]any{"AttributeName": schema.PK, "KeyType": "HASH"},
				map[string]any{"AttributeName": schema.SK, "KeyType": "RANGE"},
			},
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": schema.ExpiresAt, "Enabled": true},
			"StreamSpecification":              map[string]any{"StreamViewType": "NEW_AND_OLD_IMAGES"},
			"GlobalSecondaryIndexes":           gsis,
		})
	})
	// On-demand: no capacity to pay for while idle, on the table or an index.
	if strings.Contains(jsonOf(table.Properties), "ProvisionedThroughput") {
		t.Errorf("table or an index has provisioned throughput: %s", jsonOf(table.Properties))
	}
}

func TestFunctions(t *testing.T) {
	tpl := sampleTemplate()
	m := sampleManifest()
	if got := len(tpl.ofType("AWS::Lambda::Function")); got != len(m.Functions) {
		t.Errorf("%d functions, want one per manifest function (%d)", got, len(m.Functions))
	}
	for _, f := range m.Functions {
		t.Run(f.Name, func(t *testing.T) {
			id := tpl.function(t, f.Name)
			p := tpl.doc.Resources[id].Properties
			if p["Runtime"] != "provided.al2023" || !same(p["Architectures"], []any{"arm64"}) || p["Handler"] != "bootstrap" {
				t.Errorf("runtime %v, architectures %v, handler %v; want provided.al2023 on arm64 running bootstrap",
					p["Runtime"], p["Architectures"], p["Handler"])
			}
			if asset := obj(p["Code"])["S3Key"]; !strings.HasSuffix(str(asset), ".zip") {
				t.Errorf("code is not a zipped asset: %v", p["Code"])
			}

			env := obj(obj(p["Environment"])["Variables"])
			want := map[string]any{
				"ORG_TIME_ZONE":         "Europe/Berlin",
				"CORS_ALLOWED_ORIGINS":  "https://www.example.com,https://shop.example.com",
				"FORM_REDIRECT_ORIGINS": "https://www.example.com",
				"LEAD_DUPLICATE_WINDOW": "720h", // cdk.json's
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s = %v, want %v", k, env[k], v)
				}
			}
			table := tpl.ofType("AWS::DynamoDB::Table")[0]
			if !same(env["TABLE_NAME"], ref(table)) {
				t.Errorf("TABLE_NAME = %v, want the table's name", env["TABLE_NAME"])
			}
			if !same(env["EVENT_BUS_NAME"], ref(tpl.ofType("AWS::Events::EventBus")[0])) {
				t.Errorf("EVENT_BUS_NAME = %v, want the bus's name", env["EVENT_BUS_NAME"])
			}

			logging := obj(p["LoggingConfig"])
			if logging["LogFormat"] != "JSON" {
				t.Errorf("log format %v, want JSON", logging["LogFormat"])
			}
			if lg := str(obj(logging["LogGroup"])["Ref"]); lg == "" || tpl.doc.Resources[lg].Properties["RetentionInDays"] != float64(30) {
				t.Errorf("log group %v does not keep logs for 30 days", logging["LogGroup"])
			}
		})
	}
}

// TestGrants checks least privilege against the manifest: each function
// may do what its entry declares and what its kind needs, and nothing else.
func TestGrants(t *testing.T) {
	tpl := sampleTemplate()
	table := tpl.ofType("AWS::DynamoDB::Table")[0]
	bus := tpl.ofType("AWS::Events::EventBus")[0]
	tableArn, streamArn, busArn := getAtt(table, "Arn"), getAtt(table, "StreamArn"), getAtt(bus, "Arn")
	indexArns := map[string]any{"Fn::Join": []any{"", []any{tableArn, "/index/*"}}}

	writes := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
	reads := []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"}
	for _, f := range sampleManifest().Functions {
		t.Run(f.Name, func(t *testing.T) {
			sts := tpl.statements(t, tpl.function(t, f.Name))
			for _, a := range reads {
				if got, want := allows(sts, a, is(tableArn)), f.Table != manifest.NoTable; got != want {
					t.Errorf("%s on the table: %v, want %v", a, got, want)
				}
			}
			if f.Table != manifest.NoTable && !allows(sts, "dynamodb:Query", is(indexArns)) {
				t.Errorf("cannot query the indexes")
			}
			for _, a := range writes {
				if got, want := allows(sts, a, anyResource), f.Table == manifest.ReadWrite; got != want {
					t.Errorf("%s: %v, want %v", a, got, want)
				}
			}
			if allows(sts, "dynamodb:Scan", anyResource) {
				t.Errorf("may scan the table")
			}
			if got := allows(sts, "events:PutEvents", anyResource); got != f.PublishEvents {
				t.Errorf("events:PutEvents: %v, want %v", got, f.PublishEvents)
			}
			if f.PublishEvents && !allows(sts, "events:PutEvents", is(busArn)) {
				t.Errorf("events:PutEvents is not on the bus")
			}
			if got := allows(sts, "ses:SendEmail", anyResource); got != f.SendEmail {
				t.Errorf("ses:SendEmail: %v, want %v", got, f.SendEmail)
			}
			if got := allows(sts, "dynamodb:GetRecords", is(streamArn)); got != (f.Kind == manifest.Stream) {
				t.Errorf("reads the table's stream: %v, want %v", got, f.Kind == manifest.Stream)
			}

			// Nothing beyond that: every action is one the entry accounts for,
			// and only dynamodb:ListStreams (which has no resource) is on "*".
			for _, s := range sts {
				for _, a := range s.Actions {
					if !accountedFor(f, a) {
						t.Errorf("%s is granted %s on %v, which the manifest does not ask for", f.Name, a, s.Resources)
					}
					if slices.Contains(s.Resources, any("*")) && a != "dynamodb:ListStreams" {
						t.Errorf("%s is granted %s on every resource", f.Name, a)
					}
				}
			}
		})
	}
}

// accountedFor reports whether f's manifest entry and kind explain action.
func accountedFor(f manifest.Function, action string) bool {
	service, verb, _ := strings.Cut(action, ":")
	switch service {
	case "dynamodb":
		stream := slices.Contains([]string{"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"}, verb)
		if f.Kind == manifest.Stream && stream {
			return true
		}
		if f.Table == manifest.NoTable {
			return false
		}
		write := slices.Contains([]string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}, verb)
		return !write || f.Table == manifest.ReadWrite
	case "events":
		return f.PublishEvents && verb == "PutEvents"
	case "ses":
		return f.SendEmail && verb == "SendEmail"
	case "sqs":
		// the dead-letter queue of its stream source or of its async invocations
		return (f.Kind == manifest.Stream || f.Kind == manifest.Event) &&
			slices.Contains([]string{"SendMessage", "GetQueueAttributes", "GetQueueUrl"}, verb)
	}
	return false
}

func TestStreamSource(t *testing.T) {
	tpl := realTemplate()
	var streamFns []manifest.Function
	for _, f := range manifest.Functions {
		if f.Kind == manifest.Stream {
			streamFns = append(streamFns, f)
		}
	}
	mappings := tpl.ofType("AWS::Lambda::EventSourceMapping")
	if len(streamFns) == 0 || len(mappings) != len(streamFns) {
		t.Fatalf("%d event source mappings for %d stream functions", len(mappings), len(streamFns))
	}
	table := tpl.ofType("AWS::DynamoDB::Table")[0]
	for _, f := range streamFns {
		fn := tpl.function(t, f.Name)
		dlq := tpl.one(t, "AWS::SQS::Queue", constructID(f.Name)+"StreamDeadLetterQueue")
		check(t, func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
				"FunctionName":               ref(fn),
				"EventSourceArn":             getAtt(table, "StreamArn"),
				"StartingPosition":           "TRIM_HORIZON",
				"BatchSize":                  100,
				"MaximumRetryAttempts":       10,
				"BisectBatchOnFunctionError": true,
				"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
				"DestinationConfig": map[string]any{
					"OnFailure": map[string]any{"Destination": getAtt(dlq, "Arn")},
				},
			})
		})
		// The relay needs to send to its dead-letter queue, or failed
		// batches are lost instead of set aside.
		if !allows(tpl.statements(t, fn), "sqs:SendMessage", is(getAtt(dlq, "Arn"))) {
			t.Errorf("%s cannot send to its dead-letter queue", f.Name)
		}
	}

	// The filter lets only outbox inserts through.
	props := tpl.doc.Resources[mappings[0]].Properties
	filters := list(obj(props["FilterCriteria"])["Filters"])
	if len(filters) != 1 {
		t.Fatalf("filters %v, want one", filters)
	}
	var pattern any
	if err := json.Unmarshal([]byte(str(obj(filters[0])["Pattern"])), &pattern); err != nil {
		t.Fatalf("filter pattern: %v", err)
	}
	want := map[string]any{
		"eventName": []any{"INSERT"},
		"dynamodb":  map[string]any{"NewImage": map[string]any{"pk": map[string]any{"S": []any{map[string]any{"prefix": "EVT#"}}}}},
	}
	if !same(pattern, want) {
		t.Errorf("filter pattern %s, want %s", jsonOf(pattern), jsonOf(want))
	}
}

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

func TestBusAndOutputs(t *testing.T) {
	tpl := realTemplate()
	check(t, func() {
		tpl.ResourceCountIs(jsii.String("AWS::Events::EventBus"), jsii.Number(1))
		tpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": DefaultBusName})
	})
	for _, name := range []string{"ApiUrl", "UserPoolId", "UserPoolClientId", "TableName", "EventBusName"} {
		if _, ok := tpl.doc.Outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
	// With no rules and no schedules there is nothing to dead-letter.
	if len(manifest.Rules) == 0 && len(manifest.Schedules) == 0 {
		check(t, func() {
			tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(0))
			tpl.ResourceCountIs(jsii.String("AWS::Scheduler::Schedule"), jsii.Number(0))
		})
		if _, ok := tpl.doc.Outputs["EventDeadLetterQueueUrl"]; ok {
			t.Errorf("an idle event dead-letter queue exists")
		}
	}
}

func TestRule(t *testing.T) {
	tpl := sampleTemplate()
	bus := tpl.ofType("AWS::Events::EventBus")[0]
	kpis := tpl.function(t, "kpis")
	dlq := tpl.one(t, "AWS::SQS::Queue", "EventDeadLetterQueue")
	rule := tpl.one(t, "AWS::Events::Rule", "KpisLeadsRule")
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"EventBusName": ref(bus),
			"EventPattern": map[string]any{"source": []any{"rapport.leads"}, "detail-type": []any{"lead.captured", "lead.converted"}},
			"State":        "ENABLED",
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
				"Arn":              getAtt(kpis, "Arn"),
				"DeadLetterConfig": map[string]any{"Arn": getAtt(dlq, "Arn")},
				"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
			})},
		})
	})
	// EventBridge may invoke the function, for this rule only.
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Action":       "lambda:InvokeFunction",
			"FunctionName": getAtt(kpis, "Arn"),
			"Principal":    "events.amazonaws.com",
			"SourceArn":    getAtt(rule, "Arn"),
		})
	})
	// ...and may put what it cannot deliver into the dead-letter queue.
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
			"Queues": []any{ref(dlq)},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Action":    "sqs:SendMessage",
				"Principal": map[string]any{"Service": "events.amazonaws.com"},
				"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": getAtt(rule, "Arn")}},
			})})},
		})
	})
	// A failed asynchronous invocation is retried, then dead-lettered.
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
			"FunctionName":         ref(kpis),
			"MaximumRetryAttempts": 2,
			"DestinationConfig":    map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlq, "Arn")}},
		})
	})
}

func TestSchedule(t *testing.T) {
	tpl := sampleTemplate()
	mailer := tpl.function(t, "mailer")
	dlq := tpl.one(t, "AWS::SQS::Queue", "EventDeadLetterQueue")
	ids := tpl.ofType("AWS::Scheduler::Schedule")
	if len(ids) != 1 {
		t.Fatalf("schedules %v, want one", ids)
	}
	p := tpl.doc.Resources[ids[0]].Properties
	if p["ScheduleExpression"] != "cron(0 6 ? * MON *)" || p["ScheduleExpressionTimezone"] != "Europe/Berlin" {
		t.Errorf("schedule %v in %v, want the manifest's expression in the organisation's time zone",
			p["ScheduleExpression"], p["ScheduleExpressionTimezone"])
	}
	if obj(p["FlexibleTimeWindow"])["Mode"] != "OFF" {
		t.Errorf("flexible time window %v, want OFF", p["FlexibleTimeWindow"])
	}
	target := obj(p["Target"])
	if !same(target["Arn"], getAtt(mailer, "Arn")) {
		t.Errorf("target %v, want the mailer function", target["Arn"])
	}
	if !same(target["DeadLetterConfig"], map[string]any{"Arn": getAtt(dlq, "Arn")}) {
		t.Errorf("dead letter config %v", target["DeadLetterConfig"])
	}
	if !same(target["RetryPolicy"], map[string]any{"MaximumRetryAttempts": float64(3), "MaximumEventAgeInSeconds": float64(3600)}) {
		t.Errorf("retry policy %v", target["RetryPolicy"])
	}

	// The function receives an EventBridge-shaped event with the
	// schedule's detail type (Scheduler fills in the <aws.scheduler...> parts).
	var input map[string]any
	if err := json.Unmarshal([]byte(joined(target["Input"])), &input); err != nil {
		t.Fatalf("input %v: %v", target["Input"], err)
	}
	if input["detail-type"] != "report.weekly" || input["source"] != ScheduleSource ||
		input["time"] != "<aws.scheduler.scheduled-time>" || input["id"] != "<aws.scheduler.execution-id>" {
		t.Errorf("input %s", joined(target["Input"]))
	}

	// The scheduler's role may invoke this function and reach the queue, and
	// that is all.
	role := str(list(obj(target["RoleArn"])["Fn::GetAtt"])[0])
	var actions []string
	for _, id := range tpl.ofType("AWS::IAM::Policy") {
		pp := tpl.doc.Resources[id].Properties
		if !slices.ContainsFunc(list(pp["Roles"]), func(r any) bool { return same(r, ref(role)) }) {
			continue
		}
		for _, s := range list(obj(pp["PolicyDocument"])["Statement"]) {
			s := obj(s)
			actions = append(actions, jsonOf(s["Action"])+" on "+jsonOf(s["Resource"]))
		}
	}
	slices.Sort(actions)
	want := []string{
		`"lambda:InvokeFunction" on ` + jsonOf([]any{getAtt(mailer, "Arn"), map[string]any{"Fn::Join": []any{"", []any{getAtt(mailer, "Arn"), ":*"}}}}),
		`"sqs:SendMessage" on ` + jsonOf(getAtt(dlq, "Arn")),
	}
	if !slices.Equal(actions, want) {
		t.Errorf("scheduler role may\n  %s\nwant\n  %s", strings.Join(actions, "\n  "), strings.Join(want, "\n  "))
	}
}
