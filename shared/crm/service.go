package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/events"
)

// LeadService is what sales can do with leads: capture them from web forms,
// list and read them, work them, and convert them into customers.
type LeadService struct {
	Store LeadStore
	// Teams gives an owner's team for the lead events; nil counts every
	// lead for the organisation only.
	Teams Teams
	// Now is the clock; tests set it.
	Now func() time.Time
	// DuplicateWindow is how long a person's lead absorbs their later
	// submissions.
	DuplicateWindow time.Duration
	// Currency is the organisation's currency (ISO 4217): deals and
	// purchases in another are refused, naming currency. Empty accepts
	// any.
	Currency string
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 255

// Capture turns a web form submission into a lead, or into an entry on the
// person's existing lead. A filled honeypot is answered as if accepted, with
// an id that names nothing, and only counted.
func (s *LeadService) Capture(ctx context.Context, sub Submission, idempotencyKey string) (CaptureResult, error) {
	now := s.Now().UTC()
	if strings.TrimSpace(sub.Honeypot) != "" {
		if err := s.Store.CountSpam(ctx, now); err != nil {
			return CaptureResult{}, err
		}
		return CaptureResult{LeadID: NewID(now)}, nil
	}
	if len(idempotencyKey) > MaxIdempotencyKey || !utf8.ValidString(idempotencyKey) {
		return CaptureResult{}, &Error{Code: EINVALID, Message: "invalid Idempotency-Key",
			Fields: []FieldError{{"Idempotency-Key", "must be at most 255 characters of text"}}}
	}
	in, err := CheckSubmission(sub)
	if err != nil {
		return CaptureResult{}, err
	}
	lead := in.Lead
	lead.ID, lead.Status, lead.CapturedAt, lead.UpdatedAt, lead.Version = NewID(now), StatusNew, now, now, 1
	entry := in.Entry
	entry.ID, entry.LeadID, entry.At = NewID(now), lead.ID, now

	ev, err := events.Wrap(events.LeadCaptured{
		Metadata:    events.Metadata{EventID: NewID(now), OccurredAt: now},
		LeadID:      lead.ID,
		Attribution: eventAttribution(lead),
		HasEmail:    lead.Email != "",
		HasPhone:    lead.Phone != "",
		Consent:     lead.Consent,
		CapturedAt:  now,
	})
	if err != nil {
		return CaptureResult{}, err
	}
	return s.Store.Capture(ctx, CaptureRequest{
		Lead: lead, Entry: entry, Events: []events.Envelope{ev},
		Window:         s.DuplicateWindow,
		IdempotencyKey: idempotencyKey,
		Fingerprint:    fingerprint(in),
	})
}

// fingerprint digests what a submission says, so a reused Idempotency-Key
// with a different submission is told apart from a retry.
func fingerprint(in Intake) string {
	l := in.Lead
	h := sha256.New()
	for _, f := range []string{l.Name, l.Email, l.Phone, l.Company, l.Source, in.Entry.Message,
		l.Attribution.UTMSource, l.Attribution.UTMMedium, l.Attribution.UTMCampaign,
		l.Attribution.UTMTerm, l.Attribution.UTMContent, l.Attribution.Referrer, l.Attribution.PageURL} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	for _, k := range slices.Sorted(maps.Keys(l.Custom)) {
		fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(l.Custom[k]), l.Custom[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// LeadDetail returns a lead with its timeline.
func (s *LeadService) LeadDetail(ctx context.Context, id string) (LeadDetail, error) {
	if !ValidID(id) {
		return LeadDetail{}, Errorf(ENOTFOUND, "no lead %s", id)
	}
	return s.Store.LeadDetail(ctx, id)
}

// MaxPage is the largest page a list returns.
const MaxPage = 100

// Leads lists leads newest first.
func (s *LeadService) Leads(ctx context.Context, f LeadFilter) (LeadPage, error) {
	var v Invalid
	switch {
	case f.Limit == 0:
		f.Limit = 25
	case f.Limit < 1 || f.Limit > MaxPage:
		v.Add("limit", "must be between 1 and 100")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.Add("created_to", "must be after created_from")
	}
	if err := v.Err(); err != nil {
		return LeadPage{}, err
	}
	return s.Store.Leads(ctx, f)
}

// LeadChange is an edit of a lead; nil fields stay as they are.
type LeadChange struct {
	Status     *LeadStatus
	LostReason *string
	Owner      *string
}

// maxReason bounds free text staff type into a lead.
const maxReason = 500

// UpdateLead applies change to lead id if it is still at version ifMatch,
// and returns the lead as stored.
func (s *LeadService) UpdateLead(ctx context.Context, actor, id string, ifMatch int64, change LeadChange) (Lead, error) {
	l, err := s.lead(ctx, id)
	if err != nil {
		return Lead{}, err
	}
	if l.Version != ifMatch {
		return Lead{}, Errorf(EPRECONDITION, "lead %s has changed since version %d; read it again", id, ifMatch)
	}
	prev := l
	var v Invalid
	var changes []string
	if change.Owner != nil {
		owner := cleanLine(*change.Owner, maxShortText, "owner", &v)
		if owner != l.Owner {
			l.Owner = owner
			changes = append(changes, "owner")
		}
	}
	if change.Status != nil && *change.Status != l.Status {
		if err := CheckTransition(l.Status, *change.Status); err != nil {
			return Lead{}, err
		}
		l.Status = *change.Status
		changes = append(changes, "status")
		l.LostReason = ""
		if l.Status == StatusLost {
			if change.LostReason != nil {
				l.LostReason = cleanLine(*change.LostReason, maxReason, "lost_reason", &v)
			}
			if l.LostReason == "" {
				v.Add("lost_reason", "is required when a lead is lost")
			}
		}
	} else if change.LostReason != nil {
		v.Add("lost_reason", "can only be given with status lost")
	}
	if err := v.Err(); err != nil {
		return Lead{}, err
	}
	if len(changes) == 0 {
		return l, nil
	}
	now := s.Now().UTC()
	l.UpdatedAt, l.Version = now, l.Version+1
	entry := TimelineEntry{ID: NewID(now), LeadID: l.ID, At: now, Kind: EntryStatusChange, Actor: actor,
		FromStatus: prev.Status, ToStatus: l.Status, Reason: l.LostReason, FromOwner: prev.Owner, ToOwner: l.Owner}
	ev, err := s.updatedEvent(ctx, now, prev, l, changes)
	if err != nil {
		return Lead{}, err
	}
	if err := s.Store.UpdateLead(ctx, l, prev.Version, []TimelineEntry{entry}, []events.Envelope{ev}); err != nil {
		return Lead{}, err
	}
	return l, nil
}

// Activity is a call, email, meeting or note that staff log on a lead.
type Activity struct {
	Kind ActivityKind
	Note string
	At   time.Time // when it happened; zero means now
}

// AddActivity logs a on lead id. The first contact (a call, email or
// meeting) records the lead's first-contact time and moves a new lead to
// contacted.
func (s *LeadService) AddActivity(ctx context.Context, actor, id string, a Activity) (TimelineEntry, error) {
	now := s.Now().UTC()
	var v Invalid
	switch a.Kind {
	case ActivityCall, ActivityEmail, ActivityMeeting, ActivityNote:
	default:
		v.Add("type", "must be call, email, meeting or note")
	}
	note := cleanText(a.Note, maxMessage, "note", &v)
	if a.Kind == ActivityNote && note == "" {
		v.Add("note", "is required for a note")
	}
	at := now
	if !a.At.IsZero() {
		at = a.At.UTC()
		if at.After(now) {
			v.Add("at", "cannot be in the future")
		}
	}
	if err := v.Err(); err != nil {
		return TimelineEntry{}, err
	}
	// A concurrent first contact can win the race; then ours is an
	// ordinary entry. Three reads are enough for any real contention.
	for range 3 {
		l, err := s.lead(ctx, id)
		if err != nil {
			return TimelineEntry{}, err
		}
		if at.Before(l.CapturedAt) {
			return TimelineEntry{}, &Error{Code: EINVALID, Message: "invalid at",
				Fields: []FieldError{{"at", "is before the lead was captured"}}}
		}
		entry := TimelineEntry{ID: NewID(now), LeadID: l.ID, At: at, Kind: EntryActivity, Actor: actor, Activity: a.Kind, Note: note}
		if !a.Kind.IsContact() || l.FirstContactAt != nil {
			return entry, s.Store.AddEntry(ctx, entry)
		}
		prev := l
		l.FirstContactAt, l.UpdatedAt, l.Version = &at, now, l.Version+1
		changes := []string{"first_contact"}
		if l.Status == StatusNew {
			l.Status = StatusContacted
			changes = append(changes, "status")
		}
		ev, err := s.updatedEvent(ctx, now, prev, l, changes)
		if err != nil {
			return TimelineEntry{}, err
		}
		err = s.Store.UpdateLead(ctx, l, prev.Version, []TimelineEntry{entry}, []events.Envelope{ev})
		if ErrorCode(err) != EPRECONDITION {
			return entry, err
		}
	}
	return TimelineEntry{}, Errorf(ECONFLICT, "lead %s is being changed by others; try again", id)
}

// Conversion is the deal that turns a lead into a customer.
type Conversion struct {
	Deal    Money
	Note    string
	IfMatch int64 // 0: convert whatever the version
}

// Convert records the deal, makes the lead converted and attaches it to the
// person's customer record, creating one for a first purchase.
func (s *LeadService) Convert(ctx context.Context, actor, id string, c Conversion) (Customer, error) {
	var v Invalid
	note := cleanText(c.Note, maxMessage, "note", &v)
	s.checkCurrency(c.Deal, &v)
	if err := v.Err(); err != nil {
		return Customer{}, err
	}
	for range 3 {
		l, err := s.lead(ctx, id)
		if err != nil {
			return Customer{}, err
		}
		if c.IfMatch != 0 && l.Version != c.IfMatch {
			return Customer{}, Errorf(EPRECONDITION, "lead %s has changed since version %d; read it again", id, c.IfMatch)
		}
		if l.Status == StatusConverted {
			return Customer{}, Errorf(ECONFLICT, "lead %s is already converted", id)
		}
		now := s.Now().UTC()
		cust, err := s.Store.CustomerByPerson(ctx, l.PersonKey())
		isNew := ErrorCode(err) == ENOTFOUND
		if err != nil && !isNew {
			return Customer{}, err
		}
		if isNew {
			cust = Customer{ID: NewID(now), Name: l.Name, Email: l.Email, Phone: l.Phone, Company: l.Company, CreatedAt: now}
		}
		prevDeals := cust.Deals
		team, err := s.teamOf(ctx, l.Owner)
		if err != nil {
			return Customer{}, err
		}
		cust = cust.AddDeal(c.Deal, now)

		prev := l
		deal := c.Deal
		l.Status, l.CustomerID, l.Deal, l.ConvertedAt, l.UpdatedAt, l.Version = StatusConverted, cust.ID, &deal, &now, now, l.Version+1
		entry := TimelineEntry{ID: NewID(now), LeadID: l.ID, At: now, Kind: EntryConversion, Actor: actor,
			FromStatus: prev.Status, ToStatus: StatusConverted, CustomerID: cust.ID, Deal: &deal, Note: note}
		ev, err := events.Wrap(events.LeadConverted{
			Metadata:       events.Metadata{EventID: NewID(now), OccurredAt: now},
			LeadID:         l.ID,
			CustomerID:     cust.ID,
			Source:         l.Source,
			UTMCampaign:    l.Attribution.UTMCampaign,
			Owner:          l.Owner,
			Team:           team,
			DealValue:      events.Money{Minor: deal.Minor, Currency: deal.Currency},
			CapturedAt:     l.CapturedAt,
			ConvertedAt:    now,
			RepeatCustomer: prevDeals > 0,
		})
		if err != nil {
			return Customer{}, err
		}
		err = s.Store.Convert(ctx, ConvertRequest{Lead: l, Prev: prev.Version, Entry: entry,
			Customer: cust, NewCustomer: isNew, PrevCustomerDeals: prevDeals, Events: []events.Envelope{ev}})
		switch ErrorCode(err) {
		case "":
			return cust, nil
		case ECONFLICT, EPRECONDITION:
			// Someone else changed the lead or the customer meanwhile:
			// read both again; an If-Match caller gets the 412 above.
			continue
		default:
			return Customer{}, err
		}
	}
	return Customer{}, Errorf(ECONFLICT, "lead %s is being changed by others; try again", id)
}

// Customer returns a customer with the history of each of its leads.
func (s *LeadService) Customer(ctx context.Context, id string) (CustomerDetail, error) {
	if !ValidID(id) {
		return CustomerDetail{}, Errorf(ENOTFOUND, "no customer %s", id)
	}
	return s.Store.Customer(ctx, id)
}

func (s *LeadService) lead(ctx context.Context, id string) (Lead, error) {
	if !ValidID(id) {
		return Lead{}, Errorf(ENOTFOUND, "no lead %s", id)
	}
	return s.Store.Lead(ctx, id)
}

func (s *LeadService) updatedEvent(ctx context.Context, now time.Time, prev, l Lead, changes []string) (events.Envelope, error) {
	team, err := s.teamOf(ctx, l.Owner)
	if err != nil {
		return events.Envelope{}, err
	}
	d := events.LeadUpdated{
		Metadata:       events.Metadata{EventID: NewID(now), OccurredAt: now},
		LeadID:         l.ID,
		Source:         l.Source,
		Changes:        changes,
		Status:         string(l.Status),
		LostReason:     l.LostReason,
		Owner:          l.Owner,
		Team:           team,
		CapturedAt:     l.CapturedAt,
		FirstContactAt: l.FirstContactAt,
		Version:        l.Version,
	}
	if prev.Status != l.Status {
		d.PreviousStatus = string(prev.Status)
	}
	return events.Wrap(d)
}

// teamOf is owner's team when an event is written: "" for an unowned
// lead, or when no Teams is set.
func (s *LeadService) teamOf(ctx context.Context, owner string) (string, error) {
	if owner == "" || s.Teams == nil {
		return "", nil
	}
	team, err := s.Teams.TeamOf(ctx, owner)
	if err != nil {
		return "", fmt.Errorf("team of %s: %w", owner, err)
	}
	return team, nil
}

func eventAttribution(l Lead) events.Attribution {
	a := events.Attribution{
		Source:      l.Source,
		UTMSource:   l.Attribution.UTMSource,
		UTMMedium:   l.Attribution.UTMMedium,
		UTMCampaign: l.Attribution.UTMCampaign,
		UTMTerm:     l.Attribution.UTMTerm,
		UTMContent:  l.Attribution.UTMContent,
	}
	if u, err := url.Parse(l.Attribution.Referrer); err == nil {
		a.ReferrerHost = u.Hostname()
	}
	return a
}
