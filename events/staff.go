package events

// Staff detail types.
const (
	StaffDigestDueType = "staff.digest_due"
)

// StaffDigestDue is published by a staff member's digest timer each day at
// the hour their profile names, in their own time zone. It is an internal
// trigger: the reminders function consumes it and sends that person's
// digest. It names the person by their token subject, an opaque id; the
// address the digest goes to is read from the profile when sending.
type StaffDigestDue struct {
	Metadata
	// Subject is the staff member's token subject ("sub").
	Subject string `json:"subject"`
	// TimeZone is the IANA zone the digest hour is in, as the profile held
	// it when the timer was armed.
	TimeZone string `json:"time_zone"`
	// DigestHour is the hour of the day (0–23) the digest is due.
	DigestHour int `json:"digest_hour"`
}

// EventSource implements Detail.
func (StaffDigestDue) EventSource() string { return SourceReminders }

// DetailType implements Detail.
func (StaffDigestDue) DetailType() string { return StaffDigestDueType }
