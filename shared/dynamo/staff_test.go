package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/dynamo"
	"github.com/rapportcrm/rapport/shared/dynamo/dynamotest"
	"github.com/rapportcrm/rapport/shared/staff"
	"github.com/rapportcrm/rapport/shared/timer"
)

type staffFixture struct {
	store  *dynamo.StaffStore
	timers *dynamo.TimerStore
	svc    *staff.Service
	clock  *clock
	calls  *dynamotest.Counter
	client *dynamodb.Client
	table  string
}

func newStaffFixture(t testing.TB) staffFixture {
	t.Helper()
	client, table := dynamotest.NewTable(t)
	calls := &dynamotest.Counter{API: client}
	store := &dynamo.StaffStore{Client: calls, Table: table}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	c := newClock() // 2026-11-22 09:30 UTC: winter, Berlin is UTC+1
	return staffFixture{
		store: store, timers: &dynamo.TimerStore{Client: client, Table: table},
		svc:   &staff.Service{Store: store, Now: c.Now, OrgZone: berlin},
		clock: c, calls: calls, client: client, table: table,
	}
}

// armedTimer reads the timer id as stored, or nil when there is none.
func (f staffFixture) armedTimer(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(f.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "TIMER#" + id}, "sk": &types.AttributeValueMemberS{Value: "TIMER"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// due returns the digest timers the sweep would fire by at.
func (f staffFixture) due(t *testing.T, at time.Time) []timer.Timer {
	t.Helper()
	ts, _, err := f.timers.Due(context.Background(), at, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func TestFirstReadCreatesTheProfileWithDefaultsAndArmsTheDigest(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	p, err := f.svc.Me(ctx, staff.Identity{Subject: "sub-ana", Email: "Ana@Example.com", Role: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Email != "ana@example.com" || p.TimeZone != "Europe/Berlin" || !p.DigestEnabled || p.DigestHour != 8 ||
		p.Version != 1 || p.Role != "agent" || !p.CreatedAt.Equal(f.clock.Now()) {
		t.Fatalf("new profile = %+v", p)
	}
	stored, err := f.svc.Profile(ctx, "sub-ana")
	if err != nil || stored != p {
		t.Fatalf("stored profile = %+v, %v; want %+v", stored, err, p)
	}
	// 08:00 in Berlin in winter is 07:00 UTC; 09:30 UTC is past it, so
	// the first digest is tomorrow's.
	want := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	item := f.armedTimer(t, staff.DigestTimerID("sub-ana"))
	if attrS(item, "due") != "2026-11-23T07:00:00.000Z" || attrS(item, "daily_zone") != "Europe/Berlin" ||
		attrS(item, "detail_type") != events.StaffDigestDueType || attrS(item, "source") != events.SourceReminders {
		t.Fatalf("digest timer = %v", item)
	}
	if due := f.due(t, want.Add(-time.Second)); len(due) != 0 {
		t.Fatalf("%d timers due before 07:00 UTC", len(due))
	}
	due := f.due(t, want)
	if len(due) != 1 || due[0].ID != "digest#sub-ana" || !due[0].Due.Equal(want) || due[0].Daily == nil || due[0].Daily.Hour != 8 {
		t.Fatalf("due at 07:00 UTC: %+v", due)
	}

	// A token without a usable address leaves the address empty.
	q, err := f.svc.Me(ctx, staff.Identity{Subject: "sub-bo", Email: "not an address", Role: "agent"})
	if err != nil || q.Email != "" {
		t.Fatalf("profile from a bad email claim = %+v, %v", q, err)
	}
}

func TestConcurrentFirstReadsCreateOneProfile(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	const n = 20
	got := make([]staff.Profile, n)
	errs := make([]error, n)
	f.calls.Reset()
	concurrently(n, func(i int) {
		got[i], errs[i] = f.svc.Me(ctx, staff.Identity{Subject: "sub-cy", Email: "cy@example.com", Role: "agent"})
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("read %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("read %d got %+v, read 0 got %+v", i, got[i], got[0])
		}
	}
	page, err := f.svc.List(ctx, staff.Filter{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Version != 1 {
		t.Fatalf("profiles after %d first reads: %+v, %v", n, page.Items, err)
	}
	if writes := f.calls.Cost().Requests["TransactWriteItems"]; writes < 1 || writes > n {
		t.Fatalf("%d create transactions", writes)
	}
}

func TestUpdatesAreVersionedAndMoveTheDigest(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	me := staff.Identity{Subject: "sub-dee", Role: "agent"}
	if _, err := f.svc.Me(ctx, me); err != nil {
		t.Fatal(err)
	}
	set := staff.Settings{Name: "Dee", Email: "dee@example.com", TimeZone: "America/New_York", Team: "Sales-EMEA", DigestEnabled: true, DigestHour: 7}
	f.clock.Advance(time.Minute)
	p, err := f.svc.UpdateMe(ctx, me, set, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 || p.Team != "sales-emea" || p.TimeZone != "America/New_York" || !p.UpdatedAt.Equal(f.clock.Now()) || !p.CreatedAt.Before(p.UpdatedAt) {
		t.Fatalf("updated = %+v", p)
	}
	// 07:00 in New York (UTC-5 in November) is 12:00 UTC, still today.
	item := f.armedTimer(t, "digest#sub-dee")
	if attrS(item, "due") != "2026-11-22T12:00:00.000Z" || attrS(item, "daily_zone") != "America/New_York" {
		t.Fatalf("moved timer = %v", item)
	}
	var detail events.StaffDigestDue
	if err := json.Unmarshal([]byte(attrS(item, "detail")), &detail); err != nil || detail.Subject != "sub-dee" ||
		detail.TimeZone != "America/New_York" || detail.DigestHour != 7 {
		t.Fatalf("timer detail = %s (%v)", attrS(item, "detail"), err)
	}

	// A stale If-Match changes nothing.
	set.Name = "Someone else"
	if _, err := f.svc.UpdateMe(ctx, me, set, 1); crm.ErrorCode(err) != crm.EPRECONDITION {
		t.Fatalf("stale update: %v", err)
	}
	// The store itself refuses a stale version, and a missing profile.
	stale := p
	stale.Name, stale.Version = "Stale", 3
	if err := f.store.Put(ctx, stale, 1, staff.TimerChange{}); crm.ErrorCode(err) != crm.EPRECONDITION {
		t.Fatalf("stale put: %v", err)
	}
	ghost := p
	ghost.Subject = "sub-ghost"
	if err := f.store.Put(ctx, ghost, 1, staff.TimerChange{}); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("put of a missing profile: %v", err)
	}
	if err := f.store.Put(ctx, p, 0, staff.TimerChange{}); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("second create: %v", err)
	}
	if got, _ := f.svc.Profile(ctx, "sub-dee"); got != p {
		t.Fatalf("after refused writes: %+v, want %+v", got, p)
	}

	// A change that leaves the digest alone does not touch its timer.
	arming := attrS(item, "arming")
	f.calls.Reset()
	p, err = f.svc.Update(ctx, "sub-dee", staff.Patch{Name: ptr("Dee Dee")}, 2)
	if err != nil || p.Version != 3 || p.Name != "Dee Dee" {
		t.Fatalf("admin rename: %+v, %v", p, err)
	}
	if c := f.calls.Cost().Requests; c["PutItem"] != 1 || c["TransactWriteItems"] != 0 {
		t.Fatalf("a rename wrote %v", c)
	}
	if got := attrS(f.armedTimer(t, "digest#sub-dee"), "arming"); got != arming {
		t.Fatal("a rename re-armed the digest timer")
	}

	// Turning the digest off cancels the timer in the same write.
	p, err = f.svc.Update(ctx, "sub-dee", staff.Patch{DigestEnabled: ptr(false)}, 3)
	if err != nil || p.DigestEnabled {
		t.Fatalf("digest off: %+v, %v", p, err)
	}
	if item := f.armedTimer(t, "digest#sub-dee"); item != nil {
		t.Fatalf("timer after digest off: %v", item)
	}
	if due := f.due(t, f.clock.Now().Add(48*time.Hour)); len(due) != 0 {
		t.Fatalf("due after digest off: %+v", due)
	}
	// And on again arms it.
	if _, err := f.svc.Update(ctx, "sub-dee", staff.Patch{DigestEnabled: ptr(true), DigestHour: ptr(18)}, 4); err != nil {
		t.Fatal(err)
	}
	if got := attrS(f.armedTimer(t, "digest#sub-dee"), "due"); got != "2026-11-22T23:00:00.000Z" {
		t.Fatalf("re-armed for %s, want 18:00 New York", got)
	}
}

func TestDigestTimerFiresItsEventAndRearms(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Me(ctx, staff.Identity{Subject: "sub-eve", Role: "manager"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 7, 0, 30, 0, time.UTC)
	due := f.due(t, at)
	if len(due) != 1 {
		t.Fatalf("due: %+v", due)
	}
	env, err := due[0].Envelope()
	if err != nil {
		t.Fatal(err)
	}
	var d events.StaffDigestDue
	if err := json.Unmarshal(env.Detail, &d); err != nil || d.Subject != "sub-eve" || d.TimeZone != "Europe/Berlin" ||
		d.DigestHour != 8 || env.DetailType != events.StaffDigestDueType || env.Source != events.SourceReminders ||
		!d.OccurredAt.Equal(time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("fired event %+v detail %s", env, env.Detail)
	}
	if fired, err := f.timers.Fire(ctx, due[:1], at); err != nil || !fired[0] {
		t.Fatalf("fire: %v %v", fired, err)
	}
	if got := attrS(f.armedTimer(t, "digest#sub-eve"), "due"); got != "2026-11-24T07:00:00.000Z" {
		t.Fatalf("after firing the timer is due %s, want the next morning", got)
	}
}

func TestListByTeamAndRoleWithCursor(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	for i := range 7 {
		sub := fmt.Sprintf("sub-%02d", i)
		role := []string{"agent", "manager"}[i%2]
		if _, err := f.svc.Me(ctx, staff.Identity{Subject: sub, Role: role}); err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			set := staff.Settings{TimeZone: "UTC", Team: "sales", DigestEnabled: false}
			if _, err := f.svc.UpdateMe(ctx, staff.Identity{Subject: sub, Role: role}, set, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	subs := func(f staff.Filter, svc *staff.Service) ([]string, string) {
		t.Helper()
		page, err := svc.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range page.Items {
			out = append(out, p.Subject)
		}
		return out, page.NextCursor
	}
	all, next := subs(staff.Filter{Limit: 4}, f.svc)
	if fmt.Sprint(all) != "[sub-00 sub-01 sub-02 sub-03]" || next == "" {
		t.Fatalf("first page %v, cursor %q", all, next)
	}
	rest, last := subs(staff.Filter{Limit: 4, Cursor: next}, f.svc)
	if fmt.Sprint(rest) != "[sub-04 sub-05 sub-06]" || last != "" {
		t.Fatalf("second page %v, cursor %q", rest, last)
	}
	if _, err := f.svc.List(ctx, staff.Filter{Limit: 4, Cursor: next, Team: "sales"}); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("a cursor with other filters: %v", err)
	}
	if got, _ := subs(staff.Filter{Team: "Sales"}, f.svc); fmt.Sprint(got) != "[sub-00 sub-01 sub-02 sub-03 sub-04]" {
		t.Fatalf("team sales: %v", got)
	}
	if got, _ := subs(staff.Filter{Role: "manager"}, f.svc); fmt.Sprint(got) != "[sub-01 sub-03 sub-05]" {
		t.Fatalf("managers: %v", got)
	}
	// Team and role together: the team's index, filtered, page by page.
	first, next := subs(staff.Filter{Team: "sales", Role: "agent", Limit: 2}, f.svc)
	second, last := subs(staff.Filter{Team: "sales", Role: "agent", Limit: 2, Cursor: next}, f.svc)
	if fmt.Sprint(first, second) != "[sub-00 sub-02] [sub-04]" || last != "" {
		t.Fatalf("sales agents: %v %v (cursor %q)", first, second, last)
	}
	// Moving a person to another team moves them between the team lists.
	if _, err := f.svc.Update(ctx, "sub-00", staff.Patch{Team: ptr("support")}, 2); err != nil {
		t.Fatal(err)
	}
	if got, _ := subs(staff.Filter{Team: "sales"}, f.svc); fmt.Sprint(got) != "[sub-01 sub-02 sub-03 sub-04]" {
		t.Fatalf("team sales after a move: %v", got)
	}
	if got, _ := subs(staff.Filter{Team: "support"}, f.svc); fmt.Sprint(got) != "[sub-00]" {
		t.Fatalf("team support: %v", got)
	}
}

func TestRoleFromTheTokenIsRecorded(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	id := staff.Identity{Subject: "sub-fay", Role: "agent"}
	if _, err := f.svc.Me(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
	if p, err := f.svc.Me(ctx, id); err != nil || p.Version != 1 || f.calls.Cost().Requests["PutItem"] != 0 {
		t.Fatalf("a second read wrote: %+v %v %v", p, err, f.calls.Cost().Requests)
	}
	id.Role = "manager"
	p, err := f.svc.Me(ctx, id)
	if err != nil || p.Role != "manager" || p.Version != 2 {
		t.Fatalf("after promotion: %+v, %v", p, err)
	}
	if got, _ := f.svc.Profile(ctx, "sub-fay"); got.Role != "manager" {
		t.Fatalf("stored role %q", got.Role)
	}
}

// The requests each profile operation makes are part of its contract: a
// read is one consistent GetItem; the first read adds one transaction (the
// profile and its digest timer); an edit that leaves the digest alone is
// one conditional PutItem, and one that moves it a transaction.
func TestProfileRequestCounts(t *testing.T) {
	f := newStaffFixture(t)
	ctx := context.Background()
	me := staff.Identity{Subject: "sub-cost", Email: "cost@example.com", Role: "agent"}
	step := func(name, want string, op func() error) {
		t.Helper()
		f.calls.Reset()
		if err := op(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := f.calls.Cost()
		if got := fmt.Sprint(c.Requests); got != want {
			t.Errorf("%s made %s, want %s", name, got, want)
		}
		t.Logf("%-28s %-40s RCU %.1f WCU %.1f", name, fmt.Sprint(c.Requests), c.RCU, c.WCU)
	}
	set := staff.Settings{Name: "Cost", Email: "cost@example.com", TimeZone: "Europe/Berlin", DigestEnabled: true, DigestHour: 8}
	step("first GET /me", "map[GetItem:1 TransactWriteItems:1]", func() error { _, err := f.svc.Me(ctx, me); return err })
	step("GET /me", "map[GetItem:1]", func() error { _, err := f.svc.Me(ctx, me); return err })
	step("PUT /me, new name", "map[GetItem:1 PutItem:1]", func() error { _, err := f.svc.UpdateMe(ctx, me, set, 0); return err })
	step("PUT /me, unchanged", "map[GetItem:1]", func() error { _, err := f.svc.UpdateMe(ctx, me, set, 0); return err })
	set.DigestHour = 9
	step("PUT /me, digest hour", "map[GetItem:1 TransactWriteItems:1]", func() error { _, err := f.svc.UpdateMe(ctx, me, set, 0); return err })
	step("GET /staff", "map[Query:1]", func() error { _, err := f.svc.List(ctx, staff.Filter{}); return err })
}
