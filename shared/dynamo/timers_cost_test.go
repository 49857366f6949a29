package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/followup"
	"github.com/rapportcrm/rapport/shared/timer"
)

type utcZones struct{}

func (utcZones) Zone(context.Context, string) (*time.Location, error) { return time.UTC, nil }

// BenchmarkTimerCost reports DynamoDB requests and capacity units of an
// idle sweep, of firing one timer, and of making a follow-up task with its
// two timers, beside a plain PutItem measured in the same run.
func BenchmarkTimerCost(b *testing.B) {
	ctx := context.Background()
	b.Run("baseline=PutItem", func(b *testing.B) {
		f := newTimerFixture(b)
		item, _ := attributevalue.MarshalMap(map[string]any{"pk": "BASE#1", "sk": "BASE", "note": "Call back about the quote", "due": "2026-12-02T09:00:00.000Z"})
		f.calls.Reset()
		for b.Loop() {
			if _, err := f.calls.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.store.Table), Item: item}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("idle-sweep", func(b *testing.B) {
		f := newTimerFixture(b)
		f.store.Arm(ctx, dueTimer(b, 1, f.clock.Now().Add(time.Hour)))
		f.sweeper().Sweep(ctx) // the table's first sweep sets the checkpoint
		f.calls.Reset()
		for b.Loop() {
			if rep, err := f.sweeper().Sweep(ctx); err != nil || rep.Fired != 0 {
				b.Fatal(rep, err)
			}
		}
		report(b, f.calls.Cost())
	})
	b.Run("fire-timer", func(b *testing.B) {
		f := newTimerFixture(b)
		f.sweeper().Sweep(ctx)
		var timers []timer.Timer
		for i := range b.N {
			timers = append(timers, dueTimer(b, i, f.clock.Now().Add(-time.Duration(i)*time.Millisecond)))
		}
		f.store.Arm(ctx, timers...)
		f.calls.Reset()
		b.ResetTimer()
		rep, err := f.sweeper().Sweep(ctx) // its reads are spread over the timers it fires
		if err != nil || rep.Fired != b.N {
			b.Fatal(rep, err)
		}
		report(b, f.calls.Cost())
	})
	b.Run("create-task", func(b *testing.B) {
		f := newFixture(b)
		res, err := f.svc.Capture(ctx, ada(), "")
		if err != nil {
			b.Fatal(err)
		}
		tasks := &followup.Service{Store: &dynamo.FollowupStore{Client: f.calls, Table: f.store.Table}, Zones: utcZones{},
			Calendar: calendar.Default(time.UTC), OverdueAfter: 24 * time.Hour, Now: f.clock.Now}
		due := f.clock.Now().Add(time.Hour)
		f.calls.Reset()
		for b.Loop() {
			if _, err := tasks.Create(ctx, "agent-1", followup.NewTask{Subject: "lead:" + res.LeadID, Due: followup.Due{At: &due}}); err != nil {
				b.Fatal(err)
			}
		}
		report(b, f.calls.Cost())
	})
}

// BenchmarkSweep10000 measures the wall time of sweeping 10,000 due timers:
// one sweep, and the next minute's continuing it if the first ran out of
// its budget.
func BenchmarkSweep10000(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		f := newTimerFixture(b)
		var timers []timer.Timer
		for i := range 10000 {
			timers = append(timers, dueTimer(b, i, f.clock.Now().Add(-time.Duration(i)*time.Second)))
		}
		if err := f.store.Arm(ctx, timers...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		fired, sweeps := 0, 0
		for fired < 10000 {
			rep, err := f.sweeper().Sweep(ctx)
			if err != nil {
				b.Fatal(err)
			}
			fired, sweeps = fired+rep.Fired, sweeps+1
			if rep.Fired == 0 {
				b.Fatal(fmt.Sprintf("a sweep fired nothing with %d left", 10000-fired))
			}
		}
		b.ReportMetric(float64(sweeps), "sweeps")
	}
}
