package followup

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/calendar"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Limits and defaults.
const (
	MaxNote       = 2000
	maxOwner      = 200
	DefaultLimit  = 25
	MaxLimit      = 100
	pastTolerance = 24 * time.Hour // a due instant further back is a mistake
	defaultTime   = "09:00"
)

// Service is what staff and Rapport itself do with follow-up tasks.
type Service struct {
	Store Store
	// Zones gives an owner's time zone, to read due dates and to cut the
	// plan into days and weeks.
	Zones Zones
	// Teams gives an owner's team for the events; nil counts every task
	// for the organisation only.
	Teams Teams
	// Calendar is the organisation's business calendar (a
	// calendar.Calendar): a new lead's first-contact task is due
	// FirstContactWithin working time later.
	Calendar           WorkingTime
	FirstContactWithin time.Duration
	// CheckInAfter is when a new customer's check-in task falls due.
	CheckInAfter time.Duration
	// OverdueAfter is how long after its due instant an open task
	// publishes followup.overdue.
	OverdueAfter time.Duration
	Now          func() time.Time
}

// WorkingTime adds working time to an instant, as calendar.Calendar does.
type WorkingTime interface {
	Add(t time.Time, d time.Duration) time.Time
}

// Due says when a task falls due: an instant, or a date and a wall time in
// a zone (the owner's unless TimeZone names one).
type Due struct {
	At       *time.Time
	Date     string // "2026-12-03"
	Time     string // "09:00"; default 09:00 with a Date
	TimeZone string
}

func (d Due) given() bool { return d.At != nil || d.Date != "" || d.Time != "" || d.TimeZone != "" }

// NewTask is a task made by hand.
type NewTask struct {
	Subject string
	Due     Due
	Note    string
	Owner   string // default: the caller
}

// Create makes a task for caller.
func (s *Service) Create(ctx context.Context, caller string, in NewTask) (Task, error) {
	now := s.Now().UTC()
	var v crm.Invalid
	subject, ok := ParseSubject(in.Subject)
	if !ok {
		v.Add("subject", `must be "lead:<id>" or "customer:<id>"`)
	}
	note := cleanText(in.Note, MaxNote, "note", &v)
	owner := caller
	if in.Owner != "" {
		owner = cleanOwner(in.Owner, &v)
	}
	if err := v.Err(); err != nil {
		return Task{}, err
	}
	due, err := s.resolveDue(ctx, in.Due, owner, now, true)
	if err != nil {
		return Task{}, err
	}
	t := Task{
		ID: crm.NewID(now), Subject: subject, Kind: KindTask, Note: note, Owner: owner,
		DueAt: due, Status: StatusOpen, CreatedBy: caller, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	return t, s.create(ctx, t, now)
}

func (s *Service) create(ctx context.Context, t Task, now time.Time) error {
	d, err := s.describe(ctx, t)
	if err != nil {
		return err
	}
	arm, err := s.timers(t, d)
	if err != nil {
		return err
	}
	ev, err := events.Wrap(events.FollowupCreated{Metadata: s.meta(now), Followup: d})
	if err != nil {
		return err
	}
	return s.Store.Create(ctx, t, arm, []events.Envelope{ev})
}

// resolveDue turns d into an instant: required says d must be given.
func (s *Service) resolveDue(ctx context.Context, d Due, owner string, now time.Time, required bool) (time.Time, error) {
	var v crm.Invalid
	switch {
	case d.At != nil && (d.Date != "" || d.Time != ""):
		v.Add("due_at", "give due_at, or due_date with due_time, not both")
	case d.At == nil && d.Date == "" && required:
		v.Add("due_at", "is required (or due_date with due_time)")
	case d.At == nil && d.Date == "" && d.Time != "":
		v.Add("due_date", "is required with due_time")
	}
	if err := v.Err(); err != nil {
		return time.Time{}, err
	}
	var due time.Time
	if d.At != nil {
		due = d.At.UTC()
	} else {
		date, err := time.Parse(time.DateOnly, d.Date)
		if err != nil {
			v.Add("due_date", "must be a date such as 2026-12-03")
		}
		wall := d.Time
		if wall == "" {
			wall = defaultTime
		}
		clock, err := time.Parse("15:04", wall)
		if err != nil {
			v.Add("due_time", "must be a time such as 09:00")
		}
		loc, zerr := s.zone(ctx, owner, d.TimeZone)
		if zerr != nil {
			return time.Time{}, zerr
		}
		if err := v.Err(); err != nil {
			return time.Time{}, err
		}
		due = calendar.At(loc, date.Year(), date.Month(), date.Day(), clock.Hour(), clock.Minute()).UTC()
	}
	if due.Before(now.Add(-pastTolerance)) {
		field := "due_at"
		if d.At == nil {
			field = "due_date"
		}
		v.Add(field, "is more than a day in the past")
	}
	if due.Year() > now.Year()+10 {
		v.Add("due_at", "is more than ten years ahead")
	}
	return due, v.Err()
}

// zone returns the named zone, or the owner's.
func (s *Service) zone(ctx context.Context, owner, name string) (*time.Location, error) {
	if name != "" {
		loc, err := loadZone(name)
		if err != nil {
			return nil, &crm.Error{Code: crm.EINVALID, Message: "invalid time_zone",
				Fields: []crm.FieldError{{Field: "time_zone", Reason: "must be an IANA time zone such as Europe/Berlin"}}}
		}
		return loc, nil
	}
	return s.Zones.Zone(ctx, owner)
}

// loadZone loads an IANA zone by name; "" and "Local" (the host's zone,
// which time.LoadLocation accepts) are not zones a person can mean.
func loadZone(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		return nil, crm.Errorf(crm.EINVALID, "no zone")
	}
	return time.LoadLocation(name)
}

