package links

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Key is one signing key. It prints without its secret (String, Format), so
// a key printed by mistake does not end up in a log — except inside another
// type's unexported field, where fmt reads fields directly: hold keys in a
// Keyring, not in structs of your own.
type Key struct {
	// ID names the key inside every token it signs: 1–8 characters of
	// [0-9A-Za-z_-], not "current". It is not secret.
	ID string
	// Secret is the HMAC key: at least 32 bytes of printable ASCII, generated,
	// never typed. Text, so that it travels unchanged through JSON.
	Secret []byte
}

// MinSecretLen is the shortest secret a Key may have.
const MinSecretLen = 32

// currentMember is the JSON member that names the signing key.
const currentMember = "current"

// maxKeys bounds a keyring: one current key and the previous ones still
// verifying. More is a rotation that was never finished.
const maxKeys = 16

// maxSecretString bounds ParseKeyring's input (Secrets Manager's own limit
// is 64 KiB).
const maxSecretString = 64 << 10

// String describes the key without its secret.
func (k Key) String() string { return "links.Key{ID: " + k.ID + ", Secret: redacted}" }

// Format prints String for every verb: without it %d would print the
// secret's bytes.
func (k Key) Format(f fmt.State, verb rune) { io.WriteString(f, k.String()) }

func (k Key) check() error {
	if !validID(k.ID, maxKeyID) || k.ID == currentMember {
		return fmt.Errorf("links: key id %s is not 1-%d characters of [0-9A-Za-z_-] (and not %q)", showID(k.ID), maxKeyID, currentMember)
	}
	if len(k.Secret) < MinSecretLen {
		return fmt.Errorf("links: key %s: secret is shorter than %d bytes", k.ID, MinSecretLen)
	}
	for _, c := range k.Secret {
		if c < 0x21 || c > 0x7e {
			return fmt.Errorf("links: key %s: secret is not printable ASCII", k.ID)
		}
	}
	return nil
}

// showID quotes an id for an error message unless it is long enough to be a
// secret put in the wrong place: a secret has at least 32 bytes.
func showID(id string) string {
	if len(id) > 16 {
		return fmt.Sprintf("of %d characters", len(id))
	}
	return fmt.Sprintf("%q", id)
}

