package ticket

import (
	"strings"
	"time"

	"github.com/rapportcrm/rapport/shared/links"
)

// LinkTTL is how long a link to a ticket's customer page works after it
// is signed. Every ticket email signs a fresh one, so a customer answering
// the latest mail always has a working link.
const LinkTTL = 60 * 24 * time.Hour

// PagePath is where a ticket's customer page lives, before its token.
const PagePath = "/t/"

// PageLink returns the link to ticket id's customer page under baseURL
// (such as "https://crm.example.com"), signed with keys until expires:
// what the ticket emails carry and what the page sends a customer to.
// Its errors are the caller's mistakes (no keyring, an id that is not a
// ticket id).
func PageLink(keys *links.Keyring, baseURL, ticketID string, expires time.Time) (string, error) {
	tok, err := keys.Sign(links.Ticket, ticketID, expires)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(baseURL, "/") + PagePath + tok, nil
}