// Task returns a task.
func (s *Service) Task(ctx context.Context, id string) (Task, error) {
	if !crm.ValidID(id) {
		return Task{}, crm.Errorf(crm.ENOTFOUND, "no follow-up %s", id)
	}
	return s.Store.Task(ctx, id)
}

// PlanQuery asks for part of an owner's plan.
type PlanQuery struct {
	Owner  string // a staff user id, "" for the unassigned queue
	When   When
	Limit  int
	Cursor string
}

// Plan lists open tasks of one owner for the part of the plan asked, in
// the owner's time zone, by due instant.
func (s *Service) Plan(ctx context.Context, q PlanQuery) (Page, error) {
	var v crm.Invalid
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		v.Add("limit", "must be between 1 and 100")
	}
	if q.When == "" {
		q.When = WhenAll
	}
	switch q.When {
	case WhenOverdue, WhenToday, WhenWeek, WhenUpcoming, WhenAll:
	default:
		v.Add("when", "must be overdue, today, week, upcoming or all")
	}
	if err := v.Err(); err != nil {
		return Page{}, err
	}
	now := s.Now()
	f := Filter{Owner: q.Owner, Limit: q.Limit, Cursor: q.Cursor}
	if q.When == WhenToday || q.When == WhenWeek {
		loc, err := s.Zones.Zone(ctx, q.Owner)
		if err != nil {
			return Page{}, err
		}
		local := now.In(loc)
		y, m, d := local.Date()
		if q.When == WhenWeek {
			d -= (int(local.Weekday()) + 6) % 7 // back to Monday
		}
		f.From = calendar.At(loc, y, m, d, 0, 0)
		days := 1
		if q.When == WhenWeek {
			days = 7
		}
		f.To = calendar.At(loc, y, m, d+days, 0, 0)
	}
	switch q.When {
	case WhenOverdue:
		f.To = now
	case WhenUpcoming:
		f.From = now
	}
	return s.Store.Plan(ctx, f)
}

// OpenFor lists the open tasks about a lead or customer.
func (s *Service) OpenFor(ctx context.Context, subject Subject) ([]Task, error) {
	return s.Store.OpenFor(ctx, subject)
}

// Change is an edit of a task; nil fields stay as they are.
type Change struct {
	Status *Status // done or cancelled
	Due    Due     // reschedule (snooze)
	Owner  *string // reassign; "" for the unassigned queue
	Note   *string
}

