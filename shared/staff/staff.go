// Package staff keeps Rapport's staff profiles: who a token's subject is to
// Rapport — a display name, the address reminders go to, the IANA time zone
// reminders and digests are computed in, a team, and when the daily digest
// arrives. A profile is keyed by the token's "sub"; it is created with
// defaults the first time its owner reads it.
//
// Every profile write arms, moves or cancels the person's digest timer in
// the same transaction (see shared/timer), so the digest follows the
// profile exactly. The package imports the standard library, the event
// catalogue, the timer types and the crm error vocabulary only; nothing here
// knows about AWS or HTTP.
package staff

import (
	"context"
	"time"
	// Zones are checked with time.LoadLocation; the embedded database makes
	// the answer the same on every host, including Lambda images without
	// /usr/share/zoneinfo, at about 450 KB of binary.
	_ "time/tzdata"

	"github.com/rapportcrm/rapport/shared/timer"
)

// Profile is one staff member as Rapport knows them.
type Profile struct {
	// Subject is the token's "sub": stable and opaque, never a name or an
	// address.
	Subject string
	Name    string
	// Email is where reminders and digests go; empty until the token or
	// the person gives one.
	Email string
	// TimeZone is an IANA zone name such as "Europe/Berlin".
	TimeZone string
	// Team groups staff for team scorecards and escalations: a short
	// lower-case name such as "sales-emea", or empty.
	Team string
	// Role is the highest staff role ("agent", "manager", "admin") the
	// person's token carried the last time they used /me. The identity
	// provider's groups stay the authority for access; this copy lets
	// reminders find, say, the managers to escalate to.
	Role string
	// DigestEnabled and DigestHour (0–23, in TimeZone) say whether and
	// when the daily digest arrives.
	DigestEnabled bool
	DigestHour    int
	// Version grows by one with every write; If-Match names it.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Location returns the profile's time zone, or UTC if it cannot be loaded
// (profiles are checked when written, so only a zone later removed from the
// zone database can fail).
func (p Profile) Location() *time.Location {
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Identity is what the caller's token says about them.
type Identity struct {
	Subject string
	// Email is the token's email claim, if any; it fills a new profile's
	// address when it parses as one.
	Email string
	// Role is the highest staff role in the token's groups.
	Role string
}

// Settings are the fields a person sets on their own profile (PUT /me):
// all of them, as a PUT replaces.
type Settings struct {
	Name          string
	Email         string
	TimeZone      string
	Team          string
	DigestEnabled bool
	DigestHour    int
}

// Patch is an admin's edit of a profile (PATCH /staff/{sub}); nil fields
// stay as they are.
type Patch struct {
	Name          *string
	Email         *string
	TimeZone      *string
	Team          *string
	DigestEnabled *bool
	DigestHour    *int
}

// Filter selects profiles for a list. Zero fields do not filter.
type Filter struct {
	Team   string
	Role   string
	Limit  int
	Cursor string
}

// Page is one page of a list, ordered by subject; NextCursor is empty on
// the last page.
type Page struct {
	Items      []Profile
	NextCursor string
}

// TimerChange is what a profile write does to the person's digest timer.
// The zero value leaves it alone.
type TimerChange struct {
	// Arm arms this timer, replacing any with its id.
	Arm *timer.Timer
	// Cancel removes the timer with this id, if there is one.
	Cancel string
}

// Store keeps profiles and writes each profile's digest timer with it.
type Store interface {
	// Profile returns the profile of sub, read consistently. ENOTFOUND.
	Profile(ctx context.Context, sub string) (Profile, error)
	// Put stores p and applies t in one write. With prev 0 it creates p:
	// ECONFLICT when a profile of p.Subject exists (so concurrent first
	// reads create one). Otherwise only if the stored profile is still at
	// version prev: ENOTFOUND, EPRECONDITION when stale.
	Put(ctx context.Context, p Profile, prev int64, t TimerChange) error
	// List returns profiles ordered by subject, through an index, never a
	// scan. EINVALID for a cursor it did not make for these filters.
	List(ctx context.Context, f Filter) (Page, error)
}

// DigestTimerID is the id of sub's digest timer.
func DigestTimerID(sub string) string { return "digest#" + sub }
