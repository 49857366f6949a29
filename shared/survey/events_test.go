package survey_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/survey"
)

// TestEvents checks the events the domain builds against the catalogue's
// schemas, and that none carries the address or the comment.
func TestEvents(t *testing.T) {
	inv := sentInvitation(survey.CSAT, survey.CES)
	inv.Owner, inv.Team = "agent-1", "support"
	a, err := survey.CheckAnswer(inv, form("csat=2&ces=3&comment=Secret+words"), t0.Add(3*day))
	if err != nil {
		t.Fatal(err)
	}
	invited, err := survey.InvitedEvent(inv)
	if err != nil {
		t.Fatal(err)
	}
	responded, err := survey.RespondedEvent(inv, a)
	if err != nil {
		t.Fatal(err)
	}
	optedOut := survey.OptedOutEvent(inv, t0.Add(4*day))

	if !invited.OccurredAt.Equal(t0) || !invited.ExpiresAt.Equal(t0.Add(30*day)) || invited.TicketID != "T1" || invited.Owner != "agent-1" ||
		strings.Join(invited.Questions, ",") != "csat,ces" || invited.Reason != "after_ticket" {
		t.Errorf("survey.invited %+v", invited)
	}
	if len(responded.Answers) != 2 || responded.Answers[0] != (events.SurveyAnswer{Question: "csat", Score: 2}) || !responded.Commented ||
		!responded.AnsweredAt.Equal(a.AnsweredAt) || responded.CustomerID != "C1" {
		t.Errorf("survey.responded %+v", responded)
	}
	if optedOut.InvitationID != inv.ID || optedOut.CustomerID != "C1" {
		t.Errorf("survey.opted_out %+v", optedOut)
	}

	for _, d := range []events.Detail{invited, responded, optedOut} {
		env, err := events.Wrap(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"ada@example.com", "Secret"} {
			if bytes.Contains(env.Detail, []byte(secret)) {
				t.Errorf("%s carries %q: %s", d.DetailType(), secret, env.Detail)
			}
		}
		validate(t, d.DetailType(), env.Detail)
		again, _ := events.Wrap(d)
		if again.ID != env.ID {
			t.Errorf("%s: the event id is not stable", d.DetailType())
		}
	}

	if _, err := survey.InvitedEvent(scheduled(t)); err == nil {
		t.Error("survey.invited of an unsent invitation")
	}
	if _, err := survey.RespondedEvent(scheduled(t), a); err == nil {
		t.Error("survey.responded of an unsent invitation")
	}
}

func validate(t *testing.T, detailType string, detail []byte) {
	t.Helper()
	raw, ok := events.Schema(detailType)
	if !ok {
		t.Fatalf("no schema for %s", detailType)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(detailType+".json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(detailType + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(detail, &v); err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s does not match its schema: %v\n%s", detailType, err, detail)
	}
}
