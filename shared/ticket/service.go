package ticket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/sla"
)

// Limits on what a ticket may hold.
const (
	MaxSubject   = 200
	MaxMessage   = 5000
	maxShort     = 100
	maxOwner     = 200
	DefaultLimit = 25
	MaxLimit     = 100
	// MaxIdempotencyKey is the longest Idempotency-Key accepted.
	MaxIdempotencyKey = 255
	// subjectFromMessage is how much of the message names a ticket sent
	// without a subject.
	subjectFromMessage = 80
)

// Defaults of the service's settings.
const (
	DefaultCloseAfter   = 4 * 24 * time.Hour
	DefaultReopenWithin = 7 * 24 * time.Hour
	DefaultDedupeWindow = 24 * time.Hour
)

// Teams gives a staff member's team, "" when they have none or no profile.
type Teams interface {
	TeamOf(ctx context.Context, sub string) (string, error)
}

// Service is what customers and staff do with tickets.
type Service struct {
	Store Store
	Rules Rules
	Teams Teams
	// CloseAfter is how long after its solve a ticket closes by itself
	// unless the customer answers.
	CloseAfter time.Duration
	// ReopenWithin is how long after the solve a customer's answer reopens
	// a ticket; a later answer, or one to a closed ticket, opens a new
	// ticket that follows it.
	ReopenWithin time.Duration
	// DedupeWindow is how long an identical form submission is answered
	// with the ticket it made.
	DedupeWindow time.Duration
	Now          func() time.Time
}

// Submission is a support or complaint form as the visitor typed it.
type Submission struct {
	Name, Email, Phone        string
	Subject, Message          string
	Kind, Category, Reference string
	PageURL                   string
	Custom                    map[string]string
	// Honeypot is the hidden "website" field bots fill in.
	Honeypot string
}

// StaffOpening is a ticket staff open for a caller.
type StaffOpening struct {
	Submission
	Channel  string
	Priority string // default normal
	Owner    string // default unassigned; "me" is resolved by the caller
}

// Submit opens a ticket from a public form. A repeated submission — the
// same Idempotency-Key, or without one the same person, subject and
// message within DedupeWindow — answers with the ticket the first made. A
// filled honeypot is answered as if accepted and writes nothing.
func (s *Service) Submit(ctx context.Context, sub Submission, idempotencyKey string) (OpenResult, error) {
	now := s.now()
	if strings.TrimSpace(sub.Honeypot) != "" {
		return OpenResult{TicketID: crm.NewID(now)}, nil
	}
	if err := checkIdempotencyKey(idempotencyKey); err != nil {
		return OpenResult{}, err
	}
	var v crm.Invalid
	t, entry := s.intake(sub, &v)
	if t.Requester.Email == "" && strings.TrimSpace(sub.Email) == "" {
		v.Add("email", "is required: it is how we answer")
	}
	if err := v.Err(); err != nil {
		return OpenResult{}, err
	}
	t.Channel, t.Priority = ChannelWeb, sla.Normal
	fp := fingerprint(t, entry.Body)
	key := "form:" + fp
	if idempotencyKey != "" {
		key = "idem:" + idempotencyKey
	}
	return s.open(ctx, t, entry, "", Opening{DedupeKey: key, Fingerprint: fp, DedupeUntil: now.Add(s.dedupeWindow())})
}

// OpenFor opens a ticket that a caller asked for by phone, email or chat.
// It needs an email address or a phone number; only an email address lets
// the customer be answered by mail.
func (s *Service) OpenFor(ctx context.Context, actor string, in StaffOpening, idempotencyKey string) (Ticket, error) {
	if err := checkIdempotencyKey(idempotencyKey); err != nil {
		return Ticket{}, err
	}
	var v crm.Invalid
	t, entry := s.intake(in.Submission, &v)
	if strings.TrimSpace(in.Email) == "" && strings.TrimSpace(in.Phone) == "" {
		v.Add("email", "an email address or a phone number is required")
	}
	ch, ok := ParseChannel(strings.TrimSpace(in.Channel))
	if !ok {
		v.Add("channel", "must be phone, email, chat or web")
	}
	p := sla.Normal
	if in.Priority != "" {
		if p = sla.Priority(in.Priority); !p.Valid() {
			v.Add("priority", "must be low, normal, high or urgent")
		}
	}
	owner := cleanOwner(in.Owner, &v)
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	t.Channel, t.Priority, t.Owner, t.OpenedBy = ch, p, owner, actor
	o := Opening{}
	if idempotencyKey != "" {
		fp := fingerprint(t, entry.Body)
		o = Opening{DedupeKey: "idem:" + idempotencyKey, Fingerprint: fp, DedupeUntil: s.now().Add(DefaultDedupeWindow)}
	}
	res, err := s.open(ctx, t, entry, "", o)
	if err != nil {
		return Ticket{}, err
	}
	return s.Store.Ticket(ctx, res.TicketID)
}

