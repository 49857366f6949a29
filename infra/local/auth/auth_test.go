package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rapportcrm/rapport/infra/local/auth"
	"github.com/rapportcrm/rapport/infra/manifest"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// keys are generated once: RSA key generation is slow.
var keys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var out [2]*rsa.PrivateKey
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = k
	}
	return out
})

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestMintedTokenPassesFlattenedClaims(t *testing.T) {
	a := auth.New(keys()[0], at(t0))
	tok, err := a.Mint(manifest.Agent, "user-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, header := range []string{"Bearer " + tok, "bearer " + tok, tok} {
		got, err := a.Authorize(header)
		if err != nil {
			t.Fatalf("Authorize(%.10q…): %v", header, err)
		}
		want := map[string]string{
			"cognito:groups":   "[agent]",
			"sub":              "user-1",
			"iss":              auth.Issuer,
			"aud":              auth.Audience,
			"exp":              strconv.FormatInt(t0.Add(time.Hour).Unix(), 10),
			"iat":              strconv.FormatInt(t0.Unix(), 10),
			"token_use":        "id",
			"cognito:username": "user-1",
			"email":            "user-1@example.com",
			"email_verified":   "true",
		}
		for k, v := range want {
			if got.Claims[k] != v {
				t.Errorf("claim %s = %q, want %q", k, got.Claims[k], v)
			}
		}
	}
}

func TestEmailIsTheSubjectsAddress(t *testing.T) {
	for subject, want := range map[string]string{
		"agent-2":          "agent-2@example.com",
		"local-manager":    "local-manager@example.com",
		"ana@company.test": "ana@company.test",
	} {
		if got := auth.Email(subject); got != want {
			t.Errorf("Email(%q) = %q, want %q", subject, got, want)
		}
	}
}

func TestGroupsArrayIsFlattenedAsAPIGatewayDoes(t *testing.T) {
	a := auth.New(keys()[0], at(t0))
	tok, err := a.Sign(validClaims(map[string]any{
		"cognito:groups": []string{"agent", "manager"},
		"scope":          "leads/read leads/write",
		"custom:nested":  map[string]any{"b": 2, "a": "x"},
		"email_verified": true,
	}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Authorize("Bearer " + tok)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"cognito:groups": "[agent manager]",
		"custom:nested":  "map[a:x b:2]",
		"email_verified": "true",
	} {
		if got.Claims[k] != want {
			t.Errorf("%s = %q, want %q", k, got.Claims[k], want)
		}
	}
	if strings.Join(got.Scopes, ",") != "leads/read,leads/write" {
		t.Errorf("scopes = %q", got.Scopes)
	}
}

// validClaims returns claims the authority accepts, with changes applied
// (a nil value deletes the claim).
func validClaims(changes map[string]any) map[string]any {
	c := map[string]any{
		"iss": auth.Issuer, "aud": auth.Audience, "sub": "u",
		"iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
		"cognito:groups": []string{"agent"},
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestRejectedTokens(t *testing.T) {
	a := auth.New(keys()[0], at(t0.Add(time.Minute)))
	other := auth.New(keys()[1], at(t0))
	sign := func(signer *auth.Authority, changes map[string]any) string {
		tok, err := signer.Sign(validClaims(changes))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// A token signed by another key but claiming our key id.
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(validClaims(nil)))
	ours, _ := jwt.NewParser().Parse(sign(a, nil), func(*jwt.Token) (any, error) { return &keys()[0].PublicKey, nil })
	forged.Header["kid"] = ours.Header["kid"]
	forgedTok, err := forged.SignedString(keys()[1])
	if err != nil {
		t.Fatal(err)
	}
	// alg "none" with our key id.
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(validClaims(nil)))
	none.Header["kid"] = ours.Header["kid"]
	noneTok, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// HS256 keyed with the public key: the classic algorithm confusion.
	pubDER, _ := x509.MarshalPKIXPublicKey(&keys()[0].PublicKey)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(validClaims(nil)))
	hs.Header["kid"] = ours.Header["kid"]
	hsTok, err := hs.SignedString(pubDER)
	if err != nil {
		t.Fatal(err)
	}
	valid := sign(a, nil)

	for name, tc := range map[string]struct {
		token, reason string
	}{
		"empty":           {"", "malformed"},
		"garbage":         {"not.a.token", "malformed"},
		"other key":       {sign(other, nil), "key id"},
		"bad signature":   {forgedTok, "signature"},
		"tampered":        {valid[:len(valid)-4] + "AAAA", "signature"},
		"alg none":        {noneTok, "signature"},
		"alg HS256":       {hsTok, "signature"},
		"wrong issuer":    {sign(a, map[string]any{"iss": "https://evil.example"}), "issuer"},
		"no issuer":       {sign(a, map[string]any{"iss": nil}), "issuer"},
		"no audience":     {sign(a, map[string]any{"aud": nil}), "audience"},
		"wrong audience":  {sign(a, map[string]any{"aud": "someone-else"}), "audience"},
		"expired":         {sign(a, map[string]any{"exp": t0.Add(time.Minute).Unix()}), "expired"},
		"no expiry":       {sign(a, map[string]any{"exp": nil}), "expiry"},
		"not yet valid":   {sign(a, map[string]any{"nbf": t0.Add(time.Hour).Unix()}), "not valid yet"},
		"issued later":    {sign(a, map[string]any{"iat": t0.Add(time.Hour).Unix()}), "future"},
		"no groups":       {sign(a, map[string]any{"cognito:groups": nil}), "cognito:groups"},
		"groups a string": {sign(a, map[string]any{"cognito:groups": "agent"}), "cognito:groups"},
	} {
		_, err := a.Authorize("Bearer " + tc.token)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: error %q does not mention %q", name, err, tc.reason)
		}
	}
	if _, err := a.Authorize("Bearer " + valid); err != nil {
		t.Errorf("the valid token: %v", err)
	}
}

