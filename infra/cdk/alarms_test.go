package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// alarmsOf returns the properties of the template's alarms.
func (t *template) alarmsOf() []map[string]any {
	var out []map[string]any
	for _, id := range t.ofType("AWS::CloudWatch::Alarm") {
		out = append(out, t.doc.Resources[id].Properties)
	}
	return out
}

// watches reports whether alarm p watches metric of namespace with the
// dimension name set to value.
func watches(p map[string]any, namespace, metric, dimension string, value any) bool {
	if p["Namespace"] != namespace || p["MetricName"] != metric {
		return false
	}
	return slices.ContainsFunc(list(p["Dimensions"]), func(d any) bool {
		return obj(d)["Name"] == dimension && same(obj(d)["Value"], value)
	})
}

// TestEveryFailurePathHasAnAlarm is the guard: every function in the
// template has an errors and a throttles alarm, every queue (all of them are
// dead-letter queues) an alarm on its first message, every stream function
// one on falling behind, the API one on 5xx, and a schedule firing every
// minute one on not running. It walks the synthesized template, not the
// manifest, so a function or queue added any other way is caught too. Every
// alarm notifies the topic when it fires and when it clears.
func TestEveryFailurePathHasAnAlarm(t *testing.T) {
	tpl := sampleTemplate()
	alarms := tpl.alarmsOf()
	topic := tpl.one(t, "AWS::SNS::Topic", "AlarmTopic")
	find := func(what string, match func(map[string]any) bool) map[string]any {
		t.Helper()
		i := slices.IndexFunc(alarms, match)
		if i < 0 {
			t.Errorf("no alarm for %s", what)
			return nil
		}
		return alarms[i]
	}
	fires := func(what string, p map[string]any, op string, threshold float64, missing string) {
		t.Helper()
		if p == nil {
			return
		}
		if p["ComparisonOperator"] != op || p["Threshold"] != threshold || p["TreatMissingData"] != missing {
			t.Errorf("%s: alarm %s %v, missing data %v; want %s %v, %s", what, p["ComparisonOperator"], p["Threshold"],
				p["TreatMissingData"], op, threshold, missing)
		}
	}

	for _, fn := range tpl.ofType("AWS::Lambda::Function") {
		for _, metric := range []string{"Errors", "Throttles"} {
			p := find(fn+" "+metric, func(p map[string]any) bool { return watches(p, "AWS/Lambda", metric, "FunctionName", ref(fn)) })
			fires(fn+" "+metric, p, "GreaterThanOrEqualToThreshold", 1, "notBreaching")
		}
	}
	for _, q := range tpl.ofType("AWS::SQS::Queue") {
		p := find("queue "+q, func(p map[string]any) bool {
			return watches(p, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", getAtt(q, "QueueName"))
		})
		fires("queue "+q, p, "GreaterThanOrEqualToThreshold", 1, "notBreaching")
	}
	m := sampleManifest()
	for _, f := range m.Functions {
		if f.Kind != manifest.Stream {
			continue
		}
		fn := tpl.function(t, f.Name)
		p := find(f.Name+" iterator age", func(p map[string]any) bool { return watches(p, "AWS/Lambda", "IteratorAge", "FunctionName", ref(fn)) })
		fires(f.Name+" iterator age", p, "GreaterThanOrEqualToThreshold", float64(iteratorAgeLimit.Milliseconds()), "notBreaching")
	}
	api := tpl.ofType("AWS::ApiGatewayV2::Api")[0]
	p := find("API 5xx", func(p map[string]any) bool { return watches(p, "AWS/ApiGateway", "5xx", "ApiId", ref(api)) })
	fires("API 5xx", p, "GreaterThanOrEqualToThreshold", 1, "notBreaching")

	sweeps := 0
	for _, sc := range m.Schedules {
		if sc.Expression != "rate(1 minute)" {
			continue
		}
		sweeps++
		fn := tpl.function(t, sc.Function)
		p := find(sc.Name+" not running", func(p map[string]any) bool {
			return watches(p, "AWS/Lambda", "Invocations", "FunctionName", ref(fn)) && p["TreatMissingData"] == "breaching"
		})
		fires(sc.Name+" not running", p, "LessThanThreshold", 1, "breaching")
		if p != nil && p["Period"] != float64(300) {
			t.Errorf("%s: silence alarm period %vs, want 300", sc.Name, p["Period"])
		}
	}
	if sweeps == 0 {
		t.Errorf("the sample manifest has no schedule firing every minute")
	}

	for _, p := range alarms {
		if !same(p["AlarmActions"], []any{ref(topic)}) || !same(p["OKActions"], []any{ref(topic)}) {
			t.Errorf("alarm %v notifies %v and clears to %v, want the alarm topic", p["AlarmName"], p["AlarmActions"], p["OKActions"])
		}
	}
	// Each alarm above is one resource, and there are no others to forget.
	want := 2*len(tpl.ofType("AWS::Lambda::Function")) + len(tpl.ofType("AWS::SQS::Queue")) + 1 + sweeps
	for _, f := range m.Functions {
		if f.Kind == manifest.Stream {
			want++
		}
	}
	if len(alarms) != want {
		t.Errorf("%d alarms, want %d", len(alarms), want)
	}
}

// The alarm topic mails the address in cdk.json's context when one is set,
// and has no subscription otherwise; it takes only TLS.
func TestAlarmTopic(t *testing.T) {
	check(t, func() { realTemplate().ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0)) })
	ctx := map[string]any{CtxAlarmEmail: "ops@example.com"}
	for k, v := range testContext {
		ctx[k] = v
	}
	tpl := synth(nil, ctx, StageDev)
	topic := tpl.one(t, "AWS::SNS::Topic", "AlarmTopic")
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": ref(topic),
		})
	})
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"TopicName": "rapport-dev-alarms"})
	})
	check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
			"Topics": []any{ref(topic)},
			"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Action": "sns:Publish", "Effect": "Deny", "Principal": "*",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				"Resource":  ref(topic), "Sid": "AllowPublishThroughSSLOnly",
			}}},
		})
	})
}

