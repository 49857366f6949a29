package dynamo_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/period"
	"github.com/rapportcrm/rapport/shared/survey"
)

// What each survey operation costs in DynamoDB requests and capacity
// units, as the local server reports them (index writes included), and
// the ceilings it must stay under. Scheduling reads whether the
// invitation exists and the person's record, then writes the invitation,
// the record and the send timer in one transaction. Sending reads the
// invitation and the record, then writes the invitation, the record (the
// quiet period from the sending), the timer's removal, the day's sent
// counter and survey.invited with its journal item. An answer reads the
// invitation, then writes it, the answer (a copy per further question), a
// tally item per question and survey.responded with its journal item. Results read one query per month the period
// touches: a week one, or two across the end of a month; a quarter three.
func TestSurveyCosts(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	type row struct {
		op             string
		cost           string
		requests       int
		rcu, wcu       float64
		maxRequests    int
		maxRCU, maxWCU float64
	}
	var rows []row
	measure := func(op string, maxRequests int, maxRCU, maxWCU float64, do func() error) {
		t.Helper()
		f.calls.Reset()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		c := f.calls.Cost()
		rows = append(rows, row{op, fmt.Sprint(c.Requests), c.Total(), c.RCU, c.WCU, maxRequests, maxRCU, maxWCU})
	}

	// Scheduling alone, without the directory (a fake here).
	f.people.requesters["T1"] = survey.Contact{Email: "ada@example.com"}
	solved := f.clock.Now()
	measure("schedule after ticket.solved", 3, 2, 8, func() error {
		return f.svc.AfterTicketSolved(ctx, events.TicketSolved{
			Metadata: events.Metadata{EventID: "e1", OccurredAt: solved}, Ticket: events.Ticket{TicketID: "T1"}, SolvedAt: solved,
		})
	})
	id := survey.AfterTicketID("T1", solved)
	f.clock.Advance(time.Hour)
	measure("send (survey.due)", 3, 2, 13, func() error {
		return f.svc.Due(ctx, events.SurveyDue{InvitationID: id})
	})
	f.clock.Advance(time.Minute)
	measure("answer CSAT + CES", 2, 1, 17, func() error {
		_, err := f.svc.Answer(ctx, id, map[string][]string{"csat": {"2"}, "ces": {"3"}, "comment": {"The courier was late."}})
		return err
	})
	measure("answer again (refused)", 1, 1, 0, func() error {
		if _, err := f.svc.Answer(ctx, id, map[string][]string{"csat": {"5"}}); err != survey.ErrAnswered {
			return fmt.Errorf("a second answer: %v", err)
		}
		return nil
	})
	nps := f.invite(t, survey.ByHand{Email: "bo@example.com"})
	measure("answer NPS", 2, 1, 12, func() error {
		_, err := f.svc.Answer(ctx, nps.ID, map[string][]string{"nps": {"9"}})
		return err
	})
	loc := f.svc.Calendar.Location()
	measure("results of a week", 2, 1, 0, func() error {
		_, err := f.svc.Results(ctx, survey.CSAT, period.Containing(f.clock.Now(), period.Week, loc))
		return err
	})
	measure("results of a quarter", 3, 3, 0, func() error {
		_, err := f.svc.Results(ctx, survey.CSAT, period.Containing(f.clock.Now(), period.Quarter, loc))
		return err
	})
	measure("responses, 25 newest", 1, 1, 0, func() error {
		_, err := f.svc.Responses(ctx, survey.ResponseQuery{})
		return err
	})

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-30s %8s %6s %6s  %s\n", "operation", "requests", "RCU", "WCU", "by request")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-30s %8d %6.1f %6.1f  %s\n", r.op, r.requests, r.rcu, r.wcu, r.cost)
	}
	t.Log(b.String())
	for _, r := range rows {
		if r.requests > r.maxRequests || r.rcu > r.maxRCU || r.wcu > r.maxWCU {
			t.Errorf("%s cost %d requests, %.1f RCU, %.1f WCU; ceiling %d, %.1f, %.1f",
				r.op, r.requests, r.rcu, r.wcu, r.maxRequests, r.maxRCU, r.maxWCU)
		}
	}
}

// A week's results cost the same with 100 answers as with 100,000: they
// read the week's tally items, days × questions × shards of them, never
// the answers. The 100 answers go through the service; the other 99,900
// are added to the very counters those answers wrote (as 999 more answers
// like each), so the tally items are the same set and only their counts
// grow.
func TestResultsCostTheSameForAHundredAndAHundredThousandAnswers(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	loc := f.svc.Calendar.Location()
	w := period.Containing(f.clock.Now(), period.Week, loc) // 23 to 29 November 2026
	type recorded struct {
		id, day string
		ratings []survey.Rating
	}
	var answers []recorded
	base := f.clock.Now()
	for i := range 100 {
		qs := csatAndCES
		values := map[string][]string{"csat": {strconv.Itoa(1 + i%5)}, "ces": {strconv.Itoa(1 + i%7)}}
		if i%2 == 0 {
			qs, values = npsOnly, map[string][]string{"nps": {strconv.Itoa(i % 11)}}
		}
		f.to(base.Add(time.Duration(i) * 95 * time.Minute)) // spread over the week's 7 days
		inv := f.invite(t, survey.ByHand{Email: "person" + strconv.Itoa(i) + "@example.com", Questions: qs})
		a, err := f.svc.Answer(ctx, inv.ID, values)
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, recorded{inv.ID, a.AnsweredAt.In(loc).Format(time.DateOnly), a.Ratings})
	}

	read := func() (survey.Result, int, float64, string) {
		t.Helper()
		f.calls.Reset()
		r := f.results(t, survey.NPS, w)
		c := f.calls.Cost()
		return r, c.Total(), c.RCU, fmt.Sprint(c.Requests)
	}
	small, smallRequests, smallRCU, smallBy := read()
	for _, a := range answers {
		if err := f.surveys.AddToTally(ctx, a.id, a.day, a.ratings, 999); err != nil {
			t.Fatal(err)
		}
	}
	large, largeRequests, largeRCU, largeBy := read()

	t.Logf("results of a week: %d responses: %d requests %v, %.1f RCU; %d responses: %d requests %v, %.1f RCU",
		small.Responses, smallRequests, smallBy, smallRCU, large.Responses, largeRequests, largeBy, largeRCU)
	if small.Responses != 100 || large.Responses != 100_000 || large.Answers != 1000*small.Answers || *large.Score != *small.Score {
		t.Fatalf("100 answers: %+v; 100,000: %+v", small, large)
	}
	if smallRequests != largeRequests || smallRCU != largeRCU {
		t.Errorf("100 answers cost %d requests, %.1f RCU; 100,000 cost %d, %.1f", smallRequests, smallRCU, largeRequests, largeRCU)
	}
}
