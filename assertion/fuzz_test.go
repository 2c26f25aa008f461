package assertion_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/assertion"
)

// signedTokens returns assertions made by Sign with key1 and with key2,
// of various shapes: the only tokens the fuzz targets' verifier may accept.
func signedTokens(tb testing.TB) []string {
	var out []string
	for _, k := range []*assertion.Key{key1, key2} {
		s := newSigner(tb, []*assertion.Key{k})
		for _, c := range []assertion.Claims{
			{ID: "id-1", Result: "ok", Method: "GET", Host: "api.example.com", Target: "/v1/orders?id=7"},
			{ID: "id-2", Result: "ok", DeviceID: "device-1", TokenExpiry: now.Add(time.Hour),
				Forwarded: assertion.Forwarded{IP: "192.0.2.1", PayloadHash: "cGF5"},
				Method:    "POST", Host: "api.example.com", Target: "/v1/orders",
				BoundHeaders: []string{"authorization"}, BindingHash: "aGFzaA=="},
			{ID: "id-3", Result: "public", Method: "GET", Host: "h", HostOnly: true},
			{ID: "id-4", Result: "token_expired", Method: "GET", Host: "h\"\\", Target: "/\u00e9?\x01"},
		} {
			out = append(out, sign(tb, s, &c))
		}
	}
	return out
}

// FuzzVerify holds Verify to one property: it accepts exactly the
// assertions Sign made with a configured key, and no other string, however
// close. Every rejection has a reason code; nothing panics.
func FuzzVerify(f *testing.F) {
	v := newVerifier(f, []*assertion.Key{key1, key2})
	made := map[string]bool{}
	for _, tok := range signedTokens(f) {
		made[tok] = true
		f.Add(tok)
		f.Add(tok + "=")
		f.Add(strings.Replace(tok, ".", "..", 1))
	}
	hdr := header(key1.ID())
	f.Add(forge(secret1, hdr, withClaim(`"htm":"GET"`, `"htm":"GET","htm":"DELETE"`)))
	f.Add(forgeSegments(secret1, b64.EncodeToString([]byte(hdr)), nonCanonical(baseClaims)))
	f.Add("")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		_, err := v.Verify(token)
		if err == nil && !made[token] {
			t.Fatalf("accepted a token Sign did not make: %q", token)
		}
		if err != nil && assertion.Reason(err) == assertion.ReasonOther {
			t.Fatalf("error without a reason code: %v", err)
		}
	})
}

// FuzzVerifyEdit changes one byte of a signed assertion (flips bits in it,
// inserts one or deletes one) and requires a rejection unless the token is
// unchanged.
func FuzzVerifyEdit(f *testing.F) {
	v := newVerifier(f, []*assertion.Key{key1, key2})
	tokens := signedTokens(f)
	for i := range tokens {
		for _, pos := range []uint16{0, 10, 90, 200, 0xFFFF} {
			f.Add(uint8(i), pos, byte(1), uint8(0))
			f.Add(uint8(i), pos, byte('.'), uint8(1))
			f.Add(uint8(i), pos, byte(0), uint8(2))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, pos uint16, x byte, op uint8) {
		tok := tokens[int(which)%len(tokens)]
		i := int(pos) % len(tok)
		var edited string
		switch op % 3 {
		case 0:
			b := []byte(tok)
			b[i] ^= x
			edited = string(b)
		case 1:
			edited = tok[:i] + string(rune(x)) + tok[i:]
			if x >= 0x80 {
				edited = tok[:i] + string([]byte{x}) + tok[i:]
			}
		case 2:
			edited = tok[:i] + tok[i+1:]
		}
		if _, err := v.Verify(edited); err == nil && edited != tok {
			t.Fatalf("accepted an edited token: %q from %q", edited, tok)
		}
	})
}

// FuzzVerifyRequest replays one assertion on requests that differ in
// method, Host, request-target or bound header, and requires a rejection
// unless the request is the one it was made for.
func FuzzVerifyRequest(f *testing.F) {
	s := newSigner(f, []*assertion.Key{key1})
	v := newVerifier(f, []*assertion.Key{key1})
	const method, host, target, auth = "GET", "api.example.com", "/v1/orders?id=7", "Bearer alice"
	h := http.Header{"Authorization": {auth}}
	tok := sign(f, s, &assertion.Claims{ID: "id", Result: "ok", Method: method, Host: host, Target: target,
		BoundHeaders: []string{"authorization"}, BindingHash: assertion.BindingHash(h, []string{"authorization"})})
	f.Add(method, host, target, auth)
	f.Add("get", host, target, auth)
	f.Add(method, host+".", target, auth)
	f.Add(method, host, target+"&", auth)
	f.Add(method, host, "/v1/orders?id=7#", auth)
	f.Add(method, host, target, auth+" ")
	f.Fuzz(func(t *testing.T, m, hst, tgt, a string) {
		r := &http.Request{Method: m, Host: hst, RequestURI: tgt,
			Header: http.Header{"Authorization": {a}, assertion.DefaultHeader: {tok}}}
		_, err := v.VerifyRequest(r)
		same := m == method && hst == host && tgt == target && a == auth
		if (err == nil) != same {
			t.Fatalf("%q %q %q %q: %v", m, hst, tgt, a, err)
		}
	})
}
