//go:build extauthz

package gateway

import (
	"context"
	"net/http"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// BenchmarkCheckGRPC is one valid gRPC ext_authz check over loopback, and
// BenchmarkCheckHTTP the same check on the HTTP forward-auth endpoint
// (Envoy's HTTP convention), each answered by one running gateway.
func BenchmarkCheckGRPC(b *testing.B) {
	c := newGRPCChecker(b, "", nil)
	req := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/orders?id=7", Host: "api.example.com",
			Headers: map[string]string{"approov-token": token(b, map[string]any{"did": "device-1"})}}}}}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.client.Check(context.Background(), req)
		if err != nil || resp.GetOkResponse() == nil {
			b.Fatal(err, resp)
		}
	}
}

func BenchmarkCheckHTTP(b *testing.B) {
	rg := runGateway(b, "", map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_ADMIN_LISTEN": "off",
		"APPROOV_LISTEN": "127.0.0.1:0", "APPROOV_FORWARD_AUTH_ONLY": "true", "APPROOV_FORWARD_AUTH_CONVENTION": "envoy",
		"APPROOV_ASSERTION_SECRET": testAssertionKey})
	client := &http.Client{}
	req, _ := http.NewRequest("GET", "http://"+rg.Addrs().Listen+"/_approov/verify/orders?id=7", nil)
	req.Host = "api.example.com"
	req.Header.Set("Approov-Token", token(b, map[string]any{"did": "device-1"}))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err, resp)
		}
		resp.Body.Close()
	}
}
