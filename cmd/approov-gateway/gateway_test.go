package main_test

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/e2e"
)

var (
	secret    = []byte("gateway end-to-end secret: 64 bytes, as Approov issues secrets..")
	secretB64 = base64.StdEncoding.EncodeToString(secret)
	signer    = approovtest.MustSigner(approov.HS256, secret, "")
	forger    = approovtest.MustSigner(approov.HS256, []byte(strings.Repeat("f", 64)), "")
)

func tok(t testing.TB, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour)
	}
	s, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seen is what the backend received.
type seen struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
}

// backend is a real HTTP server that records what reaches it.
type backend struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
	hits     atomic.Int64
	release  chan struct{} // lets /stream finish
	uploaded chan int64    // /upload reports progress
}

func newBackend(t *testing.T) *backend {
	b := &backend{release: make(chan struct{}), uploaded: make(chan int64, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first chunk\n")
		http.NewResponseController(w).Flush()
		select {
		case <-b.release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "second chunk\n")
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		var n int64
		buf := make([]byte, 64<<10)
		reported := false
		for {
			k, err := r.Body.Read(buf)
			h.Write(buf[:k])
			n += int64(k)
			if !reported && n >= 1<<20 {
				b.uploaded <- n
				reported = true
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"bytes": n, "sha256": hex.EncodeToString(h.Sum(nil))})
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		time.Sleep(d)
		io.WriteString(w, `{"slow":true}`)
	})
	mux.HandleFunc("/ws", wsEcho)
	mux.HandleFunc("/ws-query/ws", wsEcho)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header})
	})
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		b.mu.Lock()
		b.requests = append(b.requests, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Clone()})
		b.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

// wsEcho completes a WebSocket handshake by hand and echoes raw bytes: the
// gateway must pass the upgraded connection through untouched.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "want a websocket upgrade", http.StatusBadRequest)
		return
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Query: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]), r.URL.RawQuery)
	rw.Flush()
	io.Copy(conn, rw)
}

