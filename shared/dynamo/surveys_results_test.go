package dynamo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/survey"
)

// planned is one invitation of the week below: sent by hand a minute
// before at, and answered at at with values (never, when nil).
type planned struct {
	name     string
	customer string
	qs       []survey.Question
	at       time.Time
	values   map[string][]string
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func score(pairs ...string) map[string][]string {
	v := map[string][]string{}
	for i := 0; i < len(pairs); i += 2 {
		v[pairs[i]] = []string{pairs[i+1]}
	}
	return v
}

var (
	npsOnly    = []survey.Question{survey.NPS}
	csatAndCES = []survey.Question{survey.CSAT, survey.CES}
)

// week is ISO week 2026-W49 in Berlin (UTC+1): Monday 30 November to
// Sunday 6 December, across the end of November, with answers just
// outside it on both sides (A6 on Sunday 29 November at 23:30 Berlin, A5
// on Monday 7 December at 00:30 Berlin) and one invitation never answered
// (C1).
var week = []planned{
	{name: "A6", qs: npsOnly, at: utc("2026-11-29T22:30:00Z"), values: score("nps", "10")},
	{name: "A1", qs: npsOnly, at: utc("2026-11-29T23:30:00Z"), values: score("nps", "10", "comment", "Great service")},
	{name: "A2", qs: npsOnly, at: utc("2026-11-30T10:00:00Z"), values: score("nps", "9")},
	{name: "B1", customer: "C1", qs: csatAndCES, at: utc("2026-11-30T12:00:00Z"), values: score("csat", "5", "ces", "6")},
	{name: "A3", qs: npsOnly, at: utc("2026-12-01T10:00:00Z"), values: score("nps", "3", "comment", "Too slow")},
	{name: "B2", qs: csatAndCES, at: utc("2026-12-02T10:00:00Z"), values: score("csat", "4", "ces", "")},
	{name: "C1", qs: npsOnly, at: utc("2026-12-03T10:00:00Z")},
	{name: "B3", customer: "C3", qs: csatAndCES, at: utc("2026-12-04T10:00:00Z"), values: score("csat", "2", "ces", "2", "comment", "<b>Lost</b> my order")},
	{name: "B4", qs: csatAndCES, at: utc("2026-12-05T10:00:00Z"), values: score("csat", "1", "ces", "3")},
	{name: "A4", qs: npsOnly, at: utc("2026-12-06T22:30:00Z"), values: score("nps", "7")},
	{name: "A5", qs: npsOnly, at: utc("2026-12-06T23:30:00Z"), values: score("nps", "0")},
	{name: "B5", qs: csatAndCES, at: utc("2026-12-08T10:00:00Z"), values: score("csat", "5", "ces", "7")},
}

// berlinFixture is a survey fixture in an organisation whose zone is
// Europe/Berlin, with the week above sent and answered; ids maps each
// name to its invitation id.
func berlinFixture(t *testing.T) (surveyFixture, map[string]string, *time.Location) {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	f := newSurveyFixture(t)
	f.svc.Calendar = calendar.Default(berlin)
	ids := map[string]string{}
	ctx := context.Background()
	for _, p := range week {
		email := strings.ToLower(p.name) + "@example.com"
		m := survey.ByHand{Email: email, Questions: p.qs}
		if p.customer != "" {
			f.people.customers[p.customer] = survey.Contact{Email: email, Owner: "agent-7", Team: "care"}
			m = survey.ByHand{CustomerID: p.customer, Questions: p.qs}
		}
		f.to(p.at.Add(-time.Minute))
		ids[p.name] = f.invite(t, m).ID
		if p.values == nil {
			continue
		}
		f.to(p.at)
		if _, err := f.svc.Answer(ctx, ids[p.name], p.values); err != nil {
			t.Fatalf("answer %s: %v", p.name, err)
		}
	}
	return f, ids, berlin
}

func TestResultsOfAWeekAcrossAMonthBoundary(t *testing.T) {
	f, _, berlin := berlinFixture(t)
	w, err := period.Parse("2026-W49", berlin)
	if err != nil {
		t.Fatal(err)
	}
	// In the week: NPS 10, 9, 3, 7 (A1–A4); CSAT 5, 4, 2, 1 and CES 6, 2,
	// 3 (B1–B4; B2 left CES out). Sent: A1–A4, B1–B4 and C1.
	nps := f.results(t, survey.NPS, w)
	// Promoters 2 (10, 9), detractors 1 (3) of 4: (2 − 1) / 4 = 25.
	if nps.Answers != 4 || nps.Responses != 8 || nps.Invitations != 9 || *nps.Score != 25 ||
		!slices.Equal(nps.Counts, []int64{0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1}) {
		t.Errorf("NPS = %+v, score %v", nps, *nps.Score)
	}
	// 8 responses of 9 invitations: 88.9 %.
	if *nps.ResponseRate != 88.9 {
		t.Errorf("response rate = %v, want 88.9", *nps.ResponseRate)
	}
	// CSAT 4–5: 2 of 4 = 50 %.
	if csat := f.results(t, survey.CSAT, w); csat.Answers != 4 || *csat.Score != 50 ||
		!slices.Equal(csat.Counts, []int64{1, 1, 0, 1, 1}) {
		t.Errorf("CSAT = %+v, score %v", csat, *csat.Score)
	}
	// CES: (6 + 2 + 3) / 3 = 3.67, shown 3.7.
	if ces := f.results(t, survey.CES, w); ces.Answers != 3 || *ces.Score != 3.7 ||
		!slices.Equal(ces.Counts, []int64{0, 1, 1, 0, 0, 1, 0}) {
		t.Errorf("CES = %+v, score %v", ces, *ces.Score)
	}
	// November in Berlin: A6, A1, A2 (NPS 10, 10, 9) and B1 (CSAT 5), all
	// sent in November.
	nov, _ := period.Parse("2026-11", berlin)
	if r := f.results(t, survey.NPS, nov); r.Answers != 3 || *r.Score != 100 || r.Responses != 4 || r.Invitations != 4 {
		t.Errorf("November's NPS = %+v", r)
	}
	// A week without answers has no score, not zero.
	empty, _ := period.Parse("2026-W47", berlin)
	if r := f.results(t, survey.NPS, empty); r.Score != nil || r.ResponseRate != nil || r.Answers != 0 {
		t.Errorf("an empty week = %+v", r)
	}
}

// names maps responses back to the names of the week's invitations.
func names(rs []survey.Response, ids map[string]string) []string {
	byID := map[string]string{}
	for n, id := range ids {
		byID[id] = n
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = byID[r.Answer.InvitationID]
	}
	return out
}

// allResponses walks every page of q and returns the answers' names.
func allResponses(t *testing.T, f surveyFixture, q survey.ResponseQuery, ids map[string]string) []string {
	t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		page, err := f.svc.Responses(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Responses) > q.Limit {
			t.Fatalf("a page of %d, limit %d", len(page.Responses), q.Limit)
		}
		got = append(got, names(page.Responses, ids)...)
		if page.Next == "" {
			return got
		}
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
		q.Cursor = page.Next
	}
}

