package crm

// The cleaners sibling domains (tickets, surveys) check what the public
// types with, so a ticket form and a lead form strip markup, fold spaces
// and read addresses the same way.

// CleanText strips markup and control characters from s, keeps line
// breaks, and adds an error for field to v if s is not text or is longer
// than max characters after cleaning.
func CleanText(s string, max int, field string, v *Invalid) string {
	return cleanText(s, max, field, v)
}

// CleanLine is CleanText for one-line fields: whitespace runs become one
// space.
func CleanLine(s string, max int, field string, v *Invalid) string {
	return cleanLine(s, max, field, v)
}

// NormaliseEmail returns s lower-cased if it is a plain address with a
// domain, "" if it is empty, and adds an error for "email" to v otherwise.
func NormaliseEmail(s string, v *Invalid) string { return normaliseEmail(s, v) }

// NormalisePhone keeps a leading + and the digits of s (7 to 15 of them),
// adding an error for "phone" to v otherwise.
func NormalisePhone(s string, v *Invalid) string { return normalisePhone(s, v) }

// CleanCustom checks a form's custom fields: at most MaxCustomFields,
// names of lower-case letters, digits and _, one-line values.
func CleanCustom(in map[string]string, v *Invalid) map[string]string { return cleanCustom(in, v) }

// CleanURL returns s if it is an http or https URL, adding an error for
// field to v otherwise.
func CleanURL(s, field string, v *Invalid) string { return cleanURL(s, field, v) }

// PersonKeyOf identifies a person by their normalised email, else their
// phone, as leads and customers are found.
func PersonKeyOf(email, phone string) string { return personKey(email, phone) }

// IsYes reports whether a form's checkbox value means yes.
func IsYes(s string) bool { return yes(s) }