// Update applies change to task id if it is still at version ifMatch, and
// returns the task as stored.
func (s *Service) Update(ctx context.Context, actor, id string, ifMatch int64, c Change) (Task, error) {
	t, err := s.Task(ctx, id)
	if err != nil {
		return Task{}, err
	}
	if t.Version != ifMatch {
		return Task{}, crm.Errorf(crm.EPRECONDITION, "follow-up %s has changed since version %d; read it again", id, ifMatch)
	}
	if !t.Open() {
		return Task{}, crm.Errorf(crm.ECONFLICT, "follow-up %s is %s; it cannot change any more", id, t.Status)
	}
	now := s.Now().UTC()
	var v crm.Invalid
	next := t
	if c.Note != nil {
		next.Note = cleanText(*c.Note, MaxNote, "note", &v)
	}
	if c.Owner != nil {
		next.Owner = ""
		if *c.Owner != "" {
			next.Owner = cleanOwner(*c.Owner, &v)
		}
	}
	if c.Status != nil && *c.Status != StatusDone && *c.Status != StatusCancelled && *c.Status != StatusOpen {
		v.Add("status", "must be done or cancelled")
	}
	if err := v.Err(); err != nil {
		return Task{}, err
	}
	if c.Due.given() {
		if next.DueAt, err = s.resolveDue(ctx, c.Due, next.Owner, now, true); err != nil {
			return Task{}, err
		}
	}
	if c.Status != nil && *c.Status != StatusOpen {
		next.Status = *c.Status
	}
	return s.save(ctx, t, next, now)
}

// save writes next over prev with its timers and events.
func (s *Service) save(ctx context.Context, prev, next Task, now time.Time) (Task, error) {
	if next == prev {
		return prev, nil
	}
	next.UpdatedAt, next.Version = now, prev.Version+1
	var (
		arm    []timer.Timer
		cancel []string
		evs    []events.Envelope
		err    error
	)
	ev := func(d events.Detail) {
		if err != nil {
			return
		}
		var env events.Envelope
		env, err = events.Wrap(d)
		evs = append(evs, env)
	}
	desc, err := s.describe(ctx, next)
	if err != nil {
		return Task{}, err
	}
	switch next.Status {
	case StatusDone:
		if next.DoneAt == nil {
			next.DoneAt = &now
		}
		cancel = timerIDs(next.ID)
		ev(events.FollowupCompleted{Metadata: s.meta(now), Followup: desc, DoneAt: *next.DoneAt, OnTime: !next.DoneAt.After(next.DueAt)})
	case StatusCancelled:
		cancel = timerIDs(next.ID)
		ev(events.FollowupCancelled{Metadata: s.meta(now), Followup: desc})
	default:
		// Moved or reassigned: the timers carry the owner and the due
		// instant, so they are armed again.
		if next.DueAt != prev.DueAt || next.Owner != prev.Owner {
			arm, err = s.timers(next, desc)
		}
	}
	if err != nil {
		return Task{}, err
	}
	if err := s.Store.Update(ctx, next, prev.Version, arm, cancel, evs); err != nil {
		return Task{}, err
	}
	return next, nil
}

// Timer ids of a task.
func dueTimer(id string) string     { return "followup#" + id + "#due" }
func overdueTimer(id string) string { return "followup#" + id + "#overdue" }
func timerIDs(id string) []string   { return []string{dueTimer(id), overdueTimer(id)} }

// timers are an open task's two timers, whose events say d of it.
func (s *Service) timers(t Task, d events.Followup) ([]timer.Timer, error) {
	due, err := timer.Arm(dueTimer(t.ID), t.DueAt, events.FollowupDue{Followup: d})
	if err != nil {
		return nil, err
	}
	overdue, err := timer.Arm(overdueTimer(t.ID), t.DueAt.Add(s.OverdueAfter), events.FollowupOverdue{Followup: d})
	if err != nil {
		return nil, err
	}
	return []timer.Timer{due, overdue}, nil
}

func (s *Service) meta(now time.Time) events.Metadata {
	return events.Metadata{EventID: crm.NewID(now), OccurredAt: now}
}

// describe is what events say of a task, with its owner's team now.
func (s *Service) describe(ctx context.Context, t Task) (events.Followup, error) {
	d := events.Followup{
		FollowupID: t.ID, SubjectKind: string(t.Subject.Kind), SubjectID: t.Subject.ID,
		Kind: string(t.Kind), Owner: t.Owner, DueAt: t.DueAt.UTC(),
	}
	if t.Owner == "" || s.Teams == nil {
		return d, nil
	}
	team, err := s.Teams.TeamOf(ctx, t.Owner)
	if err != nil {
		return events.Followup{}, fmt.Errorf("team of %s: %w", t.Owner, err)
	}
	d.Team = team
	return d, nil
}

// cleanText trims s and checks its length in characters.
func cleanText(s string, max int, field string, v *crm.Invalid) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "must be text")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
	return s
}

func cleanOwner(s string, v *crm.Invalid) string {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > maxOwner || strings.ContainsAny(s, "#\n\r\t") || !utf8.ValidString(s) {
		v.Add("owner", "must be a staff user id")
	}
	return s
}
