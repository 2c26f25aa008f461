package approov_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

// Fixed material for the tests: a 64-byte secret as Approov issues, a
// second one for "signed by someone else", and a clock.
var (
	testSecret  = []byte("approov-gateway test secret: 64 bytes of key material for HS256!")
	otherSecret = []byte("a different secret, as a failed attestation's token is signed ..")
	testNow     = time.Unix(1_800_000_000, 250_000_000)
	testExp     = testNow.Add(5 * time.Minute)
	signer      = approovtest.MustSigner(approov.HS256, testSecret, "")
	otherSigner = approovtest.MustSigner(approov.HS256, otherSecret, "")
)

func init() {
	if len(testSecret) != 64 || len(otherSecret) != 64 {
		panic("test secrets must be 64 bytes")
	}
}

func mustSign(t testing.TB, s *approovtest.Signer, claims map[string]any) string {
	t.Helper()
	tok, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustSignJSON(t testing.TB, s *approovtest.Signer, header, claims string) string {
	t.Helper()
	tok, err := s.SignJSON([]byte(header), []byte(claims))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newTestVerifier(t testing.TB, opts ...approov.Option) *approov.Verifier {
	t.Helper()
	opts = append([]approov.Option{approov.WithSecret(testSecret), approov.WithClock(func() time.Time { return testNow })}, opts...)
	v, err := approov.NewVerifier(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const hs256Header = `{"alg":"HS256","typ":"JWT"}`

func expClaims(extra string) string {
	return fmt.Sprintf(`{"exp":%s%s}`, approovtest.NumericDate(testExp), extra)
}

// b64 re-encodes a segment, for hand-made tokens.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestVerify(t *testing.T) {
	valid := mustSignJSON(t, signer, hs256Header, expClaims(`,"did":"ExampleApproovTokenDID==","ip":"1.2.3.4"`))
	parts := strings.Split(valid, ".")
	tests := []struct {
		name   string
		token  string
		opts   []approov.Option
		reason string
	}{
		{"valid", valid, nil, "ok"},
		{"fractional exp", mustSignJSON(t, signer, hs256Header, `{"exp":1800000000.75}`), nil, "ok"},
		{"integer exp", mustSignJSON(t, signer, hs256Header, `{"exp":1800000300}`), nil, "ok"},
		{"exponent exp", mustSignJSON(t, signer, hs256Header, `{"exp":1.8000003e9}`), nil, "ok"},
		{"header field order", mustSignJSON(t, signer, `{"typ":"JWT","alg":"HS256"}`, expClaims("")), nil, "ok"},
		{"header without typ", mustSignJSON(t, signer, `{"alg":"HS256"}`, expClaims("")), nil, "ok"},
		{"escaped alg", mustSignJSON(t, signer, `{"alg":"HS\u0032\u00356"}`, expClaims("")), nil, "ok"},
		{"b64 true", mustSignJSON(t, signer, `{"alg":"HS256","b64":true}`, expClaims("")), nil, "ok"},
		{"unknown claims kept", mustSignJSON(t, signer, hs256Header, expClaims(`,"x":{"y":[1,"z"]}`)), nil, "ok"},

		{"empty", "", nil, "token_missing"},
		{"SDK status word", "NO_NETWORK", nil, "token_status"},
		{"too large", valid + strings.Repeat("A", approov.DefaultMaxTokenSize), nil, "token_too_large"},
		{"too large for option", valid, []approov.Option{approov.WithMaxTokenSize(100)}, "token_too_large"},
		{"garbage", "not a token", nil, "token_malformed"},
		{"one dot", parts[0] + "." + parts[1], nil, "token_malformed"},
		{"four segments", valid + ".x", nil, "token_malformed"},
		{"empty signature", parts[0] + "." + parts[1] + ".", nil, "token_malformed"},
		{"empty header", "." + parts[1] + "." + parts[2], nil, "token_malformed"},
		{"empty payload", parts[0] + ".." + parts[2], nil, "token_malformed"},
		{"padded signature", valid + "=", nil, "token_malformed"},
		{"standard alphabet", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+/", nil, "token_malformed"},
		{"non-canonical trailing bits", parts[0] + "." + parts[1] + "." + flipTrailingBits(parts[2]), nil, "token_malformed"},
		{"newline in signature", parts[0] + "." + parts[1] + "." + parts[2][:8] + "\n" + parts[2][8:], nil, "token_malformed"},
		{"carriage return in header", parts[0][:4] + "\r" + parts[0][4:] + "." + parts[1] + "." + parts[2], nil, "token_malformed"},
		{"space in payload", parts[0] + ". " + parts[1] + "." + parts[2], nil, "token_signature"},
		{"header not JSON", b64("alg=HS256") + "." + parts[1] + "." + parts[2], nil, "token_malformed"},
		{"header is an array", mustSignJSON(t, signer, `["HS256"]`, expClaims("")), nil, "token_malformed"},
		{"header duplicate alg", mustSignJSON(t, signer, `{"alg":"none","alg":"HS256"}`, expClaims("")), nil, "token_malformed"},
		{"header alg not a string", mustSignJSON(t, signer, `{"alg":256}`, expClaims("")), nil, "token_malformed"},
		{"header kid not a string", mustSignJSON(t, signer, `{"alg":"HS256","kid":7}`, expClaims("")), nil, "token_malformed"},
		{"header invalid UTF-8", mustSignJSON(t, signer, "{\"alg\":\"HS256\",\"x\":\"\xff\"}", expClaims("")), nil, "token_malformed"},

		{"alg none, no signature", b64(`{"alg":"none"}`) + "." + parts[1] + ".", nil, "token_malformed"},
		{"alg none, with signature", b64(`{"alg":"none"}`) + "." + parts[1] + "." + parts[2], nil, "token_algorithm"},
		{"alg missing", mustSignJSON(t, signer, `{"typ":"JWT"}`, expClaims("")), nil, "token_algorithm"},
		{"alg lower case", mustSignJSON(t, signer, `{"alg":"hs256"}`, expClaims("")), nil, "token_algorithm"},
		{"alg HS512", mustSignJSON(t, signer, `{"alg":"HS512"}`, expClaims("")), nil, "token_algorithm"},
		{"alg RS256 with a secret", mustSignJSON(t, signer, `{"alg":"RS256"}`, expClaims("")), nil, "token_algorithm"},
		{"crit header", mustSignJSON(t, signer, `{"alg":"HS256","crit":["exp"],"exp":1}`, expClaims("")), nil, "token_algorithm"},
		{"b64 false", mustSignJSON(t, signer, `{"alg":"HS256","b64":false}`, expClaims("")), nil, "token_algorithm"},

		{"other secret", mustSignJSON(t, otherSigner, hs256Header, expClaims("")), nil, "token_signature"},
		{"signature truncated", valid[:len(valid)-3], nil, "token_signature"},
		{"signature of other payload", parts[0] + "." + b64(expClaims(`,"did":"forged"`)) + "." + parts[2], nil, "token_signature"},
		{"signature too long", valid + strings.Repeat("A", 800), nil, "token_signature"},

		{"exp missing", mustSignJSON(t, signer, hs256Header, `{"did":"x"}`), nil, "token_claims_invalid"},
		{"exp empty string", mustSignJSON(t, signer, hs256Header, `{"exp":""}`), nil, "token_claims_invalid"},
		{"exp numeric string", mustSignJSON(t, signer, hs256Header, `{"exp":"1800000300"}`), nil, "token_claims_invalid"},
		{"exp null", mustSignJSON(t, signer, hs256Header, `{"exp":null}`), nil, "token_claims_invalid"},
		{"exp true", mustSignJSON(t, signer, hs256Header, `{"exp":true}`), nil, "token_claims_invalid"},
		{"exp huge", mustSignJSON(t, signer, hs256Header, `{"exp":1e20}`), nil, "token_claims_invalid"},
		{"exp overflowing double", mustSignJSON(t, signer, hs256Header, `{"exp":1e400}`), nil, "token_malformed"},
		{"unknown claim overflowing double", mustSignJSON(t, signer, hs256Header, expClaims(`,"x":-1e999`)), nil, "token_malformed"},
		{"exp past", mustSignJSON(t, signer, hs256Header, `{"exp":1799999999}`), nil, "token_expired"},
		{"exp now", mustSignJSON(t, signer, hs256Header, `{"exp":1800000000.25}`), nil, "token_expired"},
		{"exp negative", mustSignJSON(t, signer, hs256Header, `{"exp":-1}`), nil, "token_expired"},
		{"exp past within leeway", mustSignJSON(t, signer, hs256Header, `{"exp":1799999990}`), []approov.Option{approov.WithLeeway(20 * time.Second)}, "ok"},
		{"exp past beyond leeway", mustSignJSON(t, signer, hs256Header, `{"exp":1799999970}`), []approov.Option{approov.WithLeeway(20 * time.Second)}, "token_expired"},
		{"nbf future", mustSignJSON(t, signer, hs256Header, expClaims(`,"nbf":1800000010`)), nil, "token_not_yet_valid"},
		{"nbf past", mustSignJSON(t, signer, hs256Header, expClaims(`,"nbf":1799999990`)), nil, "ok"},
		{"nbf future within leeway", mustSignJSON(t, signer, hs256Header, expClaims(`,"nbf":1800000010`)), []approov.Option{approov.WithLeeway(20 * time.Second)}, "ok"},
		{"nbf not a number", mustSignJSON(t, signer, hs256Header, expClaims(`,"nbf":"0"`)), nil, "token_claims_invalid"},
		{"iat future", mustSignJSON(t, signer, hs256Header, expClaims(`,"iat":1800000010`)), nil, "token_not_yet_valid"},
		{"iat past", mustSignJSON(t, signer, hs256Header, expClaims(`,"iat":1799999990`)), nil, "ok"},

		{"payload not JSON", mustSignJSON(t, signer, hs256Header, `exp=1`), nil, "token_malformed"},
		{"payload an array", mustSignJSON(t, signer, hs256Header, `[1800000300]`), nil, "token_malformed"},
		{"payload duplicate exp", mustSignJSON(t, signer, hs256Header, `{"exp":1,"exp":1800000300}`), nil, "token_malformed"},
		{"payload escaped duplicate exp", mustSignJSON(t, signer, hs256Header, `{"exp":1800000300,"\u0065xp":1}`), nil, "token_malformed"},
		{"payload duplicate unknown claim", mustSignJSON(t, signer, hs256Header, expClaims(`,"x":1,"x":2`)), nil, "token_malformed"},
		{"payload lone surrogate", mustSignJSON(t, signer, hs256Header, expClaims(`,"did":"\ud800"`)), nil, "token_malformed"},
		{"payload invalid UTF-8", mustSignJSON(t, signer, hs256Header, expClaims(",\"did\":\"\xc3\x28\"")), nil, "token_malformed"},
		{"payload NaN", mustSignJSON(t, signer, hs256Header, expClaims(`,"x":NaN`)), nil, "token_malformed"},
		{"payload nested too deep", mustSignJSON(t, signer, hs256Header, expClaims(`,"x":`+strings.Repeat("[", 80)+strings.Repeat("]", 80))), nil, "token_malformed"},
		{"did not a string", mustSignJSON(t, signer, hs256Header, expClaims(`,"did":12`)), nil, "token_claims_invalid"},
		{"pay not a string", mustSignJSON(t, signer, hs256Header, expClaims(`,"pay":{}`)), nil, "token_claims_invalid"},

		{"issuer matches", mustSignJSON(t, signer, hs256Header, expClaims(`,"iss":"approov.io"`)), []approov.Option{approov.WithIssuer("approov.io")}, "ok"},
		{"issuer differs", mustSignJSON(t, signer, hs256Header, expClaims(`,"iss":"evil"`)), []approov.Option{approov.WithIssuer("approov.io")}, "token_claims_invalid"},
		{"issuer missing", valid, []approov.Option{approov.WithIssuer("approov.io")}, "token_claims_invalid"},
		{"issuer unchecked", mustSignJSON(t, signer, hs256Header, expClaims(`,"iss":"anyone"`)), nil, "ok"},
		{"audience string", mustSignJSON(t, signer, hs256Header, expClaims(`,"aud":"api"`)), []approov.Option{approov.WithAudience("api")}, "ok"},
		{"audience in list", mustSignJSON(t, signer, hs256Header, expClaims(`,"aud":["web","api"]`)), []approov.Option{approov.WithAudience("api")}, "ok"},
		{"audience not in list", mustSignJSON(t, signer, hs256Header, expClaims(`,"aud":["web"]`)), []approov.Option{approov.WithAudience("api")}, "token_claims_invalid"},
		{"audience missing", valid, []approov.Option{approov.WithAudience("api")}, "token_claims_invalid"},
		{"audience list with number", mustSignJSON(t, signer, hs256Header, expClaims(`,"aud":["api",1]`)), []approov.Option{approov.WithAudience("api")}, "token_claims_invalid"},
		{"audience not configured", mustSignJSON(t, signer, hs256Header, expClaims(`,"aud":"api"`)), nil, "token_claims_invalid"},
		{"empty audience not configured", mustSignJSON(t, signer, hs256Header, expClaims(`,"aud":[]`)), nil, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, tt.opts...)
			_, err := v.Verify(tt.token)
			if got := approov.Reason(err); got != tt.reason {
				t.Fatalf("Verify: reason %q (%v), want %q", got, err, tt.reason)
			}
			if err != nil && tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatalf("error %q contains the token", err)
			}
		})
	}
}

// TestMaxLifetime: with WithMaxLifetime, a token whose exp is further ahead
// than the maximum, leeway added, is rejected; without it, any future exp is
// accepted.
func TestMaxLifetime(t *testing.T) {
	at := func(d time.Duration) string {
		return mustSignJSON(t, signer, hs256Header, `{"exp":`+approovtest.NumericDate(testNow.Add(d))+`}`)
	}
	vendorExample := mustSignJSON(t, signer, hs256Header, `{"exp":4708683205.891912}`) // 2119, as in Approov's docs
	tests := []struct {
		name     string
		token    string
		lifetime time.Duration
		leeway   time.Duration
		reason   string
	}{
		{"off: exp in 2119", vendorExample, 0, 0, "ok"},
		{"off: exp in an hour", at(time.Hour), 0, 0, "ok"},
		{"exp in 2119", vendorExample, time.Hour, 0, "token_lifetime"},
		{"exp in 5m, maximum 1h", at(5 * time.Minute), time.Hour, 0, "ok"},
		{"exp in 5m, maximum 1m", at(5 * time.Minute), time.Minute, 0, "token_lifetime"},
		{"exp exactly at the maximum", at(5 * time.Minute), 5 * time.Minute, 0, "ok"},
		{"exp 1ns beyond the maximum", at(5*time.Minute + time.Nanosecond), 5 * time.Minute, 0, "token_lifetime"},
		{"leeway added: exactly at the edge", at(5 * time.Minute), 4 * time.Minute, time.Minute, "ok"},
		{"leeway added: just beyond", at(5 * time.Minute), 4 * time.Minute, 59 * time.Second, "token_lifetime"},
		{"expired is still expired", at(-time.Minute), time.Hour, 0, "token_expired"},
		{"largest maximum", vendorExample, time.Duration(1<<63 - 1), time.Duration(1<<63 - 1), "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, approov.WithMaxLifetime(tt.lifetime), approov.WithLeeway(tt.leeway))
			_, err := v.Verify(tt.token)
			if got := approov.Reason(err); got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
			if tt.reason == "token_lifetime" && !errors.Is(err, approov.ErrLifetime) {
				t.Fatalf("errors.Is(%v, ErrLifetime) = false", err)
			}
		})
	}
}

