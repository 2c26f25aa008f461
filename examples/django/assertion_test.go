package django_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/assertion"
	"github.com/approov-gateway/approov/internal/e2e"
)

// The signed mode of the Django middleware, under gunicorn, with
// assertions made by the Go Signer and sent straight to Django: what
// Django reads as the method, Host, request-target and headers must be
// what the gateway signed, byte for byte, and forged or replayed facts must
// get 401. (assertion/python_test.go holds the verifier itself to the Go
// one on many more cases; this test is about the real server around it.)

var assertionSecret = []byte("django assertion test key: not secret at all")

// startSignedDjango runs the hello API under gunicorn in the signed mode.
func startSignedDjango(t *testing.T, addr string) *e2e.Proc {
	t.Helper()
	e2e.Require(t, gunicorn, "/usr/bin/python3")
	env := []string{"DJANGO_SETTINGS_MODULE=hello.settings", "PYTHONDONTWRITEBYTECODE=1", pythonPath,
		"APPROOV_ASSERTION_SECRET=" + base64.StdEncoding.EncodeToString(assertionSecret)}
	p := e2e.Start(t, djangoDir, env, gunicorn, "--bind", addr, "--workers", "1", "--graceful-timeout", "2", "hello.wsgi:application")
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return p
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("gunicorn did not start on %s: %v\n%s", addr, err, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawRequest sends a request exactly as given, request-target and all,
// which net/http's client would normalise, and returns status and body.
func rawRequest(t *testing.T, addr, method, target string, header [][2]string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\n")
	for _, h := range header {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestSignedFacts(t *testing.T) {
	key, err := assertion.NewKey(assertionSecret)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := assertion.NewSigner([]*assertion.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := assertion.NewSigner([]*assertion.Key{key}, assertion.WithClock(func() time.Time { return time.Now().Add(-10 * time.Minute) }))
	addr := e2e.FreeAddr(t)
	django := startSignedDjango(t, addr)
	host := addr

	// signed returns an assertion for the request, as the gateway makes it.
	signed := func(s *assertion.Signer, result, method, target string, bound ...string) string {
		c := &assertion.Claims{ID: assertion.NewID(), Result: result, Method: method, Host: host, Target: target}
		if result == assertion.ResultOK {
			c.DeviceID, c.TokenExpiry = "device-1", time.Unix(4102444800, 0)
		}
		if len(bound) > 0 {
			h := http.Header{"Authorization": {bound[0]}}
			c.BoundHeaders, c.BindingHash = []string{"authorization"}, assertion.BindingHash(h, []string{"authorization"})
		}
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ok := signed(signer, "ok", "GET", "/whoami")
	rawQuery := signed(signer, "ok", "GET", "/whoami?next=%2Fadmin&x=%C3%A9")
	bound := signed(signer, "ok", "GET", "/whoami", "Bearer alice")
	tests := []struct {
		name           string
		method, target string
		header         [][2]string
		status         int
		deviceID       string
	}{
		{"valid", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", ok}}, 200, "device-1"},
		{"forged unsigned facts beside it are ignored", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", ok},
			{"Approov-Device-Id", "mallory"}, {"Approov-Result", "ok"}}, 200, "device-1"},
		{"unsigned facts alone", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Result", "ok"}, {"Approov-Device-Id", "mallory"}}, 401, ""},
		{"raw query, byte for byte", "GET", "/whoami?next=%2Fadmin&x=%C3%A9", [][2]string{{"Host", host}, {"Approov-Assertion", rawQuery}}, 200, "device-1"},
		{"query spelled otherwise", "GET", "/whoami?next=/admin&x=%C3%A9", [][2]string{{"Host", host}, {"Approov-Assertion", rawQuery}}, 401, ""},
		{"other path", "GET", "/public/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", ok}}, 401, ""},
		{"other method", "POST", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", ok}, {"Content-Length", "0"}}, 401, ""},
		{"other host", "GET", "/whoami", [][2]string{{"Host", "localhost"}, {"Approov-Assertion", ok}}, 401, ""},
		{"assertion twice", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", ok}, {"Approov-Assertion", ok}}, 401, ""},
		{"bound, same credential", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", bound}, {"Authorization", "Bearer alice"}}, 200, "device-1"},
		{"bound, other credential", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", bound}, {"Authorization", "Bearer mallory"}}, 401, ""},
		{"bound, credential twice", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", bound}, {"Authorization", "Bearer alice"}, {"Authorization", "Bearer alice"}}, 401, ""},
		{"public route", "GET", "/public/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", signed(signer, "public", "GET", "/public/whoami")}}, 200, ""},
		{"expired", "GET", "/whoami", [][2]string{{"Host", host}, {"Approov-Assertion", signed(stale, "ok", "GET", "/whoami")}}, 401, ""},
	}
	for _, tc := range tests {
		status, body := rawRequest(t, addr, tc.method, tc.target, tc.header)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, body)
			continue
		}
		if status == 401 {
			if body != "{}" {
				t.Errorf("%s: 401 body %q, want {}", tc.name, body)
			}
			continue
		}
		var who struct {
			DeviceID *string `json:"device_id"`
			Verified bool    `json:"verified"`
			Result   string  `json:"result"`
		}
		if err := json.Unmarshal([]byte(body), &who); err != nil {
			t.Fatalf("%s: %v: %s", tc.name, err, body)
		}
		gotDID := ""
		if who.DeviceID != nil {
			gotDID = *who.DeviceID
		}
		if gotDID != tc.deviceID || who.Verified != (tc.deviceID != "") {
			t.Errorf("%s: whoami %s", tc.name, body)
		}
	}
	// One log line per rejection, with the reason and never the assertion.
	// The lines reach the test through a pipe, so the last may lag behind
	// its response.
	for _, reason := range []string{"assertion_missing", "assertion_request_mismatch", "assertion_duplicated",
		"assertion_binding_mismatch", "assertion_expired"} {
		django.WaitOutput(t, ": "+reason, 10*time.Second) // approov refused METHOD PATH: reason (detail)
	}
	for _, secret := range []string{ok, bound, "Bearer mallory", base64.StdEncoding.EncodeToString(assertionSecret)} {
		if strings.Contains(django.Output(), secret) {
			t.Errorf("the log shows a secret or an assertion")
		}
	}
}

func TestSignedFactsRefusesABadKey(t *testing.T) {
	e2e.Require(t, gunicorn, "/usr/bin/python3")
	weak := base64.StdEncoding.EncodeToString([]byte("too short to be a key"))
	env := []string{"DJANGO_SETTINGS_MODULE=hello.settings", "PYTHONDONTWRITEBYTECODE=1", pythonPath, "APPROOV_ASSERTION_SECRET=" + weak}
	p := e2e.Start(t, djangoDir, env, gunicorn, "--bind", e2e.FreeAddr(t), "--workers", "1", "hello.wsgi:application")
	if code := p.Wait(t, 30*time.Second); code == 0 {
		t.Errorf("gunicorn ran with a weak key")
	}
	out := p.Output()
	if !strings.Contains(out, "ImproperlyConfigured: approov_django: APPROOV_ASSERTION_SECRET: key 1 of 1: key is 21 bytes") {
		t.Errorf("no ImproperlyConfigured naming the setting:\n%s", out)
	}
	if strings.Contains(out, weak) {
		t.Errorf("the output shows the key")
	}
}
