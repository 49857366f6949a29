package staff

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/shared/crm"
	"github.com/rapportcrm/rapport/shared/timer"
)

// Service is what staff do with profiles: read and set their own, and for
// admins list and edit everyone's. Other capabilities (reminders) read
// profiles through it too.
type Service struct {
	Store Store
	// Now is the clock; tests set it.
	Now func() time.Time
	// OrgZone is the organisation's time zone, a new profile's default.
	OrgZone *time.Location
}

// attempts bounds the read-and-write rounds of a write that lost a race
// with another write of the same profile; three are enough for a person
// editing their own profile.
const attempts = 3

// Me returns the caller's profile, creating it on first use with the
// defaults: the organisation's zone, the digest on at 08:00, and the
// token's email claim when it is an address. Concurrent first reads create
// one profile. A role that differs from the stored one is recorded.
func (s *Service) Me(ctx context.Context, id Identity) (Profile, error) {
	if !ValidSubject(id.Subject) {
		return Profile{}, crm.Errorf(crm.EUNAUTHORIZED, "the token has no usable subject")
	}
	for range attempts {
		p, err := s.Store.Profile(ctx, id.Subject)
		switch crm.ErrorCode(err) {
		case "":
			if id.Role == "" || id.Role == p.Role {
				return p, nil
			}
			next := p
			next.Role, next.Version, next.UpdatedAt = id.Role, p.Version+1, s.now()
			err = s.Store.Put(ctx, next, p.Version, TimerChange{})
			if crm.ErrorCode(err) == crm.EPRECONDITION {
				continue
			}
			return next, err
		case crm.ENOTFOUND:
			p := s.fresh(id)
			tc, err := s.timerChange(nil, p)
			if err != nil {
				return Profile{}, err
			}
			err = s.Store.Put(ctx, p, 0, tc)
			if crm.ErrorCode(err) == crm.ECONFLICT {
				continue // created meanwhile by a concurrent first read: read it
			}
			return p, err
		default:
			return Profile{}, err
		}
	}
	return Profile{}, crm.Errorf(crm.ECONFLICT, "your profile is being changed elsewhere; try again")
}

// fresh returns a new profile of id with the defaults, at version 1.
func (s *Service) fresh(id Identity) Profile {
	now := s.now()
	p := Profile{
		Subject: id.Subject, TimeZone: s.orgZone().String(), Role: id.Role,
		DigestEnabled: true, DigestHour: DefaultDigestHour,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if e, ok := parseEmail(id.Email); ok {
		p.Email = e
	}
	return p
}

// UpdateMe replaces the settings of the caller's profile, creating it if
// need be. With ifMatch (0: none) it changes the profile only if it is
// still at that version; without, it applies to whatever is stored.
func (s *Service) UpdateMe(ctx context.Context, id Identity, set Settings, ifMatch int64) (Profile, error) {
	if !ValidSubject(id.Subject) {
		return Profile{}, crm.Errorf(crm.EUNAUTHORIZED, "the token has no usable subject")
	}
	set, err := check(set)
	if err != nil {
		return Profile{}, err
	}
	for range attempts {
		cur, err := s.Store.Profile(ctx, id.Subject)
		isNew := crm.ErrorCode(err) == crm.ENOTFOUND
		switch {
		case err != nil && !isNew:
			return Profile{}, err
		case ifMatch != 0 && (isNew || cur.Version != ifMatch):
			return Profile{}, crm.Errorf(crm.EPRECONDITION, "your profile has changed since version %d; read it again", ifMatch)
		}
		var prev *Profile
		next := s.fresh(id)
		if !isNew {
			prev, next = &cur, cur
		}
		next.Name, next.Email, next.TimeZone, next.Team = set.Name, set.Email, set.TimeZone, set.Team
		next.DigestEnabled, next.DigestHour = set.DigestEnabled, set.DigestHour
		if id.Role != "" {
			next.Role = id.Role
		}
		p, err := s.save(ctx, prev, next)
		if c := crm.ErrorCode(err); ifMatch == 0 && (c == crm.ECONFLICT || c == crm.EPRECONDITION) {
			continue // someone wrote meanwhile; apply ours to what they wrote
		}
		return p, err
	}
	return Profile{}, crm.Errorf(crm.ECONFLICT, "your profile is being changed elsewhere; try again")
}

// Profile returns the profile of sub, for other capabilities (reminders
// read the address, zone and team of the person they remind). ENOTFOUND
// when sub has never used Rapport.
func (s *Service) Profile(ctx context.Context, sub string) (Profile, error) {
	if !ValidSubject(sub) {
		return Profile{}, crm.Errorf(crm.ENOTFOUND, "no profile %s", sub)
	}
	return s.Store.Profile(ctx, sub)
}

// List lists profiles ordered by subject, optionally of one team or one
// role.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	f, err := checkFilter(f)
	if err != nil {
		return Page{}, err
	}
	return s.Store.List(ctx, f)
}