// flipTrailingBits changes the unused low bits of the last character of an
// unpadded base64url segment, giving a non-canonical spelling of the same
// bytes that lenient decoders accept.
func flipTrailingBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

func TestVerifyClaims(t *testing.T) {
	tok := mustSignJSON(t, approovtest.MustSigner(approov.HS256, testSecret, "key-1"), `{"alg":"HS256","kid":"key-1"}`,
		`{"exp":4708683205.891912,"nbf":1700000000,"iat":1799999999,"did":"ExampleApproovTokenDID==","ip":"1.2.3.4",`+
			`"pay":"f3U2fniBJVE04Tdecj0d6orV9qT9t52TjfHxdUqDBgY=","arc":"RVhBTVBMRQ==","ipk":"MFkwEwYH","mskid":"m1",`+
			`"iss":"approov","sub":"s\u00e9","aud":"api","custom":{"n":1}}`)
	v := newTestVerifier(t, approov.WithAudience("api"))
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := approov.Claims{
		Expiry:                time.Unix(4708683205, 891912000),
		NotBefore:             time.Unix(1700000000, 0),
		IssuedAt:              time.Unix(1799999999, 0),
		DeviceID:              "ExampleApproovTokenDID==",
		IP:                    "1.2.3.4",
		PayloadHash:           "f3U2fniBJVE04Tdecj0d6orV9qT9t52TjfHxdUqDBgY=",
		AttestationResponse:   "RVhBTVBMRQ==",
		InstallationPublicKey: "MFkwEwYH",
		MessageSigningKeyID:   "m1",
		Issuer:                "approov",
		Subject:               "s\u00e9",
		KeyID:                 "key-1",
		Algorithm:             "HS256",
	}
	// Float seconds carry about a microsecond of precision at this
	// magnitude.
	if d := c.Expiry.Sub(want.Expiry); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("Expiry = %v, want %v", c.Expiry, want.Expiry)
	}
	for _, f := range []struct{ name, got, want string }{
		{"DeviceID", c.DeviceID, want.DeviceID}, {"IP", c.IP, want.IP}, {"PayloadHash", c.PayloadHash, want.PayloadHash},
		{"AttestationResponse", c.AttestationResponse, want.AttestationResponse},
		{"InstallationPublicKey", c.InstallationPublicKey, want.InstallationPublicKey},
		{"MessageSigningKeyID", c.MessageSigningKeyID, want.MessageSigningKeyID},
		{"Issuer", c.Issuer, want.Issuer}, {"Subject", c.Subject, want.Subject},
		{"KeyID", c.KeyID, want.KeyID}, {"Algorithm", c.Algorithm, want.Algorithm},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if !c.NotBefore.Equal(want.NotBefore) || !c.IssuedAt.Equal(want.IssuedAt) {
		t.Errorf("NotBefore, IssuedAt = %v, %v", c.NotBefore, c.IssuedAt)
	}
	if len(c.Audience) != 1 || c.Audience[0] != "api" {
		t.Errorf("Audience = %q", c.Audience)
	}
	if !c.HasPayloadHash() {
		t.Error("HasPayloadHash = false")
	}
	var custom struct {
		Custom struct{ N int } `json:"custom"`
	}
	if err := c.Decode(&custom); err != nil || custom.Custom.N != 1 {
		t.Errorf("Decode: %v, %+v", err, custom)
	}
	if !strings.HasPrefix(c.RawJSON(), `{"exp":4708683205.891912,`) {
		t.Errorf("RawJSON = %s", c.RawJSON())
	}
}

