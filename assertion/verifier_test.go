package assertion_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/assertion"
)

func TestRoundTrip(t *testing.T) {
	s := newSigner(t, []*assertion.Key{key1}, assertion.WithAudience("orders"), assertion.WithLifetime(30*time.Second))
	v := newVerifier(t, []*assertion.Key{key1}, assertion.WithAudience("orders"))
	for _, c := range []assertion.Claims{
		{ID: "a", Result: "public", Method: "GET", Host: "h", Target: "/"},
		{ID: "b", Result: "token_expired", Method: "POST", Host: "", Target: "*"},
		{ID: "c", Result: "ok", DeviceID: "device-1", TokenExpiry: now.Add(time.Hour),
			Forwarded: assertion.Forwarded{IP: "192.0.2.1", AttestationResponse: "arc", InstallationPublicKey: "ipk",
				MessageSigningKeyID: "mskid", PayloadHash: "pay", Issuer: "approov.io", Subject: "sub"},
			Method: "PUT", Host: "api.example.com:8443", Target: "/a%2Fb/c?x=1&y=%20",
			BoundHeaders: []string{"authorization", "x-api-key"}, BindingHash: "aGFzaA=="},
		{ID: "d", Result: "ok", Method: "GET", Host: "api", HostOnly: true},
		{ID: "e\"\\\x00\x1f\x7f\n\t", Result: "ok", DeviceID: "dévice ☃ \U0001F600", Method: "GET", Host: "h\"", Target: "/\\?\"",
			Forwarded: assertion.Forwarded{Subject: "\u2028\u2029</script>"}},
	} {
		tok := sign(t, s, &c)
		got, err := v.Verify(tok)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		want := c
		want.Issuer, want.Audience = assertion.Issuer, "orders"
		want.IssuedAt, want.Expiry = now, now.Add(30*time.Second)
		if want.HostOnly {
			want.Target = ""
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: round trip\n got %+v\nwant %+v", c.ID, got, want)
		}
	}
}

func TestSignedForm(t *testing.T) {
	s := newSigner(t, []*assertion.Key{key1})
	tok := sign(t, s, &assertion.Claims{ID: "id-1", Result: "ok", DeviceID: "device-1", TokenExpiry: now.Add(600 * time.Second),
		Forwarded: assertion.Forwarded{IP: "192.0.2.1", PayloadHash: "cGF5"}, Method: "GET", Host: "api.example.com", Target: "/v1/orders?id=7"})
	// The members and their order are those of docs/ASSERTION.md, which
	// baseClaims is written after.
	if want := forge(secret1, header(key1.ID()), baseClaims); tok != want {
		t.Errorf("Sign gave\n%s\nwant\n%s", tok, want)
	}
	parts := strings.Split(tok, ".")
	if h, _ := b64.DecodeString(parts[0]); string(h) != header(key1.ID()) {
		t.Errorf("header %s", h)
	}
	bound := sign(t, s, &assertion.Claims{ID: "x", Result: "ok", Method: "GET", Host: "h", HostOnly: true,
		BoundHeaders: []string{"Authorization", "X-Api-Key"}, BindingHash: "aGFzaA=="})
	p, _ := b64.DecodeString(strings.Split(bound, ".")[1])
	if !strings.HasSuffix(string(p), `"htm":"GET","hth":"h","bnh":["authorization","x-api-key"],"bnd":"aGFzaA=="}`) {
		t.Errorf("bound claims %s", p)
	}
}

// tokenCase is an assertion and the reason Verify gives for it.
type tokenCase struct{ name, token, reason string }

