//go:build extauthz

package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/approov-gateway/approov"
)

// grpcChecker is a real gRPC client of a gateway's ext_authz listener.
type grpcChecker struct {
	client authv3.AuthorizationClient
}

func newGRPCChecker(t testing.TB, yaml string, vars map[string]string) *grpcChecker {
	t.Helper()
	base := map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_ADMIN_LISTEN": "off", "APPROOV_LISTEN": "127.0.0.1:0",
		"APPROOV_FORWARD_AUTH_ONLY": "true", "APPROOV_EXT_AUTHZ_GRPC_LISTEN": "127.0.0.1:0", "APPROOV_ASSERTION_SECRET": testAssertionKey}
	for k, v := range vars {
		base[k] = v
	}
	rg := runGateway(t, yaml, base)
	conn, err := grpc.NewClient(rg.Addrs().ExtAuthzGRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &grpcChecker{client: authv3.NewAuthorizationClient(conn)}
}

// check asks about method path on host with the original's headers, as
// Envoy's ext_authz filter does, and returns the answer.
func (c *grpcChecker) check(t *testing.T, method, path, host string, headers map[string]string) *authv3.CheckResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.client.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: method, Path: path, Host: host, Headers: headers, Scheme: "http", Protocol: "HTTP/1.1",
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func headersOf(resp *authv3.CheckResponse) map[string]string {
	out := map[string]string{}
	var opts = resp.GetOkResponse().GetHeaders()
	if resp.GetDeniedResponse() != nil {
		opts = resp.GetDeniedResponse().GetHeaders()
	}
	for _, o := range opts {
		out[o.GetHeader().GetKey()] = o.GetHeader().GetValue()
	}
	return out
}

// TestExtAuthzGRPC: Envoy's gRPC Check is answered as the forward-auth
// endpoint answers: a valid token is OK, with the facts and the signed
// assertion set and every client copy of the namespace removed; a bad
// token, a bound route without its credential, a public route and a
// refused original each get the HTTP endpoint's answer; rate limits
// apply, with their fields.
func TestExtAuthzGRPC(t *testing.T) {
	c := newGRPCChecker(t, `
rate_limit: 2/h
routes:
  - match: /bound/
    mode: binding
    binding_headers: [Authorization]
  - match: /public/
    mode: public
`, nil)
	valid := token(t, map[string]any{"did": "device-1"})

	ok := c.check(t, "GET", "/orders?id=7", "api.example.com", map[string]string{
		"approov-token": valid, "approov-device-id": "forged", "approov_result": "ok", "approov-token-expiry": "1",
		"script_name": "/public", "x-forwarded-for": "192.0.2.9"})
	if ok.GetStatus().GetCode() != int32(codes.OK) || ok.GetOkResponse() == nil {
		t.Fatalf("valid token: %v", ok)
	}
	h := headersOf(ok)
	if h["approov-result"] != "ok" || h["approov-device-id"] != "device-1" || h["approov-assertion"] == "" {
		t.Errorf("facts set: %v", h)
	}
	a, err := assertionVerifier(t).Verify(h["approov-assertion"])
	if err != nil || a.DeviceID != "device-1" || a.Method != "GET" || a.Host != "api.example.com" || a.Target != "/orders?id=7" {
		t.Errorf("the assertion is not for the original request: %v %+v", err, a)
	}
	removed := strings.Join(ok.GetOkResponse().GetHeadersToRemove(), ",")
	for _, name := range []string{"approov_result", "approov-token", "script_name", "x-forwarded-for"} {
		if !strings.Contains(","+removed+",", ","+name+",") {
			t.Errorf("%s not removed: %q", name, removed)
		}
	}
	if strings.Contains(removed, "approov-device-id") {
		t.Errorf("a fact the gateway sets is also removed: %q", removed)
	}

	for name, tc := range map[string]struct {
		method, path string
		headers      map[string]string
		status       int
	}{
		"no token":             {"GET", "/orders", nil, 401},
		"bad token":            {"GET", "/orders", map[string]string{"approov-token": valid[:len(valid)-2] + "AA"}, 401},
		"binding missing":      {"GET", "/bound/x", map[string]string{"approov-token": valid, "authorization": "Bearer x"}, 401},
		"dot segment original": {"GET", "/public/%2e%2e/orders", nil, 403},
	} {
		r := c.check(t, tc.method, tc.path, "api.example.com", tc.headers)
		d := r.GetDeniedResponse()
		if d == nil || int(d.GetStatus().GetCode()) != tc.status || d.GetBody() != "{}" || r.GetStatus().GetCode() == int32(codes.OK) {
			t.Errorf("%s: %v", name, r)
		}
	}
	bound := token(t, map[string]any{"did": "device-2", "pay": approov.PayloadHash("Bearer alice")})
	if r := c.check(t, "GET", "/bound/x", "api.example.com", map[string]string{"approov-token": bound, "authorization": "Bearer alice"}); r.GetOkResponse() == nil {
		t.Errorf("bound: %v", r)
	}
	if r := c.check(t, "GET", "/public/x", "api.example.com", nil); headersOf(r)["approov-result"] != "public" {
		t.Errorf("public: %v", r)
	}

	// device-1 has spent 1 of 2; the third is limited.
	c.check(t, "GET", "/orders", "api.example.com", map[string]string{"approov-token": valid})
	r := c.check(t, "GET", "/orders", "api.example.com", map[string]string{"approov-token": valid})
	d := r.GetDeniedResponse()
	if d == nil || d.GetStatus().GetCode() != 429 || headersOf(r)["retry-after"] == "" || headersOf(r)["ratelimit"] == "" {
		t.Errorf("rate limited: %v", r)
	}
}

// TestExtAuthzAddressLimit: over gRPC, the client address of
// rate_limit_address is the downstream address the CheckRequest reports,
// not Envoy's own.
func TestExtAuthzAddressLimit(t *testing.T) {
	c := newGRPCChecker(t, "rate_limit_address: 1/h\n", nil)
	from := func(addr, did string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := c.client.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
			Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
				SocketAddress: &corev3.SocketAddress{Address: addr}}}},
			Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
				Method: "GET", Path: "/x", Host: "api.example.com", Headers: map[string]string{"approov-token": token(t, map[string]any{"did": did})}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetOkResponse() != nil {
			return "OK"
		}
		return fmt.Sprint(resp.GetDeniedResponse().GetStatus().GetCode())
	}
	if got := []string{from("198.51.100.1", "a"), from("198.51.100.2", "b"), from("198.51.100.1", "c")}; fmt.Sprint(got) != "[OK OK TooManyRequests]" {
		t.Errorf("by downstream address: %v", got)
	}
}