func TestKeySelection(t *testing.T) {
	k1, _ := approov.NewSecretKey("k1", testSecret)
	k2, _ := approov.NewSecretKey("k2", otherSecret)
	anon, _ := approov.NewSecretKey("", otherSecret)
	s1 := approovtest.MustSigner(approov.HS256, testSecret, "k1")
	s2 := approovtest.MustSigner(approov.HS256, otherSecret, "k2")
	s2as1 := approovtest.MustSigner(approov.HS256, otherSecret, "k1")
	s3 := approovtest.MustSigner(approov.HS256, testSecret, "k3")
	claims := map[string]any{"exp": testExp}
	tests := []struct {
		name   string
		keys   []*approov.Key
		token  string
		reason string
	}{
		{"kid selects k1", []*approov.Key{k1, k2}, mustSign(t, s1, claims), "ok"},
		{"kid selects k2", []*approov.Key{k1, k2}, mustSign(t, s2, claims), "ok"},
		{"kid k1 but signed by k2", []*approov.Key{k1, k2}, mustSign(t, s2as1, claims), "token_signature"},
		{"unknown kid", []*approov.Key{k1, k2}, mustSign(t, s3, claims), "token_unknown_key"},
		{"no kid tries every key", []*approov.Key{k1, k2}, mustSign(t, otherSigner, claims), "ok"},
		{"unknown kid falls back to keys without id", []*approov.Key{k1, anon}, mustSign(t, approovtest.MustSigner(approov.HS256, otherSecret, "zzz"), claims), "ok"},
		{"rotation: second anonymous key", []*approov.Key{mustKey(t, "", testSecret), anon}, mustSign(t, otherSigner, claims), "ok"},
		{"rotation: neither key", []*approov.Key{mustKey(t, "", testSecret), anon}, mustSign(t, approovtest.MustSigner(approov.HS256, approovtest.NewSecret(), ""), claims), "token_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := approov.NewVerifier(approov.WithKeys(tt.keys...), approov.WithClock(func() time.Time { return testNow }))
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(tt.token)
			if got := approov.Reason(err); got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
			if err == nil && c.Algorithm != approov.HS256 {
				t.Fatalf("Algorithm = %q", c.Algorithm)
			}
		})
	}
}

