package survey

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/shared/crm"
)

// Settings are the survey rules an organisation can change (cdk.json
// context, read by the config package).
type Settings struct {
	// Delay is how long after a ticket is solved its invitation goes out;
	// reopening the ticket before then cancels it.
	Delay time.Duration
	// RelationshipFirst is how long after a customer's first conversion
	// their first NPS invitation is due; RelationshipEvery how long after
	// each one the next is.
	RelationshipFirst time.Duration
	RelationshipEvery time.Duration
	// QuietPeriod is the least time between two invitations to one
	// person, whatever made them; 0 turns it off.
	QuietPeriod time.Duration
	// LinkLifetime is how long after sending an invitation's link works.
	LinkLifetime time.Duration
}

// DefaultSettings are the rules the issue describes: invite 1 hour after a
// solve; relationship NPS 30 days after the first conversion, then every
// 90 days; one invitation per person per 30 days; links for 30 days.
func DefaultSettings() Settings {
	const day = 24 * time.Hour
	return Settings{
		Delay:             time.Hour,
		RelationshipFirst: 30 * day,
		RelationshipEvery: 90 * day,
		QuietPeriod:       30 * day,
		LinkLifetime:      30 * day,
	}
}

// maxSetting bounds every setting; a year is more than any survey rhythm
// needs, and keeps instants far from overflow.
const maxSetting = 366 * 24 * time.Hour

// Check returns EINVALID naming each setting out of bounds: the delay and
// quiet period from 0, the others above 0, all at most a year.
func (s Settings) Check() error {
	var v crm.Invalid
	for _, f := range []struct {
		name string
		d    time.Duration
		zero bool
	}{
		{"delay", s.Delay, true},
		{"relationship_first", s.RelationshipFirst, false},
		{"relationship_every", s.RelationshipEvery, false},
		{"quiet_period", s.QuietPeriod, true},
		{"link_lifetime", s.LinkLifetime, false},
	} {
		switch {
		case f.d < 0 || (f.d == 0 && !f.zero):
			v.Add(f.name, "must be longer than 0")
		case f.d > maxSetting:
			v.Add(f.name, "must be at most "+strconv.Itoa(int(maxSetting/(24*time.Hour)))+" days")
		}
	}
	return v.Err()
}

// Policy decides who may be invited, when, and for how long a link works.
// It is pure: the store reads the person's History and enforces the
// decision with a conditional write, so that two invitations made at once
// cannot both take one person's quiet period.
type Policy struct{ Settings Settings }

// History is what the policy needs to know of one person, found by their
// normalised email address.
type History struct {
	// Email is the person's address; "" when they have none.
	Email string
	// OptedOut is set once the person unsubscribes; nothing undoes it but
	// the person.
	OptedOut bool
	// LastID and LastAt are the person's latest invitation that holds the
	// quiet period (Invitation.Holds) and the instant it holds it from
	// (Invitation.QuietFrom); empty when there is none. Cancelling that
	// invitation gives the period back.
	LastID string
	LastAt time.Time
}

// Allow reports whether the person may be sent an invitation at the
// instant at (when it would go out), and if not, why: NoEmail, OptedOut or
// QuietPeriod. The quiet period counts both ways: an invitation scheduled
// to go out in an hour keeps a new one from going out now.
func (p Policy) Allow(h History, at time.Time) (bool, string) {
	switch {
	case h.Email == "":
		return false, NoEmail
	case h.OptedOut:
		return false, OptedOut
	case !h.LastAt.IsZero() && p.quiet(h.LastAt, at):
		return false, QuietPeriod
	}
	return true, ""
}

// quiet reports whether a and b are within the quiet period of each other.
func (p Policy) quiet(a, b time.Time) bool {
	d := b.Sub(a)
	if d < 0 {
		d = -d
	}
	return d < p.Settings.QuietPeriod
}

// EarliestAllowed returns the first instant from which the quiet period
// lets the person be invited again; zero when it does not hold them.
func (p Policy) EarliestAllowed(h History) time.Time {
	if h.LastAt.IsZero() || p.Settings.QuietPeriod == 0 {
		return time.Time{}
	}
	return h.LastAt.Add(p.Settings.QuietPeriod)
}

// AfterTicketDue returns when the invitation for a ticket solved at
// solvedAt goes out.
func (p Policy) AfterTicketDue(solvedAt time.Time) time.Time {
	return solvedAt.Add(p.Settings.Delay).UTC()
}

// RelationshipDue returns when a customer's next relationship invitation
// is due: RelationshipFirst after their first conversion, then
// RelationshipEvery after the last relationship invitation (when it was
// sent, or due if it was cancelled). Pass a zero last for the first.
// Invite moves a due instant inside the quiet period to its end.
func (p Policy) RelationshipDue(firstConversion, last time.Time) time.Time {
	if last.IsZero() {
		return firstConversion.Add(p.Settings.RelationshipFirst).UTC()
	}
	return last.Add(p.Settings.RelationshipEvery).UTC()
}