// Update applies an admin's patch to the profile of sub if it is still at
// version ifMatch, which is required: an admin edits what they read.
func (s *Service) Update(ctx context.Context, sub string, patch Patch, ifMatch int64) (Profile, error) {
	if ifMatch <= 0 {
		return Profile{}, crm.Errorf(crm.EPRECONDITIONREQUIRED, "send If-Match with the ETag of the profile you read")
	}
	// Check the whole patch before reading anything.
	var v crm.Invalid
	clean := func(field **string, f func(string, *crm.Invalid) string) {
		if *field != nil {
			c := f(**field, &v)
			*field = &c
		}
	}
	clean(&patch.Name, cleanName)
	clean(&patch.Email, cleanEmail)
	clean(&patch.TimeZone, cleanZone)
	clean(&patch.Team, cleanTeam)
	if patch.DigestHour != nil {
		checkHour(*patch.DigestHour, &v)
	}
	if err := v.Err(); err != nil {
		return Profile{}, err
	}
	cur, err := s.Profile(ctx, sub)
	if err != nil {
		return Profile{}, err
	}
	if cur.Version != ifMatch {
		return Profile{}, crm.Errorf(crm.EPRECONDITION, "profile %s has changed since version %d; read it again", sub, ifMatch)
	}
	next := cur
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&next.Name, patch.Name)
	set(&next.Email, patch.Email)
	set(&next.TimeZone, patch.TimeZone)
	set(&next.Team, patch.Team)
	if patch.DigestEnabled != nil {
		next.DigestEnabled = *patch.DigestEnabled
	}
	if patch.DigestHour != nil {
		next.DigestHour = *patch.DigestHour
	}
	return s.save(ctx, &cur, next)
}

// save writes next over prev (nil: creates it) with the digest timer
// change it implies. An unchanged profile is not written.
func (s *Service) save(ctx context.Context, prev *Profile, next Profile) (Profile, error) {
	var prevVersion int64
	if prev != nil {
		if sameSettings(*prev, next) {
			return *prev, nil
		}
		prevVersion = prev.Version
		next.Version, next.UpdatedAt = prev.Version+1, s.now()
	}
	tc, err := s.timerChange(prev, next)
	if err != nil {
		return Profile{}, err
	}
	if err := s.Store.Put(ctx, next, prevVersion, tc); err != nil {
		return Profile{}, err
	}
	return next, nil
}

func sameSettings(a, b Profile) bool {
	return a.Name == b.Name && a.Email == b.Email && a.TimeZone == b.TimeZone && a.Team == b.Team &&
		a.Role == b.Role && sameDigest(a, b)
}

// sameDigest reports whether two profiles' digests fall due alike.
func sameDigest(a, b Profile) bool {
	return a.DigestEnabled == b.DigestEnabled && (!a.DigestEnabled || a.DigestHour == b.DigestHour && a.TimeZone == b.TimeZone)
}

// timerChange is what writing next over prev (nil for a new profile) does
// to the digest timer. A write that leaves the digest's zone, hour and
// switch alone leaves the timer alone: re-arming it would move a digest
// that is due but not yet swept to tomorrow.
func (s *Service) timerChange(prev *Profile, next Profile) (TimerChange, error) {
	switch {
	case prev != nil && sameDigest(*prev, next):
		return TimerChange{}, nil
	case !next.DigestEnabled && prev == nil:
		return TimerChange{}, nil
	case !next.DigestEnabled:
		return TimerChange{Cancel: DigestTimerID(next.Subject)}, nil
	}
	t, err := DigestTimer(next, s.now())
	if err != nil {
		return TimerChange{}, err
	}
	return TimerChange{Arm: &t}, nil
}

// DigestTimer returns p's digest timer as armed at now: due at the next
// DigestHour:00 in p's zone after now, repeating daily.
func DigestTimer(p Profile, now time.Time) (timer.Timer, error) {
	daily := timer.Daily{Zone: p.Location(), Hour: p.DigestHour}
	t, err := timer.Arm(DigestTimerID(p.Subject), daily.Next(now), events.StaffDigestDue{
		Subject: p.Subject, TimeZone: p.TimeZone, DigestHour: p.DigestHour,
	})
	if err != nil {
		return timer.Timer{}, err
	}
	t.Daily = &daily
	return t, nil
}

// now is the clock in UTC to the millisecond, the precision the store
// keeps, so a profile answered after a write equals the one read later.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) orgZone() *time.Location {
	if s.OrgZone == nil {
		return time.UTC
	}
	return s.OrgZone
}