// tokenCases returns assertions made by hand around a claim set issued at
// issued: valid ones, and every kind of malformation and tampering, most
// with the right HMAC. Verified at issued, each gives its reason; replayed
// on GET /v1/orders?id=7 to api.example.com, too.
func tokenCases(issued time.Time) []tokenCase {
	base := claimsAt(issued)
	withClaim := func(old, new string) string { return replaceIn(base, old, new) }
	hdr := header(key1.ID())
	valid := forge(secret1, hdr, base)
	at := func(offset int64) string { return fmt.Sprint(issued.Unix() + offset) }
	times := func(iat, exp int64) string {
		return withClaim(`"iat":`+at(0)+`,"exp":`+at(60), `"iat":`+at(iat)+`,"exp":`+at(exp))
	}
	parts := strings.Split(valid, ".")
	flipped := []byte(parts[2])
	flipped[0] ^= 1
	return []tokenCase{
		{"empty", "", "assertion_missing"},
		{"one segment", "abc", "assertion_malformed"},
		{"two segments", parts[0] + "." + parts[1], "assertion_malformed"},
		{"four segments", valid + ".x", "assertion_malformed"},
		{"empty signature", parts[0] + "." + parts[1] + ".", "assertion_malformed"},
		{"too large", strings.Repeat("A", assertion.MaxSize+1), "assertion_malformed"},
		{"padded signature", valid + "=", "assertion_malformed"},
		{"standard alphabet", strings.Replace(strings.Replace(valid, "-", "+", -1), "_", "/", -1), "assertion_malformed"},
		{"line break", parts[0] + ".\n" + parts[1] + "." + parts[2], "assertion_malformed"},
		{"space", " " + valid, "assertion_malformed"},
		{"non-canonical header, right HMAC", forgeSegments(secret1, nonCanonical(hdr), b64.EncodeToString([]byte(base))), "assertion_malformed"},
		{"non-canonical claims, right HMAC", forgeSegments(secret1, b64.EncodeToString([]byte(hdr)), nonCanonical(base)), "assertion_malformed"},
		{"non-canonical signature", parts[0] + "." + parts[1] + "." + nonCanonicalSig(parts[2]), "assertion_malformed"},

		{"alg HS384", forge(secret1, strings.Replace(hdr, "HS256", "HS384", 1), base), "assertion_malformed"},
		{"alg none", forge(secret1, strings.Replace(hdr, "HS256", "none", 1), base), "assertion_malformed"},
		{"typ JWT", forge(secret1, strings.Replace(hdr, "approov-assertion+jwt", "JWT", 1), base), "assertion_malformed"},
		{"no typ", forge(secret1, `{"alg":"HS256","kid":"`+key1.ID()+`"}`, base), "assertion_malformed"},
		{"no kid", forge(secret1, `{"alg":"HS256","typ":"approov-assertion+jwt"}`, base), "assertion_malformed"},
		{"crit", forge(secret1, strings.Replace(hdr, "}", `,"crit":["exp"]}`, 1), base), "assertion_malformed"},
		{"extra header member", forge(secret1, strings.Replace(hdr, "}", `,"x":"y"}`, 1), base), "assertion_malformed"},
		{"duplicate kid", forge(secret1, strings.Replace(hdr, "}", `,"kid":"`+key1.ID()+`"}`, 1), base), "assertion_malformed"},
		{"kid not a string", forge(secret1, `{"alg":"HS256","typ":"approov-assertion+jwt","kid":1}`, base), "assertion_malformed"},
		{"header not an object", forge(secret1, `["HS256"]`, base), "assertion_malformed"},
		{"header not JSON", forge(secret1, `{"alg":"HS256",`, base), "assertion_malformed"},
		{"unknown kid", forge(secret1, header("AAAAAAAAAAAA"), base), "assertion_unknown_key"},
		{"other key, own kid", forge(secret2, header(key2.ID()), base), "assertion_unknown_key"},
		{"other key, this kid", forge(secret2, hdr, base), "assertion_signature"},
		{"signature bit flipped", parts[0] + "." + parts[1] + "." + string(flipped), "assertion_signature"},
		{"signature short", parts[0] + "." + parts[1] + "." + parts[2][:40], "assertion_signature"},
		{"claims swapped", parts[0] + "." + b64.EncodeToString([]byte(withClaim(`"GET"`, `"PUT"`))) + "." + parts[2], "assertion_signature"},

		{"duplicate claim", forge(secret1, hdr, withClaim(`"htm":"GET"`, `"htm":"GET","htm":"DELETE"`)), "assertion_malformed"},
		{"duplicate claim, escaped", forge(secret1, hdr, withClaim(`"htm":"GET"`, `"htm":"GET","ht\u006d":"DELETE"`)), "assertion_malformed"},
		{"duplicate in clm", forge(secret1, hdr, withClaim(`"ip":"192.0.2.1"`, `"ip":"192.0.2.1","ip":"203.0.113.9"`)), "assertion_malformed"},
		{"claims not JSON", forge(secret1, hdr, base[:40]), "assertion_malformed"},
		{"claims an array", forge(secret1, hdr, "["+base+"]"), "assertion_malformed"},
		{"lone surrogate", forge(secret1, hdr, withClaim(`"device-1"`, `"\ud800"`)), "assertion_malformed"},
		{"invalid UTF-8", forge(secret1, hdr, withClaim(`"device-1"`, "\"\xff\"")), "assertion_malformed"},
		{"NaN", forge(secret1, hdr, withClaim(`"jti":"id-1"`, `"jti":"id-1","x":NaN`)), "assertion_malformed"},
		{"number overflow", forge(secret1, hdr, withClaim(`"jti":"id-1"`, `"jti":"id-1","x":1e400`)), "assertion_malformed"},
		{"too deep", forge(secret1, hdr, withClaim(`"jti":"id-1"`, `"jti":"id-1","x":`+strings.Repeat("[", 64)+strings.Repeat("]", 64))), "assertion_malformed"},
		{"byte order mark", forge(secret1, hdr, "\ufeff"+base), "assertion_malformed"},

		{"other issuer", forge(secret1, hdr, withClaim(`"approov-gateway"`, `"approov-gateway-2"`)), "assertion_claims_invalid"},
		{"other audience", forge(secret1, hdr, withClaim(`"approov-backend"`, `"other-backend"`)), "assertion_claims_invalid"},
		{"aud array", forge(secret1, hdr, withClaim(`"approov-backend"`, `["approov-backend"]`)), "assertion_claims_invalid"},
		{"iss missing", forge(secret1, hdr, withClaim(`"iss":"approov-gateway",`, ``)), "assertion_claims_invalid"},
		{"jti missing", forge(secret1, hdr, withClaim(`"jti":"id-1",`, ``)), "assertion_claims_invalid"},
		{"jti empty", forge(secret1, hdr, withClaim(`"jti":"id-1"`, `"jti":""`)), "assertion_claims_invalid"},
		{"jti a number", forge(secret1, hdr, withClaim(`"jti":"id-1"`, `"jti":1`)), "assertion_claims_invalid"},
		{"result empty", forge(secret1, hdr, withClaim(`"result":"ok"`, `"result":""`)), "assertion_claims_invalid"},
		{"result null", forge(secret1, hdr, withClaim(`"result":"ok"`, `"result":null`)), "assertion_claims_invalid"},
		{"htm missing", forge(secret1, hdr, withClaim(`"htm":"GET",`, ``)), "assertion_claims_invalid"},
		{"hth missing", forge(secret1, hdr, withClaim(`"hth":"api.example.com",`, ``)), "assertion_claims_invalid"},
		{"htu a number", forge(secret1, hdr, withClaim(`"/v1/orders?id=7"`, `7`)), "assertion_claims_invalid"},
		{"did a number", forge(secret1, hdr, withClaim(`"device-1"`, `1`)), "assertion_claims_invalid"},
		{"iat a string", forge(secret1, hdr, withClaim(`"iat":`+at(0), `"iat":"`+at(0)+`"`)), "assertion_claims_invalid"},
		{"iat a fraction", forge(secret1, hdr, withClaim(`"iat":`+at(0), `"iat":`+at(0)+`.5`)), "assertion_claims_invalid"},
		{"iat an exponent", forge(secret1, hdr, withClaim(`"iat":`+at(0), `"iat":1.7e9`)), "assertion_claims_invalid"},
		{"iat true", forge(secret1, hdr, withClaim(`"iat":`+at(0), `"iat":true`)), "assertion_claims_invalid"},
		{"iat negative", forge(secret1, hdr, withClaim(`"iat":`+at(0), `"iat":-1`)), "assertion_claims_invalid"},
		{"exp beyond 9999", forge(secret1, hdr, withClaim(`"exp":`+at(60), `"exp":253402300800`)), "assertion_claims_invalid"},
		{"exp missing", forge(secret1, hdr, withClaim(`"exp":`+at(60)+`,`, ``)), "assertion_claims_invalid"},
		{"tex a string", forge(secret1, hdr, withClaim(`"tex":`+at(600), `"tex":"soon"`)), "assertion_claims_invalid"},
		{"clm a string", forge(secret1, hdr, withClaim(`{"ip":"192.0.2.1","pay":"cGF5"}`, `"ip"`)), "assertion_claims_invalid"},
		{"clm value a number", forge(secret1, hdr, withClaim(`"ip":"192.0.2.1"`, `"ip":1`)), "assertion_claims_invalid"},
		{"bnh without bnd", forge(secret1, hdr, withClaim(`"htm"`, `"bnh":["authorization"],"htm"`)), "assertion_claims_invalid"},
		{"bnd without bnh", forge(secret1, hdr, withClaim(`"htm"`, `"bnd":"aGFzaA==","htm"`)), "assertion_claims_invalid"},
		{"bnh upper case", forge(secret1, hdr, withClaim(`"htm"`, `"bnh":["Authorization"],"bnd":"aGFzaA==","htm"`)), "assertion_claims_invalid"},
		{"bnh host", forge(secret1, hdr, withClaim(`"htm"`, `"bnh":["host"],"bnd":"aGFzaA==","htm"`)), "assertion_claims_invalid"},
		{"bnh not a name", forge(secret1, hdr, withClaim(`"htm"`, `"bnh":["a b"],"bnd":"aGFzaA==","htm"`)), "assertion_claims_invalid"},
		{"bnh a string", forge(secret1, hdr, withClaim(`"htm"`, `"bnh":"authorization","bnd":"aGFzaA==","htm"`)), "assertion_claims_invalid"},
		{"bnh of numbers", forge(secret1, hdr, withClaim(`"htm"`, `"bnh":[1],"bnd":"aGFzaA==","htm"`)), "assertion_claims_invalid"},

		{"expired", forge(secret1, hdr, times(-660, -600)), "assertion_expired"},
		{"expired at the leeway", forge(secret1, hdr, times(-65, -5)), "assertion_expired"},
		{"within the leeway", forge(secret1, hdr, times(-64, -4)), "ok"},
		{"iat in the future", forge(secret1, hdr, times(600, 660)), "assertion_not_yet_valid"},
		{"iat at the leeway", forge(secret1, hdr, times(5, 65)), "ok"},
		{"too long a lifetime", forge(secret1, hdr, times(0, 301)), "assertion_claims_invalid"},
		{"the longest lifetime", forge(secret1, hdr, times(0, 300)), "ok"},

		{"unknown claim ignored", forge(secret1, hdr, withClaim(`"jti":"id-1"`, `"jti":"id-1","nbf":"x","z":{"a":1,"a":2}`)), "ok"},
		{"unknown clm member ignored", forge(secret1, hdr, withClaim(`"ip":"192.0.2.1"`, `"ip":"192.0.2.1","x":1`)), "ok"},
		{"escaped names and values", forge(secret1, `{"\u0061lg":"HS\u0032\u0035\u0036","typ":"approov-assertion+jwt","kid":"`+key1.ID()+`"}`,
			withClaim(`"iss":"approov-gateway"`, `"i\u0073s":"approov\u002dgateway"`)), "ok"},
		{"whitespace", forge(secret1, hdr, " \n"+strings.Replace(base, ",", " ,\t", -1)+"\r\n"), "ok"},
		{"minus zero", forge(secret1, hdr, withClaim(`"tex":`+at(600), `"tex":-0`)), "ok"},
	}
}

