package dynamo_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/ticket"
)

// What each ticket operation costs in DynamoDB requests and capacity units,
// as the local server reports them (index writes included), and the
// ceilings it must stay under. An opened ticket writes its dedupe key,
// itself, its first message, its six SLA timers and ticket.opened in one
// transaction, which bills every item twice; the ticket item also lands in
// three indexes (active, status, owner), and each timer in the timers'
// index. A change rewrites the ticket and its moved index entries; the
// first reply also deletes the three first-response timers, the move to
// pending the three resolution ones. A note writes its entry and its event.
func TestTicketCosts(t *testing.T) {
	f := newTicketFixture(t)
	ctx := context.Background()
	type row struct {
		op                 string
		cost               dynamotest.Cost
		maxRequests        int
		maxRCU, maxWCU     float64
		requestsByOperator string
	}
	var rows []row
	measure := func(op string, maxRequests int, maxRCU, maxWCU float64, do func() error) {
		t.Helper()
		f.clock.Advance(time.Minute)
		f.calls.Reset()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		c := f.calls.Cost()
		rows = append(rows, row{op, c, maxRequests, maxRCU, maxWCU, fmt.Sprint(c.Requests)})
	}

	var id string
	measure("open a ticket (web form)", 3, 2, 32, func() error {
		res, err := f.desk.Submit(ctx, grievance(), "")
		id = res.TicketID
		return err
	})
	measure("duplicate submission", 2, 2, 0, func() error {
		res, err := f.desk.Submit(ctx, grievance(), "")
		if err == nil && !res.Duplicate {
			err = fmt.Errorf("not a duplicate: %+v", res)
		}
		return err
	})
	measure("public reply (first)", 2, 1, 28, func() error {
		_, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "We are sending a new gear today.", Public: true})
		return err
	})
	measure("internal note", 2, 1, 6, func() error {
		_, _, err := f.desk.Reply(ctx, "agent-1", id, ticket.Reply{Body: "Courier booked for Tuesday."})
		return err
	})
	measure("status change (pending)", 2, 1, 24, func() error {
		tk, err := f.desk.Ticket(ctx, id)
		if err != nil {
			return err
		}
		f.calls.Reset() // the If-Match version comes with the request
		_, err = f.desk.Update(ctx, "agent-1", id, tk.Version, ticket.Patch{Status: ptr("pending")})
		return err
	})
	measure("list 25 active", 1, 1, 0, func() error {
		_, err := f.desk.List(ctx, ticket.Filter{})
		return err
	})

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-26s %8s %6s %6s  %s\n", "operation", "requests", "RCU", "WCU", "by request")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-26s %8d %6.1f %6.1f  %s\n", r.op, r.cost.Total(), r.cost.RCU, r.cost.WCU, r.requestsByOperator)
	}
	t.Log(b.String())
	for _, r := range rows {
		if r.cost.Total() > r.maxRequests || r.cost.RCU > r.maxRCU || r.cost.WCU > r.maxWCU {
			t.Errorf("%s cost %d requests, %.1f RCU, %.1f WCU; ceiling %d, %.1f, %.1f",
				r.op, r.cost.Total(), r.cost.RCU, r.cost.WCU, r.maxRequests, r.maxRCU, r.maxWCU)
		}
	}
}
