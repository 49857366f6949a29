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

func TestRule(t *testing.T) {
	tpl := sampleTemplate()
	bus := tpl.ofType("AWS::Events::EventBus")[0]
	scorer := tpl.function(t, "scorer")
	dlq := tpl.one(t, "AWS::SQS::Queue", "EventDeadLetterQueue")
	rule := tpl.one(t, "AWS::Events::Rule", "ScorerLeadsRule")
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"EventBusName": ref(bus),
			"EventPattern": map[string]any{"source": []any{"rapport.leads"}, "detail-type": []any{"lead.captured", "lead.converted"}},
			"State":        "ENABLED",
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
				"Arn":              getAtt(scorer, "Arn"),
				"DeadLetterConfig": map[string]any{"Arn": getAtt(dlq, "Arn")},
				"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
			})},
		})
	})
	// EventBridge may invoke the function, for this rule only.
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Action":       "lambda:InvokeFunction",
			"FunctionName": getAtt(scorer, "Arn"),
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
			"FunctionName":         ref(scorer),
			"MaximumRetryAttempts": 2,
			"DestinationConfig":    map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlq, "Arn")}},
		})
	})
}

func TestSchedule(t *testing.T) {
	tpl := sampleTemplate()
	mailer := tpl.function(t, "mailer")
	dlq := tpl.one(t, "AWS::SQS::Queue", "EventDeadLetterQueue")
	if got, want := len(tpl.ofType("AWS::Scheduler::Schedule")), len(sampleManifest().Schedules); got != want {
		t.Errorf("%d schedules, want one per manifest schedule (%d)", got, want)
	}
	p := tpl.doc.Resources[tpl.one(t, "AWS::Scheduler::Schedule", "WeeklyReportSchedule")].Properties
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