// Request is an invitation to be made.
type Request struct {
	// ID is the invitation's id: AfterTicketID or RelationshipID for the
	// invitations Rapport makes itself; "" for a new one (crm.NewID).
	ID     string
	Reason Reason
	// CustomerID, TicketID, Owner and Team are copied to the invitation.
	CustomerID, TicketID, Owner, Team string
	// Questions are what to ask, the first being the one that must be
	// answered; empty for the reason's default.
	Questions []Question
	// DueAt is when to send it: AfterTicketDue, RelationshipDue, or zero
	// for at once.
	DueAt time.Time
}

// Invite makes a scheduled invitation for the person of h, due at
// r.DueAt (now when zero). A relationship invitation due inside the quiet
// period is due at its end instead (EarliestAllowed): the rhythm slips
// rather than breaks. EINVALID names the field at fault: "email",
// "questions", "reason", "ticket_id". A person the policy refuses is a
// refusal (Refused says why): EINVALID on "email" for a person without an
// address, ECONFLICT for one who opted out or is in the quiet period. An
// automatic invitation refused is skipped, not retried.
func (p Policy) Invite(r Request, h History, now time.Time) (Invitation, error) {
	var v crm.Invalid
	email := crm.NormaliseEmail(h.Email, &v)
	if email == "" && v.Err() == nil {
		return Invitation{}, refusal(NoEmail)
	}
	if _, ok := ParseReason(string(r.Reason)); !ok {
		v.Add("reason", "must be after_ticket, relationship or manual")
	}
	if r.Reason == AfterTicket && r.TicketID == "" {
		v.Add("ticket_id", "is required for an invitation after a ticket")
	}
	qs := r.Questions
	if len(qs) == 0 {
		qs = r.Reason.DefaultQuestions()
	}
	checkQuestions(qs, &v)
	if err := v.Err(); err != nil {
		return Invitation{}, err
	}
	due := r.DueAt
	if due.IsZero() {
		due = now
	}
	if r.Reason == Relationship {
		if e := p.EarliestAllowed(h); e.After(due) {
			due = e
		}
	}
	h.Email = email
	if ok, why := p.Allow(h, due); !ok {
		return Invitation{}, refusal(why)
	}
	id := r.ID
	if id == "" {
		id = crm.NewID(now)
	}
	return Invitation{
		ID: id, Email: email, CustomerID: r.CustomerID, TicketID: r.TicketID, Owner: r.Owner, Team: r.Team,
		Questions: slices.Clone(qs), Reason: r.Reason, Status: StatusScheduled,
		CreatedAt: now.UTC(), DueAt: due.UTC(), Version: 1,
	}, nil
}

// checkQuestions adds an error for "questions" unless qs are known
// questions, each once.
func checkQuestions(qs []Question, v *crm.Invalid) {
	for i, q := range qs {
		if !q.Valid() {
			v.Add("questions", "must each be nps, csat or ces")
			return
		}
		if slices.Contains(qs[:i], q) {
			v.Add("questions", "must not ask "+string(q)+" twice")
			return
		}
	}
}

// refusedError is a *crm.Error that says which rule refused the person.
type refusedError struct {
	err *crm.Error
	why string
}

func (e *refusedError) Error() string { return e.err.Error() }

// Unwrap lets crm.ErrorCode and errors.As find the *crm.Error.
func (e *refusedError) Unwrap() error { return e.err }

// Refused returns the rule that refused an invitation — NoEmail, OptedOut
// or QuietPeriod — when err is Invite's refusal, and "" for any other
// error. The consumers that invite by themselves skip a refusal and count
// it by this code.
func Refused(err error) string {
	var r *refusedError
	if errors.As(err, &r) {
		return r.why
	}
	return ""
}

// refusal is the error of a person the policy will not invite.
func refusal(why string) error {
	var e *crm.Error
	switch why {
	case NoEmail:
		var v crm.Invalid
		v.Add("email", "is required: the person has no email address")
		e = v.Err().(*crm.Error)
	case OptedOut:
		e = crm.Errorf(crm.ECONFLICT, "the person asked not to be surveyed")
	default:
		e = crm.Errorf(crm.ECONFLICT, "the person was invited, or is due to be, within the quiet period")
	}
	return &refusedError{err: e, why: why}
}

// Send returns the scheduled invitation sent at now, its link good for
// LinkLifetime, when the person may still be invited; otherwise the
// invitation cancelled with the reason, which the caller saves and does
// not email. The quiet period is checked against h.LastID's invitation
// only when that is another one: the invitation being sent holds it
// itself. ECONFLICT when the invitation is not scheduled (a timer fired
// twice) or not yet due.
func (p Policy) Send(inv Invitation, h History, now time.Time) (Invitation, error) {
	if inv.Status != StatusScheduled {
		return inv, crm.Errorf(crm.ECONFLICT, "the invitation is %s, not scheduled", inv.Status)
	}
	if now.Before(inv.DueAt) {
		return inv, crm.Errorf(crm.ECONFLICT, "the invitation is not due until %s", inv.DueAt.UTC().Format(time.RFC3339))
	}
	if h.LastID == inv.ID {
		h.LastID, h.LastAt = "", time.Time{}
	}
	if ok, why := p.Allow(h, now); !ok {
		return inv.Cancel(why)
	}
	sent, expires := now.UTC(), now.Add(p.Settings.LinkLifetime).UTC()
	inv.Status, inv.SentAt, inv.ExpiresAt, inv.Version = StatusSent, &sent, &expires, inv.Version+1
	return inv, nil
}
