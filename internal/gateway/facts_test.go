package gateway

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/assertion"
	"github.com/approov-gateway/approov/internal/config"
)

func TestStripClientHeaders(t *testing.T) {
	client := func() http.Header {
		return http.Header{
			"Approov-Device-Id":   {"forged"},
			"Approov_device_id":   {"forged"},
			"APPROOV_RESULT":      {"forged"},
			"Approov-Token":       {"t"},
			"Approov-Assertion":   {"forged"},
			"Script_name":         {"/public"},
			"X_custom":            {"x"},
			"X-Forwarded-Prefix":  {"/public"},
			"X-Forwarded-Ssl":     {"on"},
			"Approovx-Other":      {"kept"},
			"Authorization":       {"kept"},
			"X-Approov-Device-Id": {"kept"},
		}
	}
	for _, tt := range []struct {
		name       string
		underscore string
		trusted    bool
		want       []string
	}{
		{"untrusted client", config.UnderscoreDrop, false, []string{"Approovx-Other", "Authorization", "X-Approov-Device-Id"}},
		{"trusted proxy", config.UnderscoreDrop, true, []string{"Approovx-Other", "Authorization", "X-Approov-Device-Id", "X-Forwarded-Prefix", "X-Forwarded-Ssl"}},
		{"underscore_headers keep", config.UnderscoreKeep, false, []string{"Approovx-Other", "Authorization", "Script_name", "X-Approov-Device-Id", "X_custom"}},
	} {
		cfg := config.Defaults()
		cfg.UnderscoreHeaders = tt.underscore
		st := &state{cfg: cfg, reservedPrefix: "approov-", tokenHeader: "Approov-Token"}
		h := client()
		st.stripClientHeaders(h, tt.trusted)
		var got []string
		for k := range h {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: left %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIsTrusted(t *testing.T) {
	st := &state{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for addr, want := range map[string]bool{"10.1.2.3:5000": true, "[::1]:80": true, "11.0.0.1:1": false, "[::ffff:10.0.0.1]:1": true, "garbage": false} {
		if got := st.isTrusted(addr); got != want {
			t.Errorf("isTrusted(%q) = %v", addr, got)
		}
	}
}

func TestValidHeaderValue(t *testing.T) {
	for v, want := range map[string]bool{"device-1": true, "a\tb": true, "a\r\nb": false, "a\x00": false, "a\x7f": false, "é": true} {
		if got := validHeaderValue(v); got != want {
			t.Errorf("validHeaderValue(%q) = %v", v, got)
		}
	}
}

// assertionVerifier verifies what the test gateways sign.
func assertionVerifier(t testing.TB) *assertion.Verifier {
	t.Helper()
	keys, err := assertion.ParseKeys(testAssertionKey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := assertion.NewVerifier(keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// asReceived rebuilds the request the backend received, as a backend
// verifying the assertion sees it.
func asReceived(s seen) *http.Request {
	r, _ := http.NewRequest(s.Method, "http://"+s.Host+s.RequestURI, nil)
	r.Host, r.RequestURI, r.Header = s.Host, s.RequestURI, s.Header
	return r
}

const assertionRoutes = `
routes:
  - match: /public/
    mode: public
  - match: /bound/
    mode: binding
    binding_headers: [Authorization]
  - match: /beta/
    monitor: true
  - match: /rewritten/
    assertion_bind: host
`

func TestAssertionOnProxiedRequests(t *testing.T) {
	tg := newTestGateway(t, assertionRoutes, "APPROOV_ASSERTION_SECRET="+testAssertionKey, "APPROOV_FORWARD_CLAIMS=result,did,exp,ip")
	v := assertionVerifier(t)
	const auth = "Bearer alice"
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	valid := token(t, map[string]any{"did": "device-9", "exp": exp, "ip": "203.0.113.7"})
	bound := token(t, map[string]any{"did": "device-9", "pay": approov.PayloadHash(auth)})

	r := tg.do(t, "GET", "/api/items?page=2", h("Approov-Token", valid, "Approov-Assertion", "forged"))
	s := decodeSeen(t, r.body)
	c, err := v.VerifyRequest(asReceived(s))
	if err != nil {
		t.Fatalf("the assertion the backend received does not verify: %v", err)
	}
	if c.Result != "ok" || c.DeviceID != "device-9" || !c.TokenExpiry.Equal(exp) || c.Forwarded.IP != "203.0.113.7" ||
		c.Method != "GET" || c.Target != "/api/items?page=2" || c.Host != s.Host {
		t.Fatalf("claims %+v", c)
	}

	// Replayed on another request, it fails.
	for name, change := range map[string]func(*seen){
		"method": func(s *seen) { s.Method = "POST" },
		"path":   func(s *seen) { s.RequestURI = "/api/admin?page=2" },
		"query":  func(s *seen) { s.RequestURI = "/api/items?page=3" },
		"host":   func(s *seen) { s.Host = "other.example" },
	} {
		replay := s
		replay.Header = s.Header.Clone()
		change(&replay)
		if _, err := v.VerifyRequest(asReceived(replay)); assertion.Reason(err) != "assertion_request_mismatch" {
			t.Errorf("replayed on another %s: %v", name, err)
		}
	}

	// Bound routes bind the credential as sent upstream.
	r = tg.do(t, "GET", "/bound/me", h("Approov-Token", bound, "Authorization", auth))
	s = decodeSeen(t, r.body)
	c, err = v.VerifyRequest(asReceived(s))
	if err != nil || len(c.BoundHeaders) != 1 || c.BoundHeaders[0] != "authorization" {
		t.Fatalf("bound route: %v %+v", err, c)
	}
	s.Header.Set("Authorization", "Bearer mallory")
	if _, err := v.VerifyRequest(asReceived(s)); assertion.Reason(err) != "assertion_binding_mismatch" {
		t.Fatalf("replayed with another credential: %v", err)
	}

	// Public and monitored requests carry their result and no identity.
	for path, want := range map[string]string{"/public/x": "public", "/beta/x": "token_missing"} {
		s := decodeSeen(t, tg.do(t, "GET", path, nil).body)
		c, err := v.VerifyRequest(asReceived(s))
		if err != nil || c.Result != want || c.DeviceID != "" || c.Verified() {
			t.Errorf("%s: %v %+v", path, err, c)
		}
	}

	// assertion_bind: host leaves the target out.
	s = decodeSeen(t, tg.do(t, "GET", "/rewritten/x", h("Approov-Token", valid)).body)
	s.RequestURI = "/somewhere/else"
	if c, err := v.VerifyRequest(asReceived(s)); err != nil || !c.HostOnly {
		t.Fatalf("assertion_bind host: %v %+v", err, c)
	}
}

func TestAssertionOnForwardAuth(t *testing.T) {
	tg := newTestGateway(t, "forward_auth_only: true\n"+assertionRoutes, "APPROOV_ASSERTION_SECRET="+testAssertionKey)
	v := assertionVerifier(t)
	valid := token(t, map[string]any{"did": "device-fa"})
	r := tg.do(t, "GET", "/_approov/verify", h("X-Original-Method", "POST", "X-Original-Uri", "/api/x?q=1", "X-Forwarded-Host", "API.example.com", "Approov-Token", valid))
	if r.status != 200 {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	// The proxy forwards the original request with the assertion copied
	// in: it verifies against that request, as the client sent it.
	orig := seen{Method: "POST", RequestURI: "/api/x?q=1", Host: "API.example.com", Header: http.Header{"Approov-Assertion": r.header.Values("Approov-Assertion")}}
	c, err := v.VerifyRequest(asReceived(orig))
	if err != nil || c.DeviceID != "device-fa" || c.Result != "ok" {
		t.Fatalf("forward-auth assertion: %v %+v", err, c)
	}
	orig.RequestURI = "/api/y?q=1"
	if _, err := v.VerifyRequest(asReceived(orig)); err == nil {
		t.Fatal("the forward-auth assertion verified for another path")
	}
	// A refused check answers no facts and no assertion.
	r = tg.do(t, "GET", "/_approov/verify", h("X-Original-Method", "GET", "X-Original-Uri", "/api/x", "X-Forwarded-Host", "h"))
	if r.status != 401 || r.header.Get("Approov-Assertion") != "" || r.header.Get("Approov-Result") != "" {
		t.Fatalf("refused check: %d %v", r.status, r.header)
	}
}

func TestNoAssertionSecretWarns(t *testing.T) {
	cfg := loadTestConfig(t, "", map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": "http://127.0.0.1:9"})
	warnings, err := Check(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "assertion_secret is not set") }) {
		t.Fatalf("warnings %q", warnings)
	}
}