func TestVerifyRejects(t *testing.T) {
	v := newVerifier(t, []*assertion.Key{key1})
	if r := reasonOf(v, forge(secret1, header(key1.ID()), baseClaims)); r != "ok" {
		t.Fatalf("the valid token: %s", r)
	}
	seen := map[string]bool{}
	for _, tc := range tokenCases(now) {
		if seen[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		seen[tc.name] = true
		if got := reasonOf(v, tc.token); got != tc.reason {
			_, err := v.Verify(tc.token)
			t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.reason)
		}
	}
}

// nonCanonicalSig sets unused bits in the last character of a signature
// segment, which, 43 characters long, has two.
func nonCanonicalSig(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

// request returns a request as net/http hands it to a handler behind the
// gateway, built directly so that any bytes can be in it.
func request(method, target, host string, kv ...string) *http.Request {
	r := &http.Request{Method: method, RequestURI: target, Host: host, Header: http.Header{}}
	for i := 0; i < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

// claimsFor returns the claims the gateway signs for r, binding names.
func claimsFor(r *http.Request, names ...string) *assertion.Claims {
	c := &assertion.Claims{ID: "id-1", Result: "ok", DeviceID: "device-1", Method: r.Method, Host: r.Host, Target: r.RequestURI}
	if len(names) > 0 {
		c.BoundHeaders, c.BindingHash = names, assertion.BindingHash(r.Header, names)
	}
	return c
}

// requestCase is a request as a backend receives it, assertion included,
// and the reason VerifyRequest gives for it.
type requestCase struct {
	name                 string
	method, target, host string
	headers              []string // name, value, name, value...
	reason               string
}

// request returns the case's request as net/http gives it to a handler.
func (rc requestCase) request() *http.Request {
	return request(rc.method, rc.target, rc.host, rc.headers...)
}

// requestCases returns requests made with and without changes to the one
// each assertion, signed by s, was made for: the replays the assertion
// must stop and the changes it must let through.
func requestCases(t testing.TB, s *assertion.Signer) []requestCase {
	orig := request("GET", "/v1/orders?id=7", "api.example.com", "Authorization", "Bearer alice", "X-Api-Key", "k1")
	tok := sign(t, s, claimsFor(orig, "Authorization", "x-api-key"))
	hostOnlyClaims := claimsFor(orig)
	hostOnlyClaims.HostOnly = true
	hostOnly := sign(t, s, hostOnlyClaims)
	// Bytes beyond ASCII, as they come: a UTF-8 host and target, a bound
	// header that is not even UTF-8.
	raw := request("PATCH", "/caf\u00e9/%2F?q=\u00fc&r=%C3%A9", "b\u00fccher.example:8443", "X-Name", "Zo\u00eb \xff")
	rawTok := sign(t, s, claimsFor(raw, "x-name"))
	h := func(token string, kv ...string) []string {
		return append([]string{assertion.DefaultHeader, token}, kv...)
	}
	alice := []string{"Authorization", "Bearer alice", "X-Api-Key", "k1"}
	return []requestCase{
		{"the request", "GET", "/v1/orders?id=7", "api.example.com", h(tok, alice...), "ok"},
		{"an unbound header added", "GET", "/v1/orders?id=7", "api.example.com", h(tok, append(alice, "Cookie", "c")...), "ok"},
		{"no assertion", "GET", "/v1/orders?id=7", "api.example.com", alice, "assertion_missing"},
		{"empty assertion", "GET", "/v1/orders?id=7", "api.example.com", h("", alice...), "assertion_missing"},
		{"assertion twice", "GET", "/v1/orders?id=7", "api.example.com", h(tok, append(alice, assertion.DefaultHeader, tok)...), "assertion_duplicated"},
		{"assertions joined", "GET", "/v1/orders?id=7", "api.example.com", h(tok+","+tok, alice...), "assertion_duplicated"},
		{"other method", "DELETE", "/v1/orders?id=7", "api.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"method in lower case", "get", "/v1/orders?id=7", "api.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"other host", "GET", "/v1/orders?id=7", "admin.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"no host", "GET", "/v1/orders?id=7", "", h(tok, alice...), "assertion_request_mismatch"},
		{"host in other case", "GET", "/v1/orders?id=7", "API.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"host with port", "GET", "/v1/orders?id=7", "api.example.com:443", h(tok, alice...), "assertion_request_mismatch"},
		{"other path", "GET", "/v1/admin?id=7", "api.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"path encoded otherwise", "GET", "/v1/%6Frders?id=7", "api.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"absolute form", "GET", "http://api.example.com/v1/orders?id=7", "api.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"other query", "GET", "/v1/orders?id=8", "api.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"query dropped", "GET", "/v1/orders", "api.example.com", h(tok, alice...), "assertion_request_mismatch"},
		{"other credential", "GET", "/v1/orders?id=7", "api.example.com", h(tok, "Authorization", "Bearer mallory", "X-Api-Key", "k1"), "assertion_binding_mismatch"},
		{"credential dropped", "GET", "/v1/orders?id=7", "api.example.com", h(tok, "X-Api-Key", "k1"), "assertion_binding_mismatch"},
		{"credential empty", "GET", "/v1/orders?id=7", "api.example.com", h(tok, "Authorization", "", "X-Api-Key", "k1"), "assertion_binding_mismatch"},
		{"credential twice", "GET", "/v1/orders?id=7", "api.example.com", h(tok, append(alice, "Authorization", "Bearer alice")...), "assertion_binding_mismatch"},
		{"credential joined", "GET", "/v1/orders?id=7", "api.example.com", h(tok, "Authorization", "Bearer alice, Bearer alice", "X-Api-Key", "k1"), "assertion_binding_mismatch"},
		{"bound headers swapped", "GET", "/v1/orders?id=7", "api.example.com", h(tok, "Authorization", "k1", "X-Api-Key", "Bearer alice"), "assertion_binding_mismatch"},
		{"host only, same method, other path", "GET", "/rewritten?x", "api.example.com", h(hostOnly), "ok"},
		{"host only, other method", "POST", "/rewritten", "api.example.com", h(hostOnly), "assertion_request_mismatch"},
		{"host only, other host", "GET", "/v1/orders?id=7", "admin.example.com", h(hostOnly), "assertion_request_mismatch"},
		{"raw bytes", raw.Method, raw.RequestURI, raw.Host, h(rawTok, "X-Name", "Zo\u00eb \xff"), "ok"},
		{"raw bytes, path decoded", raw.Method, "/caf\u00e9//?q=\u00fc&r=\u00e9", raw.Host, h(rawTok, "X-Name", "Zo\u00eb \xff"), "assertion_request_mismatch"},
		{"raw bytes, other header byte", raw.Method, raw.RequestURI, raw.Host, h(rawTok, "X-Name", "Zo\u00eb \xfe"), "assertion_binding_mismatch"},
	}
}

func TestVerifyRequest(t *testing.T) {
	s := newSigner(t, []*assertion.Key{key1})
	v := newVerifier(t, []*assertion.Key{key1})
	for _, tc := range requestCases(t, s) {
		c, err := v.VerifyRequest(tc.request())
		if got := assertion.Reason(err); got != tc.reason {
			t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.reason)
		}
		// A mismatch still returns the verified claims, for logs.
		if strings.HasSuffix(tc.reason, "mismatch") && c.Result != "ok" {
			t.Errorf("%s: claims not returned with the mismatch", tc.name)
		}
	}
}

func TestHeaderPrefix(t *testing.T) {
	s := newSigner(t, []*assertion.Key{key1})
	v := newVerifier(t, []*assertion.Key{key1}, assertion.WithHeaderPrefix("x-approov-"))
	if v.Header() != "X-Approov-Assertion" {
		t.Errorf("Header() = %q", v.Header())
	}
	r := request("GET", "/", "h")
	r.Header.Set(assertion.DefaultHeader, sign(t, s, claimsFor(r)))
	if _, err := v.VerifyRequest(r); !errors.Is(err, assertion.ErrMissing) {
		t.Errorf("read the default header: %v", err)
	}
	r.Header.Set("X-Approov-Assertion", r.Header.Get(assertion.DefaultHeader))
	if _, err := v.VerifyRequest(r); err != nil {
		t.Error(err)
	}
	if _, err := assertion.NewVerifier([]*assertion.Key{key1}, assertion.WithHeaderPrefix("Bad Prefix ")); err == nil {
		t.Error("accepted a prefix that makes no header name")
	}
}

func TestAudience(t *testing.T) {
	orders := newSigner(t, []*assertion.Key{key1}, assertion.WithAudience("orders"))
	r := request("GET", "/", "h")
	tok := sign(t, orders, claimsFor(r))
	for aud, want := range map[string]string{"orders": "ok", "billing": "assertion_claims_invalid", assertion.DefaultAudience: "assertion_claims_invalid"} {
		if got := reasonOf(newVerifier(t, []*assertion.Key{key1}, assertion.WithAudience(aud)), tok); got != want {
			t.Errorf("verifier for %s: %s, want %s", aud, got, want)
		}
	}
}

func TestLifetimeOptions(t *testing.T) {
	long := newSigner(t, []*assertion.Key{key1}, assertion.WithLifetime(10*time.Minute))
	tok := sign(t, long, claimsFor(request("GET", "/", "h")))
	if got := reasonOf(newVerifier(t, []*assertion.Key{key1}), tok); got != "assertion_claims_invalid" {
		t.Errorf("ten-minute assertion with the default maximum: %s", got)
	}
	if got := reasonOf(newVerifier(t, []*assertion.Key{key1}, assertion.WithMaxLifetime(10*time.Minute)), tok); got != "ok" {
		t.Errorf("ten-minute assertion with a ten-minute maximum: %s", got)
	}
	// A gateway clock 20 s ahead: refused without leeway enough.
	ahead := newSignerAt(t, now.Add(20*time.Second))
	tok = sign(t, ahead, claimsFor(request("GET", "/", "h")))
	if got := reasonOf(newVerifier(t, []*assertion.Key{key1}), tok); got != "assertion_not_yet_valid" {
		t.Errorf("20 s ahead, default leeway: %s", got)
	}
	if got := reasonOf(newVerifier(t, []*assertion.Key{key1}, assertion.WithLeeway(20*time.Second)), tok); got != "ok" {
		t.Errorf("20 s ahead, 20 s leeway: %s", got)
	}
	for _, d := range []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, -time.Second} {
		if _, err := assertion.NewSigner([]*assertion.Key{key1}, assertion.WithLifetime(d)); err == nil {
			t.Errorf("lifetime %v accepted", d)
		}
	}
	if _, err := assertion.NewVerifier([]*assertion.Key{key1}, assertion.WithLeeway(-time.Second)); err == nil {
		t.Error("negative leeway accepted")
	}
	if _, err := assertion.NewVerifier([]*assertion.Key{key1}, assertion.WithMaxLifetime(0)); err == nil {
		t.Error("zero maximum lifetime accepted")
	}
	if _, err := assertion.NewSigner([]*assertion.Key{key1}, assertion.WithAudience("")); err == nil {
		t.Error("empty audience accepted")
	}
	if _, err := assertion.NewVerifier([]*assertion.Key{key1}, assertion.WithClock(nil)); err == nil {
		t.Error("nil clock accepted")
	}
	if _, err := assertion.NewSigner(nil); err == nil {
		t.Error("signer without keys")
	}
	if _, err := assertion.NewVerifier([]*assertion.Key{key1, nil}); err == nil {
		t.Error("verifier with a nil key")
	}
}

func newSignerAt(t *testing.T, at time.Time) *assertion.Signer {
	s, err := assertion.NewSigner([]*assertion.Key{key1}, assertion.WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRotation(t *testing.T) {
	oldKey, newKey := key1, key2
	r := request("GET", "/", "h")
	rotated := sign(t, newSigner(t, []*assertion.Key{newKey, oldKey}), claimsFor(r))
	before := sign(t, newSigner(t, []*assertion.Key{oldKey}), claimsFor(r))
	tests := []struct {
		verifier []*assertion.Key
		token    string
		reason   string
	}{
		{[]*assertion.Key{oldKey}, rotated, "assertion_unknown_key"}, // the gateway rotated before this backend
		{[]*assertion.Key{oldKey, newKey}, rotated, "ok"},
		{[]*assertion.Key{newKey, oldKey}, rotated, "ok"},
		{[]*assertion.Key{newKey, oldKey}, before, "ok"},
		{[]*assertion.Key{newKey}, before, "assertion_unknown_key"}, // the old key removed
	}
	for i, tc := range tests {
		if got := reasonOf(newVerifier(t, tc.verifier), tc.token); got != tc.reason {
			t.Errorf("case %d: %s, want %s", i, got, tc.reason)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	s := newSigner(t, []*assertion.Key{key1})
	valid := func() *assertion.Claims { return claimsFor(request("GET", "/", "h")) }
	tests := map[string]func(c *assertion.Claims){
		"no ID":                  func(c *assertion.Claims) { c.ID = "" },
		"no result":              func(c *assertion.Claims) { c.Result = "" },
		"no method":              func(c *assertion.Claims) { c.Method = "" },
		"no target":              func(c *assertion.Claims) { c.Target = "" },
		"invalid UTF-8 target":   func(c *assertion.Claims) { c.Target = "/\xff" },
		"invalid UTF-8 host":     func(c *assertion.Claims) { c.Host = "h\xc3" },
		"invalid UTF-8 did":      func(c *assertion.Claims) { c.DeviceID = "\xed\xa0\x80" },
		"invalid UTF-8 clm":      func(c *assertion.Claims) { c.Forwarded.Subject = "\xc0\xaf" },
		"invalid UTF-8 jti":      func(c *assertion.Claims) { c.ID = "\x80" },
		"bound header with hash": func(c *assertion.Claims) { c.BoundHeaders = []string{"a"} },
		"hash without headers":   func(c *assertion.Claims) { c.BindingHash = "x" },
		"bound name not a token": func(c *assertion.Claims) { c.BoundHeaders, c.BindingHash = []string{"a:b"}, "x" },
		"bound Host":             func(c *assertion.Claims) { c.BoundHeaders, c.BindingHash = []string{"Host"}, "x" },
		"token expiry too early": func(c *assertion.Claims) { c.TokenExpiry = time.Unix(-1, 0) },
		"too large":              func(c *assertion.Claims) { c.Target = "/" + strings.Repeat("a", assertion.MaxSize) },
	}
	for name, change := range tests {
		c := valid()
		change(c)
		tok, err := s.Sign(c)
		if !errors.Is(err, assertion.ErrUnsignable) || tok != "" {
			t.Errorf("%s: %q, %v", name, tok, err)
		}
	}
	c := valid()
	c.Target = "/" + strings.Repeat("a", 11000)
	if _, err := s.Sign(c); err != nil {
		t.Errorf("an 11 kB target: %v", err)
	}
}

func TestReason(t *testing.T) {
	if assertion.Reason(nil) != "ok" || assertion.Reason(errors.New("x")) != "error" {
		t.Error("Reason of nil or a foreign error")
	}
	if got := assertion.Reason(fmt.Errorf("wrapped: %w", assertion.ErrExpired)); got != "assertion_expired" {
		t.Errorf("wrapped sentinel: %s", got)
	}
	want := []string{"assertion_missing", "assertion_duplicated", "assertion_malformed", "assertion_unknown_key",
		"assertion_signature", "assertion_expired", "assertion_not_yet_valid", "assertion_claims_invalid",
		"assertion_request_mismatch", "assertion_binding_mismatch"}
	if got := assertion.Reasons(); !reflect.DeepEqual(got, want) {
		t.Errorf("Reasons() = %v", got)
	}
	_, err := newVerifier(t, []*assertion.Key{key1}).Verify(forge(secret1, header(key1.ID()), withClaim(`"approov-backend"`, `"x"`)))
	var e *assertion.Error
	if !errors.As(err, &e) || e.Reason() != "assertion_claims_invalid" || e.Detail() == "" ||
		!strings.HasPrefix(e.Error(), "assertion: ") || !errors.Is(err, assertion.ErrClaimsInvalid) {
		t.Errorf("error %#v", err)
	}
}

func TestBindingHash(t *testing.T) {
	h := http.Header{}
	h.Add("Authorization", "Bearer a")
	h.Add("X-Multi", "1")
	h.Add("X-Multi", "2")
	// Known answer: sha256 of "authorization:Bearer a\nx-multi:1\nx-multi:2\n".
	const want = "a64iciGMrLEdNnG/o5CMbznPAroSlWagtecz9aaNq4M="
	if got := assertion.BindingHash(h, []string{"authorization", "X-MULTI", "x-absent"}); got != want {
		t.Errorf("BindingHash = %s, want %s", got, want)
	}
	if assertion.BindingHash(h, []string{"x-multi", "authorization"}) == want {
		t.Error("order of names ignored")
	}
}