// intake checks what a form or an agent typed and returns the ticket and
// its opening message, without id, times or channel.
func (s *Service) intake(sub Submission, v *crm.Invalid) (Ticket, Entry) {
	kind, ok := ParseKind(strings.ToLower(strings.TrimSpace(sub.Kind)))
	if !ok {
		v.Add("kind", "must be request, question, complaint or incident")
	}
	t := Ticket{
		Kind: kind,
		Requester: Requester{
			Name:  crm.CleanLine(sub.Name, maxShort*2, "name", v),
			Email: crm.NormaliseEmail(sub.Email, v),
			Phone: crm.NormalisePhone(sub.Phone, v),
		},
		Subject:   crm.CleanLine(sub.Subject, MaxSubject, "subject", v),
		Category:  strings.ToLower(crm.CleanLine(sub.Category, maxShort, "category", v)),
		Reference: crm.CleanLine(sub.Reference, maxShort, "reference", v),
		Custom:    crm.CleanCustom(sub.Custom, v),
	}
	if sub.PageURL != "" {
		if u := crm.CleanURL(sub.PageURL, "page_url", v); u != "" {
			if t.Custom == nil {
				t.Custom = map[string]string{}
			}
			t.Custom["page_url"] = truncate(u, 500)
		}
	}
	body := crm.CleanText(sub.Message, MaxMessage, "message", v)
	if body == "" && !v.Has("message") { // empty, or markup only
		v.Add("message", "is required: say what we can do for you")
	}
	if t.Subject == "" {
		t.Subject = firstLine(body, subjectFromMessage)
	}
	return t, Entry{Kind: EntryMessage, Body: body}
}

// open completes t and writes it: ids and times, the customer it belongs
// to, the owner's team, the clocks' timers and ticket.opened.
func (s *Service) open(ctx context.Context, t Ticket, entry Entry, follows string, o Opening) (OpenResult, error) {
	now := s.now()
	t.ID, t.Status, t.OpenedAt, t.UpdatedAt, t.Version, t.FollowsID = crm.NewID(now), StatusNew, now, now, 1, follows
	t.History = []Change{{At: now, Status: StatusNew, Priority: t.Priority}}
	if t.Requester.Email != "" {
		cust, err := s.Store.CustomerByEmail(ctx, t.Requester.Email)
		if err != nil {
			return OpenResult{}, err
		}
		t.CustomerID = cust
	}
	team, err := s.teamOf(ctx, t.Owner)
	if err != nil {
		return OpenResult{}, err
	}
	t.Team = team
	plan, err := s.settle(&t, events.Ticket{}, now)
	if err != nil {
		return OpenResult{}, err
	}
	entry.ID, entry.TicketID, entry.At = crm.NewID(now), t.ID, now
	first, res := s.Rules.Snapshots(t, now)
	ev, err := events.Wrap(events.TicketOpened{
		Metadata: s.meta(now), Ticket: describe(t),
		FirstResponse: clockEvent(first), Resolution: clockEvent(res), FollowsTicketID: follows,
	})
	if err != nil {
		return OpenResult{}, err
	}
	o.Ticket, o.Entry, o.Timers, o.Events = t, entry, plan, []events.Envelope{ev}
	return s.Store.Open(ctx, o)
}

