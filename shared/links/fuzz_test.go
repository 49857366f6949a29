package links

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz target's fixed world: k1 signs, k0 and k1234567 (the longest key
// id) still verify, and it is fuzzNow. The seeds in
// testdata/fuzz/FuzzVerify were signed in it.
var fuzzNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func fuzzRing(t testing.TB) *Keyring {
	return ring(t, testKey("k1"), testKey("k0"), testKey("k1234567"))
}

// FuzzVerify feeds arbitrary strings to Verify. It must never panic, answer
// only nil, ErrInvalid or ErrExpired, and whatever it accepts — now, or
// before the expiry for ErrExpired — must be the one spelling that signing
// its claims again gives, and must not open a page of another purpose.
func FuzzVerify(f *testing.F) {
	r := fuzzRing(f)
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := r.Verify(tok, Ticket, fuzzNow)
		switch err {
		case nil:
			if !fuzzNow.Before(c.Expires) {
				t.Fatalf("accepted at %s a token expiring %s", fuzzNow, c.Expires)
			}
		case ErrExpired:
			// Only a genuine token may say it expired: before its expiry
			// it verifies.
			if c != (Claims{}) {
				t.Fatalf("claims %+v with ErrExpired", c)
			}
			if c, err = r.Verify(tok, Ticket, time.Unix(0, 0)); err != nil {
				t.Fatalf("ErrExpired for a token that does not verify before its expiry: %v", err)
			}
		case ErrInvalid:
			if c != (Claims{}) {
				t.Fatalf("claims %+v with ErrInvalid", c)
			}
			return
		default:
			t.Fatalf("error %v is neither ErrInvalid nor ErrExpired", err)
		}
		again, err := sign(r.key(c.KeyID), Ticket, c.ID, c.Expires)
		if err != nil {
			t.Fatalf("accepted claims %+v do not sign: %v", c, err)
		}
		if again != tok {
			t.Fatalf("accepted %q, but its claims sign as %q", tok, again)
		}
		if _, err := r.Verify(tok, Survey, time.Unix(0, 0)); err != ErrInvalid {
			t.Fatalf("a ticket token opened a survey: %v", err)
		}
	})
}

// The seed corpus says what each seed is; this test keeps the seeds true to
// their names, so a change of format cannot quietly turn the "valid" seed
// into one more invalid string and leave the accepting paths unfuzzed.
func TestFuzzSeedsAreWhatTheirNamesSay(t *testing.T) {
	r := fuzzRing(t)
	want := map[string]error{
		"valid":             nil,
		"valid-previous":    nil,
		"expired":           ErrExpired,
		"tampered":          ErrInvalid,
		"tampered-expired":  ErrInvalid,
		"truncated":         ErrInvalid,
		"trailing":          ErrInvalid,
		"newline":           ErrInvalid,
		"noncanonical":      ErrInvalid,
		"survey":            ErrInvalid,
		"unknown-key":       ErrInvalid,
		"empty":             ErrInvalid,
		"huge":              ErrInvalid,
		"longest":           nil,
		"longest-plus-one":  ErrInvalid,
		"standard-alphabet": ErrInvalid,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		w, ok := want[name]
		if !ok {
			t.Errorf("seed %s is not described here", name)
			continue
		}
		seen[name] = true
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("seed %s is not one string in the fuzz corpus format", name)
		}
		tok, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
		if _, err := r.Verify(tok, Ticket, fuzzNow); err != w {
			t.Errorf("seed %s: %v, want %v", name, err, w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("seed %s is missing", name)
		}
	}
}

// TestWriteFuzzSeeds rewrites the seed corpus when LINKS_WRITE_SEEDS=1 (after
// a change of format); otherwise it is skipped.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("LINKS_WRITE_SEEDS") != "1" {
		t.Skip("set LINKS_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzVerify")
	}
	r := fuzzRing(t)
	in30 := fuzzNow.Add(30 * 24 * time.Hour)
	valid := mustSign(t, r, Ticket, ulid, in30)
	prev, err := sign(testKey("k0"), Ticket, ulid, in30)
	if err != nil {
		t.Fatal(err)
	}
	expired := mustSign(t, r, Ticket, ulid, fuzzNow.Add(-time.Hour))
	odd := mustSign(t, r, Ticket, ulid+"X", in30) // 4 unused bits at the end
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	flip := func(s string, i int) string {
		j := strings.IndexByte(alphabet, s[i])
		return s[:i] + string(alphabet[(j+1)%64]) + s[i+1:]
	}
	longest, err := sign(testKey("k1234567"), Ticket, strings.Repeat("Z", maxIDLen), in30)
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string]string{
		"valid":             valid,
		"valid-previous":    prev,
		"expired":           expired,
		"tampered":          flip(valid, 30),
		"tampered-expired":  flip(expired, 30),
		"truncated":         valid[:len(valid)-4],
		"trailing":          valid + "AAAA",
		"newline":           valid[:34] + "\n" + valid[34:],
		"noncanonical":      odd[:len(odd)-1] + string(alphabet[strings.IndexByte(alphabet, odd[len(odd)-1])|1]),
		"survey":            mustSign(t, r, Survey, ulid, in30),
		"unknown-key":       mustSign(t, ring(t, testKey("k9")), Ticket, ulid, in30),
		"empty":             "",
		"huge":              strings.Repeat(valid, 100),
		"longest":           longest,
		"longest-plus-one":  longest + "A",
		"standard-alphabet": strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+/+/",
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range seeds {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\nstring("+strconv.Quote(s)+")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
