//go:build !extauthz

package gateway

import (
	"strings"
	"testing"
)

// TestExtAuthzNotBuilt: the default build refuses ext_authz_grpc_listen,
// naming the build that has it, rather than start without the listener.
func TestExtAuthzNotBuilt(t *testing.T) {
	cfg := loadTestConfig(t, "", map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": "http://127.0.0.1:9",
		"APPROOV_EXT_AUTHZ_GRPC_LISTEN": "127.0.0.1:0"})
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "go build -tags extauthz") {
		t.Fatalf("New: %v", err)
	}
}
