package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
)

const forwardAuthRoutes = `
forward_auth_only: true
routes:
  - match: /public/
    mode: public
  - match: GET /catalogue/
    mode: public
  - match: /account/
    mode: binding
    binding_headers: [Authorization]
`

func TestForwardAuthConventions(t *testing.T) {
	tg := newTestGateway(t, forwardAuthRoutes)
	const auth = "Bearer alice"
	plain := token(t, map[string]any{"did": "device-fa"})
	bound := token(t, map[string]any{"did": "device-fa", "pay": approov.PayloadHash(auth)})
	nginx := func(method, uri string, kv ...string) http.Header {
		return h(append([]string{"X-Original-Method", method, "X-Original-Uri", uri, "X-Forwarded-Host", "api.example.com"}, kv...)...)
	}
	fwd := func(method, uri string, kv ...string) http.Header {
		return h(append([]string{"X-Forwarded-Method", method, "X-Forwarded-Uri", uri, "X-Forwarded-Host", "api.example.com"}, kv...)...)
	}
	const verify = "/_approov/verify"
	for _, tt := range []struct {
		name   string
		method string
		target string
		header http.Header
		status int
	}{
		{"nginx: token route, valid", "GET", verify, nginx("POST", "/api/x?y=1", "Approov-Token", plain), 200},
		{"nginx: token route, no token", "GET", verify, nginx("GET", "/api/x"), 401},
		{"nginx: public route", "GET", verify, nginx("GET", "/public/logo.png"), 200},
		{"nginx: binding route, bound", "GET", verify, nginx("GET", "/account/me", "Approov-Token", bound, "Authorization", auth), 200},
		{"nginx: binding route, other credential", "GET", verify, nginx("GET", "/account/me", "Approov-Token", bound, "Authorization", "Bearer mallory"), 401},
		{"forwarded: binding route, bound", "GET", verify, fwd("GET", "/account/me", "Approov-Token", bound, "Authorization", auth), 200},
		{"forwarded: public", "GET", verify, fwd("GET", "/public/"), 200},
		{"envoy: public", "GET", verify + "/public/a", h("Host", "api.example.com"), 200},
		{"envoy: binding, other credential", "GET", verify + "/account/me", h("Approov-Token", bound, "Authorization", "Bearer mallory"), 401},
		{"envoy: token, valid, query kept", "POST", verify + "/api/x?q=1", h("Approov-Token", plain), 200},

		// Two conventions in one check: behind Caddy, a client-sent
		// X-Original-URI next to Caddy's X-Forwarded-Uri.
		{"auto: nginx and forwarded", "GET", verify, fwd("POST", "/account/me", "X-Original-Uri", "/public/x"), 400},
		{"auto: forwarded and envoy", "GET", verify + "/public/x", fwd("GET", "/account/me"), 400},
		{"auto: a header twice", "GET", verify, h("X-Original-Method", "GET", "X-Original-Uri", "/public/x", "X-Original-Uri", "/account/me", "X-Forwarded-Host", "h"), 400},
		{"auto: method alone", "GET", verify, h("X-Forwarded-Method", "GET", "X-Forwarded-Host", "h"), 400},
		{"no convention at all", "GET", verify, h("X-Forwarded-Host", "h"), 400},
		{"no host", "GET", verify, h("X-Original-Method", "GET", "X-Original-Uri", "/public/x"), 400},
		{"host twice", "GET", verify, h("X-Original-Method", "GET", "X-Original-Uri", "/public/x", "X-Forwarded-Host", "a", "X-Forwarded-Host", "b"), 400},

		// The original request is held to the proxy listener's rules.
		{"original: dot segments", "GET", verify, nginx("GET", "/public/%2e%2e/account/me"), 403},
		{"original: lower-case method", "GET", verify, nginx("post", "/public/x"), 403},
		{"original: public route is GET only", "GET", verify, nginx("POST", "/catalogue/x"), 401},
		{"original: not a path", "GET", verify, nginx("GET", "not-a-uri"), 403},
		{"original: fragment", "GET", verify, nginx("GET", "/public/#/../account/me"), 403},
		{"original: CONNECT", "GET", verify, nginx("CONNECT", "/public/x"), 403},
		{"original: Connection nominates the credential", "GET", verify, nginx("GET", "/account/me", "Approov-Token", bound, "Authorization", auth, "Connection", "Authorization"), 403},

		{"not the endpoint", "GET", "/api/x", h("Approov-Token", plain), 404},
		{"a prefix of the endpoint", "GET", "/_approov/verifyx", nginx("GET", "/public/x"), 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tg.do(t, tt.method, tt.target, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			switch {
			case tt.status == 200 && tt.header.Get("Approov-Token") != "":
				if r.header.Get("Approov-Device-Id") != "device-fa" || r.header.Get("Approov-Result") != "ok" || r.header.Get("Approov-Token-Expiry") == "" {
					t.Fatalf("facts headers: %v", r.header)
				}
			case tt.status == 200:
				// Public: every fact is answered, empty, so that a proxy
				// copying them overwrites client-sent copies.
				if v, ok := r.header["Approov-Device-Id"]; !ok || v[0] != "" || r.header.Get("Approov-Result") != "public" {
					t.Fatalf("public facts headers: %v", r.header)
				}
			case tt.status == 401 && r.body != "{}":
				t.Fatalf("401 body %q", r.body)
			}
		})
	}
}

