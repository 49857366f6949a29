package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Purpose says what a link opens. It is bound into the signature, so a token
// signed for one purpose never verifies for another.
type Purpose string

// The purposes of Rapport's public links.
const (
	// Ticket is a ticket's customer page, /t/{token}; the id is the ticket's.
	Ticket Purpose = "t"
	// Survey is a survey invitation, /s/{token}; the id is the invitation's.
	Survey Purpose = "s"
)

// Claims are what a valid token says.
type Claims struct {
	// ID is the subject the link was signed for: a ticket or invitation id.
	ID string
	// Expires is the first instant (UTC, whole seconds) at which the token
	// is no longer valid.
	Expires time.Time
	// KeyID names the key that signed the token, for metrics during a
	// rotation; it is not secret.
	KeyID string
}

var (
	// ErrInvalid is Verify's answer to every token it cannot vouch for:
	// malformed, truncated, altered, forged, signed with an unknown key or
	// for another purpose — and expired tokens whose signature is not valid.
	// Serve it as 404 with the friendly page.
	ErrInvalid = errors.New("links: invalid token")
	// ErrExpired is Verify's answer to a genuine token past its expiry.
	// Serve it as 410 with the friendly page.
	ErrExpired = errors.New("links: token expired")
)

const (
	version    = 1
	maxIDLen   = 64
	maxKeyID   = 8
	expiryLen  = 5
	tagLen     = 16
	maxExpiry  = 1<<(8*expiryLen) - 1
	maxPurpose = 32

	// Byte lengths of the shortest and longest tokens: the version, the key
	// id's length and the expiry, with 1-byte or the longest ids, and the tag.
	minBytes = 2 + 1 + expiryLen + 1 + tagLen
	maxBytes = 2 + maxKeyID + expiryLen + maxIDLen + tagLen
)

// enc is unpadded base64url. Its decoder is lenient (it skips newlines and
// ignores non-zero unused bits); Verify therefore insists on the canonical
// spelling by encoding the decoded bytes again.
var enc = base64.RawURLEncoding

// The encoded lengths that bound Verify's work before it decodes anything.
var (
	minTokenLen = enc.EncodedLen(minBytes)
	maxTokenLen = enc.EncodedLen(maxBytes)
)

// idChar reports whether c may appear in a subject or key id: the base64url
// alphabet, which covers ULIDs and UUIDs without hyphen trouble.
func idChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func validID(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return false
		}
	}
	return true
}

func (p Purpose) valid() bool {
	if len(p) == 0 || len(p) > maxPurpose {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Sign returns the token for a link to id for purpose, valid until expires
// (rounded down to the second), signed with the current key. Its errors are
// the caller's mistakes — an id outside 1–64 characters of [0-9A-Za-z_-], an
// unknown purpose shape, an expiry before 1970 or after the format's range —
// and name what was wrong.
func (k *Keyring) Sign(purpose Purpose, id string, expires time.Time) (string, error) {
	if k == nil || k.keys == nil {
		return "", errors.New("links: sign: keyring not built by NewKeyring or ParseKeyring")
	}
	return sign(k.key(k.current), purpose, id, expires)
}

func sign(key Key, purpose Purpose, id string, expires time.Time) (string, error) {
	if !purpose.valid() {
		return "", fmt.Errorf("links: sign: purpose %q is not 1-%d characters of [a-z0-9-]", purpose, maxPurpose)
	}
	if !validID(id, maxIDLen) {
		return "", fmt.Errorf("links: sign: id is not 1-%d characters of [0-9A-Za-z_-]", maxIDLen)
	}
	exp := expires.Unix()
	if expires.IsZero() || exp <= 0 || exp > maxExpiry {
		return "", fmt.Errorf("links: sign: expiry %s is outside the token's range", expires.UTC().Format(time.RFC3339))
	}
	b := make([]byte, 0, 2+len(key.ID)+expiryLen+len(id)+tagLen)
	b = append(b, version, byte(len(key.ID)))
	b = append(b, key.ID...)
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], uint64(exp))
	b = append(b, e[8-expiryLen:]...)
	b = append(b, id...)
	b = appendTag(b, key.Secret, purpose, b)
	return enc.EncodeToString(b), nil
}

// appendTag appends the truncated HMAC of purpose and body to dst.
func appendTag(dst, secret []byte, purpose Purpose, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte{byte(len(purpose))})
	m.Write([]byte(purpose))
	m.Write(body)
	var sum [sha256.Size]byte
	return append(dst, m.Sum(sum[:0])[:tagLen]...)
}

// Verify checks token for purpose at now and returns its claims. Its only
// errors are ErrInvalid and ErrExpired, unwrapped; on either, the claims are
// zero. The checks that need no key come first, and expiry last, so an
// expired token reports ErrExpired only when its signature is genuine.
func (k *Keyring) Verify(token string, purpose Purpose, now time.Time) (Claims, error) {
	if k == nil || len(token) < minTokenLen || len(token) > maxTokenLen || !purpose.valid() {
		return Claims{}, ErrInvalid
	}
	b, err := enc.DecodeString(token)
	if err != nil || enc.EncodeToString(b) != token {
		return Claims{}, ErrInvalid
	}
	if len(b) < minBytes || b[0] != version {
		return Claims{}, ErrInvalid
	}
	kl := int(b[1])
	rest := len(b) - 2 - kl - expiryLen - tagLen // the subject id's length
	if kl == 0 || kl > maxKeyID || rest < 1 || rest > maxIDLen {
		return Claims{}, ErrInvalid
	}
	kid := string(b[2 : 2+kl])
	s, ok := k.keys[kid]
	if !ok {
		return Claims{}, ErrInvalid
	}
	body, tag := b[:len(b)-tagLen], b[len(b)-tagLen:]
	var want [tagLen]byte
	if !hmac.Equal(appendTag(want[:0], s(), purpose, body), tag) {
		return Claims{}, ErrInvalid
	}
	var e [8]byte
	copy(e[8-expiryLen:], body[2+kl:])
	exp := int64(binary.BigEndian.Uint64(e[:]))
	id := string(body[2+kl+expiryLen:])
	if exp <= 0 || !validID(id, maxIDLen) {
		// Only a signer outside Sign's checks could produce these.
		return Claims{}, ErrInvalid
	}
	c := Claims{ID: id, Expires: time.Unix(exp, 0).UTC(), KeyID: kid}
	if !now.Before(c.Expires) {
		return Claims{}, ErrExpired
	}
	return c, nil
}
