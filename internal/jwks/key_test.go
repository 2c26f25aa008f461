package jwks

import (
	"crypto/elliptic"
	"encoding/json"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

// TestParse: a set mixing usable keys with every kind of key that must be
// skipped gives exactly the usable keys, each pinned to its one algorithm,
// and one reason per skipped key.
func TestParse(t *testing.T) {
	type want struct {
		kid    string
		alg    string // "" when skipped
		reason string // substring of the skip reason
	}
	var docKeys []any
	var wants []want
	var signers = map[string]*approovtest.Signer{}
	add := func(jwk any, w want, signer *approovtest.Signer) {
		docKeys = append(docKeys, jwk)
		wants = append(wants, w)
		if signer != nil && w.alg != "" {
			signers[w.kid] = signer
		}
	}
	s, k := ecJWK(t, "ec-alg", map[string]any{"alg": "ES256", "use": "sig"})
	add(k, want{kid: "ec-alg", alg: approov.ES256}, s)
	s, k = ecJWK(t, "ec-inferred", nil)
	add(k, want{kid: "ec-inferred", alg: approov.ES256}, s)
	s, k = ecJWK(t, "ec-verify-op", map[string]any{"key_ops": []string{"verify"}})
	add(k, want{kid: "ec-verify-op", alg: approov.ES256}, s)
	s, k = rsaJWK(t, 2048, "rsa-alg", map[string]any{"alg": "RS256"})
	add(k, want{kid: "rsa-alg", alg: approov.RS256}, s)

	_, k = rsaJWK(t, 2048, "rsa-no-alg", nil)
	add(k, want{kid: "rsa-no-alg", reason: "no alg, and RSA keys admit more than one algorithm"}, nil)
	_, k = rsaJWK(t, 2048, "rsa-ps256", map[string]any{"alg": "PS256"})
	add(k, want{kid: "rsa-ps256", reason: `algorithm "PS256" is not supported`}, nil)
	_, k = rsaJWK(t, 1024, "rsa-small", map[string]any{"alg": "RS256"})
	add(k, want{kid: "rsa-small", reason: "1024 bits"}, nil)
	_, k = ecJWKOn(t, elliptic.P384(), "P-384", "ec-384", map[string]any{"alg": "ES384"})
	add(k, want{kid: "ec-384", reason: `algorithm "ES384" is not supported`}, nil)
	_, k = ecJWKOn(t, elliptic.P384(), "P-384", "ec-384-as-256", map[string]any{"alg": "ES256"})
	add(k, want{kid: "ec-384-as-256", reason: `ES256 needs a P-256 key, not "P-384"`}, nil)
	_, k = ecJWKOn(t, elliptic.P384(), "P-384", "ec-384-no-alg", nil)
	add(k, want{kid: "ec-384-no-alg", reason: "no alg, and EC keys admit more than one algorithm"}, nil)
	_, k = ecJWK(t, "ec-as-rs256", map[string]any{"alg": "RS256"})
	add(k, want{kid: "ec-as-rs256", reason: "alg RS256 is not for EC keys"}, nil)
	_, k = ecJWK(t, "ec-enc", map[string]any{"use": "enc"})
	add(k, want{kid: "ec-enc", reason: `use is "enc", not sig`}, nil)
	_, k = ecJWK(t, "ec-sign-only", map[string]any{"key_ops": []string{"sign"}})
	add(k, want{kid: "ec-sign-only", reason: "key_ops does not include verify"}, nil)
	_, k = ecJWK(t, "ec-private", map[string]any{"d": b64.EncodeToString(make([]byte, 32))})
	add(k, want{kid: "ec-private", reason: "private key material"}, nil)
	_, k = rsaJWK(t, 2048, "rsa-private", map[string]any{"alg": "RS256", "d": "AQAB"})
	add(k, want{kid: "rsa-private", reason: "private key material"}, nil)
	_, k = octJWK(t, "oct", map[string]any{"alg": "HS256"})
	add(k, want{kid: "oct", reason: "symmetric (oct) key"}, nil)
	_, k = ecJWK(t, "ec-bad-point", map[string]any{"alg": "ES256", "x": b64.EncodeToString(make([]byte, 32))})
	add(k, want{kid: "ec-bad-point", reason: "invalid"}, nil)
	add(map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64.EncodeToString(make([]byte, 32))},
		want{kid: "ed", reason: `key type "OKP" is not supported`}, nil)
	add(map[string]any{"kty": "EC", "kid": "none-alg", "alg": "none", "crv": "P-256"},
		want{kid: "none-alg", reason: `algorithm "none" is not supported`}, nil)
	add("not an object", want{reason: "not a JWK"}, nil)
	add(map[string]any{"kty": "RSA", "kid": "rsa-missing-n", "alg": "RS256", "e": "AQAB"},
		want{kid: "rsa-missing-n", reason: "invalid"}, nil)

	keys, skipped, err := Parse(document(t, docKeys...), false)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]*approov.Key{}
	for _, k := range keys {
		used[k.ID()] = k
	}
	why := map[int]Skipped{}
	for _, s := range skipped {
		why[s.Index] = s
		t.Log(s)
	}
	for i, w := range wants {
		if w.alg != "" {
			k := used[w.kid]
			if k == nil || k.Algorithm() != w.alg {
				t.Errorf("keys[%d] %q: got %v, want a %s key (skipped: %v)", i, w.kid, k, w.alg, why[i])
			}
			continue
		}
		s, ok := why[i]
		if !ok || s.KeyID != w.kid || !strings.Contains(s.Reason, w.reason) {
			t.Errorf("keys[%d] %q: skipped %v, want the reason %q", i, w.kid, s, w.reason)
		}
	}
	if len(keys)+len(skipped) != len(wants) {
		t.Errorf("%d keys and %d skipped, from %d", len(keys), len(skipped), len(wants))
	}

	// The keys verify what their private halves signed.
	set := approov.NewKeySet(nil)
	set.Replace(keys)
	v, _ := approov.NewVerifier(approov.WithKeySet(set))
	for kid, signer := range signers {
		if _, err := v.Verify(token(t, signer)); err != nil {
			t.Errorf("%s: %v", kid, err)
		}
	}
}