func TestAsymmetricKeys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM, ecPEM := pemPublic(t, &rsaKey.PublicKey), pemPublic(t, &ecKey.PublicKey)
	rsaPub, err := approov.ParsePublicKey("rsa-1", rsaPEM)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := approov.ParsePublicKey("", ecPEM)
	if err != nil {
		t.Fatal(err)
	}
	if rsaPub.Algorithm() != approov.RS256 || ecPub.Algorithm() != approov.ES256 || rsaPub.ID() != "rsa-1" {
		t.Fatalf("algorithms: %v %v", rsaPub, ecPub)
	}
	rsaSigner := approovtest.MustSigner(approov.RS256, rsaKey, "rsa-1")
	ecSigner := approovtest.MustSigner(approov.ES256, ecKey, "")
	claims := map[string]any{"exp": testExp, "did": "d"}
	rsaTok, ecTok := mustSign(t, rsaSigner, claims), mustSign(t, ecSigner, claims)

	// The classic confusion attack: HS256 with the public key as the secret.
	confused := mustSign(t, approovtest.MustSigner(approov.HS256, rsaPEM, ""), claims)
	ecParts := strings.Split(ecTok, ".")

	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name   string
		keys   []*approov.Key
		token  string
		reason string
	}{
		{"RS256", []*approov.Key{rsaPub}, rsaTok, "ok"},
		{"ES256", []*approov.Key{ecPub}, ecTok, "ok"},
		{"ES256 among all kinds", []*approov.Key{mustKey(t, "", testSecret), rsaPub, ecPub}, ecTok, "ok"},
		{"RS256 token, only an ES256 key", []*approov.Key{ecPub}, rsaTok, "token_algorithm"},
		{"HS256 signed with the RSA public key", []*approov.Key{rsaPub}, confused, "token_algorithm"},
		{"ES256 by another key", []*approov.Key{ecPub}, mustSign(t, approovtest.MustSigner(approov.ES256, otherEC, ""), claims), "token_signature"},
		{"ES256 signature in DER length", []*approov.Key{ecPub}, ecParts[0] + "." + ecParts[1] + "." + b64(strings.Repeat("x", 70)), "token_signature"},
		{"RS256 signature truncated", []*approov.Key{rsaPub}, rsaTok[:len(rsaTok)-10], "token_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := approov.NewVerifier(approov.WithKeys(tt.keys...), approov.WithClock(func() time.Time { return testNow }))
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(tt.token)
			if got := approov.Reason(err); got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
		})
	}
}

