package approov_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
)

func TestPayloadHashKnownAnswer(t *testing.T) {
	// Computed independently: printf '%s' 'Bearer abc' | openssl dgst -sha256 -binary | base64
	const want = "w1Xc6WwWEogNEZQP/dkBTThsJT4MNlKmzQanIm970rY="
	if got := approov.PayloadHash("Bearer abc"); got != want {
		t.Fatalf("PayloadHash = %s, want %s", got, want)
	}
}

func TestBinding(t *testing.T) {
	const auth = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"
	pay := approov.PayloadHash(auth)
	sum := sha256.Sum256([]byte(auth))
	payURL := base64.RawURLEncoding.EncodeToString(sum[:])
	payStdRaw := base64.RawStdEncoding.EncodeToString(sum[:])
	token := func(extra string) string { return mustSignJSON(t, signer, hs256Header, expClaims(extra)) }

	authOnly := mustBinding(t, []string{"Authorization"})
	optional := mustBinding(t, []string{"Authorization"}, approov.AllowUnbound())
	stripped := mustBinding(t, []string{"authorization"}, approov.StripScheme())
	two := mustBinding(t, []string{"Authorization", "X-Session"})

	tests := []struct {
		name    string
		binding *approov.Binding
		token   string
		header  http.Header
		reason  string
	}{
		{"match", authOnly, token(`,"pay":"` + pay + `"`), http.Header{"Authorization": {auth}}, "ok"},
		{"match base64url unpadded", authOnly, token(`,"pay":"` + payURL + `"`), http.Header{"Authorization": {auth}}, "ok"},
		{"match base64 unpadded", authOnly, token(`,"pay":"` + payStdRaw + `"`), http.Header{"Authorization": {auth}}, "ok"},
		{"mismatch", authOnly, token(`,"pay":"` + pay + `"`), http.Header{"Authorization": {auth + "x"}}, "binding_mismatch"},
		{"scheme is part of the value", authOnly, token(`,"pay":"` + approov.PayloadHash("eyJhbGciOiJIUzI1NiJ9.e30.sig") + `"`), http.Header{"Authorization": {auth}}, "binding_mismatch"},
		{"header missing", authOnly, token(`,"pay":"` + pay + `"`), http.Header{}, "binding_header_missing"},
		{"header empty", authOnly, token(`,"pay":"` + pay + `"`), http.Header{"Authorization": {""}}, "binding_header_missing"},
		{"header duplicated", authOnly, token(`,"pay":"` + pay + `"`), http.Header{"Authorization": {auth, auth}}, "binding_header_duplicated"},
		{"pay missing, required", authOnly, token(""), http.Header{"Authorization": {auth}}, "binding_claim_missing"},
		{"pay missing, optional", optional, token(""), http.Header{"Authorization": {auth}}, "ok"},
		{"pay missing, optional, no header", optional, token(""), http.Header{}, "ok"},
		{"pay present, optional, checked", optional, token(`,"pay":"` + pay + `"`), http.Header{"Authorization": {"Bearer other"}}, "binding_mismatch"},
		{"pay empty, optional", optional, token(`,"pay":""`), http.Header{"Authorization": {auth}}, "binding_mismatch"},
		{"pay not base64", authOnly, token(`,"pay":"` + strings.Repeat("!", 44) + `"`), http.Header{"Authorization": {auth}}, "binding_mismatch"},
		{"pay of other length", authOnly, token(`,"pay":"` + base64.StdEncoding.EncodeToString(sum[:16]) + `"`), http.Header{"Authorization": {auth}}, "binding_mismatch"},
		{"pay not a string", authOnly, token(`,"pay":1`), http.Header{"Authorization": {auth}}, "token_claims_invalid"},
		{"scheme stripped", stripped, token(`,"pay":"` + approov.PayloadHash("eyJhbGciOiJIUzI1NiJ9.e30.sig") + `"`), http.Header{"Authorization": {auth}}, "ok"},
		{"scheme stripped, no scheme sent", stripped, token(`,"pay":"` + approov.PayloadHash("abc") + `"`), http.Header{"Authorization": {"abc"}}, "ok"},
		{"scheme stripped, scheme only", stripped, token(`,"pay":"` + approov.PayloadHash("") + `"`), http.Header{"Authorization": {"Bearer "}}, "binding_header_missing"},
		{"two headers", two, token(`,"pay":"` + approov.PayloadHash(auth+"s-1") + `"`), http.Header{"Authorization": {auth}, "X-Session": {" s-1 "}}, "ok"},
		{"two headers, wrong order", two, token(`,"pay":"` + approov.PayloadHash("s-1"+auth) + `"`), http.Header{"Authorization": {auth}, "X-Session": {"s-1"}}, "binding_mismatch"},
		{"two headers, one missing", two, token(`,"pay":"` + approov.PayloadHash(auth) + `"`), http.Header{"Authorization": {auth}}, "binding_header_missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, approov.WithBinding(tt.binding))
			h := tt.header.Clone()
			h.Set("Approov-Token", tt.token)
			_, err := v.VerifyRequest(h)
			if got := approov.Reason(err); got != tt.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.reason)
			}
			if err != nil && strings.Contains(err.Error(), "eyJhbGciOiJIUzI1NiJ9") {
				t.Fatalf("error %q contains the bound credential", err)
			}
		})
	}
}

func TestBindingValue(t *testing.T) {
	b := mustBinding(t, []string{"Authorization", "X-Session"}, approov.StripScheme())
	got, err := b.Value(http.Header{"Authorization": {"Bearer abc"}, "X-Session": {"Session  s1"}})
	if err != nil || got != "abcs1" {
		t.Fatalf("Value = %q, %v", got, err)
	}
	if h := b.Headers(); len(h) != 2 || h[0] != "Authorization" || !b.SchemeStripped() || b.Optional() {
		t.Fatalf("accessors: %v %v %v", h, b.SchemeStripped(), b.Optional())
	}
}

func TestNewBindingErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		headers []string
		want    string
	}{
		{"none", nil, "at least one header"},
		{"invalid name", []string{"Bad Header"}, "not a valid header name"},
		{"empty name", []string{""}, "not a valid header name"},
		{"twice", []string{"Authorization", "authorization"}, "named twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := approov.NewBinding(tt.headers)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewBinding: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func mustBinding(t testing.TB, headers []string, opts ...approov.BindingOption) *approov.Binding {
	t.Helper()
	b, err := approov.NewBinding(headers, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
