package links

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// testKey is a fixed, obviously fake key, so failures reproduce.
func testKey(id string) Key {
	return Key{ID: id, Secret: []byte(strings.Repeat("test-secret-"+id+"-", 4))}
}

func ring(t testing.TB, current Key, previous ...Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const ulid = "01J9ZQ4X7G8H2K3M5N6P7Q8R9S"

var (
	now     = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	expires = now.Add(30 * 24 * time.Hour)
)

func mustSign(t testing.TB, r *Keyring, p Purpose, id string, exp time.Time) string {
	t.Helper()
	tok, err := r.Sign(p, id, exp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantErr fails unless err is exactly want: Verify's errors are the bare
// sentinels, never wrapped, so they carry nothing more.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if err != want {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func TestRoundTrip(t *testing.T) {
	r := ring(t, testKey("k1"))
	for _, p := range []Purpose{Ticket, Survey, "unsubscribe"} {
		for _, id := range []string{"x", ulid, "a-b_C9", strings.Repeat("Z", maxIDLen)} {
			exp := expires.Add(999 * time.Millisecond).In(time.FixedZone("x", 3600))
			tok := mustSign(t, r, p, id, exp)
			c, err := r.Verify(tok, p, now)
			if err != nil {
				t.Fatalf("%s %s: %v", p, id, err)
			}
			want := Claims{ID: id, Expires: expires, KeyID: "k1"}
			if c != want {
				t.Errorf("%s %s: claims %+v, want %+v (expiry rounded down, in UTC)", p, id, c, want)
			}
			if again := mustSign(t, r, p, id, exp); again != tok {
				t.Errorf("signing twice gave %s and %s; a token has one spelling", tok, again)
			}
		}
	}
}

func TestTokenLength(t *testing.T) {
	r := ring(t, testKey("k1"))
	for _, c := range []struct {
		key, id string
		want    int
	}{
		{"k1", ulid, 68},
		{"k", "x", minTokenLen},
		{"k1234567", strings.Repeat("x", maxIDLen), maxTokenLen},
	} {
		r := r
		if c.key != "k1" {
			r = ring(t, testKey(c.key))
		}
		tok := mustSign(t, r, Survey, c.id, expires)
		t.Logf("key id %d chars, subject id %d chars: token %d chars: %s", len(c.key), len(c.id), len(tok), tok)
		if len(tok) != c.want {
			t.Errorf("token for a %d-char id is %d chars, want %d", len(c.id), len(tok), c.want)
		}
	}
	if minTokenLen != 34 || maxTokenLen != 127 {
		t.Errorf("token lengths %d-%d, the package doc says 34-127", minTokenLen, maxTokenLen)
	}
}

// Every single-character change anywhere in a token — including changes
// the lenient base64 decoder would not even notice — is refused, and so is
// every single-bit change of the decoded bytes. The token is tested both
// before and after its expiry: tampering never reads as ErrExpired.
func TestTamperedAnywhere(t *testing.T) {
	r := ring(t, testKey("k1"))
	for _, id := range []string{ulid, ulid + "X", ulid + "XY"} { // 0, 2 and 4 unused bits at the end
		tok := mustSign(t, r, Ticket, id, expires)
		alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for _, at := range []time.Time{now, expires.Add(time.Hour)} {
			n := 0
			for i := range len(tok) {
				for _, c := range []byte(alphabet) {
					if c == tok[i] {
						continue
					}
					bad := tok[:i] + string(c) + tok[i+1:]
					if _, err := r.Verify(bad, Ticket, at); err != ErrInvalid {
						t.Fatalf("%s changed at %d to %q, at %s: %v, want ErrInvalid", tok, i, c, at, err)
					}
					n++
				}
			}
			raw, _ := enc.DecodeString(tok)
			for i := range raw {
				for bit := range 8 {
					b := bytes.Clone(raw)
					b[i] ^= 1 << bit
					if _, err := r.Verify(enc.EncodeToString(b), Ticket, at); err != ErrInvalid {
						t.Fatalf("byte %d bit %d flipped, at %s: %v, want ErrInvalid", i, bit, at, err)
					}
					n++
				}
			}
			if at == now {
				t.Logf("%d-char id: %d altered tokens refused", len(id), n)
			}
		}
	}
}

// A token whose last character differs only in bits the encoding does not
// use decodes, leniently, to the very same bytes; Verify refuses it, so the
// token has one spelling.
func TestNonCanonicalSpellingRefused(t *testing.T) {
	r := ring(t, testKey("k1"))
	tok := mustSign(t, r, Ticket, ulid+"X", expires) // 52 bytes: 4 unused bits at the end
	raw, _ := enc.DecodeString(tok)
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", tok[len(tok)-1])
	alias := tok[:len(tok)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])
	if alias == tok {
		t.Fatal("test is wrong: the alias is the token")
	}
	if b, err := enc.DecodeString(alias); err != nil || !bytes.Equal(b, raw) {
		t.Fatalf("test is wrong: the lenient decoder does not read the alias as the token (%v)", err)
	}
	if _, err := r.Verify(alias, Ticket, now); err != ErrInvalid {
		t.Errorf("non-canonical alias: %v, want ErrInvalid", err)
	}
	withNewline := tok[:20] + "\n" + tok[20:len(tok)-1]
	if _, err := r.Verify(withNewline, Ticket, now); err != ErrInvalid {
		t.Errorf("token with a newline the decoder skips: %v, want ErrInvalid", err)
	}
}

func TestTruncatedAndExtended(t *testing.T) {
	r := ring(t, testKey("k1"))
	tok := mustSign(t, r, Ticket, ulid, expires)
	for i := range len(tok) {
		_, err := r.Verify(tok[:i], Ticket, now)
		wantErr(t, "prefix of "+tok[:i], err, ErrInvalid)
		_, err = r.Verify(tok[i+1:], Ticket, now)
		wantErr(t, "suffix "+tok[i+1:], err, ErrInvalid)
	}
	for _, extra := range []string{"A", "AA", "AAA", "AAAA", "=", "==", " ", "\n", "\r\n", ".", "/", "?x=1", "%20"} {
		_, err := r.Verify(tok+extra, Ticket, now)
		wantErr(t, "token followed by "+extra, err, ErrInvalid)
		_, err = r.Verify(extra+tok, Ticket, now)
		wantErr(t, extra+" followed by the token", err, ErrInvalid)
	}
}

func TestWrongKey(t *testing.T) {
	tok := mustSign(t, ring(t, testKey("k1")), Ticket, ulid, expires)
	sameID := ring(t, Key{ID: "k1", Secret: []byte(strings.Repeat("another-secret-", 3))})
	_, err := sameID.Verify(tok, Ticket, now)
	wantErr(t, "same key id, other secret", err, ErrInvalid)
	_, err = ring(t, testKey("k2")).Verify(tok, Ticket, now)
	wantErr(t, "unknown key id", err, ErrInvalid)
	_, err = sameID.Verify(tok, Ticket, expires.Add(time.Hour))
	wantErr(t, "other secret, expired", err, ErrInvalid)
}

// The rotation the package doc prescribes: add, promote, retire.
func TestRotation(t *testing.T) {
	k1, k2 := testKey("k1"), testKey("k2")
	r1 := ring(t, k1)
	tok1 := mustSign(t, r1, Survey, ulid, expires)

	r2, err := r1.Add(k2)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := r2.Verify(mustSign(t, r2, Survey, ulid, expires), Survey, now); err != nil || c.KeyID != "k1" {
		t.Errorf("after Add the current key still signs: %+v, %v", c, err)
	}
	r3, err := r2.Promote("k2")
	if err != nil {
		t.Fatal(err)
	}
	tok2 := mustSign(t, r3, Survey, ulid, expires)
	for name, c := range map[string]struct {
		r    *Keyring
		tok  string
		want error
		kid  string
	}{
		"added key verifies before it signs":     {r2, tok2, nil, "k2"},
		"promoted ring verifies the new key":     {r3, tok2, nil, "k2"},
		"previous key verifies after rotation":   {r3, tok1, nil, "k1"},
		"a ring that never heard of k2 refuses":  {r1, tok2, ErrInvalid, ""},
		"the old ring still verifies its tokens": {r1, tok1, nil, "k1"},
	} {
		got, err := c.r.Verify(c.tok, Survey, now)
		wantErr(t, name, err, c.want)
		if got.KeyID != c.kid {
			t.Errorf("%s: key id %q, want %q", name, got.KeyID, c.kid)
		}
	}
	r4, err := r3.Retire("k1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r4.Verify(tok1, Survey, now)
	wantErr(t, "a retired key no longer verifies", err, ErrInvalid)
	_, err = r4.Verify(tok1, Survey, expires.Add(time.Hour))
	wantErr(t, "an expired token of a retired key", err, ErrInvalid)
	if _, err := r4.Verify(tok2, Survey, now); err != nil {
		t.Errorf("the current key after retiring k1: %v", err)
	}
	if got := r4.KeyIDs(); len(got) != 1 || got[0] != "k2" || r4.Current() != "k2" {
		t.Errorf("after retiring k1: current %s, keys %v", r4.Current(), got)
	}
	if _, err := r1.Verify(tok1, Survey, now); err != nil {
		t.Errorf("rotation changed the ring it started from: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	r := ring(t, testKey("k1"))
	tok := mustSign(t, r, Survey, ulid, expires)
	for _, c := range []struct {
		at   time.Time
		want error
	}{
		{expires.Add(-time.Nanosecond), nil},
		{expires, ErrExpired},
		{expires.Add(time.Nanosecond), ErrExpired},
		{expires.Add(10 * 365 * 24 * time.Hour), ErrExpired},
	} {
		got, err := r.Verify(tok, Survey, c.at)
		wantErr(t, "at "+c.at.String(), err, c.want)
		if err != nil && got != (Claims{}) {
			t.Errorf("at %s: claims %+v with an error, want none", c.at, got)
		}
	}
	// An expired token that fails in any other way is invalid, never expired:
	// only a genuine token learns that it expired.
	after := expires.Add(time.Hour)
	raw, _ := enc.DecodeString(tok)
	raw[len(raw)-1] ^= 1
	_, err := r.Verify(enc.EncodeToString(raw), Survey, after)
	wantErr(t, "expired, bad signature", err, ErrInvalid)
	_, err = r.Verify(tok, Ticket, after)
	wantErr(t, "expired, wrong purpose", err, ErrInvalid)
	_, err = ring(t, testKey("k9")).Verify(tok, Survey, after)
	wantErr(t, "expired, unknown key", err, ErrInvalid)
}

func TestWrongPurpose(t *testing.T) {
	r := ring(t, testKey("k1"))
	for _, c := range [][2]Purpose{{Ticket, Survey}, {Survey, Ticket}, {Survey, "ss"}, {Survey, ""}, {Survey, "S"}} {
		tok := mustSign(t, r, c[0], ulid, expires)
		_, err := r.Verify(tok, c[1], now)
		wantErr(t, string(c[0])+" token opened as "+string(c[1]), err, ErrInvalid)
	}
}

// forge builds a token by hand around body with a genuine tag, to reach the
// checks Verify makes after the signature.
func forge(key Key, p Purpose, body []byte) string {
	return enc.EncodeToString(appendTag(bytes.Clone(body), key.Secret, p, body))
}

func header(kid string, exp int64) []byte {
	b := []byte{version, byte(len(kid))}
	b = append(b, kid...)
	for i := expiryLen - 1; i >= 0; i-- {
		b = append(b, byte(exp>>(8*i)))
	}
	return b
}

func TestMalformed(t *testing.T) {
	k := testKey("k1")
	r := ring(t, k)
	tok := mustSign(t, r, Ticket, ulid, expires)
	exp := expires.Unix()
	for name, s := range map[string]string{
		"empty":              "",
		"one char":           "A",
		"shortest minus one": strings.Repeat("A", minTokenLen-1),
		"longest plus one":   strings.Repeat("A", maxTokenLen+1),
		"a megabyte":         strings.Repeat(tok, 1<<20/len(tok)),
		"spaces":             strings.Repeat(" ", len(tok)),
		"padded":             tok[:len(tok)-2] + "==",
		"standard base64":    strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+/",
		"percent-encoded":    "%41" + tok[3:],
		"not ASCII":          "é" + tok[2:],
		"NUL inside":         tok[:10] + "\x00" + tok[11:],
		"leading space":      " " + tok[1:],
		"dots":               tok[:20] + "." + tok[21:],
		"length 1 mod 4":     tok + "A",
		"version 0":          forge(k, Ticket, append([]byte{0}, header("k1", exp)[1:]...)),
		"version 2":          forge(k, Ticket, append(append([]byte{2}, header("k1", exp)[1:]...), ulid...)),
		"key id length 0":    forge(k, Ticket, append([]byte{version, 0, 0, 0, 0, 0, 1}, ulid...)),
		"key id length 9":    forge(k, Ticket, append(header("k1234567X", exp), ulid...)),
		"key id length 255":  forge(k, Ticket, append([]byte{version, 255, 'k', '1'}, ulid...)),
		"no subject id":      forge(k, Ticket, header("k1", exp)),
		"subject id 65":      forge(k, Ticket, append(header("k1", exp), strings.Repeat("x", 65)...)),
		"subject id slash":   forge(k, Ticket, append(header("k1", exp), "a/b"...)),
		"subject id NUL":     forge(k, Ticket, append(header("k1", exp), "a\x00b"...)),
		"subject id space":   forge(k, Ticket, append(header("k1", exp), "a b"...)),
		"expiry zero":        forge(k, Ticket, append(header("k1", 0), ulid...)),
		"tag of other key":   forge(testKey("k2"), Ticket, append(header("k1", exp), ulid...)),
		"tag of no purpose":  forge(k, "", append(header("k1", exp), ulid...)),
		"tag over no header": enc.EncodeToString(appendTag([]byte(ulid), k.Secret, Ticket, []byte(ulid))),
	} {
		for _, at := range []time.Time{now, time.Unix(1, 0)} {
			c, err := r.Verify(s, Ticket, at)
			wantErr(t, name, err, ErrInvalid)
			if c != (Claims{}) {
				t.Errorf("%s: claims %+v with an error", name, c)
			}
		}
	}
	// The forging helper is honest: with a well-formed body it makes a
	// token Verify accepts.
	if _, err := r.Verify(forge(k, Ticket, append(header("k1", exp), ulid...)), Ticket, now); err != nil {
		t.Fatalf("forge is broken: %v", err)
	}
	var nilRing *Keyring
	_, err := nilRing.Verify(tok, Ticket, now)
	wantErr(t, "nil keyring", err, ErrInvalid)
	_, err = new(Keyring).Verify(tok, Ticket, now)
	wantErr(t, "zero keyring", err, ErrInvalid)
}

func TestSignRefusesBadInput(t *testing.T) {
	r := ring(t, testKey("k1"))
	for name, c := range map[string]struct {
		p   Purpose
		id  string
		exp time.Time
	}{
		"empty id":        {Ticket, "", expires},
		"id of 65":        {Ticket, strings.Repeat("x", 65), expires},
		"id with slash":   {Ticket, "a/b", expires},
		"id with dot":     {Ticket, "a.b", expires},
		"id not ASCII":    {Ticket, "é", expires},
		"empty purpose":   {"", ulid, expires},
		"upper purpose":   {"T", ulid, expires},
		"purpose space":   {"t s", ulid, expires},
		"long purpose":    {Purpose(strings.Repeat("p", 33)), ulid, expires},
		"zero expiry":     {Ticket, ulid, time.Time{}},
		"expiry 1970":     {Ticket, ulid, time.Unix(0, 0)},
		"expiry pre-1970": {Ticket, ulid, time.Unix(-5, 0)},
		"expiry too late": {Ticket, ulid, time.Unix(maxExpiry+1, 0)},
	} {
		if tok, err := r.Sign(c.p, c.id, c.exp); err == nil {
			t.Errorf("%s: signed %s, want an error", name, tok)
		}
	}
	if _, err := r.Sign(Ticket, ulid, time.Unix(maxExpiry, 0)); err != nil {
		t.Errorf("the latest expiry: %v", err)
	}
	var nilRing *Keyring
	if _, err := nilRing.Sign(Ticket, ulid, expires); err == nil {
		t.Error("a nil keyring signed")
	}
	if _, err := new(Keyring).Sign(Ticket, ulid, expires); err == nil {
		t.Error("a zero keyring signed, with an empty secret")
	}
}

func BenchmarkSign(b *testing.B) {
	r := ring(b, testKey("k1"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Sign(Survey, ulid, expires); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	r := ring(b, testKey("k1"), testKey("k0"))
	tok := mustSign(b, r, Survey, ulid, expires)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Verify(tok, Survey, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyOversized is the cost of refusing hostile input: a length
// comparison, whatever the size.
func BenchmarkVerifyOversized(b *testing.B) {
	r := ring(b, testKey("k1"))
	huge := strings.Repeat("A", 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Verify(huge, Survey, now); err != ErrInvalid {
			b.Fatal(err)
		}
	}
}