// TestKnownHeader covers the remembered header of the last verified token:
// it changes nothing but speed.
func TestKnownHeader(t *testing.T) {
	k1, k2 := mustKey(t, "k1", testSecret), mustKey(t, "k2", otherSecret)
	v, err := approov.NewVerifier(approov.WithKeys(k1, k2), approov.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	s1 := approovtest.MustSigner(approov.HS256, testSecret, "k1")
	s2 := approovtest.MustSigner(approov.HS256, otherSecret, "k2")
	t1, t2 := mustSign(t, s1, map[string]any{"exp": testExp}), mustSign(t, s2, map[string]any{"exp": testExp})
	// Alternating key ids: each token is checked against its own key, and
	// reports its own kid, whichever header was remembered.
	for i := range 4 {
		for _, tt := range []struct {
			token, kid string
		}{{t1, "k1"}, {t2, "k2"}} {
			c, err := v.Verify(tt.token)
			if err != nil || c.KeyID != tt.kid {
				t.Fatalf("round %d: kid %q, err %v; want %q", i, c.KeyID, err, tt.kid)
			}
		}
	}
	// A token with the remembered header but signed by the other key.
	parts := strings.Split(t2, ".")
	forged := strings.Split(t1, ".")[0] + "." + parts[1] + "." + parts[2]
	if _, err := v.Verify(forged); approov.Reason(err) != "token_signature" {
		t.Fatalf("known header, other key's signature: %v", err)
	}
	// After a verified token, a different header is parsed in full.
	none := b64(`{"alg":"none","kid":"k1"}`) + "." + parts[1] + "." + parts[2]
	if _, err := v.Verify(none); approov.Reason(err) != "token_algorithm" {
		t.Fatalf("alg none after a known header: %v", err)
	}
}

// TestUnverifiedHeaderNotRemembered: a header is remembered only once a
// signature made with it verifies, so bad signatures with headers never
// seen before still allocate nothing.
func TestUnverifiedHeaderNotRemembered(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	v := newTestVerifier(t)
	if _, err := v.Verify(mustSign(t, signer, map[string]any{"exp": testExp})); err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, 300)
	for i := range tokens {
		tokens[i] = mustSignJSON(t, otherSigner, fmt.Sprintf(`{"alg":"HS256","n":%d}`, i), expClaims(""))
	}
	i := 0
	allocs := testing.AllocsPerRun(len(tokens)-1, func() {
		if _, err := v.Verify(tokens[i]); approov.Reason(err) != "token_signature" {
			t.Fatalf("token %d: %v", i, err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("bad signatures with new headers allocated %.1f times per run", allocs)
	}
}
