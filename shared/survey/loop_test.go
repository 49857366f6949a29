package survey_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/survey"
)

func rated(rs ...survey.Rating) survey.Answer { return survey.Answer{Ratings: rs} }

func TestDetractor(t *testing.T) {
	for _, tc := range []struct {
		a    survey.Answer
		want bool
	}{
		{rated(survey.Rating{survey.NPS, 0}), true},
		{rated(survey.Rating{survey.NPS, 6}), true},
		{rated(survey.Rating{survey.NPS, 7}), false},
		{rated(survey.Rating{survey.NPS, 10}), false},
		{rated(survey.Rating{survey.CSAT, 1}), true},
		{rated(survey.Rating{survey.CSAT, 2}), true},
		{rated(survey.Rating{survey.CSAT, 3}), false},
		{rated(survey.Rating{survey.CSAT, 5}), false},
		{rated(survey.Rating{survey.CES, 1}), false}, // effort alone does not
		{rated(survey.Rating{survey.CSAT, 4}, survey.Rating{survey.CES, 1}), false},
		{rated(survey.Rating{survey.CSAT, 2}, survey.Rating{survey.CES, 7}), true},
		{rated(survey.Rating{survey.CES, 7}, survey.Rating{survey.NPS, 3}), true},
		{rated(), false},
	} {
		if got := survey.Detractor(tc.a); got != tc.want {
			t.Errorf("Detractor(%v) = %v, want %v", tc.a.Ratings, got, tc.want)
		}
	}
}

func TestCloseTheLoop(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	cal := calendar.Default(berlin)
	inv := sentInvitation(survey.CSAT, survey.CES)
	inv.Owner = "agent-2e90"
	for _, tc := range []struct {
		name       string
		answeredAt time.Time
		want       time.Time
	}{
		{"Friday afternoon: Monday", time.Date(2026, 12, 4, 16, 30, 0, 0, berlin), time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)},
		{"Tuesday night: Wednesday", time.Date(2026, 12, 8, 23, 59, 0, 0, berlin), time.Date(2026, 12, 9, 9, 0, 0, 0, berlin)},
		{"Wednesday before opening: Thursday", time.Date(2026, 12, 9, 7, 0, 0, 0, berlin), time.Date(2026, 12, 10, 9, 0, 0, 0, berlin)},
		{"Sunday: Monday", time.Date(2026, 12, 6, 12, 0, 0, 0, berlin), time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)},
	} {
		a := survey.Answer{InvitationID: inv.ID, Ratings: []survey.Rating{{survey.CSAT, 2}}, Comment: "Nobody called back.", AnsweredAt: tc.answeredAt.UTC()}
		f, ok := survey.CloseTheLoop(inv, a, cal)
		if !ok {
			t.Fatalf("%s: a CSAT of 2 makes no follow-up", tc.name)
		}
		if !f.DueAt.Equal(tc.want) {
			t.Errorf("%s: due %v, want %v", tc.name, f.DueAt.In(berlin), tc.want)
		}
		if f.CustomerID != "C1" || f.Owner != "agent-2e90" || f.ID == "" {
			t.Errorf("%s: follow-up %+v", tc.name, f)
		}
		if again, _ := survey.CloseTheLoop(inv, a, cal); again.ID != f.ID {
			t.Errorf("%s: a second delivery makes another task id", tc.name)
		}
	}

	happy := survey.Answer{Ratings: []survey.Rating{{survey.CSAT, 5}}, AnsweredAt: t0}
	if _, ok := survey.CloseTheLoop(inv, happy, cal); ok {
		t.Error("a happy answer makes a follow-up")
	}
	noCustomer := inv
	noCustomer.CustomerID = ""
	if _, ok := survey.CloseTheLoop(noCustomer, survey.Answer{Ratings: []survey.Rating{{survey.CSAT, 1}}, AnsweredAt: t0}, cal); ok {
		t.Error("an invitation without a customer makes a follow-up with no subject")
	}
	unowned := inv
	unowned.Owner = ""
	if f, _ := survey.CloseTheLoop(unowned, survey.Answer{Ratings: []survey.Rating{{survey.CSAT, 1}}, AnsweredAt: t0}, cal); f.Owner != "" {
		t.Errorf("an unowned invitation's follow-up goes to %q, want the unassigned queue", f.Owner)
	}
}

func TestFollowUpNote(t *testing.T) {
	inv := sentInvitation(survey.CSAT, survey.CES)
	a := survey.Answer{Ratings: []survey.Rating{{survey.CSAT, 2}, {survey.CES, 3}}, Comment: "Took three calls."}
	if got, want := survey.FollowUpNote(inv, a), "Unhappy survey answer after ticket T1: CSAT 2/5, CES 3/7. Comment: Took three calls."; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
	rel := sentInvitation(survey.NPS)
	rel.Reason, rel.TicketID = survey.Relationship, ""
	if got, want := survey.FollowUpNote(rel, survey.Answer{Ratings: []survey.Rating{{survey.NPS, 4}}}), "Unhappy survey answer: NPS 4/10. No comment."; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
	long := survey.Answer{Ratings: []survey.Rating{{survey.CSAT, 1}}, Comment: strings.Repeat("ü", survey.MaxComment)}
	note := survey.FollowUpNote(inv, long)
	if n := utf8.RuneCountInString(note); n != survey.MaxNote || !strings.HasSuffix(note, "…") {
		t.Errorf("a long comment's note has %d characters, ends %q; want %d ending in …", n, note[len(note)-8:], survey.MaxNote)
	}
	if survey.MaxNote != followup.MaxNote {
		t.Errorf("MaxNote %d, the follow-up domain takes %d", survey.MaxNote, followup.MaxNote)
	}
}
