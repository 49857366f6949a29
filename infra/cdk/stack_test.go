package main

import (
	"slices"
	"strings"
	"testing"

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
	if table.Properties["DeletionProtectionEnabled"] != true {
		t.Errorf("the prod table may be deleted while the stack exists: DeletionProtectionEnabled %v", table.Properties["DeletionProtectionEnabled"])
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
				"ORG_CURRENCY":          "EUR", // the default
				"CORS_ALLOWED_ORIGINS":  "https://www.example.com,https://shop.example.com",
				"FORM_REDIRECT_ORIGINS": "https://www.example.com",
				"LEAD_DUPLICATE_WINDOW": "720h",                // cdk.json's
				"BUSINESS_HOURS":        "Mon-Fri 09:00-17:00", // cdk.json's
				"BUSINESS_HOLIDAYS":     "2026-12-25,2026-12-26",
				"MAIL_FROM":             "Rapport CRM <crm@example.com>",
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
	// Each index by name, not "index/*".
	var indexArns []any
	for _, ix := range schema.Rapport.Indexes {
		indexArns = append(indexArns, map[string]any{"Fn::Join": []any{"", []any{tableArn, "/index/" + ix.Name}}})
	}

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
			for _, ix := range indexArns {
				if f.Table != manifest.NoTable && !allows(sts, "dynamodb:Query", is(ix)) {
					t.Errorf("cannot query index %s", jsonOf(ix))
				}
			}
			if allows(sts, "dynamodb:Query", func(r any) bool { return strings.HasSuffix(joined(r), "/index/*") }) {
				t.Errorf("may query every index, present and future")
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

			// Logs go to the function's own log group, not to every group
			// as AWSLambdaBasicExecutionRole would allow.
			logs := getAtt(str(obj(obj(tpl.doc.Resources[tpl.function(t, f.Name)].Properties["LoggingConfig"])["LogGroup"])["Ref"]), "Arn")
			for _, s := range sts {
				for _, a := range s.Actions {
					if strings.HasPrefix(a, "logs:") && !same(s.Resources, []any{logs}) {
						t.Errorf("%s on %v, want only the function's log group %v", a, s.Resources, logs)
					}
				}
			}
			if !allows(sts, "logs:PutLogEvents", is(logs)) {
				t.Errorf("cannot write to its log group")
			}
			role := str(list(obj(tpl.doc.Resources[tpl.function(t, f.Name)].Properties["Role"])["Fn::GetAtt"])[0])
			if mp := tpl.doc.Resources[role].Properties["ManagedPolicyArns"]; mp != nil {
				t.Errorf("role has managed policies %v", mp)
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
	case "logs":
		// its own log group only; TestGrants checks the resource
		return verb == "CreateLogStream" || verb == "PutLogEvents"
	case "secretsmanager":
		// the link keyring; TestLinkKeyring checks the resource
		return f.ReadsLinkKeys && verb == "GetSecretValue"
	case "sqs":
		// the dead-letter queue of its stream source or of its async invocations
		return (f.Kind == manifest.Stream || f.Kind == manifest.Event) &&
			slices.Contains([]string{"SendMessage", "GetQueueAttributes", "GetQueueUrl"}, verb)
	}
	return false
}

func TestBusAndOutputs(t *testing.T) {
	tpl := realTemplate()
	check(t, func() {
		tpl.ResourceCountIs(jsii.String("AWS::Events::EventBus"), jsii.Number(1))
		tpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": StageProd.BusName()})
	})
	for _, name := range []string{"ApiUrl", "UserPoolId", "UserPoolClientId", "TableName", "EventBusName", "AlarmTopicArn"} {
		if _, ok := tpl.doc.Outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
	// The API's endpoint has no trailing slash (a stage URL has), so
	// "$ApiUrl/leads" is the leads route and not "//leads".
	if url := tpl.doc.Outputs["ApiUrl"]["Value"]; !same(url, getAtt(tpl.ofType("AWS::ApiGatewayV2::Api")[0], "ApiEndpoint")) {
		t.Errorf("ApiUrl %s, want the API's endpoint", jsonOf(url))
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