// GenerateKey returns a new key named id with 256 random bits from
// crypto/rand, written as 43 characters of base64url. The local stack uses
// it for its generated file, and a rotation for the next key.
func GenerateKey(id string) (Key, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Key{}, fmt.Errorf("links: generate key: %w", err)
	}
	k := Key{ID: id, Secret: []byte(enc.EncodeToString(b[:]))}
	if err := k.check(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// Keyring signs with its current key and verifies with the current and the
// previous keys. It is immutable, so one keyring is safely shared by every
// request; rotation builds a new one (Add, Promote, Retire). Its String
// hides the secrets.
type Keyring struct {
	current string // the id of the signing key
	// keys returns each key's secret, current included, by id. A func, so
	// that fmt shows an address whatever the verb, even for a Keyring inside
	// an unexported field, where fmt cannot call String.
	keys map[string]func() []byte
}

// key is the key named id, which must be in the ring.
func (k *Keyring) key(id string) Key { return Key{ID: id, Secret: k.keys[id]()} }

// NewKeyring returns a keyring that signs with current and also verifies
// tokens signed with any of previous. It copies the secrets. It refuses a
// key that breaks Key's rules, two keys with one id, and more than 16 keys.
func NewKeyring(current Key, previous ...Key) (*Keyring, error) {
	if 1+len(previous) > maxKeys {
		return nil, fmt.Errorf("links: %d keys, more than %d", 1+len(previous), maxKeys)
	}
	r := &Keyring{current: current.ID, keys: make(map[string]func() []byte, 1+len(previous))}
	for _, k := range append([]Key{current}, previous...) {
		if err := k.check(); err != nil {
			return nil, err
		}
		if _, dup := r.keys[k.ID]; dup {
			return nil, fmt.Errorf("links: key id %s appears twice", k.ID)
		}
		b := slices.Clone(k.Secret)
		r.keys[k.ID] = func() []byte { return b }
	}
	return r, nil
}

// ParseKeyring reads a keyring from its stored form, the flat JSON object
// described in the package doc: {"current":"k2","k2":"…","k1":"…"}. Its
// errors never quote a secret.
func ParseKeyring(s string) (*Keyring, error) {
	if len(s) > maxSecretString {
		return nil, fmt.Errorf("links: keyring is longer than %d bytes", maxSecretString)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		// json's messages may quote the input, which holds secrets.
		return nil, errors.New(`links: keyring is not a JSON object of strings such as {"current":"k1","k1":"…"}`)
	}
	cur, ok := m[currentMember]
	if !ok {
		return nil, fmt.Errorf("links: keyring has no %q member", currentMember)
	}
	secret, ok := m[cur]
	if !ok || cur == currentMember {
		return nil, fmt.Errorf("links: keyring's current key %s is not among its keys", showID(cur))
	}
	var previous []Key
	for id, s := range m {
		if id != currentMember && id != cur {
			previous = append(previous, Key{ID: id, Secret: []byte(s)})
		}
	}
	return NewKeyring(Key{ID: cur, Secret: []byte(secret)}, previous...)
}

// SecretString returns the keyring in its stored form, for Secrets Manager
// or the local file; ParseKeyring reads it back. It holds every secret:
// store it, never log it.
func (k *Keyring) SecretString() string {
	m := make(map[string]string, len(k.keys)+1)
	for id, s := range k.keys {
		m[id] = string(s())
	}
	m[currentMember] = k.current
	b, err := json.Marshal(m)
	if err != nil { // a map of strings always marshals
		panic(err)
	}
	return string(b)
}

// Current is the id of the key that signs.
func (k *Keyring) Current() string { return k.current }

// KeyIDs are the ids of every key that verifies, current included, sorted.
func (k *Keyring) KeyIDs() []string {
	ids := make([]string, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String describes the keyring without its secrets.
func (k *Keyring) String() string {
	return "links.Keyring{current: " + k.current + ", keys: [" + strings.Join(k.KeyIDs(), " ") + "]}"
}

// Format prints String for every verb.
func (k *Keyring) Format(f fmt.State, verb rune) { io.WriteString(f, k.String()) }

// previous returns every key but the current one, in id order.
func (k *Keyring) previous(except ...string) []Key {
	var ks []Key
	for _, id := range k.KeyIDs() {
		if id != k.current && !slices.Contains(except, id) {
			ks = append(ks, k.key(id))
		}
	}
	return ks
}

// Add returns a keyring that also verifies with next but still signs with
// the current key: the first step of a rotation, so every running function
// knows next before any signs with it.
func (k *Keyring) Add(next Key) (*Keyring, error) {
	return NewKeyring(k.key(k.current), append(k.previous(), next)...)
}

// Promote returns a keyring that signs with the key id, which must already
// be in the ring; the former current key goes on verifying.
func (k *Keyring) Promote(id string) (*Keyring, error) {
	if _, ok := k.keys[id]; !ok {
		return nil, fmt.Errorf("links: promote: no key %q in the keyring", id)
	}
	if id == k.current {
		return k, nil
	}
	return NewKeyring(k.key(id), append(k.previous(id), k.key(k.current))...)
}

// Retire returns a keyring without the previous key id, whose tokens then
// stop verifying. The current key cannot be retired; promote another first.
func (k *Keyring) Retire(id string) (*Keyring, error) {
	if id == k.current {
		return nil, fmt.Errorf("links: retire: %s is the current key; promote another first", id)
	}
	if _, ok := k.keys[id]; !ok {
		return nil, fmt.Errorf("links: retire: no key %q in the keyring", id)
	}
	return NewKeyring(k.key(k.current), k.previous(id)...)
}
