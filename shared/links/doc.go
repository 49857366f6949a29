// Package links signs and verifies the tokens in Rapport's public links: a
// ticket's customer page (/t/{token}) and a survey invitation (/s/{token}).
// A token proves that Rapport issued a link for one subject (a ticket or
// an invitation id) for one purpose until one instant; it is not a
// password, not encrypted, and not single-use by itself. It is pure Go
// over the standard library: no AWS, no HTTP, no clock of its own.
//
// # Using it
//
// Build one *Keyring per cold start (see "Keys" below) and share it; it is
// safe for concurrent use. Issue a link:
//
//	tok, err := ring.Sign(links.Survey, invitationID, now.Add(30*24*time.Hour))
//	url := base + "/s/" + tok
//
// Open one:
//
//	c, err := ring.Verify(tok, links.Survey, now)
//	switch {
//	case errors.Is(err, links.ErrExpired): // 410 with the friendly page
//	case err != nil:                       // links.ErrInvalid: 404 with the friendly page
//	default:                               // c.ID is the invitation id; load it
//	}
//
// Verify returns exactly ErrInvalid or ErrExpired, never a wrapped or more
// detailed error, so nothing about why a token failed can reach a page or a
// log. ErrExpired is returned only for a token whose signature is valid: a
// forged or altered token that claims to be expired is ErrInvalid, so an
// attacker learns nothing from the difference between 404 and 410. Log
// neither the token (it opens the page until it expires) nor the error's
// cause; a count of failures by error is enough.
//
// The purpose (Ticket, Survey) is bound into the signature, so a survey
// token never opens a ticket page and the reverse. Give each new kind of
// link its own Purpose constant here rather than reusing one.
//
// # What the consumer still owns
//
//   - Single use. A token stays valid until it expires, however often it is
//     presented. Surveys enforce single use in the store, by the subject id
//     (a conditional write on the invitation), never by the token string:
//     signing again for the same invitation (a reminder, a new key) gives a
//     different token for the same subject.
//   - Existence. A valid token may name a ticket or invitation that has since
//     been deleted; answer that with the same friendly 404.
//   - Nothing written on failure. Verify before any store call; a token that
//     fails must change nothing.
//
// # Token format
//
// A token is the unpadded base64url (RFC 4648 §5) encoding of
//
//	version (1 byte, 1) | key id length (1) | key id (1–8) |
//	expiry (5 bytes, big-endian unix seconds) | subject id (1–64) | tag (16)
//
// where tag is HMAC-SHA256, truncated to its first 16 bytes, keyed with the
// named key over len(purpose) | purpose | every byte before the tag. The
// subject id is whatever lies between the expiry and the tag, so it needs no
// length of its own. A 26-character id (a ULID) with a 2-character key id
// gives a 68-character token, from 34 (1-character ids) to 127 (longest).
// The alphabet [A-Za-z0-9_-] needs no escaping in a URL path segment, and
// quoted-printable mail bodies leave it alone (padding '=' would become
// "=3D").
//
// Choices, and why:
//
//   - The purpose is signed but not carried: the page verifying a token
//     already knows which purpose it serves, so carrying it would add a byte
//     and no check the signature does not already make.
//   - A 128-bit tag. Forging a token means guessing a tag online, one HTTP
//     request per guess, with a chance of 2⁻¹²⁸ each; truncation of HMAC to
//     half its output is allowed by RFC 2104 §5 and NIST SP 800-107, and
//     saves 22 characters in a ULID's link.
//   - Five bytes of expiry last until the year 36812 (four would end in 2106).
//     Expiry is whole seconds; Sign rounds down, so a link never outlives the
//     instant asked for. A token is valid while now is before its expiry.
//   - One spelling per token. Verify refuses any string that is not exactly
//     the canonical encoding of its bytes (a newline that the base64 decoder
//     would skip, non-zero unused bits in the last character), and since
//     HMAC is deterministic each (purpose, id, expiry, key) has exactly one
//     token. So anything keyed by the token string — a rate limit, a cache,
//     a hash in an audit record, an idempotency key — cannot be side-stepped
//     by spelling the same token another way, and a token seen once is
//     recognised when it comes back.
//   - Bounded work. Input longer than the longest possible token is refused
//     before it is decoded, so a hostile megabyte costs a length comparison.
//   - The version byte lets a later format be verified beside this one while
//     its links are still out.
//
// # Keys
//
// A key is an id (1–8 characters of [0-9A-Za-z_-], e.g. "k1") and a secret
// of at least 32 printable ASCII bytes. A Keyring signs with its current key
// and verifies with the current key and any previous ones, so links signed
// before a rotation keep working until they expire. Secrets are text so that
// they travel unchanged through JSON, Secrets Manager and the local file.
//
// A keyring is stored as one flat JSON object: "current" names the signing
// key, and every other member is a key id and its secret:
//
//	{"current":"k2","k2":"…secret…","k1":"…previous secret…"}
//
// ParseKeyring reads it and Keyring.SecretString writes it. The format is
// flat so that the CDK stack can generate the first key with Secrets
// Manager's own generator — a SecretStringTemplate of {"current":"k1"} with
// GenerateStringKey "k1", PasswordLength 64 and ExcludePunctuation (the
// generator fills only a top-level member) — and so that the Secrets Manager
// console shows it as key/value pairs.
//
//   - In AWS: that secret; a function reads it at cold start
//     (secretsmanager GetSecretValue, then ParseKeyring) and is granted read
//     on that one secret only.
//   - Locally: a file under .rapport (for example .rapport/links.json, mode
//     0600, ignored by git) written on first start — the SecretString of a
//     keyring of one key from GenerateKey("k1") — and read with ParseKeyring
//     on every start, so links in the local outbox survive a restart.
//
// # Rotating a key
//
// Running functions hold the keyring they read at cold start, so a new key
// must be known to every function before any of them signs with it:
//
//  1. Add: ring.Add(k2), k2 from GenerateKey("k2"), and store the result. The new key only
//     verifies for now. Wait until every function has read it (redeploy, or
//     wait out the longest-lived execution environment).
//  2. Promote: ring.Promote("k2") and store. New links are signed with k2; k1
//     still verifies.
//  3. Retire: once the longest link lifetime (30 days for surveys; the ticket
//     page's lifetime if longer) has passed since every function read the
//     ring of step 2, ring.Retire("k1") and store. Links signed with k1 get
//     the 404 page as each function reads the new ring.
//
// After a leak, skip the waits: promote a new key and retire the leaked one
// at once, then redeploy so that no warm function keeps the leaked key,
// accepting that links signed with it stop working.
package links