func TestForwardAuthRedirectsLikeTheProxy(t *testing.T) {
	tg := newTestGateway(t, forwardAuthRoutes)
	r := tg.do(t, "GET", "/_approov/verify", h("X-Original-Method", "GET", "X-Original-Uri", "/public?a=1", "X-Forwarded-Host", "h"))
	if r.status/100 != 3 || r.header.Get("Location") != "/public/?a=1" {
		t.Fatalf("/public with /public/ routed: %d %v", r.status, r.header)
	}
}

func TestForwardAuthExplicitConvention(t *testing.T) {
	tg := newTestGateway(t, forwardAuthRoutes, "APPROOV_FORWARD_AUTH_CONVENTION=forwarded")
	plain := token(t, nil)
	// A client-sent X-Original-URI is not read at all: the policy is that
	// of X-Forwarded-Uri, which the proxy sets.
	r := tg.do(t, "GET", "/_approov/verify", h("X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/account/me", "X-Forwarded-Host", "h", "X-Original-Uri", "/public/x", "Approov-Token", plain))
	if r.status != 401 {
		t.Fatalf("forwarded convention with a client X-Original-URI: %d", r.status)
	}
	if r := tg.do(t, "GET", "/_approov/verify", h("X-Original-Method", "GET", "X-Original-Uri", "/public/x", "X-Forwarded-Host", "h")); r.status != 400 {
		t.Fatalf("forwarded convention, nginx headers only: %d", r.status)
	}
}

func TestForwardAuthCallers(t *testing.T) {
	const secret = "proxy-shared-secret-0123456789"
	check := h("X-Original-Method", "GET", "X-Original-Uri", "/public/x", "X-Forwarded-Host", "h")
	withSecret := func(v string) http.Header {
		c := check.Clone()
		c.Set("Approov-Forward-Auth-Secret", v)
		return c
	}

	tg := newTestGateway(t, forwardAuthRoutes, "APPROOV_FORWARD_AUTH_SECRET="+secret)
	for _, tt := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"no secret", check, 403},
		{"wrong secret", withSecret("proxy-shared-secret-0123456788"), 403},
		{"secret as a prefix", withSecret(secret + "x"), 403},
		{"right secret", withSecret(secret), 200},
	} {
		if r := tg.do(t, "GET", "/_approov/verify", tt.header); r.status != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, r.status, tt.status)
		}
	}

	deny := newTestGateway(t, forwardAuthRoutes, "APPROOV_FORWARD_AUTH_CALLERS=10.0.0.0/8")
	if r := deny.do(t, "GET", "/_approov/verify", check); r.status != 403 {
		t.Errorf("caller outside forward_auth_callers: %d", r.status)
	}
	allow := newTestGateway(t, forwardAuthRoutes, "APPROOV_FORWARD_AUTH_CALLERS=10.0.0.0/8, 127.0.0.1")
	if r := allow.do(t, "GET", "/_approov/verify", check); r.status != 200 {
		t.Errorf("caller in forward_auth_callers: %d", r.status)
	}
}

func TestForwardAuthNotOnTheProxyListener(t *testing.T) {
	tg := newTestGateway(t, publicUnderProtected)
	check := h("X-Original-Method", "GET", "X-Original-Uri", "/public/x", "X-Forwarded-Host", "h")
	// On the proxy listener the path is the upstream's, under the route
	// that matches it: here the protected default.
	before := tg.backend.hits.Load()
	if r := tg.do(t, "GET", "/_approov/verify", check); r.status != 401 || tg.backend.hits.Load() != before {
		t.Fatalf("forward-auth path on the proxy listener: %d", r.status)
	}
	r := tg.do(t, "GET", "/_approov/verify", h("Approov-Token", token(t, nil)))
	if r.status != 200 || decodeSeen(t, r.body).RequestURI != "/_approov/verify" {
		t.Fatalf("the upstream's own /_approov/verify: %d %s", r.status, r.body)
	}

	// forward_auth_listen serves it beside the proxy.
	fa := newTestGateway(t, publicUnderProtected, "APPROOV_FORWARD_AUTH_LISTEN=127.0.0.1:0")
	srv := httptest.NewServer(fa.forwardAuthHandler())
	defer srv.Close()
	if r := rawDo(t, srv.Listener.Addr().String(), "GET", "/_approov/verify", check); r.status != 200 || r.header.Get("Approov-Result") != "public" {
		t.Fatalf("forward_auth_listen: %d %v", r.status, r.header)
	}
	if r := rawDo(t, srv.Listener.Addr().String(), "GET", "/public/x", nil); r.status != 404 || strings.Contains(r.body, "Method") {
		t.Fatalf("forward_auth_listen proxies: %d %s", r.status, r.body)
	}
}
