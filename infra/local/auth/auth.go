// Package auth does locally what Cognito and API Gateway's JWT authorizer do
// in AWS: it mints RS256 tokens carrying a "cognito:groups" claim, and it
// checks a request's token — signature, key id, issuer, audience, expiry,
// not-before and issued-at — and passes the claims on flattened to strings
// exactly as API Gateway does. It does not check roles: the handler does.
package auth

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/rapportcrm/rapport/infra/manifest"
)

// The local token issuer and audience, and the claim that carries a user's
// groups, named as Cognito names it.
const (
	Issuer      = "rapport-local"
	Audience    = "rapport-local"
	GroupsClaim = "cognito:groups"
)

// Authority mints and verifies the local stack's tokens with one key.
type Authority struct {
	key *rsa.PrivateKey
	kid string
	now func() time.Time
}

// New returns an Authority signing with key and reading the time from now
// (time.Now when nil), so tests can check expiry without waiting.
func New(key *rsa.PrivateKey, now func() time.Time) *Authority {
	if now == nil {
		now = time.Now
	}
	return &Authority{key: key, kid: keyID(&key.PublicKey), now: now}
}

// keyID names the public key by its SHA-256 thumbprint, as a JWKS would.
func keyID(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// EmailDomain is the domain of the address in a local token's email claim.
const EmailDomain = "example.com"

// Email is the address a local token carries for subject: the subject
// itself when it is an address, else SUBJECT@example.com. Staff profiles
// take a person's address from this claim, as from Cognito's.
func Email(subject string) string {
	if strings.Contains(subject, "@") {
		return subject
	}
	return subject + "@" + EmailDomain
}

// Mint returns a token for subject in the group role, valid for ttl from
// now, shaped like a Cognito ID token: its email claim is Email(subject).
func (a *Authority) Mint(role manifest.Role, subject string, ttl time.Duration) (string, error) {
	if !slices.Contains(manifest.Roles, role) {
		return "", fmt.Errorf("role %q is not one of %v", role, manifest.Roles)
	}
	if subject == "" {
		return "", errors.New("a token needs a subject")
	}
	if ttl <= 0 {
		return "", errors.New("a token needs a positive lifetime")
	}
	now := a.now().Truncate(time.Second)
	return a.Sign(map[string]any{
		"iss":              Issuer,
		"aud":              Audience,
		"sub":              subject,
		"iat":              now.Unix(),
		"nbf":              now.Unix(),
		"auth_time":        now.Unix(),
		"exp":              now.Add(ttl).Unix(),
		"token_use":        "id",
		"cognito:username": subject,
		"email":            Email(subject),
		"email_verified":   true,
		GroupsClaim:        []string{string(role)},
	})
}

// Sign signs claims as they are, with the key id in the header. Tests use it
// for tokens Mint would not make: several groups, another issuer, expired.
func (a *Authority) Sign(claims map[string]any) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = a.kid
	s, err := t.SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verify checks token as the JWT authorizer would and returns its claims.
// Its errors are short sentences safe to show a client.
func (a *Authority) Verify(token string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(a.now),
		jwt.WithJSONNumber(),
	)
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != a.kid {
			return nil, errUnknownKey
		}
		return &a.key.PublicKey, nil
	})
	if err != nil {
		return nil, describe(err)
	}
	groups, ok := claims[GroupsClaim].([]any)
	if !ok || len(groups) == 0 {
		return nil, fmt.Errorf("the token carries no %s claim", GroupsClaim)
	}
	return claims, nil
}

var errUnknownKey = errors.New("the token's key id is not one of the issuer's keys")

// describe turns the parser's error into the authorizer's short reason.
func describe(err error) error {
	switch {
	case errors.Is(err, errUnknownKey):
		return errUnknownKey
	case errors.Is(err, jwt.ErrTokenExpired):
		return errors.New("the token has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return errors.New("the token is not valid yet")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errors.New("the token was issued in the future")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return errors.New("the token's issuer is not accepted")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return errors.New("the token's audience is not accepted")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for claim, what := range map[string]string{"exp": "expiry", "iss": "issuer", "aud": "audience"} {
			if strings.Contains(err.Error(), claim+" claim") {
				return fmt.Errorf("the token has no %s", what)
			}
		}
		return errors.New("the token lacks a required claim")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return errors.New("the token's signature is not valid")
	default:
		return errors.New("the token is malformed")
	}
}

// Authorize checks an Authorization header's value — the token alone or
// prefixed with "Bearer " — and returns the claims as API Gateway passes
// them. It implements the local gateway's Authorizer.
func (a *Authority) Authorize(header string) (*lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, error) {
	token := strings.TrimSpace(header)
	if scheme, rest, ok := strings.Cut(token, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(rest)
	}
	claims, err := a.Verify(token)
	if err != nil {
		return nil, err
	}
	out := &lambdaevents.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{}}
	for name, v := range claims {
		out.Claims[name] = Flatten(v)
	}
	if scope, ok := claims["scope"].(string); ok && scope != "" {
		out.Scopes = strings.Fields(scope)
	}
	return out, nil
}

// Flatten renders a claim's value as API Gateway does: strings as they are,
// numbers as written in the token, and arrays space-separated in brackets,
// so that the groups ["agent","manager"] arrive as "[agent manager]".
func Flatten(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	case float64:
		return json.Number(fmt.Sprint(v)).String()
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = Flatten(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + Flatten(v[k])
		}
		return "map[" + strings.Join(parts, " ") + "]"
	default:
		return fmt.Sprint(v)
	}
}