// TestParseSymmetric: oct keys are used only when allowed, and then only
// as HS256 with a secret the library accepts.
func TestParseSymmetric(t *testing.T) {
	signer, good := octJWK(t, "hmac", map[string]any{"alg": "HS256"})
	_, noAlg := octJWK(t, "hmac-no-alg", nil)
	weak := map[string]any{"kty": "oct", "kid": "weak", "alg": "HS256", "k": b64.EncodeToString(make([]byte, 64))}
	short := map[string]any{"kty": "oct", "kid": "short", "alg": "HS256", "k": b64.EncodeToString([]byte("0123456789abcdef"))}
	keys, skipped, err := Parse(document(t, good, noAlg, weak, short), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID() != "hmac" || keys[0].Algorithm() != approov.HS256 {
		t.Fatalf("keys %v", keys)
	}
	reasons := []string{"no alg", "too weak", "at least 32"}
	if len(skipped) != len(reasons) {
		t.Fatalf("skipped %v", skipped)
	}
	for i, r := range reasons {
		if !strings.Contains(skipped[i].Reason, r) {
			t.Errorf("skipped[%d] = %v, want %q", i, skipped[i], r)
		}
	}
	for _, s := range skipped {
		if strings.Contains(s.Reason, "AAAA") || strings.Contains(s.Reason, "0123456789") {
			t.Errorf("a skip reason shows the secret: %v", s)
		}
	}
	set := approov.NewKeySet(nil)
	set.Replace(keys)
	v, _ := approov.NewVerifier(approov.WithKeySet(set))
	if _, err := v.Verify(token(t, signer)); err != nil {
		t.Fatal(err)
	}
}

// TestParseDocument: only a document that is not a JWK set, or has no
// usable key, fails as a whole.
func TestParseDocument(t *testing.T) {
	_, octKey := octJWK(t, "hmac", map[string]any{"alg": "HS256"})
	for _, tt := range []struct {
		name, doc, want string
	}{
		{"not JSON", "<html>", "not a JWK set"},
		{"array", "[]", "not a JWK set"},
		{"no keys member", `{"kids":[]}`, "no keys member"},
		{"keys not an array", `{"keys":{}}`, "not a JWK set"},
		{"keys null", `{"keys":null}`, "no keys member"},
		{"empty", `{"keys":[]}`, "no key this gateway can use (0 skipped)"},
		{"only skipped keys", string(document(t, octKey)), "no key this gateway can use (1 skipped)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tt.doc), false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse: %v, want %q", err, tt.want)
			}
		})
	}
	// Members other than keys are ignored, as RFC 7517 allows.
	_, ec := ecJWK(t, "k", nil)
	doc, _ := json.Marshal(map[string]any{"keys": []any{ec}, "issuer": "x"})
	if keys, _, err := Parse(doc, false); err != nil || len(keys) != 1 {
		t.Fatalf("extra member: %v %v", keys, err)
	}
}

func FuzzParse(f *testing.F) {
	_, ec := ecJWK(f, "ec", nil)
	_, rsa := rsaJWK(f, 2048, "rsa", map[string]any{"alg": "RS256"})
	_, oct := octJWK(f, "oct", map[string]any{"alg": "HS256"})
	f.Add(document(f, ec, rsa, oct), true)
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`), false)
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256"}]}`), false)
	f.Fuzz(func(t *testing.T, doc []byte, allowSymmetric bool) {
		keys, skipped, err := Parse(doc, allowSymmetric)
		if err == nil && len(keys) == 0 {
			t.Fatal("no error and no key")
		}
		for _, k := range keys {
			if k == nil {
				t.Fatal("nil key")
			}
			switch k.Algorithm() {
			case approov.ES256, approov.RS256:
			case approov.HS256:
				if !allowSymmetric {
					t.Fatal("an HS256 key without allowSymmetric")
				}
			default:
				t.Fatalf("key %v", k)
			}
		}
		for _, s := range skipped {
			if s.Reason == "" {
				t.Fatalf("skipped without a reason: %v", s)
			}
		}
	})
}