func TestExpiryFollowsTheInjectedClock(t *testing.T) {
	now := t0
	a := auth.New(keys()[0], func() time.Time { return now })
	tok, err := a.Mint(manifest.Manager, "m", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(59 * time.Minute)
	if _, err := a.Verify(tok); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	now = t0.Add(time.Hour + time.Second)
	if _, err := a.Verify(tok); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestMintRefusesBadInput(t *testing.T) {
	a := auth.New(keys()[0], at(t0))
	for name, f := range map[string]func() (string, error){
		"unknown role": func() (string, error) { return a.Mint("owner", "u", time.Hour) },
		"public role":  func() (string, error) { return a.Mint(manifest.Public, "u", time.Hour) },
		"no subject":   func() (string, error) { return a.Mint(manifest.Agent, "", time.Hour) },
		"no lifetime":  func() (string, error) { return a.Mint(manifest.Agent, "u", 0) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: minted", name)
		}
	}
}

func TestKeyPersistsAcrossRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := auth.LoadKey(dir); !errors.Is(err, auth.ErrNoKey) {
		t.Fatalf("LoadKey before the first start: %v, want ErrNoKey", err)
	}
	first, err := auth.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(auth.KeyPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	tok, err := auth.New(first, at(t0)).Mint(manifest.Admin, "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// A restart: the same key, so the token minted before still verifies.
	second, err := auth.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(second) {
		t.Fatal("a second start generated another key")
	}
	if _, err := auth.New(second, at(t0)).Verify(tok); err != nil {
		t.Errorf("token minted before the restart: %v", err)
	}
	loaded, err := auth.LoadKey(dir)
	if err != nil || !first.Equal(loaded) {
		t.Errorf("LoadKey: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the data directory holds %d files, want only the key", len(entries))
	}
}

func TestConcurrentFirstStartsAgreeOnOneKey(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	got := make([]*rsa.PrivateKey, 4)
	for i := range got {
		wg.Go(func() {
			k, err := auth.LoadOrCreateKey(dir)
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	for _, k := range got[1:] {
		if k == nil || !k.Equal(got[0]) {
			t.Fatal("concurrent first starts ended with different keys")
		}
	}
}