func TestSilenceWindow(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"rate(1 minute)":      5 * time.Minute,
		"rate(2 minutes)":     5 * time.Minute,
		"rate(5 minutes)":     10 * time.Minute,
		"rate(1 hour)":        2 * time.Hour,
		"rate(12 hours)":      24 * time.Hour,
		"rate(1 day)":         0,
		"cron(0 6 ? * MON *)": 0,
		"rate(0 minutes)":     0,
	} {
		got, ok := silenceWindow(expr)
		if got != want || ok != (want > 0) {
			t.Errorf("silenceWindow(%q) = %v, %v; want %v", expr, got, ok, want)
		}
	}
	if got := kebab("RelayStreamDeadLetterQueue"); got != "relay-stream-dead-letter-queue" {
		t.Errorf("kebab = %q", got)
	}
}

// Each stage is its own stack with its own names; prod keeps its data and
// protects it, dev may be destroyed with everything in it.
func TestStages(t *testing.T) {
	for _, tc := range []struct {
		tpl        *template
		stage      Stage
		policy     string
		protection bool
	}{
		{realTemplate(), StageProd, "Retain", true},
		{devTemplate(), StageDev, "Delete", false},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			tpl := tc.tpl
			table := tpl.doc.Resources[tpl.ofType("AWS::DynamoDB::Table")[0]]
			pool := tpl.doc.Resources[tpl.one(t, "AWS::Cognito::UserPool", "Staff")]
			for name, r := range map[string]resource{"table": table, "user pool": pool} {
				if r.DeletionPolicy != tc.policy || r.UpdateReplacePolicy != tc.policy {
					t.Errorf("%s: deletion policy %q, replace policy %q; want %q", name, r.DeletionPolicy, r.UpdateReplacePolicy, tc.policy)
				}
			}
			for _, id := range tpl.ofType("AWS::Logs::LogGroup") {
				if r := tpl.doc.Resources[id]; r.DeletionPolicy != tc.policy {
					t.Errorf("log group %s: deletion policy %q, want %q", id, r.DeletionPolicy, tc.policy)
				}
			}
			if got := table.Properties["DeletionProtectionEnabled"]; got != tc.protection {
				t.Errorf("table deletion protection %v, want %v", got, tc.protection)
			}
			wantPool := map[bool]any{true: "ACTIVE", false: "INACTIVE"}[tc.protection]
			if got := pool.Properties["DeletionProtection"]; got != wantPool {
				t.Errorf("user pool deletion protection %v, want %v", got, wantPool)
			}
			if got := pool.Properties["UserPoolName"]; got != "rapport-"+string(tc.stage)+"-staff" {
				t.Errorf("user pool name %v", got)
			}
			check(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": tc.stage.BusName()})
			})
			for _, p := range tpl.alarmsOf() {
				if name := str(p["AlarmName"]); !strings.HasPrefix(name, "rapport-"+string(tc.stage)+"-") {
					t.Errorf("alarm %q is not named for its stage", name)
				}
			}
		})
	}
	if _, err := ParseStage("staging"); err == nil {
		t.Errorf("ParseStage accepted an unknown stage")
	}
	if StageDev.StackName() == StageProd.StackName() {
		t.Errorf("stages share a stack name")
	}
}