func gatewayEnv(b *backend, extra ...string) []string {
	return append([]string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_UPSTREAM=" + b.URL}, extra...)
}

// result is what request got back.
type result struct {
	status int
	header http.Header
	body   string
}

func request(t testing.TB, method, url string, header http.Header) result {
	t.Helper()
	r := e2e.Request(t, method, url, header)
	return result{r.Status, r.Header, r.Body}
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wsDial opens a WebSocket through the gateway by hand and returns the
// connection and the status line and headers of the answer.
func wsDial(t *testing.T, addr, path string, header http.Header) (net.Conn, *http.Response) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	for k, v := range header {
		req.Header[k] = v
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	return &bufConn{Conn: conn, r: br}, resp
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestReloadUnderLoad(t *testing.T) {
	b := newBackend(t)
	dir := t.TempDir()
	configs := []string{
		fmt.Sprintf("upstream: %s\nroutes:\n  - match: /extra-a/\n    mode: public\n", b.URL),
		fmt.Sprintf("upstream: %s\nleeway: 5s\nroutes:\n  - match: /extra-b/\n    monitor: true\n", b.URL),
	}
	cfgPath := writeFile(t, dir, "gateway.yaml", configs[0])
	gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=gateway.yaml"})
	valid := tok(t, map[string]any{})

	l := startLoad(t, 8, func() *http.Request {
		req, _ := http.NewRequest("GET", gw.URL()+"/slow?d=20ms", nil)
		req.Header.Set("Approov-Token", valid)
		return req
	})
	// Each reload is waited for before the next: SIGHUPs that arrive
	// while one is pending are merged into it, by design, and a file
	// rewritten in place could be read half-written, so it is replaced
	// whole.
	reloads := func() string {
		return grep(request(t, "GET", gw.AdminURL()+"/metrics", nil).body, "config_reloads_total")
	}
	for i := range 6 {
		replaceFile(t, dir, "gateway.yaml", configs[(i+1)%2])
		gw.Signal(t, syscall.SIGHUP)
		want := fmt.Sprintf(`approov_gateway_config_reloads_total{result="success"} %d`, i+1)
		waitUntil(t, func() bool { return strings.Contains(reloads(), want) })
		time.Sleep(100 * time.Millisecond) // load on the new configuration
	}
	// A broken configuration is refused; the old one keeps serving.
	replaceFile(t, dir, "gateway.yaml", "upstream: ftp://nowhere\nlisten: bad\n")
	gw.Signal(t, syscall.SIGHUP)
	waitUntil(t, func() bool {
		return strings.Contains(reloads(), `approov_gateway_config_reloads_total{result="failure"} 1`)
	})
	time.Sleep(200 * time.Millisecond)
	l.Stop()
	_ = cfgPath

	l.check(t, "across reloads")
	if l.ok.Load() < 100 {
		t.Fatalf("only %d requests ran: the load did not overlap the reloads", l.ok.Load())
	}
	gw.WaitOutput(t, "configuration reload refused", 5*time.Second)
	if m := reloads(); !strings.Contains(m, `approov_gateway_config_reloads_total{result="success"} 6`) {
		t.Fatalf("reload counters:\n%s", m)
	}
	if r := request(t, "GET", gw.URL()+"/", http.Header{"Approov-Token": {valid}}); r.status != 200 {
		t.Fatalf("after a refused reload: %d", r.status)
	}
	t.Logf("%d requests, none failed, across 6 reloads and 1 refused reload", l.ok.Load())
}

// replaceFile replaces dir/name whole, as deployment tools do, so that a
// reload never reads it half-written.
func replaceFile(t testing.TB, dir, name, content string) {
	t.Helper()
	tmp := writeFile(t, dir, "."+name+".tmp", content)
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// waitUntil waits up to 10 s for cond.
func waitUntil(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestShutdownDrains(t *testing.T) {
	b := newBackend(t)
	gw := e2e.StartGateway(t, "", gatewayEnv(b, "APPROOV_SHUTDOWN_TIMEOUT=10s"))
	valid := tok(t, map[string]any{})
	const n = 20
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	before := b.hits.Load()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", gw.URL()+"/slow?d=1500ms", nil)
			req.Header.Set("Approov-Token", valid)
			resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.hits.Load()-before < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests reached the backend", b.hits.Load()-before, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	gw.Signal(t, syscall.SIGTERM)
	// While draining, readiness is off and the admin listener still up.
	e2e.WaitHTTP(t, nil, gw.AdminURL()+"/readyz", http.StatusServiceUnavailable, 2*time.Second)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Fatalf("an in-flight request ended with %d during shutdown", s)
		}
	}
	if code := gw.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d after a clean drain", code)
	}
	if _, err := net.DialTimeout("tcp", gw.Addr, time.Second); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
}

// TestLogsNeverLeak runs every kind of request through a gateway that logs
// as much as it can, then searches its whole output for tokens, the secret
// and bound credentials.
func TestLogsNeverLeak(t *testing.T) {
	b := newBackend(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
upstream: %s
access_log: true
log_level: debug
routes:
  - match: /account/
    mode: binding
    binding_headers: [Authorization]
  - match: /ws-query/
    token_query_param: approov_token
  - match: /beta/
    monitor: true
`, b.URL))
	fa := e2e.FreeAddr(t)
	const assertionSecret = "bG9nLWxlYWsgdGVzdDogYW4gYXNzZXJ0aW9uIGtleSBvZiA0OCBieXRlcyEhISEh"
	gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=gateway.yaml",
		"APPROOV_ASSERTION_SECRET=" + assertionSecret, "APPROOV_FORWARD_AUTH_LISTEN=" + fa})
	const credential = "Bearer credential-that-must-stay-private"
	valid := tok(t, map[string]any{"did": "d"})
	bound := tok(t, map[string]any{"pay": "w1Xc6WwWEogNEZQP/dkBTThsJT4MNlKmzQanIm970rY="})
	expired := tok(t, map[string]any{"exp": time.Now().Add(-time.Hour)})
	forged, _ := forger.Sign(map[string]any{"exp": time.Now().Add(time.Hour)})
	secrets := []string{secretB64, assertionSecret, valid, bound, expired, forged, credential, "credential-that-must-stay-private"}

	for _, h := range []http.Header{
		{"Approov-Token": {valid}},
		{"Approov-Token": {expired}},
		{"Approov-Token": {forged}},
		{"Approov-Token": {valid, valid}},
		{"Approov-Token": {valid[:40]}},
		{"Approov-Token": {"Bearer " + valid}},
	} {
		request(t, "GET", gw.URL()+"/x", h)
		request(t, "GET", gw.URL()+"/beta/x", h)
	}
	request(t, "GET", gw.URL()+"/account/me", http.Header{"Approov-Token": {bound}, "Authorization": {credential}})
	request(t, "GET", "http://"+fa+"/_approov/verify", http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/account/me"}, "X-Forwarded-Host": {"h"}, "Approov-Token": {bound}, "Authorization": {credential}})
	// A 30 KB path is logged cut short, not whole, on every line.
	long := "/x/" + strings.Repeat("p", 30000)
	request(t, "GET", gw.URL()+long, nil)
	// A reload refused because a secret sits in the wrong setting: the
	// problem is logged, the value is not.
	writeFile(t, dir, ".env", "APPROOV_MONITOR="+secretB64+"\n")
	gw.Signal(t, syscall.SIGHUP)
	gw.WaitOutput(t, "configuration reload refused", 10*time.Second)
	request(t, "GET", gw.URL()+"/ws-query/x?approov_token="+expired, nil)
	conn, _ := wsDial(t, gw.Addr, "/ws-query/ws?approov_token="+forged, nil)
	conn.Close()

	gw.Signal(t, syscall.SIGTERM)
	gw.Wait(t, 10*time.Second)
	out := gw.Output()
	if strings.Contains(out, strings.Repeat("p", 1000)) || !strings.Contains(out, "truncated, 30003 bytes") {
		t.Error("a 30 KB path was logged whole, or not marked as cut")
	}
	if !strings.Contains(out, `"reason":"binding_mismatch"`) || !strings.Contains(out, `"msg":"request"`) || !strings.Contains(out, "APPROOV_MONITOR") {
		t.Fatalf("the log lacks the lines this test needs to be meaningful:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log contains %.24s...", s)
		}
	}
}
