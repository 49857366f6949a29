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

	sweep := scheduleOf(t, tpl, "RemindersSweepSchedule", reminders)
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

// scheduleOf returns the properties of the schedule with construct id id,
// checking that it targets fn.
func scheduleOf(t *testing.T, tpl *template, id, fn string) map[string]any {
	t.Helper()
	p := tpl.doc.Resources[tpl.one(t, "AWS::Scheduler::Schedule", id)].Properties
	if !same(obj(p["Target"])["Arn"], getAtt(fn, "Arn")) {
		t.Fatalf("schedule %s targets %v, want %s", id, obj(p["Target"])["Arn"], fn)
	}
	return p
}

// The scorecard's schedules, in the organisation's time zone: the
// snapshot just after midnight to the kpis function, the weekly report on
// Monday 08:00 to the reminders function (the one that may send mail),
// each with its detail type.
func TestScorecardSchedules(t *testing.T) {
	tpl := realTemplate()
	zone := scheduleOf(t, tpl, "RemindersSweepSchedule", tpl.function(t, "reminders"))["ScheduleExpressionTimezone"]
	for _, c := range []struct{ id, fn, expr, detailType string }{
		{"ScorecardSnapshotSchedule", "kpis", "cron(5 0 * * ? *)", manifest.SnapshotDetailType},
		{"WeeklyReportSchedule", "reminders", "cron(0 8 ? * MON *)", manifest.WeeklyReportDetailType},
	} {
		p := scheduleOf(t, tpl, c.id, tpl.function(t, c.fn))
		if p["ScheduleExpression"] != c.expr || p["ScheduleExpressionTimezone"] != zone || zone == nil {
			t.Errorf("%s: %v in %v, want %s in the organisation's zone %v", c.id, p["ScheduleExpression"], p["ScheduleExpressionTimezone"], c.expr, zone)
		}
		var input map[string]any
		if err := json.Unmarshal([]byte(joined(obj(p["Target"])["Input"])), &input); err != nil || input["detail-type"] != c.detailType {
			t.Errorf("%s input %v (%v), want detail-type %s", c.id, obj(p["Target"])["Input"], err, c.detailType)
		}
	}
}
