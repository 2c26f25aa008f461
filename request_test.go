package approov_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
)

func TestVerifyRequest(t *testing.T) {
	tok := mustSign(t, signer, map[string]any{"exp": testExp, "did": "dev"})
	tests := []struct {
		name   string
		header http.Header
		opts   []approov.Option
		reason string
	}{
		{"valid", http.Header{"Approov-Token": {tok}}, nil, "ok"},
		{"missing", http.Header{}, nil, "token_missing"},
		{"empty", http.Header{"Approov-Token": {""}}, nil, "token_missing"},
		{"blank", http.Header{"Approov-Token": {"   "}}, nil, "token_missing"},
		{"duplicated", http.Header{"Approov-Token": {tok, tok}}, nil, "token_duplicated"},
		{"status header", http.Header{"Approov-Token": {""}, "Approov-Status": {"NO_NETWORK"}}, nil, "token_status"},
		{"status header alone", http.Header{"Approov-Status": {"MITM_DETECTED"}}, nil, "token_status"},
		{"status word as token", http.Header{"Approov-Token": {"POOR_NETWORK"}}, nil, "token_status"},
		{"oversized header", http.Header{"Approov-Token": {strings.Repeat("a", approov.DefaultMaxTokenSize+1)}}, nil, "token_too_large"},
		{"custom header", http.Header{"X-App-Token": {tok}}, []approov.Option{approov.WithTokenHeader("x-app-token")}, "ok"},
		{"prefix stripped", http.Header{"Approov-Token": {"Bearer " + tok}}, []approov.Option{approov.WithTokenPrefix("Bearer ")}, "ok"},
		{"prefix any case", http.Header{"Approov-Token": {"bearer " + tok}}, []approov.Option{approov.WithTokenPrefix("Bearer ")}, "ok"},
		{"prefix absent", http.Header{"Approov-Token": {tok}}, []approov.Option{approov.WithTokenPrefix("Bearer ")}, "ok"},
		{"prefix only", http.Header{"Approov-Token": {"Bearer "}}, []approov.Option{approov.WithTokenPrefix("Bearer ")}, "token_missing"},
		{"prefix not configured", http.Header{"Approov-Token": {"Bearer " + tok}}, nil, "token_malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, tt.opts...)
			c, err := v.VerifyRequest(tt.header)
			if got := approov.Reason(err); got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
			if err == nil && c.DeviceID != "dev" {
				t.Fatalf("DeviceID = %q", c.DeviceID)
			}
		})
	}
}
