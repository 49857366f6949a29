package main

import (
	"encoding/json"
	"testing"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/manifest"
)

// The real manifest's kpis function: one rule per Rapport source, on the
// bus, sends it every detail type the event catalogue lists for that
// source — so every event reaches the rollups — with the retries and the
// dead-letter queue every rule has. It reads and writes the table and
// touches nothing else (TestGrants checks each function against its
// manifest entry).
func TestKPIsFromTheManifest(t *testing.T) {
	tpl := realTemplate()
	kpis := tpl.function(t, "kpis")
	bus := tpl.ofType("AWS::Events::EventBus")[0]
	dlq := tpl.one(t, "AWS::SQS::Queue", "EventDeadLetterQueue")
	want := map[string][]string{}
	for _, d := range events.Catalogue() {
		want[d.EventSource()] = append(want[d.EventSource()], d.DetailType())
	}
	rules := map[string]string{
		events.SourceLeads: "KpisLeadsRule", events.SourceReminders: "KpisRemindersRule",
		events.SourceTickets: "KpisTicketsRule", events.SourceSurveys: "KpisSurveysRule",
	}
	if len(rules) != len(want) {
		t.Errorf("the catalogue has the sources %v; a kpis rule is named for each of %v", want, rules)
	}
	for source, id := range rules {
		p := tpl.doc.Resources[tpl.one(t, "AWS::Events::Rule", id)].Properties
		pattern := obj(p["EventPattern"])
		if !same(p["EventBusName"], ref(bus)) || !same(pattern["source"], []any{source}) || len(pattern) != 2 {
			t.Errorf("rule %s: pattern %s on %v, want source %s and detail types only, on the bus", id, jsonOf(pattern), p["EventBusName"], source)
		}
		var got []string
		for _, dt := range list(pattern["detail-type"]) {
			got = append(got, str(dt))
		}
		if !sameSet(got, want[source]) {
			t.Errorf("rule %s matches %v, want the catalogue's %v", id, got, want[source])
		}
		targets := list(p["Targets"])
		if len(targets) != 1 || !same(obj(targets[0])["Arn"], getAtt(kpis, "Arn")) ||
			!same(obj(obj(targets[0])["DeadLetterConfig"])["Arn"], getAtt(dlq, "Arn")) {
			t.Errorf("rule %s targets %s, want the kpis function alone, with the event dead-letter queue", id, jsonOf(targets))
		}
		if got := tpl.detailTypesTo(source, kpis); !sameSet(got, want[source]) {
			t.Errorf("the kpis function gets %v from %s, want %v", got, source, want[source])
		}
	}
	table := tpl.ofType("AWS::DynamoDB::Table")[0]
	sts := tpl.statements(t, kpis)
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem"} {
		if !allows(sts, a, is(getAtt(table, "Arn"))) {
			t.Errorf("the kpis function may not %s on the table", a)
		}
	}
	for _, a := range []string{"events:PutEvents", "ses:SendEmail", "secretsmanager:GetSecretValue", "dynamodb:Scan"} {
		if allows(sts, a, anyResource) {
			t.Errorf("the kpis function may %s", a)
		}
	}
}

// The real manifest's daily value ranking: a schedule at 00:30 in the
// organisation's zone invokes the kpis function with the ranking's detail
// type; the function's grants already cover what it reads and writes (the
// rollups, the customers, the index of their ranks), and never a Scan.
func TestValueRankScheduleFromTheManifest(t *testing.T) {
	tpl := realTemplate()
	kpis := tpl.function(t, "kpis")
	// kpis has two schedules (the snapshot too): find this one by its id.
	found := scheduleOf(t, tpl, "CustomersRankValueSchedule", kpis)
	if found["ScheduleExpression"] != "cron(30 0 * * ? *)" || found["ScheduleExpressionTimezone"] == nil {
		t.Errorf("value rank schedule %v in %v, want cron(30 0 * * ? *) in the organisation's zone", found["ScheduleExpression"], found["ScheduleExpressionTimezone"])
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(joined(obj(found["Target"])["Input"])), &input); err != nil || input["detail-type"] != manifest.RankValueDetailType {
		t.Errorf("value rank input %v (%v), want detail-type %s", obj(found["Target"])["Input"], err, manifest.RankValueDetailType)
	}
	sts := tpl.statements(t, kpis)
	for _, action := range []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"} {
		if !allows(sts, action, anyResource) {
			t.Errorf("kpis may not %s", action)
		}
	}
	if allows(sts, "dynamodb:Scan", anyResource) {
		t.Error("kpis may scan the table")
	}
}
