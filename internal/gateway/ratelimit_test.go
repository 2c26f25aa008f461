package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

// rateCount reads approov_gateway_rate_limit_total of the device limit
// for route and outcome.
func (tg *testGateway) rateCount(t *testing.T, route, outcome string) float64 {
	t.Helper()
	return tg.rateCountOf(t, route, "device", outcome)
}

// rateCountOf reads approov_gateway_rate_limit_total for route, limit
// and outcome.
func (tg *testGateway) rateCountOf(t *testing.T, route, limit, outcome string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	tg.adminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	series := fmt.Sprintf("approov_gateway_rate_limit_total{limit=%q,outcome=%q,route=%q} ", limit, outcome, route)
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// TestRateLimitPerDevice: each verified device gets its burst, then 429 {}
// with Retry-After and the RateLimit fields; another device is not
// affected; a token without did is not limited; a route can turn the limit
// off; a public route passes.
func TestRateLimitPerDevice(t *testing.T) {
	tg := newTestGateway(t, `
rate_limit: 2/m
routes:
  - match: /free/
    rate_limit: "off"
  - match: /public/
    mode: public
`)
	alice := h("Approov-Token", token(t, map[string]any{"did": "alice"}))
	bob := h("Approov-Token", token(t, map[string]any{"did": "bob"}))
	for i := range 2 {
		if r := tg.do(t, "GET", "/a", alice); r.status != 200 {
			t.Fatalf("alice's request %d: %d", i+1, r.status)
		}
	}
	r := tg.do(t, "GET", "/a", alice)
	if r.status != 429 || r.body != "{}" {
		t.Fatalf("alice over her limit: %d %q", r.status, r.body)
	}
	for name, want := range map[string]string{"Retry-After": "30", "RateLimit-Policy": `"device";q=2;w=60`, "RateLimit": `"device";r=0;t=60`} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if r := tg.do(t, "GET", "/a", bob); r.status != 200 {
		t.Errorf("bob: %d", r.status)
	}
	anonymous := h("Approov-Token", token(t, nil))
	for range 5 {
		if r := tg.do(t, "GET", "/a", anonymous); r.status != 200 {
			t.Fatalf("a token without did: %d", r.status)
		}
		if r := tg.do(t, "GET", "/free/x", alice); r.status != 200 {
			t.Fatalf("rate_limit off on the route: %d", r.status)
		}
		if r := tg.do(t, "GET", "/public/x", nil); r.status != 200 {
			t.Fatalf("public route: %d", r.status)
		}
	}
	for outcome, want := range map[string]float64{"allowed": 3, "limited": 1, "no_key": 5} {
		if got := tg.rateCount(t, "default", outcome); got != want {
			t.Errorf("%s: %v, want %v", outcome, got, want)
		}
	}
}

// TestRateLimitNeverOnAFailedToken: in monitor mode a failed token's
// request passes, but its did is not trusted to key a limit.
func TestRateLimitNeverOnAFailedToken(t *testing.T) {
	tg := newTestGateway(t, "rate_limit: 1/h\nmonitor: true\n")
	forged := token(t, map[string]any{"did": "victim"})
	forged = forged[:len(forged)-2] + "AA"
	for range 3 {
		if r := tg.do(t, "GET", "/", h("Approov-Token", forged)); r.status != 200 {
			t.Fatalf("monitor mode: %d", r.status)
		}
	}
	if r := tg.do(t, "GET", "/", h("Approov-Token", token(t, map[string]any{"did": "victim"}))); r.status != 200 {
		t.Fatalf("the real victim was limited by forged tokens: %d", r.status)
	}
}

// TestRateLimitMonitor: over the limit, logged and counted, let through.
func TestRateLimitMonitor(t *testing.T) {
	tg := newTestGateway(t, "rate_limit: 1/h\nrate_limit_monitor: true\n")
	alice := h("Approov-Token", token(t, map[string]any{"did": "alice"}))
	for range 3 {
		if r := tg.do(t, "GET", "/", alice); r.status != 200 {
			t.Fatalf("%d", r.status)
		}
	}
	if got := tg.rateCount(t, "default", "monitored"); got != 2 {
		t.Errorf("monitored: %v", got)
	}
}

// TestRateLimitSharedThroughRedis: two gateways sharing one Redis hold
// one limit between them; with Redis gone, requests pass (the default)
// or get 503 {} (rate_limit_fail_closed).
func TestRateLimitSharedThroughRedis(t *testing.T) {
	m := miniredis.RunT(t)
	yaml := "rate_limit: 3/h\nrate_limit_redis_url: redis://" + m.Addr() + "/0\nrate_limit_redis_timeout: 200ms\n"
	a, b := newTestGateway(t, yaml), newTestGateway(t, yaml)
	alice := h("Approov-Token", token(t, map[string]any{"did": "alice"}))
	var statuses []int
	for _, tg := range []*testGateway{a, b, a, b} {
		statuses = append(statuses, tg.do(t, "GET", "/", alice).status)
	}
	if fmt.Sprint(statuses) != "[200 200 200 429]" {
		t.Fatalf("across two gateways: %v", statuses)
	}

	closed := newTestGateway(t, yaml+"rate_limit_fail_closed: true\n")
	m.Close()
	if r := a.do(t, "GET", "/", h("Approov-Token", token(t, map[string]any{"did": "bob"}))); r.status != 200 {
		t.Errorf("Redis down, fail open: %d", r.status)
	}
	if got := a.rateCount(t, "default", "error"); got != 1 {
		t.Errorf("errors counted: %v", got)
	}
	if r := closed.do(t, "GET", "/", alice); r.status != 503 || r.body != "{}" {
		t.Errorf("Redis down, fail closed: %d %q", r.status, r.body)
	}
}

// TestRateLimitPerAddress: the opt-in limit per client address holds
// across devices on one address, on its own counter; behind a trusted
// proxy the address is the last forwarded one that is not the proxy's;
// by ip_claim it is the verified token's ip claim, and tokens without one
// are not limited by it.
func TestRateLimitPerAddress(t *testing.T) {
	tg := newTestGateway(t, "rate_limit_address: 3/h\ntrusted_proxies: [127.0.0.1/32]\n")
	send := func(did, xff string) int {
		hdr := h("Approov-Token", token(t, map[string]any{"did": did}))
		if xff != "" {
			hdr.Set("X-Forwarded-For", xff)
		}
		return tg.do(t, "GET", "/", hdr).status
	}
	// Three devices behind one address: the address's limit is shared.
	got := []int{send("a", "198.51.100.7"), send("b", "198.51.100.7"), send("c", "10.9.9.9, 198.51.100.7"), send("d", "198.51.100.7")}
	if fmt.Sprint(got) != "[200 200 200 429]" {
		t.Fatalf("one address, four devices: %v", got)
	}
	// Another address, and an IPv6 /64 as one address.
	if s := send("e", "198.51.100.8"); s != 200 {
		t.Errorf("another address: %d", s)
	}
	v6 := []int{send("f", "2001:db8:1:2::1"), send("g", "2001:db8:1:2::2"), send("h", "2001:db8:1:2:ffff::3"), send("i", "2001:db8:1:2::4")}
	if fmt.Sprint(v6) != "[200 200 200 429]" {
		t.Errorf("one IPv6 /64: %v", v6)
	}
	if got := tg.rateCountOf(t, "default", "address", "limited"); got != 2 {
		t.Errorf("address limited: %v", got)
	}
	r := tg.do(t, "GET", "/", h("Approov-Token", token(t, map[string]any{"did": "j"}), "X-Forwarded-For", "198.51.100.7"))
	if r.header.Get("RateLimit-Policy") != `"address";q=3;w=3600` {
		t.Errorf("policy: %q", r.header.Get("RateLimit-Policy"))
	}

	claims := newTestGateway(t, "rate_limit_address: 1/h\nrate_limit_address_key: ip_claim\n")
	withIP := func(ip string) int {
		c := map[string]any{"did": "k"}
		if ip != "" {
			c["ip"] = ip
		}
		return claims.do(t, "GET", "/", h("Approov-Token", token(t, c))).status
	}
	if got := []int{withIP("192.0.2.1"), withIP("192.0.2.1"), withIP(""), withIP("")}; fmt.Sprint(got) != "[200 429 200 200]" {
		t.Errorf("by ip claim: %v", got)
	}
}

// TestAddressLimitWithoutToken: the client-address limit needs no token,
// so in monitor mode requests without one are limited by it too.
func TestAddressLimitWithoutToken(t *testing.T) {
	tg := newTestGateway(t, "monitor: true\nrate_limit: 5/h\nrate_limit_address: 2/h\n")
	var got []int
	for range 3 {
		got = append(got, tg.do(t, "GET", "/x", nil).status)
	}
	if fmt.Sprint(got) != "[200 200 429]" {
		t.Errorf("no token, monitor mode: %v", got)
	}
}

// TestRateLimitForwardAuth: HTTP forward-auth checks by the conventions
// whose proxies pass a 429 on as it is (forwarded: Traefik and Caddy;
// envoy) spend the device's allowance as proxied requests do, and the
// answer is 429 {} with Retry-After; checks by nginx's convention are not
// limited (auth_request would turn the 429 into a 500). The address limit
// counts an HTTP check only when the calling proxy is trusted, which
// says whose address it is: otherwise every client would share the
// proxy's allowance.
func TestRateLimitForwardAuth(t *testing.T) {
	const verify = "/_approov/verify"
	conventions := map[string]func(did string) (target string, header http.Header){
		"nginx": func(did string) (string, http.Header) {
			return verify, h("X-Original-Method", "GET", "X-Original-Uri", "/a", "X-Forwarded-Host", "api.example.com", "Approov-Token", tokenFor(t, did))
		},
		"forwarded": func(did string) (string, http.Header) {
			return verify, h("X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/a", "X-Forwarded-Host", "api.example.com", "Approov-Token", tokenFor(t, did))
		},
		"envoy": func(did string) (string, http.Header) {
			return verify + "/a", h("Host", "api.example.com", "Approov-Token", tokenFor(t, did))
		},
	}
	tg := newTestGateway(t, "forward_auth_only: true\nrate_limit: 2/h\n")
	for name, check := range conventions {
		did := "device-" + name
		var statuses []int
		var last response
		for range 3 {
			target, header := check(did)
			last = tg.do(t, "GET", target, header)
			statuses = append(statuses, last.status)
		}
		want := []int{200, 200, 429}
		if name == "nginx" {
			want = []int{200, 200, 200}
		}
		if !slices.Equal(statuses, want) {
			t.Errorf("%s: %v, want %v", name, statuses, want)
		}
		if name != "nginx" && (last.body != "{}" || last.header.Get("Retry-After") == "") {
			t.Errorf("%s: limited check answered %q, Retry-After %q", name, last.body, last.header.Get("Retry-After"))
		}
	}

	// The address limit: from an untrusted proxy, no key; from a trusted
	// one, the client address it forwards.
	for _, tc := range []struct {
		trusted string
		want    []int
	}{
		{"", []int{200, 200, 200}},
		{"trusted_proxies: 127.0.0.0/8\n", []int{200, 429, 200}},
	} {
		tg := newTestGateway(t, "forward_auth_only: true\nrate_limit_address: 1/h\n"+tc.trusted)
		var statuses []int
		for i, client := range []string{"198.51.100.7", "198.51.100.7", "198.51.100.8"} {
			target, header := conventions["forwarded"](fmt.Sprint("device-", i))
			header.Set("X-Forwarded-For", client)
			statuses = append(statuses, tg.do(t, "GET", target, header).status)
		}
		if !slices.Equal(statuses, tc.want) {
			t.Errorf("address limit, %q: %v, want %v", tc.trusted, statuses, tc.want)
		}
	}
}

// tokenFor is a valid token of the device did.
func tokenFor(t *testing.T, did string) string {
	t.Helper()
	return token(t, map[string]any{"did": did})
}
