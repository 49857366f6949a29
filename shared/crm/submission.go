package crm

import (
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Submission is a web form submission as the visitor typed it: raw text,
// not yet trusted. Capture normalises and checks it.
type Submission struct {
	Name, Email, Phone, Company, Message string
	Source                               string
	UTMSource, UTMMedium, UTMCampaign    string
	UTMTerm, UTMContent                  string
	Referrer, PageURL                    string
	Consent                              string // "on", "true", "yes" or "1" mean yes
	Custom                               map[string]string
	// Honeypot is the hidden "website" field. People never see it; bots
	// fill it in.
	Honeypot string
}

// Limits on what a form may send.
const (
	MaxCustomFields   = 20
	maxCustomKeyLen   = 40
	maxCustomValueLen = 500
	maxShortText      = 200
	maxMessage        = 5000
	maxURL            = 2000
	maxEmail          = 254
)

var customKey = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// Intake is a checked submission: the lead it describes (without id,
// status or times) and the timeline entry that records it.
type Intake struct {
	Lead  Lead
	Entry TimelineEntry
}

// CheckSubmission normalises sub and checks every field. All fields at
// fault are named in one EINVALID error.
func CheckSubmission(sub Submission) (Intake, error) {
	var v Invalid
	l := Lead{
		Name:    cleanLine(sub.Name, maxShortText, "name", &v),
		Company: cleanLine(sub.Company, maxShortText, "company", &v),
		Consent: yes(sub.Consent),
		Attribution: Attribution{
			UTMSource:   cleanLine(sub.UTMSource, maxShortText, "utm_source", &v),
			UTMMedium:   cleanLine(sub.UTMMedium, maxShortText, "utm_medium", &v),
			UTMCampaign: cleanLine(sub.UTMCampaign, maxShortText, "utm_campaign", &v),
			UTMTerm:     cleanLine(sub.UTMTerm, maxShortText, "utm_term", &v),
			UTMContent:  cleanLine(sub.UTMContent, maxShortText, "utm_content", &v),
			Referrer:    cleanURL(sub.Referrer, "referrer", &v),
			PageURL:     cleanURL(sub.PageURL, "page_url", &v),
		},
	}
	l.Email = normaliseEmail(sub.Email, &v)
	l.Phone = normalisePhone(sub.Phone, &v)
	if strings.TrimSpace(sub.Email) == "" && strings.TrimSpace(sub.Phone) == "" {
		v.Add("email", "an email address or a phone number is required")
	}
	l.Source = leadSource(cleanLine(sub.Source, maxShortText, "source", &v), l.Attribution)
	l.Custom = cleanCustom(sub.Custom, &v)
	entry := TimelineEntry{
		Kind:        EntrySubmission,
		Message:     cleanText(sub.Message, maxMessage, "message", &v),
		Attribution: l.Attribution,
		Custom:      l.Custom,
	}
	return Intake{Lead: l, Entry: entry}, v.Err()
}

func yes(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "true", "yes", "1":
		return true
	}
	return false
}

// leadSource picks the lead's source: the form's own word first, then the
// campaign's, then the referring site.
func leadSource(explicit string, a Attribution) string {
	switch {
	case explicit != "":
		return strings.ToLower(explicit)
	case a.UTMSource != "":
		return strings.ToLower(a.UTMSource)
	case a.Referrer != "":
		if u, err := url.Parse(a.Referrer); err == nil && u.Hostname() != "" {
			return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
		}
	}
	return "website"
}

var tag = regexp.MustCompile(`<[^>]*>`)

// cleanText strips markup and control characters, keeps line breaks, and
// checks the length in characters after cleaning.
func cleanText(s string, max int, field string, v *Invalid) string {
	if !utf8.ValidString(s) {
		v.Add(field, "is not valid UTF-8 text")
		return ""
	}
	s = tag.ReplaceAllString(s, " ")
	s = strings.NewReplacer("<", "", ">", "", "\r\n", "\n", "\r", "\n").Replace(s)
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(collapseSpaces(s))
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "is longer than "+strconv.Itoa(max)+" characters")
		return ""
	}
	return s
}

// collapseSpaces folds each run of spaces and tabs into one space, keeping
// line breaks, so that "<b>Call</b> me" reads "Call me" once tags are gone.
func collapseSpaces(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// cleanLine is cleanText for one-line fields: whitespace runs become one
// space.
func cleanLine(s string, max int, field string, v *Invalid) string {
	return strings.Join(strings.Fields(cleanText(s, max, field, v)), " ")
}

func cleanURL(s string, field string, v *Invalid) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > maxURL {
		v.Add(field, "is longer than "+strconv.Itoa(maxURL)+" characters")
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Add(field, "must be an http or https URL")
		return ""
	}
	return u.String()
}

func normaliseEmail(s string, v *Invalid) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > maxEmail || strings.ContainsAny(s, " \"") {
		v.Add("email", "must be an email address such as ada@example.com")
		return ""
	}
	at := strings.LastIndexByte(s, '@')
	if domain := s[at+1:]; !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		v.Add("email", "must have a domain such as example.com")
		return ""
	}
	return strings.ToLower(s)
}

// normalisePhone keeps a leading + and the digits, so "+49 (30) 1234-567"
// and "+4930 1234567" are one person. Numbers have 7 to 15 digits (E.164).
func normalisePhone(s string, v *Invalid) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" -.()/", r):
		default:
			v.Add("phone", "may hold only digits, spaces, a leading + and - . ( ) /")
			return ""
		}
	}
	p := b.String()
	if d := len(strings.TrimPrefix(p, "+")); d < 7 || d > 15 {
		v.Add("phone", "must have 7 to 15 digits")
		return ""
	}
	return p
}

func cleanCustom(in map[string]string, v *Invalid) map[string]string {
	if len(in) == 0 {
		return nil
	}
	if len(in) > MaxCustomFields {
		v.Add("custom", "has more than "+strconv.Itoa(MaxCustomFields)+" fields")
		return nil
	}
	out := make(map[string]string, len(in))
	for k, val := range in {
		if !customKey.MatchString(k) {
			v.Add("custom."+truncate(k, maxCustomKeyLen), "names must be 1 to 40 lower-case letters, digits or _")
			continue
		}
		if c := cleanLine(val, maxCustomValueLen, "custom."+k, v); c != "" {
			out[k] = c
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
