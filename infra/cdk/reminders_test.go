package main

import (
	"encoding/json"
	"testing"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// The real manifest's reminders: the minute's sweep schedule targets the
// reminders function, the lead and mail rules feed it, it alone may send
// email, and no function may scan the table.
func TestRemindersFromTheManifest(t *testing.T) {
	tpl := realTemplate()
	reminders := tpl.function(t, "reminders")

	var sweep map[string]any
	for _, id := range tpl.ofType("AWS::Scheduler::Schedule") {
		p := tpl.doc.Resources[id].Properties
		if same(obj(p["Target"])["Arn"], getAtt(reminders, "Arn")) {
			sweep = p
		}
	}
	if sweep == nil {
		t.Fatal("no schedule targets the reminders function")
	}
	if sweep["ScheduleExpression"] != "rate(1 minute)" || obj(sweep["FlexibleTimeWindow"])["Mode"] != "OFF" {
		t.Errorf("sweep schedule %v, window %v; want rate(1 minute), no flexible window", sweep["ScheduleExpression"], sweep["FlexibleTimeWindow"])
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(joined(obj(sweep["Target"])["Input"])), &input); err != nil || input["detail-type"] != manifest.SweepDetailType {
		t.Errorf("sweep input %v (%v), want detail-type %s", obj(sweep["Target"])["Input"], err, manifest.SweepDetailType)
	}

	rules := map[string]bool{}
	for _, id := range tpl.ofType("AWS::Events::Rule") {
		p := tpl.doc.Resources[id].Properties
		for _, target := range list(p["Targets"]) {
			if same(obj(target)["Arn"], getAtt(reminders, "Arn")) {
				for _, dt := range list(obj(p["EventPattern"])["detail-type"]) {
					rules[str(dt)] = true
				}
			}
		}
	}
	for _, dt := range []string{"lead.captured", "lead.updated", "lead.converted", "followup.due", "staff.digest_due"} {
		if !rules[dt] {
			t.Errorf("no rule sends %s to the reminders function (it gets %v)", dt, rules)
		}
	}

	for _, f := range manifest.Functions {
		sts := tpl.statements(t, tpl.function(t, f.Name))
		if got := allows(sts, "ses:SendEmail", anyResource); got != (f.Name == "reminders") {
			t.Errorf("%s may send email: %v", f.Name, got)
		}
		if allows(sts, "dynamodb:Scan", anyResource) {
			t.Errorf("%s may scan the table", f.Name)
		}
	}
}