// settle brings t's timers and derived fields in line with its clocks
// after a change at now; prev is what events said of t before it.
func (s *Service) settle(t *Ticket, prev events.Ticket, now time.Time) (TimerPlan, error) {
	if len(t.History) > MaxHistory {
		return TimerPlan{}, crm.Errorf(crm.ECONFLICT, "ticket %s has changed more than %d times; open a new ticket", t.ID, MaxHistory)
	}
	closeAfter := s.CloseAfter
	if closeAfter == 0 {
		closeAfter = DefaultCloseAfter
	}
	plan, err := s.Rules.planTimers(t, prev, now, closeAfter)
	if err != nil {
		return TimerPlan{}, err
	}
	t.NextDeadline, t.WarningAt = s.Rules.NextDeadline(*t), s.Rules.WarningAt(*t)
	return plan, nil
}

// Ticket returns a ticket.
func (s *Service) Ticket(ctx context.Context, id string) (Ticket, error) {
	if !crm.ValidID(id) {
		return Ticket{}, crm.Errorf(crm.ENOTFOUND, "no ticket %s", id)
	}
	return s.Store.Ticket(ctx, id)
}

// Detail returns a ticket, its timeline and its clocks as they stand now.
func (s *Service) Detail(ctx context.Context, id string) (Detail, error) {
	if !crm.ValidID(id) {
		return Detail{}, crm.Errorf(crm.ENOTFOUND, "no ticket %s", id)
	}
	t, entries, err := s.Store.Detail(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Ticket: t, Timeline: entries}
	d.FirstResponse, d.Resolution = s.Rules.Snapshots(t, s.now())
	return d, nil
}

// PublicThread returns a ticket and what its requester may read of its
// timeline: their messages and staff replies, never notes or changes.
func (s *Service) PublicThread(ctx context.Context, id string) (Ticket, []Entry, error) {
	d, err := s.Detail(ctx, id)
	if err != nil {
		return Ticket{}, nil, err
	}
	var public []Entry
	for _, e := range d.Timeline {
		if e.Public() {
			public = append(public, e)
		}
	}
	return d.Ticket, public, nil
}

// List returns tickets matching f.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	var v crm.Invalid
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 1 || f.Limit > MaxLimit:
		v.Add("limit", "must be between 1 and 100")
	}
	if err := v.Err(); err != nil {
		return Page{}, err
	}
	f.Now = s.now()
	return s.Store.List(ctx, f)
}

// OfCustomer returns a customer's latest tickets, newest first.
func (s *Service) OfCustomer(ctx context.Context, customerID string, limit int) ([]Ticket, error) {
	return s.Store.OfCustomer(ctx, customerID, limit)
}

// Patch is a change staff make to a ticket; nil fields stay as they are.
type Patch struct {
	Status   *string
	Priority *string
	Owner    *string
	Kind     *string
	Category *string
}

