package staff

import (
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/shared/crm"
)

// Limits on what a profile holds.
const (
	MaxName     = 200
	MaxEmail    = 254 // RFC 5321's limit on a path
	MaxTimeZone = 64
	MaxTeam     = 64
	MaxSubject  = 128
	// DefaultDigestHour is when a new profile's digest arrives.
	DefaultDigestHour = 8
	// MaxPage is the largest page a list returns; DefaultPage the size
	// when none is asked for.
	MaxPage     = 100
	DefaultPage = 25
)

// Roles a profile may record, lowest first.
var Roles = []string{"agent", "manager", "admin"}

var teamName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidSubject reports whether sub can be a token subject: 1 to 128
// printable ASCII characters without spaces. Cognito's are UUIDs; others
// (e.g. "auth0|5f…") fit too. A subject from a URL is checked before it
// reaches the store.
func ValidSubject(sub string) bool {
	if sub == "" || len(sub) > MaxSubject {
		return false
	}
	for i := 0; i < len(sub); i++ {
		if sub[i] <= ' ' || sub[i] > '~' {
			return false
		}
	}
	return true
}

// check normalises s and checks every field; all fields at fault are named
// in one EINVALID error, by their JSON names.
func check(s Settings) (Settings, error) {
	var v crm.Invalid
	s.Name = cleanName(s.Name, &v)
	s.Email = cleanEmail(s.Email, &v)
	s.TimeZone = cleanZone(s.TimeZone, &v)
	s.Team = cleanTeam(s.Team, &v)
	checkHour(s.DigestHour, &v)
	return s, v.Err()
}

func cleanName(s string, v *crm.Invalid) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxName {
		v.Add("name", "is longer than "+strconv.Itoa(MaxName)+" characters")
	}
	return s
}

// parseEmail returns s as a bare, lower-case address, or false.
func parseEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > MaxEmail || strings.ContainsAny(s, " \"") {
		return "", false
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", false
	}
	return strings.ToLower(s), true
}

func cleanEmail(s string, v *crm.Invalid) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	e, ok := parseEmail(s)
	if !ok {
		v.Add("email", "must be an email address such as ana@example.com")
	}
	return e
}

// cleanZone accepts IANA zone names only: not "" (which LoadLocation reads
// as UTC) and not "Local" (the host's zone, which differs between hosts).
func cleanZone(s string, v *crm.Invalid) string {
	s = strings.TrimSpace(s)
	const reason = "must be an IANA time zone such as Europe/Berlin"
	switch {
	case s == "":
		v.Add("time_zone", "is required ("+reason+")")
	case len(s) > MaxTimeZone || s == "Local":
		v.Add("time_zone", reason)
	default:
		if _, err := time.LoadLocation(s); err != nil {
			v.Add("time_zone", reason)
		}
	}
	return s
}

// cleanTeam lower-cases a team name and checks that it is a short name
// that can stand in a URL and an index key: teams are compared exactly.
func cleanTeam(s string, v *crm.Invalid) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s != "" && (len(s) > MaxTeam || !teamName.MatchString(s)) {
		v.Add("team", "must be up to "+strconv.Itoa(MaxTeam)+" lower-case letters, digits, - and _, such as sales-emea")
	}
	return s
}

func checkHour(h int, v *crm.Invalid) {
	if h < 0 || h > 23 {
		v.Add("digest.hour", "must be a whole hour from 0 to 23")
	}
}

// checkFilter checks a list's filters and sets the default page size.
func checkFilter(f Filter) (Filter, error) {
	var v crm.Invalid
	switch {
	case f.Limit == 0:
		f.Limit = DefaultPage
	case f.Limit < 1 || f.Limit > MaxPage:
		v.Add("limit", "must be between 1 and "+strconv.Itoa(MaxPage))
	}
	if f.Team != "" {
		f.Team = cleanTeam(f.Team, &v)
	}
	if f.Role != "" && !slices.Contains(Roles, f.Role) {
		v.Add("role", "must be agent, manager or admin")
	}
	return f, v.Err()
}
