package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/rollup"
	"github.com/rapportcrm/rapport/shared/rollup/rolluptest"
	"github.com/rapportcrm/rapport/shared/survey"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// BenchmarkOpCosts reports DynamoDB requests and capacity units of the
// operations `make bench` tabulates beside BenchmarkCaptureCost's leads
// and BenchmarkTimerCost's idle sweep: a plain GetItem of one item (the
// read baseline; BenchmarkCaptureCost's PutItem is the write one), a
// ticket opened from the web form, its first public reply, a survey
// answer, and one counted event added to the rollups. Work the operation
// needs first (the ticket a reply answers, the invitation an answer
// uses) is done before the measured stretch and not counted.
func BenchmarkOpCosts(b *testing.B) {
	ctx := context.Background()
	b.Run("baseline=GetItem", func(b *testing.B) {
		f := newFixture(b)
		if _, err := f.calls.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.store.Table), Item: leadSizedItem()}); err != nil {
			b.Fatal(err)
		}
		k, _ := attributevalue.MarshalMap(map[string]any{"pk": "BASE#1", "sk": "BASE"})
		f.calls.Reset()
		for b.Loop() {
			if _, err := f.calls.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.store.Table), Key: k}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("ticket", func(b *testing.B) {
		f := newTicketFixture(b)
		f.calls.Reset()
		i := 0
		for b.Loop() {
			sub := grievance()
			sub.Email = fmt.Sprintf("caller%d@example.com", i)
			i++
			if res, err := f.desk.Submit(ctx, sub, ""); err != nil || res.Duplicate {
				b.Fatal(res, err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("reply", func(b *testing.B) {
		f := newTicketFixture(b)
		var ids []string
		for i := range b.N {
			sub := grievance()
			sub.Email = fmt.Sprintf("caller%d@example.com", i)
			res, err := f.desk.Submit(ctx, sub, "")
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, res.TicketID)
		}
		f.calls.Reset()
		b.ResetTimer()
		for _, id := range ids {
			if _, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "We are sending a new gear today.", Public: true}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("survey-answer", func(b *testing.B) {
		f := newSurveyFixture(b)
		var ids []string
		for i := range b.N {
			inv, err := f.svc.Invite(ctx, survey.ByHand{Email: fmt.Sprintf("customer%d@example.com", i), Questions: []survey.Question{survey.CSAT, survey.CES}})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, inv.ID)
		}
		f.calls.Reset()
		b.ResetTimer()
		for _, id := range ids {
			if _, err := f.svc.Answer(ctx, id, map[string][]string{"csat": {"4"}, "ces": {"6"}}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("counted-event", func(b *testing.B) {
		// ticket.opened: it counts for the organisation and the owner's
		// team, as most events do.
		f := newRollupFixture(b)
		env := rolluptest.Sample(b, events.TicketOpenedType)
		cs, err := rollup.Contributions(env, rollupZone)
		if err != nil || len(cs) == 0 {
			b.Fatal(cs, err)
		}
		f.calls.Reset()
		i := 0
		for b.Loop() {
			i++
			if err := f.store.Apply(ctx, fmt.Sprintf("%s-%d", env.ID, i), cs); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
}