// Update applies p to ticket id if it is still at version ifMatch.
func (s *Service) Update(ctx context.Context, actor, id string, ifMatch int64, p Patch) (Ticket, error) {
	t, err := s.Ticket(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	if t.Version != ifMatch {
		return Ticket{}, crm.Errorf(crm.EPRECONDITION, "ticket %s has changed since version %d; read it again", id, ifMatch)
	}
	c, err := s.change(ctx, t, actor, p)
	if err != nil {
		return Ticket{}, err
	}
	if c.changes == nil {
		return c.t, nil
	}
	return c.t, s.save(ctx, c, nil)
}

// edit is a change being made to a ticket: the ticket before and after,
// what changed, and the timeline entries and events it adds.
type edit struct {
	prev, t Ticket
	now     time.Time
	actor   string
	by      string // "staff" or "customer", for reopen events
	// replyID is the public staff reply made in the same change, if any.
	replyID string
	changes []string
	entries []Entry
	events  []events.Envelope
}

// change checks p against t and applies it.
func (s *Service) change(ctx context.Context, t Ticket, actor string, p Patch) (*edit, error) {
	c := &edit{prev: t, t: t, now: s.now(), actor: actor, by: "staff"}
	var v crm.Invalid
	var status *Status
	if p.Status != nil {
		st, ok := ParseStatus(*p.Status)
		switch {
		case !ok:
			v.Add("status", "must be new, open, pending, on_hold, solved or closed")
		case st != t.Status && !CanMove(t.Status, st):
			v.Add("status", fmt.Sprintf("a %s ticket cannot become %s", t.Status, st))
		case st != t.Status:
			status = &st
		}
	}
	if p.Priority != nil {
		pr := sla.Priority(*p.Priority)
		if !pr.Valid() {
			v.Add("priority", "must be low, normal, high or urgent")
		} else if pr != t.Priority {
			c.setPriority(pr)
		}
	}
	if p.Kind != nil {
		k, ok := ParseKind(*p.Kind)
		if !ok || *p.Kind == "" {
			v.Add("kind", "must be request, question, complaint or incident")
		} else if k != t.Kind {
			c.t.Kind = k
			c.changes = append(c.changes, "kind")
		}
	}
	if p.Category != nil {
		cat := strings.ToLower(crm.CleanLine(*p.Category, maxShort, "category", &v))
		if cat != t.Category {
			c.t.Category = cat
			c.changes = append(c.changes, "category")
		}
	}
	if p.Owner != nil {
		owner := cleanOwner(*p.Owner, &v)
		if owner != t.Owner {
			team, err := s.teamOf(ctx, owner)
			if err != nil {
				return nil, err
			}
			c.t.Owner, c.t.Team = owner, team
			c.changes = append(c.changes, "owner")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if t.Status == StatusClosed && len(c.changes) > 0 {
		return nil, crm.Errorf(crm.ECONFLICT, "ticket %s is closed", t.ID)
	}
	if status != nil {
		c.setStatus(*status)
	}
	return c, nil
}

func (c *edit) setPriority(p sla.Priority) {
	c.t.Priority = p
	c.t.History = append(c.t.History, Change{At: c.now, Priority: p})
	c.changes = append(c.changes, "priority")
}

// setStatus moves the ticket, recording the solve, the reopen or the close.
func (c *edit) setStatus(st Status) {
	from := c.t.Status
	c.t.Status = st
	c.t.History = append(c.t.History, Change{At: c.now, Status: st})
	c.changes = append(c.changes, "status")
	now := c.now
	switch {
	case st == StatusSolved:
		c.t.SolvedAt = &now
	case st == StatusClosed:
		c.t.ClosedAt = &now
		if from != StatusSolved {
			// Closed straight from work: solved and closed at once.
			c.t.SolvedAt = &now
		}
	case from == StatusSolved:
		c.t.Reopened++
	}
}

// save settles the edit's timers, writes its change entry and events, and
// saves the ticket. extra entries (a reply) go before the change entry.
func (s *Service) save(ctx context.Context, c *edit, extra []events.Envelope) error {
	c.t.UpdatedAt, c.t.Version = c.now, c.prev.Version+1
	plan, err := s.settle(&c.t, describe(c.prev), c.now)
	if err != nil {
		return err
	}
	if len(c.changes) > 0 {
		c.entries = append(c.entries, Entry{
			ID: crm.NewID(c.now), TicketID: c.t.ID, At: c.now, Kind: EntryChange, Author: c.actor,
			FromStatus: c.prev.Status, ToStatus: c.t.Status, FromPriority: c.prev.Priority, ToPriority: c.t.Priority,
			FromOwner: c.prev.Owner, ToOwner: c.t.Owner, Changes: slices.Clone(c.changes),
		})
	}
	evs := slices.Clone(extra)
	more, err := s.changeEvents(c)
	if err != nil {
		return err
	}
	evs = append(evs, more...)
	return s.Store.Save(ctx, Write{Ticket: c.t, Prev: c.prev.Version, Entries: c.entries, Timers: plan, Events: evs})
}

// changeEvents are the events a change publishes: ticket.updated, and
// ticket.solved, ticket.reopened or ticket.closed when the status says so.
func (s *Service) changeEvents(c *edit) ([]events.Envelope, error) {
	if len(c.changes) == 0 {
		return nil, nil
	}
	t, prev, now := c.t, c.prev, c.now
	up := events.TicketUpdated{Metadata: s.meta(now), Ticket: describe(t), Version: t.Version,
		Changes: slices.Clone(c.changes), Status: string(t.Status)}
	if prev.Status != t.Status {
		up.PreviousStatus = string(prev.Status)
	}
	if prev.Priority != t.Priority {
		up.PreviousPriority = string(prev.Priority)
	}
	if prev.Owner != t.Owner {
		up.PreviousOwner = prev.Owner
	}
	out := []events.Detail{up}
	if prev.Status != t.Status {
		first, res := s.Rules.Snapshots(t, now)
		// The change stopped a first-response clock no reply stopped: the
		// ticket was solved or closed unanswered.
		unanswered := t.FirstResponseAt == nil && !stopped(prev, s.Rules, sla.FirstResponse)
		frEv, resEv := outcome(t, sla.FirstResponse, first, now), outcome(t, sla.Resolution, res, now)
		switch {
		case t.Status == StatusSolved:
			out = append(out, events.TicketSolved{Metadata: s.meta(now), Ticket: describe(t), SolvedAt: now,
				FirstResponseStopped: unanswered, FirstResponse: frEv, Resolution: resEv, Reopened: t.Reopened,
				ReplyID: c.replyID})
		case t.Status == StatusClosed:
			solved := *t.SolvedAt
			out = append(out, events.TicketClosed{Metadata: s.meta(now), Ticket: describe(t),
				SolvedAt: solved.UTC(), ClosedAt: now, By: closedBy(c.actor),
				FirstResponseStopped: unanswered,
				FirstResponse:        frEv, Resolution: resEv,
				ResolutionSeconds: int64(solved.Sub(t.OpenedAt) / time.Second)})
		case prev.Status == StatusSolved:
			out = append(out, events.TicketReopened{Metadata: s.meta(now), Ticket: describe(t), By: c.by,
				SolvedAt: prev.SolvedAt.UTC(), ReopenedAt: now})
		}
	}
	envs := make([]events.Envelope, 0, len(out))
	for _, d := range out {
		env, err := events.Wrap(d)
		if err != nil {
			return nil, err
		}
		envs = append(envs, env)
	}
	return envs, nil
}

// stopped reports whether clock k of t has stopped.
func stopped(t Ticket, r Rules, k sla.Kind) bool {
	return !r.Clocks(t).Of(k).StoppedAt().IsZero()
}

// outcome is clock k of t as events report it: a clock whose breach has
// fired is breached for good, even if a lower priority then gave it a
// deadline it met, so the scorecard counts each clock once — as met from
// the event that stops it, or as breached from ticket.sla_breached.
func outcome(t Ticket, k sla.Kind, snap sla.Snapshot, now time.Time) events.SLAClock {
	ev := clockEvent(snap)
	if ev.Status == string(sla.Met) && breachFired(t, k, now) {
		ev.Status = string(sla.Breached)
	}
	return ev
}

// breachFired reports whether the breach timer of t's clock k has fired,
// or falls due before now and fires at the next sweep.
func breachFired(t Ticket, k sla.Kind, now time.Time) bool {
	id := slaTimerID(t.ID, k, sla.Breach)
	due, armed := t.Timers[id]
	return slices.Contains(t.Fired, id) || armed && due.Before(now)
}

// autoActor is the actor of changes Rapport makes by itself.
const autoActor = "rapport"

func closedBy(actor string) string {
	if actor == autoActor {
		return "auto"
	}
	return "staff"
}

// Reply is a staff message on a ticket: public replies are emailed to the
// requester; internal notes are not.
type Reply struct {
	Body   string
	Public bool
	// Status, when set, moves the ticket with the reply ("pending" to wait
	// on the customer, "solved").
	Status *string
}

// attempts bounds the retries of a change that lost a race to another.
const attempts = 3

// Reply adds a staff reply or note to ticket id. The first public reply
// stops the first-response clock; a public reply moves a new ticket to
// open unless r.Status says otherwise. It returns the entry and the ticket
// as stored.
func (s *Service) Reply(ctx context.Context, actor, id string, r Reply) (Entry, Ticket, error) {
	var v crm.Invalid
	body := crm.CleanText(r.Body, MaxMessage, "body", &v)
	if body == "" && !v.Has("body") {
		v.Add("body", "is required")
	}
	if err := v.Err(); err != nil {
		return Entry{}, Ticket{}, err
	}
	for range attempts {
		t, err := s.Ticket(ctx, id)
		if err != nil {
			return Entry{}, Ticket{}, err
		}
		if t.Status == StatusClosed {
			return Entry{}, Ticket{}, crm.Errorf(crm.ECONFLICT, "ticket %s is closed; open a new ticket", id)
		}
		p := Patch{Status: r.Status}
		if r.Public && r.Status == nil && t.Status == StatusNew {
			open := string(StatusOpen)
			p.Status = &open
		}
		c, err := s.change(ctx, t, actor, p)
		if err != nil {
			return Entry{}, Ticket{}, err
		}
		kind := EntryNote
		if r.Public {
			kind = EntryReply
		}
		entry := Entry{ID: crm.NewID(c.now), TicketID: id, At: c.now, Kind: kind, Author: actor, Body: body}
		c.entries = append(c.entries, entry)
		first := r.Public && t.FirstResponseAt == nil
		if first {
			at := c.now
			c.t.FirstResponseAt = &at
			c.t.History = append(c.t.History, Change{At: c.now, Replied: true})
		}
		replied := events.TicketReplied{Metadata: s.meta(c.now), Ticket: describe(c.t), ReplyID: entry.ID,
			By: "staff", Public: r.Public, FirstResponse: first, RepliedAt: c.now}
		if r.Public && c.t.Status == StatusSolved && t.Status != StatusSolved {
			replied.Solved, c.replyID = true, entry.ID
		}
		if first {
			fr, _ := s.Rules.Snapshots(c.t, c.now)
			replied.FirstResponseSLA = outcome(c.t, sla.FirstResponse, fr, c.now).Status
			replied.FirstResponseSeconds = int64(c.now.Sub(t.OpenedAt) / time.Second)
		}
		ev, err := events.Wrap(replied)
		if err != nil {
			return Entry{}, Ticket{}, err
		}
		if !first && len(c.changes) == 0 {
			// A note, or a later reply that moves nothing: the ticket
			// stays as it is.
			return entry, t, s.Store.AddEntry(ctx, entry, []events.Envelope{ev})
		}
		err = s.save(ctx, c, []events.Envelope{ev})
		if crm.ErrorCode(err) == crm.EPRECONDITION {
			continue
		}
		return entry, c.t, err
	}
	return Entry{}, Ticket{}, crm.Errorf(crm.ECONFLICT, "ticket %s is being changed by others; try again", id)
}

// Answer is what a customer's answer on their page did.
type Answer struct {
	// TicketID is the ticket the answer went to: the one answered, or a
	// new one that follows it when that was closed.
	TicketID string
	Reopened bool
	Opened   bool
}

// CustomerAnswer adds the requester's answer from their page to ticket
// id. An answer to a pending ticket moves it to open; to a solved ticket
// within ReopenWithin of the solve, reopens it; to a closed ticket (or one
// solved longer ago), opens a new ticket that follows it.
func (s *Service) CustomerAnswer(ctx context.Context, id, message string) (Answer, error) {
	var v crm.Invalid
	body := crm.CleanText(message, MaxMessage, "message", &v)
	if body == "" && !v.Has("message") {
		v.Add("message", "is required")
	}
	if err := v.Err(); err != nil {
		return Answer{}, err
	}
	for range attempts {
		t, err := s.Ticket(ctx, id)
		if err != nil {
			return Answer{}, err
		}
		now := s.now()
		if t.Status == StatusClosed || (t.Status == StatusSolved && t.SolvedAt != nil && now.Sub(*t.SolvedAt) > s.reopenWithin()) {
			return s.follow(ctx, t, body)
		}
		p := Patch{}
		if t.Status == StatusPending || t.Status == StatusSolved {
			open := string(StatusOpen)
			p.Status = &open
		}
		c, err := s.change(ctx, t, "", p)
		if err != nil {
			return Answer{}, err
		}
		c.by = "customer"
		entry := Entry{ID: crm.NewID(c.now), TicketID: id, At: c.now, Kind: EntryMessage, Body: body}
		c.entries = append(c.entries, entry)
		ev, err := events.Wrap(events.TicketReplied{Metadata: s.meta(c.now), Ticket: describe(c.t), ReplyID: entry.ID,
			By: "customer", Public: true, RepliedAt: c.now})
		if err != nil {
			return Answer{}, err
		}
		if len(c.changes) == 0 {
			return Answer{TicketID: id}, s.Store.AddEntry(ctx, entry, []events.Envelope{ev})
		}
		err = s.save(ctx, c, []events.Envelope{ev})
		if crm.ErrorCode(err) == crm.EPRECONDITION {
			continue
		}
		return Answer{TicketID: id, Reopened: t.Status == StatusSolved}, err
	}
	return Answer{}, crm.Errorf(crm.ECONFLICT, "ticket %s is being changed by others; try again", id)
}

// follow opens a new ticket from an answer to closed ticket t.
func (s *Service) follow(ctx context.Context, t Ticket, body string) (Answer, error) {
	n := Ticket{Subject: truncate("Re: "+t.Subject, MaxSubject), Kind: t.Kind, Category: t.Category, Reference: t.Reference,
		Channel: ChannelWeb, Priority: t.Priority, Requester: t.Requester, Owner: t.Owner}
	res, err := s.open(ctx, n, Entry{Kind: EntryMessage, Body: body}, t.ID, Opening{})
	return Answer{TicketID: res.TicketID, Opened: true}, err
}

// CloseDue closes a ticket whose auto-close timer fired, if it is still
// solved since the solve that armed it; otherwise the timer is stale and
// nothing happens. Safe to run twice.
func (s *Service) CloseDue(ctx context.Context, e events.TicketCloseDue) error {
	for range attempts {
		t, err := s.Ticket(ctx, e.TicketID)
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if t.Status != StatusSolved || t.SolvedAt == nil || !t.SolvedAt.Equal(e.SolvedAt) {
			return nil
		}
		closed := string(StatusClosed)
		c, err := s.change(ctx, t, autoActor, Patch{Status: &closed})
		if err != nil {
			return err
		}
		err = s.save(ctx, c, nil)
		if crm.ErrorCode(err) == crm.EPRECONDITION {
			continue
		}
		return err
	}
	return crm.Errorf(crm.ECONFLICT, "ticket %s is being changed by others; try again", e.TicketID)
}

// StillDue reports whether the SLA stage an event announces still stands:
// the clock has not stopped, and for a warning or escalation, is still
// running towards the deadline the event names. Mail for a stale stage is
// not sent.
func (s *Service) StillDue(ctx context.Context, e events.TicketSLA) (Ticket, bool, error) {
	t, err := s.Ticket(ctx, e.TicketID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return Ticket{}, false, nil
	}
	if err != nil {
		return Ticket{}, false, err
	}
	c := s.Rules.Clocks(t).Of(sla.Kind(e.Clock))
	return t, c.StoppedAt().IsZero(), nil
}

func (s *Service) teamOf(ctx context.Context, owner string) (string, error) {
	if owner == "" || s.Teams == nil {
		return "", nil
	}
	return s.Teams.TeamOf(ctx, owner)
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) meta(now time.Time) events.Metadata {
	return events.Metadata{EventID: crm.NewID(now), OccurredAt: now}
}

func (s *Service) dedupeWindow() time.Duration {
	if s.DedupeWindow > 0 {
		return s.DedupeWindow
	}
	return DefaultDedupeWindow
}

func (s *Service) reopenWithin() time.Duration {
	if s.ReopenWithin > 0 {
		return s.ReopenWithin
	}
	return DefaultReopenWithin
}

func checkIdempotencyKey(k string) error {
	if len(k) > MaxIdempotencyKey || !utf8.ValidString(k) {
		return &crm.Error{Code: crm.EINVALID, Message: "invalid Idempotency-Key",
			Fields: []crm.FieldError{{Field: "Idempotency-Key", Reason: "must be at most 255 characters of text"}}}
	}
	return nil
}

func cleanOwner(s string, v *crm.Invalid) string {
	s = strings.TrimSpace(s)
	if len(s) > maxOwner || !utf8.ValidString(s) || strings.ContainsAny(s, " \t\n#") {
		v.Add("owner", "must be a staff user id")
		return ""
	}
	return s
}

// fingerprint digests what a submission says, so a resubmission is told
// from a new ticket and a reused Idempotency-Key from a retry.
func fingerprint(t Ticket, body string) string {
	h := sha256.New()
	for _, f := range []string{t.Requester.Email, t.Requester.Phone, t.Requester.Name, t.Subject, body,
		string(t.Kind), t.Category, t.Reference} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	for _, k := range slices.Sorted(maps.Keys(t.Custom)) {
		fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(t.Custom[k]), t.Custom[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func firstLine(s string, max int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max])
}
