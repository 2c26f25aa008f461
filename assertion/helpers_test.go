package assertion_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/assertion"
)

// Test keys: obviously not secrets.
var (
	secret1 = []byte("assertion test key 1: not secret")
	secret2 = []byte("assertion test key 2: not secret")
	key1    = mustKey(secret1)
	key2    = mustKey(secret2)

	// now is the clock of every signer and verifier in the tests.
	now   = time.Unix(1_700_000_000, 0)
	clock = func() time.Time { return now }
)

func mustKey(secret []byte) *assertion.Key {
	k, err := assertion.NewKey(secret)
	if err != nil {
		panic(err)
	}
	return k
}

func newSigner(t testing.TB, keys []*assertion.Key, opts ...assertion.SignerOption) *assertion.Signer {
	t.Helper()
	s, err := assertion.NewSigner(keys, append([]assertion.SignerOption{assertion.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newVerifier(t testing.TB, keys []*assertion.Key, opts ...assertion.VerifierOption) *assertion.Verifier {
	t.Helper()
	v, err := assertion.NewVerifier(keys, append([]assertion.VerifierOption{assertion.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t testing.TB, s *assertion.Signer, c *assertion.Claims) string {
	t.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// header is the JOSE header the contract requires, for kid.
func header(kid string) string {
	return `{"alg":"HS256","typ":"approov-assertion+jwt","kid":"` + kid + `"}`
}

// claimsAt returns a valid claim set issued at t, for GET /v1/orders?id=7
// on api.example.com, written by hand so that tests can change any part of
// it.
func claimsAt(t time.Time) string {
	return fmt.Sprintf(`{"iss":"approov-gateway","aud":"approov-backend","iat":%d,"exp":%d,"jti":"id-1",`+
		`"result":"ok","did":"device-1","tex":%d,"clm":{"ip":"192.0.2.1","pay":"cGF5"},`+
		`"htm":"GET","hth":"api.example.com","htu":"/v1/orders?id=7"}`, t.Unix(), t.Unix()+60, t.Unix()+600)
}

// baseClaims are the claims of claimsAt(now).
var baseClaims = claimsAt(now)

// replaceIn returns base with old replaced by new, which must occur.
func replaceIn(base, old, new string) string {
	if !strings.Contains(base, old) {
		panic("claims lack " + old)
	}
	return strings.Replace(base, old, new, 1)
}

// withClaim returns baseClaims with old replaced by new.
func withClaim(old, new string) string { return replaceIn(baseClaims, old, new) }

var b64 = base64.RawURLEncoding

// forge signs header and claims, as given, with secret: the right HMAC
// over whatever the test wants to send.
func forge(secret []byte, header, claims string) string {
	return forgeSegments(secret, b64.EncodeToString([]byte(header)), b64.EncodeToString([]byte(claims)))
}

// forgeSegments signs two segments given already encoded.
func forgeSegments(secret []byte, hdrSeg, paySeg string) string {
	input := hdrSeg + "." + paySeg
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64.EncodeToString(m.Sum(nil))
}

// nonCanonical encodes data as base64url whose last character has unused
// bits set: it decodes to the same bytes, so only a strict decoder notices.
// data is padded with spaces, which JSON ignores, to a length that leaves
// unused bits.
func nonCanonical(data string) string {
	for len(data)%3 == 0 {
		data += " "
	}
	s := b64.EncodeToString([]byte(data))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

// reasonOf runs Verify and returns the reason code.
func reasonOf(v *assertion.Verifier, token string) string {
	_, err := v.Verify(token)
	return assertion.Reason(err)
}