func TestResponsesNewestFirstFilteredAndPaged(t *testing.T) {
	f, ids, berlin := berlinFixture(t)
	ctx := context.Background()
	w, _ := period.Parse("2026-W49", berlin)
	for _, c := range []struct {
		name string
		q    survey.ResponseQuery
		want string
	}{
		{"every NPS answer", survey.ResponseQuery{Question: survey.NPS}, "A5 A4 A3 A2 A1 A6"},
		{"NPS detractors", survey.ResponseQuery{Question: survey.NPS, MaxScore: 6, MaxScoreSet: true}, "A5 A3"},
		{"CES, a second question", survey.ResponseQuery{Question: survey.CES}, "B5 B4 B3 B1"},
		{"every answer", survey.ResponseQuery{}, "B5 A5 A4 B4 B3 B2 A3 B1 A2 A1 A6"},
		{"every answer, first question at most 2", survey.ResponseQuery{MaxScore: 2, MaxScoreSet: true}, "A5 B4 B3"},
		{"NPS in the week", survey.ResponseQuery{Question: survey.NPS, From: w.Start(), To: w.End()}, "A4 A3 A2 A1"},
	} {
		for _, limit := range []int{1, 2, 25} {
			q := c.q
			q.Limit = limit
			if got := strings.Join(allResponses(t, f, q, ids), " "); got != c.want {
				t.Errorf("%s by %d: %s, want %s", c.name, limit, got, c.want)
			}
		}
	}

	page, err := f.svc.Responses(ctx, survey.ResponseQuery{Question: survey.NPS, MaxScore: 6, MaxScoreSet: true, From: w.Start(), To: w.End(), Limit: 1})
	if err != nil || len(page.Responses) != 1 {
		t.Fatalf("page = %+v, %v", page, err)
	}
	r := page.Responses[0]
	if r.Answer.Comment != "Too slow" || r.Invitation.Email != "a3@example.com" || r.Invitation.Status != survey.StatusAnswered ||
		r.Invitation.SentAt == nil || !r.Answer.AnsweredAt.Equal(utc("2026-12-01T10:00:00Z")) {
		t.Errorf("response = %+v", r)
	}
	if page.Next != "" {
		if _, err := f.svc.Responses(ctx, survey.ResponseQuery{Question: survey.CES, Limit: 1, Cursor: page.Next}); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("a cursor used with other filters: %v", err)
		}
	}

	theirs, err := f.svc.OfCustomer(ctx, "C1", 10)
	if err != nil || len(theirs) != 1 || theirs[0].Answer.InvitationID != ids["B1"] || theirs[0].Invitation.Owner != "agent-7" {
		t.Fatalf("customer C1's answers = %+v, %v", theirs, err)
	}
	if none, err := f.svc.OfCustomer(ctx, "C9", 10); err != nil || len(none) != 0 {
		t.Fatalf("a customer without answers: %+v, %v", none, err)
	}
}

func TestAnUnhappyAnswerClosesTheLoopWithItsComment(t *testing.T) {
	f, ids, _ := berlinFixture(t)
	ctx := context.Background()
	for _, n := range []string{"B3", "B1", "A3"} { // CSAT 2 with a customer; a happy one; a detractor with no customer
		inv, _ := f.svc.Invitation(ctx, ids[n])
		a, _ := f.surveys.AnswerOf(ctx, ids[n])
		ev, err := survey.RespondedEvent(inv, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CloseTheLoop(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.loops.tasks) != 1 {
		t.Fatalf("tasks = %+v; want one, for B3", f.loops.tasks)
	}
	task := f.loops.tasks[0]
	if task.CustomerID != "C3" || task.Owner != "agent-7" || !strings.Contains(task.Note, "CSAT 2/5") || !strings.Contains(task.Note, "Lost my order") {
		t.Fatalf("task = %+v", task)
	}
}
