package approovhttp_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/assertion"
)

var (
	gatewayKey = mustAssertionKey("approovhttp assertion test key: not secret")
	tokenExp   = time.Unix(4102444800, 0)
)

func mustAssertionKey(secret string) *assertion.Key {
	k, err := assertion.NewKey([]byte(secret))
	if err != nil {
		panic(err)
	}
	return k
}

// gatewaySign returns the assertion the gateway would send with r.
func gatewaySign(t *testing.T, r *http.Request, result string) string {
	t.Helper()
	s, err := assertion.NewSigner([]*assertion.Key{gatewayKey})
	if err != nil {
		t.Fatal(err)
	}
	c := &assertion.Claims{ID: assertion.NewID(), Result: result, Method: r.Method, Host: r.Host, Target: r.RequestURI}
	if result == assertion.ResultOK {
		c.DeviceID, c.TokenExpiry = "device-1", tokenExp
		c.Forwarded = assertion.Forwarded{IP: "192.0.2.1", AttestationResponse: "arc", InstallationPublicKey: "ipk",
			MessageSigningKeyID: "mskid", PayloadHash: "pay", Issuer: "approov.io", Subject: "sub"}
	}
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// seen is what the handler behind BehindGateway found in its context.
type seen struct {
	called    bool
	claims    *approov.Claims
	facts     *assertion.Claims
	failure   error
	hasClaims bool
}

func serveBehindGateway(t *testing.T, r *http.Request, opts ...approovhttp.Option) (*httptest.ResponseRecorder, seen) {
	t.Helper()
	v, err := assertion.NewVerifier([]*assertion.Key{gatewayKey})
	if err != nil {
		t.Fatal(err)
	}
	var s seen
	h := approovhttp.BehindGateway(v, opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.called = true
		s.claims, s.hasClaims = approovhttp.ClaimsFromContext(r.Context())
		s.facts, _ = approovhttp.AssertionFromContext(r.Context())
		s.failure = approovhttp.FailureFromContext(r.Context())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec, s
}

func TestBehindGatewayFacts(t *testing.T) {
	r := httptest.NewRequest("GET", "/orders?id=7", nil)
	r.Header.Set("Approov-Assertion", gatewaySign(t, r, "ok"))
	// Unsigned facts beside a valid assertion are never read.
	r.Header.Set("Approov-Device-Id", "mallory")
	rec, s := serveBehindGateway(t, r)
	if rec.Code != 200 || !s.hasClaims || s.facts == nil || s.failure != nil {
		t.Fatalf("%d %+v", rec.Code, s)
	}
	want := approov.Claims{Expiry: tokenExp, DeviceID: "device-1", IP: "192.0.2.1", AttestationResponse: "arc",
		InstallationPublicKey: "ipk", MessageSigningKeyID: "mskid", PayloadHash: "pay", Issuer: "approov.io", Subject: "sub"}
	c := *s.claims
	if c.Expiry != want.Expiry || c.DeviceID != want.DeviceID || c.IP != want.IP || c.AttestationResponse != want.AttestationResponse ||
		c.InstallationPublicKey != want.InstallationPublicKey || c.MessageSigningKeyID != want.MessageSigningKeyID ||
		c.PayloadHash != want.PayloadHash || c.Issuer != want.Issuer || c.Subject != want.Subject {
		t.Errorf("claims %+v, want %+v", c, want)
	}
	if !s.facts.Verified() || s.facts.Target != "/orders?id=7" {
		t.Errorf("assertion %+v", s.facts)
	}
}

func TestBehindGatewayResults(t *testing.T) {
	public := httptest.NewRequest("GET", "/public", nil)
	public.Header.Set("Approov-Assertion", gatewaySign(t, public, assertion.ResultPublic))
	_, s := serveBehindGateway(t, public)
	if !s.called || s.hasClaims || s.failure != nil || s.facts == nil || s.facts.Result != "public" {
		t.Errorf("public: %+v", s)
	}

	monitored := httptest.NewRequest("GET", "/", nil)
	monitored.Header.Set("Approov-Assertion", gatewaySign(t, monitored, "token_expired"))
	_, s = serveBehindGateway(t, monitored)
	if !s.called || s.hasClaims || s.facts == nil || s.facts.Verified() {
		t.Errorf("monitor mode: %+v", s)
	}
	if approov.Reason(s.failure) != "token_expired" || !errors.Is(s.failure, approov.ErrExpired) {
		t.Errorf("monitor mode failure %v (%s)", s.failure, approov.Reason(s.failure))
	}

	unknown := httptest.NewRequest("GET", "/", nil)
	unknown.Header.Set("Approov-Assertion", gatewaySign(t, unknown, "some_future_reason"))
	_, s = serveBehindGateway(t, unknown)
	if !s.called || s.hasClaims || s.failure == nil || approov.Reason(s.failure) != approov.ReasonOther {
		t.Errorf("unknown result: %+v", s)
	}
}

// TestGatewayFailureCoversEveryReason: every reason code a monitor-mode
// assertion can carry maps back to its sentinel.
func TestGatewayFailureCoversEveryReason(t *testing.T) {
	for _, code := range approov.Reasons() {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Approov-Assertion", gatewaySign(t, r, code))
		_, s := serveBehindGateway(t, r)
		if got := approov.Reason(s.failure); got != code {
			t.Errorf("result %s: failure reason %s", code, got)
		}
	}
}

func TestBehindGatewayRejects(t *testing.T) {
	signedFor := httptest.NewRequest("GET", "/orders?id=7", nil)
	tok := gatewaySign(t, signedFor, "ok")
	tests := []struct {
		name, method, target, assertion string
		unsigned                        bool
		reason                          string
	}{
		{"no assertion", "GET", "/orders?id=7", "", false, "assertion_missing"},
		{"unsigned facts only", "GET", "/orders?id=7", "", true, "assertion_missing"},
		{"forged", "GET", "/orders?id=7", tok[:len(tok)-4] + "AAAA", false, "assertion_signature"},
		{"replayed on another path", "GET", "/orders?id=8", tok, false, "assertion_request_mismatch"},
		{"replayed with another method", "DELETE", "/orders?id=7", tok, false, "assertion_request_mismatch"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.assertion != "" {
			r.Header.Set("Approov-Assertion", tc.assertion)
		}
		if tc.unsigned {
			r.Header.Set("Approov-Result", "ok")
			r.Header.Set("Approov-Device-Id", "mallory")
		}
		var logs bytes.Buffer
		var observed approovhttp.Result
		rec, s := serveBehindGateway(t, r, approovhttp.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
			approovhttp.WithObserver(func(_ *http.Request, res approovhttp.Result) { observed = res }))
		if rec.Code != 401 || rec.Body.String() != "{}" || s.called {
			t.Errorf("%s: %d %q, handler called: %v", tc.name, rec.Code, rec.Body.String(), s.called)
		}
		if assertion.Reason(observed.Err) != tc.reason {
			t.Errorf("%s: observed %v", tc.name, observed.Err)
		}
		if !strings.Contains(logs.String(), `"reason":"`+tc.reason+`"`) || !strings.Contains(logs.String(), "approov assertion rejected") {
			t.Errorf("%s: log %s", tc.name, logs.String())
		}
		if strings.Contains(logs.String(), tok[:40]) {
			t.Errorf("%s: the log shows the assertion", tc.name)
		}
	}
}

func TestBehindGatewayOptions(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	rec, s := serveBehindGateway(t, r, approovhttp.WithMonitorMode(true))
	if rec.Code != 200 || !s.called || s.hasClaims || assertion.Reason(s.failure) != "assertion_missing" {
		t.Errorf("monitor mode: %d %+v", rec.Code, s)
	}

	preflight := httptest.NewRequest("OPTIONS", "/", nil)
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	if rec, s := serveBehindGateway(t, preflight, approovhttp.WithPreflightSkipped(true)); rec.Code != 200 || !s.called || s.facts != nil {
		t.Errorf("preflight: %d %+v", rec.Code, s)
	}
	if rec, _ := serveBehindGateway(t, preflight); rec.Code != 401 {
		t.Errorf("preflight without the option: %d", rec.Code)
	}

	var rejected error
	rec, _ = serveBehindGateway(t, httptest.NewRequest("GET", "/", nil),
		approovhttp.WithRejectHandler(func(w http.ResponseWriter, _ *http.Request, err error) {
			rejected = err
			w.WriteHeader(http.StatusForbidden)
		}))
	if rec.Code != 403 || !errors.Is(rejected, assertion.ErrMissing) {
		t.Errorf("reject handler: %d %v", rec.Code, rejected)
	}
}

func TestBehindGatewayHeaderPrefix(t *testing.T) {
	v, err := assertion.NewVerifier([]*assertion.Key{gatewayKey}, assertion.WithHeaderPrefix("X-Approov-"))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Approov-Assertion", gatewaySign(t, r, "ok"))
	rec := httptest.NewRecorder()
	approovhttp.BehindGateway(v)(http.NotFoundHandler()).ServeHTTP(rec, r)
	if rec.Code != 404 {
		t.Errorf("status %d", rec.Code)
	}
}

func TestBehindGatewayNilVerifier(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	approovhttp.BehindGateway(nil)
}
