package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination safe for the servers' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON log lines written so far.
func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// loggedGateway is newTestGateway with the log kept.
func loggedGateway(t *testing.T, yaml string, env ...string) (*testGateway, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	vars := map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_ADMIN_LISTEN": "off"}
	b := newBackend(t)
	if !strings.Contains(yaml, "forward_auth_only: true") {
		vars["APPROOV_UPSTREAM"] = b.URL
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	g, err := New(loadTestConfig(t, yaml, vars), Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tg := &testGateway{Gateway: g, backend: b, front: httptest.NewServer(g.Handler())}
	t.Cleanup(tg.front.Close)
	return tg, logs
}

func TestRequestIDs(t *testing.T) {
	tg, logs := loggedGateway(t, "access_log: true\n", "APPROOV_ASSERTION_SECRET="+testAssertionKey)
	v := assertionVerifier(t)

	// A client's id is replaced; the one made is answered, sent upstream,
	// logged and the assertion's jti.
	r := tg.do(t, "GET", "/x", h("Approov-Token", token(t, nil), "X-Request-Id", "client-chosen"))
	id := r.header.Get(RequestIDHeader)
	s := decodeSeen(t, r.body)
	if id == "" || id == "client-chosen" || s.Header.Get(RequestIDHeader) != id {
		t.Fatalf("request id answered %q, sent upstream %q", id, s.Header.Get(RequestIDHeader))
	}
	c, err := v.VerifyRequest(asReceived(s))
	if err != nil || c.ID != id {
		t.Fatalf("assertion jti %q, request id %q: %v", c.ID, id, err)
	}
	// A rejection's lines carry the id too, the middleware's included.
	r = tg.do(t, "GET", "/x", nil)
	rejected := r.header.Get(RequestIDHeader)
	found := map[string]bool{}
	for _, line := range logs.lines(t) {
		if line["request_id"] == rejected {
			found[line["msg"].(string)] = true
		}
	}
	if !found["approov token rejected"] || !found["request"] {
		t.Fatalf("log lines with the rejected request's id: %v", found)
	}
	for _, line := range logs.lines(t) {
		if line["msg"] == "request" {
			if _, ok := line["duration_seconds"].(float64); !ok {
				t.Fatalf("access line without duration_seconds: %v", line)
			}
		}
	}

	// A trusted proxy's id is kept, when it is a sound one.
	trusted, _ := loggedGateway(t, "", "APPROOV_TRUSTED_PROXIES=127.0.0.1")
	if r := trusted.do(t, "GET", "/x", h("Approov-Token", token(t, nil), "X-Request-Id", "lb-7f3a:01")); r.header.Get(RequestIDHeader) != "lb-7f3a:01" {
		t.Fatalf("trusted proxy's id: %q", r.header.Get(RequestIDHeader))
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 129), "quote\"", "eol\x00"} {
		if r := trusted.do(t, "GET", "/x", h("Approov-Token", token(t, nil), "X-Request-Id", bad)); r.header.Get(RequestIDHeader) == bad {
			t.Errorf("unsound id %q kept", bad)
		}
	}
}

func TestForwardAuthAccessLog(t *testing.T) {
	tg, logs := loggedGateway(t, "forward_auth_only: true\naccess_log: true\n")
	tg.do(t, "GET", "/_approov/verify", h("X-Original-Method", "POST", "X-Original-Uri", "/orders/7?secret=no", "X-Forwarded-Host", "h"))
	for _, line := range logs.lines(t) {
		if line["msg"] == "request" {
			if line["method"] != "POST" || line["path"] != "/orders/7" {
				t.Fatalf("forward-auth access line: %v", line)
			}
			return
		}
	}
	t.Fatal("no access line")
}

// TestRejectionLogsBounded: the gateway's routes share one limiter of
// log_rejections_per_second (its exact per-second behaviour is
// TestLogLimiter's, on a fake clock): a flood of 40 rejections with a limit
// of 3 writes at least 3 lines and far fewer than 40 (each second lets 3
// through); with 0, every rejection is logged.
func TestRejectionLogsBounded(t *testing.T) {
	for _, limit := range []string{"3", "0"} {
		tg, logs := loggedGateway(t, "log_rejections_per_second: "+limit+"\n")
		for range 40 {
			if r := tg.do(t, "GET", "/x", h("Approov-Token", "not-a-token")); r.status != 401 {
				t.Fatalf("%d", r.status)
			}
		}
		got := 0
		for _, line := range logs.lines(t) {
			if line["msg"] == "approov token rejected" {
				got++
			}
		}
		switch {
		case limit == "0" && got != 40:
			t.Errorf("no limit: %d lines for 40 rejections", got)
		case limit == "3" && (got < 3 || got >= 40):
			t.Errorf("limit 3: %d lines for 40 rejections", got)
		}
	}
}
