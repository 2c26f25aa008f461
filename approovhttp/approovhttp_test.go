package approovhttp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/approovtest"
)

var (
	secret = []byte("approovhttp test secret, 64 bytes like an Approov account secret")
	signer = approovtest.MustSigner(approov.HS256, secret, "")
	now    = time.Now()
)

func token(t *testing.T, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = now.Add(time.Hour)
	}
	tok, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func verifier(t *testing.T, opts ...approov.Option) *approov.Verifier {
	t.Helper()
	v, err := approov.NewVerifier(append([]approov.Option{approov.WithSecret(secret)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// api is the protected handler: it reports the device id it was given.
var api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	did := "none"
	if c, ok := approovhttp.ClaimsFromContext(r.Context()); ok {
		did = c.DeviceID
	}
	if err := approovhttp.FailureFromContext(r.Context()); err != nil {
		did = "monitored:" + approov.Reason(err)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"device": did})
})

type response struct {
	status      int
	contentType string
	body        string
}

func do(t *testing.T, srv *httptest.Server, method string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/v1/hello?token=in-query", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(body))}
}

func TestMiddleware(t *testing.T) {
	const auth = "Bearer user-1"
	bound := token(t, map[string]any{"did": "device-1", "pay": approov.PayloadHash(auth)})
	plain := token(t, map[string]any{"did": "device-1"})
	expired := token(t, map[string]any{"exp": now.Add(-time.Hour)})
	forged, _ := approovtest.MustSigner(approov.HS256, []byte(strings.Repeat("x", 64)), "").Sign(map[string]any{"exp": now.Add(time.Hour)})
	binding, err := approov.NewBinding([]string{"Authorization"})
	if err != nil {
		t.Fatal(err)
	}

	unauthorized := response{401, "application/json", "{}"}
	allowed := response{200, "application/json", `{"device":"device-1"}`}
	anonymous := response{200, "application/json", `{"device":"none"}`}
	tests := []struct {
		name     string
		verifier []approov.Option
		opts     []approovhttp.Option
		method   string
		header   http.Header
		want     response
	}{
		{"valid", nil, nil, "GET", http.Header{"Approov-Token": {plain}}, allowed},
		{"missing", nil, nil, "GET", nil, unauthorized},
		{"expired", nil, nil, "GET", http.Header{"Approov-Token": {expired}}, unauthorized},
		{"bad signature", nil, nil, "GET", http.Header{"Approov-Token": {forged}}, unauthorized},
		{"garbage", nil, nil, "GET", http.Header{"Approov-Token": {"garbage"}}, unauthorized},
		{"duplicated", nil, nil, "GET", http.Header{"Approov-Token": {plain, plain}}, unauthorized},
		{"POST checked too", nil, nil, "POST", nil, unauthorized},

		{"monitor lets failures through", nil, []approovhttp.Option{approovhttp.WithMonitorMode(true)}, "GET", nil, response{200, "application/json", `{"device":"monitored:token_missing"}`}},
		{"monitor keeps claims of valid tokens", nil, []approovhttp.Option{approovhttp.WithMonitorMode(true)}, "GET", http.Header{"Approov-Token": {plain}}, allowed},

		{"preflight checked by default", nil, nil, "OPTIONS", http.Header{"Access-Control-Request-Method": {"POST"}, "Origin": {"https://app"}}, unauthorized},
		{"preflight skipped", nil, []approovhttp.Option{approovhttp.WithPreflightSkipped(true)}, "OPTIONS", http.Header{"Access-Control-Request-Method": {"POST"}}, anonymous},
		{"plain OPTIONS still checked", nil, []approovhttp.Option{approovhttp.WithPreflightSkipped(true)}, "OPTIONS", nil, unauthorized},

		{"verifier binding, match", []approov.Option{approov.WithBinding(binding)}, nil, "GET", http.Header{"Approov-Token": {bound}, "Authorization": {auth}}, allowed},
		{"verifier binding, mismatch", []approov.Option{approov.WithBinding(binding)}, nil, "GET", http.Header{"Approov-Token": {bound}, "Authorization": {"Bearer user-2"}}, unauthorized},
		{"verifier binding, no pay", []approov.Option{approov.WithBinding(binding)}, nil, "GET", http.Header{"Approov-Token": {plain}, "Authorization": {auth}}, unauthorized},
		{"binding off for this handler", []approov.Option{approov.WithBinding(binding)}, []approovhttp.Option{approovhttp.WithBinding(nil)}, "GET", http.Header{"Approov-Token": {plain}}, allowed},
		{"binding on for this handler", nil, []approovhttp.Option{approovhttp.WithBinding(binding)}, "GET", http.Header{"Approov-Token": {bound}, "Authorization": {"Bearer user-2"}}, unauthorized},
		{"binding on for this handler, match", nil, []approovhttp.Option{approovhttp.WithBinding(binding)}, "GET", http.Header{"Approov-Token": {bound}, "Authorization": {auth}}, allowed},

		{"custom rejection", nil, []approovhttp.Option{approovhttp.WithRejectHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, approov.Reason(err))
		})}, "GET", nil, response{403, "text/plain", "token_missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(approovhttp.New(verifier(t, tt.verifier...), tt.opts...)(api))
			defer srv.Close()
			if got := do(t, srv, tt.method, tt.header); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogging(t *testing.T) {
	const auth = "Bearer very-secret-session-credential"
	bound := token(t, map[string]any{"did": "device-9", "pay": approov.PayloadHash("Bearer someone-else")})
	binding, _ := approov.NewBinding([]string{"Authorization"})
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	var results []approovhttp.Result
	var mu sync.Mutex
	protect := approovhttp.New(verifier(t), approovhttp.WithLogger(logger), approovhttp.WithBinding(binding),
		approovhttp.WithObserver(func(_ *http.Request, res approovhttp.Result) {
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
		}))
	srv := httptest.NewServer(protect(api))
	defer srv.Close()

	do(t, srv, "GET", http.Header{"Approov-Token": {bound}, "Authorization": {auth}})
	do(t, srv, "GET", http.Header{"Approov-Token": {"NO_NETWORK"}})

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one log line per rejection, got %d:\n%s", len(lines), logs.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"level": "WARN", "reason": "binding_mismatch", "method": "GET", "path": "/v1/hello", "device_id": "device-9"} {
		if first[k] != want {
			t.Errorf("log field %s = %v, want %v (line %s)", k, first[k], want, lines[0])
		}
	}
	if ra, _ := first["remote_addr"].(string); !strings.HasPrefix(ra, "127.0.0.1:") {
		t.Errorf("remote_addr = %v", first["remote_addr"])
	}
	if second["reason"] != "token_status" || second["device_id"] != nil {
		t.Errorf("second line: %s", lines[1])
	}
	for _, secretText := range []string{bound, "very-secret-session-credential", string(secret[:20]), "in-query"} {
		if strings.Contains(logs.String(), secretText) {
			t.Errorf("log contains %q:\n%s", secretText, logs.String())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 2 || approov.Reason(results[0].Err) != "binding_mismatch" || results[0].Claims == nil || results[1].Claims != nil {
		t.Errorf("observer results: %+v", results)
	}
}

func TestMonitorModeLogs(t *testing.T) {
	var logs syncBuffer
	protect := approovhttp.New(verifier(t), approovhttp.WithMonitorMode(true),
		approovhttp.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	srv := httptest.NewServer(protect(api))
	defer srv.Close()
	if got := do(t, srv, "GET", nil); got.status != 200 {
		t.Fatalf("monitor mode: status %d", got.status)
	}
	if !strings.Contains(logs.String(), `"monitor":true`) || !strings.Contains(logs.String(), `"reason":"token_missing"`) {
		t.Fatalf("monitor log line: %s", logs.String())
	}
}

func TestNewNilVerifierPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(nil) did not panic")
		}
	}()
	approovhttp.New(nil)
}

func TestClaimsFromContextEmpty(t *testing.T) {
	if c, ok := approovhttp.ClaimsFromContext(httptest.NewRequest("GET", "/", nil).Context()); ok || c != nil {
		t.Fatal("claims in an empty context")
	}
	var e *approov.Error
	_, err := verifier(t).Verify("x")
	if !errors.As(err, &e) {
		t.Fatal("not an *approov.Error")
	}
}
