package links

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestNewKeyringRefusesBadKeys(t *testing.T) {
	ok := testKey("k1")
	many := make([]Key, maxKeys)
	for i := range many {
		many[i] = testKey(fmt.Sprintf("p%d", i))
	}
	for name, c := range map[string]struct {
		current  Key
		previous []Key
	}{
		"short secret":         {Key{ID: "k1", Secret: []byte(strings.Repeat("x", MinSecretLen-1))}, nil},
		"no secret":            {Key{ID: "k1"}, nil},
		"secret with space":    {Key{ID: "k1", Secret: []byte(strings.Repeat("x y", 20))}, nil},
		"secret with newline":  {Key{ID: "k1", Secret: []byte(strings.Repeat("xy\n", 20))}, nil},
		"binary secret":        {Key{ID: "k1", Secret: make([]byte, 64)}, nil},
		"empty id":             {Key{Secret: ok.Secret}, nil},
		"id of 9":              {Key{ID: "k12345678", Secret: ok.Secret}, nil},
		"id with dot":          {Key{ID: "k.1", Secret: ok.Secret}, nil},
		"id current":           {Key{ID: "current", Secret: ok.Secret}, nil},
		"bad previous":         {ok, []Key{{ID: "k0", Secret: []byte("short")}}},
		"duplicate id":         {ok, []Key{testKey("k0"), {ID: "k1", Secret: []byte(strings.Repeat("y", 40))}}},
		"more than sixteen":    {ok, many},
		"previous id too long": {ok, []Key{testKey("k12345678")}},
	} {
		if r, err := NewKeyring(c.current, c.previous...); err == nil {
			t.Errorf("%s: built %v, want an error", name, r)
		} else if strings.Contains(err.Error(), string(ok.Secret)) {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
	if _, err := NewKeyring(ok, many[:maxKeys-1]...); err != nil {
		t.Errorf("sixteen keys: %v", err)
	}
}

func TestNewKeyringCopiesSecrets(t *testing.T) {
	k := testKey("k1")
	k.Secret = []byte(string(k.Secret))
	r := ring(t, k)
	tok := mustSign(t, r, Ticket, ulid, expires)
	for i := range k.Secret {
		k.Secret[i] = 'x'
	}
	if _, err := r.Verify(tok, Ticket, now); err != nil {
		t.Errorf("changing the caller's secret changed the keyring: %v", err)
	}
}

func TestParseKeyringRoundTrip(t *testing.T) {
	r := ring(t, testKey("k2"), testKey("k1"), testKey("k0"))
	s := r.SecretString()
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || m["current"] != "k2" || m["k1"] != string(testKey("k1").Secret) || len(m) != 4 {
		t.Fatalf("SecretString is not the documented flat object: %s (%v)", s, err)
	}
	back, err := ParseKeyring(s)
	if err != nil {
		t.Fatal(err)
	}
	if back.Current() != "k2" || strings.Join(back.KeyIDs(), ",") != "k0,k1,k2" {
		t.Errorf("parsed back as %v", back)
	}
	if back.SecretString() != s {
		t.Errorf("SecretString is not stable:\n%s\n%s", s, back.SecretString())
	}
	// Tokens signed by either verify with the other.
	for _, pair := range [][2]*Keyring{{r, back}, {back, r}} {
		tok := mustSign(t, pair[0], Survey, ulid, expires)
		if c, err := pair[1].Verify(tok, Survey, now); err != nil || c.KeyID != "k2" {
			t.Errorf("across SecretString: %+v, %v", c, err)
		}
	}
}

// The secret the CDK stack generates: SecretStringTemplate {"current":"k1"},
// GenerateStringKey "k1", 64 characters without punctuation.
func TestParseKeyringAcceptsTheGeneratedSecret(t *testing.T) {
	s := `{"current":"k1","k1":"Vq3ZpR8sT1uW4xY7aB2cD5eF9gH0iJ6kL3mN8oP1qR4sT7uV0wX2yZ5aB8cD1eF4"}`
	r, err := ParseKeyring(s)
	if err != nil {
		t.Fatal(err)
	}
	if r.Current() != "k1" {
		t.Errorf("current %s", r.Current())
	}
	// Whitespace and member order are the JSON's business, not ours.
	if _, err := ParseKeyring("{\n  \"k1\": \"" + strings.Repeat("s", 40) + "\",\n  \"current\": \"k1\"\n}\n"); err != nil {
		t.Errorf("pretty-printed keyring: %v", err)
	}
}

func TestParseKeyringRefusesBadInput(t *testing.T) {
	secret := strings.Repeat("S3cr3t", 8)
	for name, s := range map[string]string{
		"empty":              "",
		"not JSON":           "k1=" + secret,
		"null":               "null",
		"array":              `["` + secret + `"]`,
		"string":             `"` + secret + `"`,
		"nested":             `{"current":{"id":"k1","secret":"` + secret + `"}}`,
		"number":             `{"current":"k1","k1":12345}`,
		"no current":         `{"k1":"` + secret + `"}`,
		"current unknown":    `{"current":"k2","k1":"` + secret + `"}`,
		"current is current": `{"current":"current"}`,
		"secret as current":  `{"current":"` + secret + `"}`,
		"secret as key id":   `{"current":"k1","k1":"` + secret + `","` + secret + `":"` + secret + `"}`,
		"short secret":       `{"current":"k1","k1":"short"}`,
		"bad previous id":    `{"current":"k1","k1":"` + secret + `","k 0":"` + secret + `"}`,
		"trailing garbage":   `{"current":"k1","k1":"` + secret + `"} x`,
		"too long":           `{"current":"k1","k1":"` + secret + `","pad":"` + strings.Repeat("p", maxSecretString) + `"}`,
	} {
		r, err := ParseKeyring(s)
		if err == nil {
			t.Errorf("%s: parsed %v, want an error", name, r)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "S3cr3t") {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Secret) != 43 || string(a.Secret) == string(b.Secret) {
		t.Errorf("generated secrets %d chars, distinct %v", len(a.Secret), string(a.Secret) != string(b.Secret))
	}
	r, err := NewKeyring(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseKeyring(r.SecretString()); err != nil {
		t.Errorf("a generated keyring does not parse back: %v", err)
	}
	for _, id := range []string{"", "current", "k.1", "toolongid"} {
		if _, err := GenerateKey(id); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", id)
		}
	}
}

// A key or keyring printed by mistake — on its own or inside a struct, with
// any verb — shows ids, never secrets.
func TestPrintingHidesSecrets(t *testing.T) {
	k := testKey("k1")
	r := ring(t, k, testKey("k0"))
	holder := struct {
		Key  Key
		Ring *Keyring
	}{k, r}
	// fmt cannot call String on unexported fields; it prints their insides.
	hidden := struct {
		ring  Keyring
		ringp *Keyring
	}{*r, r}
	asBytes := strings.Trim(fmt.Sprint([]byte("test-secret")), "[]")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{k, &k, r, holder, &holder, hidden, &hidden} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "test-secret") || strings.Contains(out, fmt.Sprintf("%x", "test-secret")) || strings.Contains(out, asBytes) {
				t.Errorf("%s of %T shows a secret: %s", verb, v, out)
			}
		}
	}
	if got := r.String(); got != "links.Keyring{current: k1, keys: [k0 k1]}" {
		t.Errorf("String() = %s", got)
	}
}

func TestRotationRefusals(t *testing.T) {
	r := ring(t, testKey("k2"), testKey("k1"))
	if _, err := r.Add(testKey("k1")); err == nil {
		t.Error("added a key id already in the ring")
	}
	if _, err := r.Add(Key{ID: "k3", Secret: []byte("short")}); err == nil {
		t.Error("added a bad key")
	}
	if _, err := r.Promote("k9"); err == nil {
		t.Error("promoted a key not in the ring")
	}
	if same, err := r.Promote("k2"); err != nil || same.Current() != "k2" {
		t.Errorf("promoting the current key: %v, %v", same, err)
	}
	if _, err := r.Retire("k2"); err == nil {
		t.Error("retired the current key")
	}
	if _, err := r.Retire("k9"); err == nil {
		t.Error("retired a key not in the ring")
	}
}
