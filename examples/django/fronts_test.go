package django_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestFrontsFailClosed stops, behind each documented front proxy, first
// Django and then the gateway. Property: with the check unavailable
// nothing reaches Django, protected or public, and clients always get a
// JSON answer, never the proxy's HTML error page.
func TestFrontsFailClosed(t *testing.T) {
	want := map[string]struct{ djangoDown, gatewayDown e2e.Response }{
		"nginx auth_request": {
			djangoDown:  e2e.Response{Status: 502, Body: `{"error":"bad gateway"}`},
			gatewayDown: e2e.Response{Status: 503, Body: `{"error":"unavailable"}`},
		},
		// Caddy's error handler cannot tell which upstream failed.
		"caddy forward_auth": {
			djangoDown:  e2e.Response{Status: 502, Body: `{"error":"bad gateway"}`},
			gatewayDown: e2e.Response{Status: 502, Body: `{"error":"bad gateway"}`},
		},
	}
	valid := http.Header{"Approov-Token": {sign(t, map[string]any{"did": "device-real"})}}
	for _, front := range fronts {
		t.Run(front.name, func(t *testing.T) {
			want, ok := want[front.name]
			if !ok {
				t.Fatalf("no expectation for %s", front.name)
			}
			djangoAddr := e2e.FreeAddr(t)
			django := startDjango(t, "hello.settings", djangoAddr)
			gw := startGateway(t, "forward_auth_only: true\n", "APPROOV_FORWARD_AUTH_CONVENTION="+front.convention)
			base := front.start(t, djangoAddr, gw.Addr)

			check := func(when, path string, h http.Header, want e2e.Response) {
				t.Helper()
				got := e2e.Request(t, "GET", base+path, h)
				if got.Status != want.Status || got.Body != want.Body {
					t.Errorf("%s, %s: %d %q, want %d %q", when, path, got.Status, got.Body, want.Status, want.Body)
				}
				if want.Status != 200 && got.Header.Get("Content-Type") != "application/json" {
					t.Errorf("%s, %s: Content-Type %q", when, path, got.Header.Get("Content-Type"))
				}
			}
			if got := get(t, base+"/whoami", valid); got.Status != 200 {
				t.Fatalf("all up: %d %q", got.Status, got.Body)
			}
			check("all up, no token", "/whoami", nil, e2e.Response{Status: 401, Body: `{}`})

			django.Kill()
			check("Django stopped", "/whoami", valid, want.djangoDown)
			check("Django stopped", "/public/whoami", nil, want.djangoDown)
			check("Django stopped, no token", "/whoami", nil, e2e.Response{Status: 401, Body: `{}`})

			startDjango(t, "hello.settings", djangoAddr)
			gw.Kill()
			for _, path := range []string{"/whoami", "/public/whoami", "/healthz"} {
				check("gateway stopped", path, valid, want.gatewayDown)
				check("gateway stopped, no token", path, nil, want.gatewayDown)
			}
		})
	}
}

// TestFrontsRateLimit: with a per-device rate limit, a device over its
// allowance gets the gateway's 429 {} and Retry-After through Caddy,
// whose forward_auth passes the check's answer on as it is, and Django
// never sees the request. Through nginx the checks are not limited
// (auth_request would turn a 429 into a 500): the limit there is nginx's
// own limit_req, as the guide says.
func TestFrontsRateLimit(t *testing.T) {
	want := map[string][]int{
		"nginx auth_request": {200, 200, 200},
		"caddy forward_auth": {200, 200, 429},
	}
	for _, front := range fronts {
		t.Run(front.name, func(t *testing.T) {
			djangoAddr := e2e.FreeAddr(t)
			startDjango(t, "hello.settings", djangoAddr)
			gw := startGateway(t, "forward_auth_only: true\nrate_limit: 2/h\n", "APPROOV_FORWARD_AUTH_CONVENTION="+front.convention)
			base := front.start(t, djangoAddr, gw.Addr)
			device := http.Header{"Approov-Token": {sign(t, map[string]any{"did": "device-limited"})}}
			var got []int
			var last e2e.Response
			for range 3 {
				last = e2e.Request(t, "GET", base+"/whoami", device)
				got = append(got, last.Status)
			}
			if !slices.Equal(got, want[front.name]) {
				t.Fatalf("statuses %v, want %v", got, want[front.name])
			}
			if last.Status == 429 && (last.Body != "{}" || last.Header.Get("Retry-After") == "") {
				t.Errorf("429 answered %q, Retry-After %q", last.Body, last.Header.Get("Retry-After"))
			}
			other := http.Header{"Approov-Token": {sign(t, map[string]any{"did": "device-other"})}}
			if r := e2e.Request(t, "GET", base+"/whoami", other); r.Status != 200 {
				t.Errorf("another device: %d %q", r.Status, r.Body)
			}
		})
	}
}
