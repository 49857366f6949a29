package crm

import (
	"time"
)

// LeadStatus is where a lead stands in the sales funnel.
type LeadStatus string

// Lead statuses, in funnel order. Converted is final; a lost lead can be
// reopened.
const (
	StatusNew       LeadStatus = "new"
	StatusContacted LeadStatus = "contacted"
	StatusQualified LeadStatus = "qualified"
	StatusConverted LeadStatus = "converted"
	StatusLost      LeadStatus = "lost"
)

// funnelRank orders the open statuses; a lead moves forward, never back,
// except out of lost.
var funnelRank = map[LeadStatus]int{StatusNew: 0, StatusContacted: 1, StatusQualified: 2}

// ParseLeadStatus returns the status named s.
func ParseLeadStatus(s string) (LeadStatus, bool) {
	switch st := LeadStatus(s); st {
	case StatusNew, StatusContacted, StatusQualified, StatusConverted, StatusLost:
		return st, true
	}
	return "", false
}

// CheckTransition says whether a lead may move from one status to another
// by an edit. Converting goes through Convert, which records the deal.
func CheckTransition(from, to LeadStatus) error {
	switch {
	case from == to:
		return nil
	case to == StatusConverted:
		return Errorf(ECONFLICT, "a lead is converted with POST /leads/{id}/convert, which records the deal")
	case from == StatusConverted:
		return Errorf(ECONFLICT, "a converted lead's status cannot change")
	case to == StatusLost:
		return nil
	case from == StatusLost:
		return nil // reopening: the lead is worked again from where it is put
	case funnelRank[to] < funnelRank[from]:
		return Errorf(ECONFLICT, "a lead cannot move back from %s to %s", from, to)
	}
	return nil
}

// Attribution says where a lead came from.
type Attribution struct {
	UTMSource   string
	UTMMedium   string
	UTMCampaign string
	UTMTerm     string
	UTMContent  string
	Referrer    string
	PageURL     string
}

// Lead is a person who asked the company to get in touch, and how sales
// worked them.
type Lead struct {
	ID      string
	Status  LeadStatus
	Name    string
	Email   string // normalised: lower case
	Phone   string // normalised: "+" and digits
	Company string
	// Source is where the lead came from in the company's words: the form's
	// source field, else utm_source, else the referring host, else "website".
	Source      string
	Attribution Attribution
	Consent     bool
	Custom      map[string]string

	Owner      string // staff member working the lead (the token's subject)
	LostReason string
	CustomerID string
	Deal       *Money

	CapturedAt     time.Time
	UpdatedAt      time.Time
	FirstContactAt *time.Time
	ConvertedAt    *time.Time
	// Version counts the lead's edits; it is the lead's ETag.
	Version int64
}

// PersonKey identifies the person behind a lead for spotting duplicate
// submissions: the normalised email, else the phone number.
func (l Lead) PersonKey() string { return personKey(l.Email, l.Phone) }

func personKey(email, phone string) string {
	if email != "" {
		return "email:" + email
	}
	return "phone:" + phone
}

// EntryKind says what a timeline entry records.
type EntryKind string

// Timeline entry kinds.
const (
	EntrySubmission   EntryKind = "submission"    // a web form submission
	EntryActivity     EntryKind = "activity"      // a call, email, meeting or note by staff
	EntryStatusChange EntryKind = "status_change" // status or owner changed
	EntryConversion   EntryKind = "conversion"    // the lead became a customer's deal
)

// ActivityKind is the kind of contact an activity records.
type ActivityKind string

// Activity kinds. A note is not contact with the lead; the others are.
const (
	ActivityCall    ActivityKind = "call"
	ActivityEmail   ActivityKind = "email"
	ActivityMeeting ActivityKind = "meeting"
	ActivityNote    ActivityKind = "note"
)

// IsContact reports whether the activity reached the lead, which is what
// the lead response time measures.
func (k ActivityKind) IsContact() bool {
	return k == ActivityCall || k == ActivityEmail || k == ActivityMeeting
}

// TimelineEntry is one thing that happened to a lead.
type TimelineEntry struct {
	ID     string
	LeadID string
	At     time.Time
	Kind   EntryKind
	Actor  string // staff subject; empty for the web form

	// Submission: what the form said this time.
	Message     string
	Attribution Attribution
	Custom      map[string]string

	// Activity.
	Activity ActivityKind
	Note     string

	// Status change.
	FromStatus LeadStatus
	ToStatus   LeadStatus
	Reason     string
	FromOwner  string
	ToOwner    string

	// Conversion.
	CustomerID string
	Deal       *Money
}

// LeadDetail is a lead with its whole timeline, oldest first.
type LeadDetail struct {
	Lead     Lead
	Timeline []TimelineEntry
}
