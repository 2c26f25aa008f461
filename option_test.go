package approov_test

import (
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
)

func TestNewVerifierErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []approov.Option
		want string
	}{
		{"no key", nil, "no key configured"},
		{"short secret", []approov.Option{approov.WithSecret([]byte("short"))}, "at least 32"},
		{"bad base64", []approov.Option{approov.WithBase64Secret("%%%")}, "neither base64"},
		{"negative leeway", []approov.Option{approov.WithSecret(testSecret), approov.WithLeeway(-time.Second)}, "leeway"},
		{"negative lifetime", []approov.Option{approov.WithSecret(testSecret), approov.WithMaxLifetime(-time.Second)}, "maximum lifetime must not be negative"},
		{"bad header name", []approov.Option{approov.WithSecret(testSecret), approov.WithTokenHeader("Approov Token")}, "not a valid header name"},
		{"tiny size", []approov.Option{approov.WithSecret(testSecret), approov.WithMaxTokenSize(10)}, "at least 64"},
		{"nil key", []approov.Option{approov.WithKeys(nil)}, "nil key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := approov.NewVerifier(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewVerifier: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
