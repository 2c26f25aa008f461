package main_test

import (
	"bufio"
	"crypto/rand"
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

func decodeSeen(t testing.TB, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("backend answer %q: %v", body, err)
	}
	return s
}

func TestProxyEnforces(t *testing.T) {
	b := newBackend(t)
	gw := e2e.StartGateway(t, "", gatewayEnv(b))
	valid := tok(t, map[string]any{"did": "device-1"})
	expired := tok(t, map[string]any{"exp": time.Now().Add(-time.Minute)})
	forged, _ := forger.Sign(map[string]any{"exp": time.Now().Add(time.Hour)})
	noExp, _ := signer.SignJSON([]byte(`{"alg":"HS256","typ":"JWT"}`), []byte(`{"did":"x"}`))
	emptyExp, _ := signer.SignJSON([]byte(`{"alg":"HS256","typ":"JWT"}`), []byte(`{"exp":""}`))

	for _, tt := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"valid", http.Header{"Approov-Token": {valid}}, 200},
		{"missing", nil, 401},
		{"empty", http.Header{"Approov-Token": {""}}, 401},
		{"malformed", http.Header{"Approov-Token": {"not-a-jwt"}}, 401},
		{"bad signature", http.Header{"Approov-Token": {forged}}, 401},
		{"expired", http.Header{"Approov-Token": {expired}}, 401},
		{"exp missing", http.Header{"Approov-Token": {noExp}}, 401},
		{"exp empty", http.Header{"Approov-Token": {emptyExp}}, 401},
		{"duplicated", http.Header{"Approov-Token": {valid, valid}}, 401},
		{"oversized token", http.Header{"Approov-Token": {valid + strings.Repeat("A", 9000)}}, 401},
		{"SDK status", http.Header{"Approov-Token": {""}, "Approov-Status": {"NO_NETWORK"}}, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := b.hits.Load()
			r := request(t, "GET", gw.URL()+"/api/thing", tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (body %s)", r.status, tt.status, r.body)
			}
			reached := b.hits.Load() > before
			if tt.status == 401 {
				if r.body != "{}" || r.header.Get("Content-Type") != "application/json" {
					t.Fatalf("rejection %q with %q, want {} as application/json", r.body, r.header.Get("Content-Type"))
				}
				if reached {
					t.Fatal("a rejected request reached the backend")
				}
			} else if !reached {
				t.Fatal("an allowed request did not reach the backend")
			}
		})
	}
	// Every rejection looks the same to the client.
	if strings.Contains(gw.Output(), valid) || strings.Contains(gw.Output(), secretB64) {
		t.Fatal("the gateway logged a token or the secret")
	}
}

func TestForwardedHeaders(t *testing.T) {
	b := newBackend(t)
	gw := e2e.StartGateway(t, "", gatewayEnv(b, "APPROOV_FORWARD_CLAIMS=result,did,exp,ip"))
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	valid := tok(t, map[string]any{"did": "device-7", "ip": "203.0.113.9", "exp": exp})
	r := request(t, "GET", gw.URL()+"/who?x=1", http.Header{
		"Approov-Token":     {valid},
		"Approov-Device-Id": {"forged-device"},
		"Approov_Device_Id": {"forged-underscore"},
		"APPROOV-RESULT":    {"ok"},
		"X-Forwarded-For":   {"6.6.6.6"},
	})
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	s := decodeSeen(t, r.body)
	want := map[string]string{
		"Approov-Device-Id":    "device-7",
		"Approov-Token-Expiry": fmt.Sprint(exp.Unix()),
		"Approov-Result":       "ok",
		"Approov-Client-Ip":    "203.0.113.9",
		"X-Forwarded-For":      "127.0.0.1",
		"X-Forwarded-Proto":    "http",
		"X-Forwarded-Host":     gw.Addr,
	}
	for k, v := range want {
		if got := s.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("upstream header %s = %q, want [%q]", k, got, v)
		}
	}
	for k := range s.Header {
		if strings.EqualFold(k, "Approov-Token") || strings.Contains(strings.ToLower(k), "approov_") {
			t.Errorf("upstream got %s: %q", k, s.Header[k])
		}
	}
	if s.Path != "/who" || s.RawQuery != "x=1" {
		t.Errorf("upstream path %q query %q", s.Path, s.RawQuery)
	}

	// A facts value that is no valid header value is dropped, not sent.
	crlf := tok(t, map[string]any{"did": "evil\r\nX-Injected: 1"})
	r = request(t, "GET", gw.URL()+"/who", http.Header{"Approov-Token": {crlf}})
	s = decodeSeen(t, r.body)
	if r.status != 200 || s.Header.Get("Approov-Device-Id") != "" || s.Header.Get("X-Injected") != "" {
		t.Fatalf("status %d, device %q, injected %q", r.status, s.Header.Get("Approov-Device-Id"), s.Header.Get("X-Injected"))
	}
}

func TestKeepTokenAndTrustedProxies(t *testing.T) {
	b := newBackend(t)
	gw := e2e.StartGateway(t, "", gatewayEnv(b, "APPROOV_KEEP_TOKEN_HEADER=true", "APPROOV_TRUSTED_PROXIES=127.0.0.1/32", "APPROOV_PRESERVE_HOST=true"))
	valid := tok(t, map[string]any{})
	r := request(t, "GET", gw.URL()+"/", http.Header{"Approov-Token": {valid}, "X-Forwarded-For": {"198.51.100.7"}, "X-Forwarded-Proto": {"https"}})
	s := decodeSeen(t, r.body)
	if s.Header.Get("Approov-Token") != valid {
		t.Error("keep_token_header: token not forwarded")
	}
	if got := s.Header.Get("X-Forwarded-For"); got != "198.51.100.7, 127.0.0.1" {
		t.Errorf("trusted proxy: X-Forwarded-For = %q", got)
	}
	if got := s.Header.Get("X-Forwarded-Proto"); got != "https" {
		t.Errorf("trusted proxy: X-Forwarded-Proto = %q", got)
	}
	if s.Host != gw.Addr {
		t.Errorf("preserve_host: upstream Host = %q, want %q", s.Host, gw.Addr)
	}
}

func TestRequestLimits(t *testing.T) {
	b := newBackend(t)
	gw := e2e.StartGateway(t, "", gatewayEnv(b, "APPROOV_MAX_HEADER_BYTES=4096", "APPROOV_MAX_HEADER_COUNT=20"))
	valid := tok(t, map[string]any{})
	many := http.Header{"Approov-Token": {valid}}
	for i := range 30 {
		many.Set(fmt.Sprintf("X-Filler-%d", i), "x")
	}
	if r := request(t, "GET", gw.URL()+"/", many); r.status != 431 {
		t.Errorf("too many header fields: status %d", r.status)
	}
	big := http.Header{"Approov-Token": {valid}, "X-Big": {strings.Repeat("b", 16<<10)}}
	if r := request(t, "GET", gw.URL()+"/", big); r.status != 431 {
		t.Errorf("oversized header block: status %d", r.status)
	}
	if r := request(t, "GET", gw.URL()+"/a%2Fb", http.Header{"Approov-Token": {valid}}); r.status != 400 {
		t.Errorf("encoded slash: status %d", r.status)
	}
	if r := request(t, "GET", gw.URL()+"/", http.Header{"Approov-Token": {valid}}); r.status != 200 {
		t.Errorf("normal request after limits: status %d", r.status)
	}
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoutes(t *testing.T) {
	b := newBackend(t)
	other := newBackend(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
upstream: %s
routes:
  - name: health
    match: GET /healthz
    mode: public
  - name: account
    match: /account/
    mode: binding
    binding_headers: [Authorization]
  - name: rollout
    match: /beta/
    monitor: true
  - name: browser
    match: /browser/
    allow_preflight: true
  - name: reports
    match: /reports/
    upstream: %s
  - name: failover
    match: /failover/
    mode: binding
    binding_headers: [Authorization]
    binding_optional: true
`, b.URL, other.URL))
	gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=gateway.yaml"})
	const auth = "Bearer alice"
	plain := tok(t, map[string]any{"did": "d"})
	bound := tok(t, map[string]any{"did": "d", "pay": approov.PayloadHash(auth)})

	for _, tt := range []struct {
		name, method, path string
		header             http.Header
		status             int
		result             string // Approov-Result seen upstream, for monitored requests
	}{
		{"public route, no token", "GET", "/healthz", nil, 200, "public"},
		{"public route is GET only", "POST", "/healthz", nil, 401, ""},
		{"default route needs a token", "GET", "/other", nil, 401, ""},
		{"default route with token", "GET", "/other", http.Header{"Approov-Token": {plain}}, 200, "ok"},
		{"binding route, bound token", "GET", "/account/me", http.Header{"Approov-Token": {bound}, "Authorization": {auth}}, 200, "ok"},
		{"binding route, wrong credential", "GET", "/account/me", http.Header{"Approov-Token": {bound}, "Authorization": {"Bearer mallory"}}, 401, ""},
		{"binding route, token without pay", "GET", "/account/me", http.Header{"Approov-Token": {plain}, "Authorization": {auth}}, 401, ""},
		{"binding route, no Authorization", "GET", "/account/me", http.Header{"Approov-Token": {bound}}, 401, ""},
		{"binding route, Authorization twice", "GET", "/account/me", http.Header{"Approov-Token": {bound}, "Authorization": {auth, auth}}, 401, ""},
		{"optional binding, no pay", "GET", "/failover/x", http.Header{"Approov-Token": {plain}}, 200, "ok"},
		{"optional binding, pay checked", "GET", "/failover/x", http.Header{"Approov-Token": {bound}, "Authorization": {"Bearer mallory"}}, 401, ""},
		{"monitor route lets failures through", "GET", "/beta/x", nil, 200, "token_missing"},
		{"preflight allowed", "OPTIONS", "/browser/x", http.Header{"Access-Control-Request-Method": {"POST"}, "Origin": {"https://app.example"}}, 200, ""},
		{"preflight elsewhere checked", "OPTIONS", "/other", http.Header{"Access-Control-Request-Method": {"POST"}}, 401, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := request(t, tt.method, gw.URL()+tt.path, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if tt.status == 200 && tt.method != "OPTIONS" {
				if got := decodeSeen(t, r.body).Header.Get("Approov-Result"); got != tt.result {
					t.Fatalf("upstream Approov-Result %q, want %q", got, tt.result)
				}
			}
		})
	}
	before := other.hits.Load()
	if r := request(t, "GET", gw.URL()+"/reports/q1", http.Header{"Approov-Token": {plain}}); r.status != 200 || other.hits.Load() != before+1 {
		t.Fatalf("route upstream: status %d, other backend hits %d -> %d", r.status, before, other.hits.Load())
	}
}

func TestForwardAuth(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", `
forward_auth_only: true
routes:
  - match: /public/
    mode: public
  - match: /account/
    mode: binding
    binding_headers: [Authorization]
`)
	gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=gateway.yaml"})
	const auth = "Bearer alice"
	plain := tok(t, map[string]any{"did": "device-fa"})
	bound := tok(t, map[string]any{"did": "device-fa", "pay": approov.PayloadHash(auth)})
	verify := gw.URL() + "/_approov/verify"

	for _, tt := range []struct {
		name   string
		url    string
		method string
		header http.Header
		status int
	}{
		{"nginx: token route, valid", verify, "GET", http.Header{"X-Original-Uri": {"/api/x?y=1"}, "X-Original-Method": {"POST"}, "Approov-Token": {plain}}, 200},
		{"nginx: token route, missing", verify, "GET", http.Header{"X-Original-Uri": {"/api/x"}}, 401},
		{"nginx: public route", verify, "GET", http.Header{"X-Original-Uri": {"/public/logo.png"}, "Approov-Device-Id": {"forged"}}, 200},
		{"nginx: binding route, bound", verify, "GET", http.Header{"X-Original-Uri": {"/account/me"}, "Approov-Token": {bound}, "Authorization": {auth}}, 200},
		{"nginx: binding route, wrong credential", verify, "GET", http.Header{"X-Original-Uri": {"/account/me"}, "Approov-Token": {bound}, "Authorization": {"Bearer mallory"}}, 401},
		{"nginx: binding route, plain token", verify, "GET", http.Header{"X-Original-Uri": {"/account/me"}, "Approov-Token": {plain}, "Authorization": {auth}}, 401},
		{"traefik/caddy: forwarded uri", verify, "GET", http.Header{"X-Forwarded-Uri": {"/account/me"}, "X-Forwarded-Method": {"GET"}, "Approov-Token": {bound}, "Authorization": {auth}}, 200},
		{"traefik/caddy: public", verify, "GET", http.Header{"X-Forwarded-Uri": {"/public/"}, "X-Forwarded-Method": {"GET"}}, 200},
		{"envoy: path suffix, public", verify + "/public/a", "GET", nil, 200},
		{"envoy: path suffix, binding", verify + "/account/me", "GET", http.Header{"Approov-Token": {bound}, "Authorization": {"Bearer mallory"}}, 401},
		{"envoy: path suffix, token", verify + "/api/x", "POST", http.Header{"Approov-Token": {plain}}, 200},
		{"bad original uri", verify, "GET", http.Header{"X-Original-Uri": {"not a uri"}}, 400},
		{"no proxying in forward-auth-only mode", gw.URL() + "/api/x", "GET", http.Header{"Approov-Token": {plain}}, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := request(t, tt.method, tt.url, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if tt.status == 200 && tt.header.Get("Approov-Token") != "" {
				if r.header.Get("Approov-Device-Id") != "device-fa" || r.header.Get("Approov-Result") != "ok" || r.header.Get("Approov-Token-Expiry") == "" {
					t.Fatalf("facts headers: %v", r.header)
				}
			}
			if tt.status == 200 && tt.header.Get("Approov-Token") == "" {
				// Public: every fact is answered, empty, so that a proxy
				// copying them overwrites client-sent copies.
				if v, ok := r.header["Approov-Device-Id"]; !ok || v[0] != "" || r.header.Get("Approov-Result") != "public" {
					t.Fatalf("public facts headers: %v", r.header)
				}
			}
			if tt.status == 401 && r.body != "{}" {
				t.Fatalf("401 body %q", r.body)
			}
		})
	}
}

func TestUpstreamFailure(t *testing.T) {
	b := newBackend(t)
	addr := b.Listener.Addr().String()
	gw := e2e.StartGateway(t, "", gatewayEnv(b, "APPROOV_UPSTREAM_RESPONSE_HEADER_TIMEOUT=300ms"))
	valid := tok(t, map[string]any{})
	h := http.Header{"Approov-Token": {valid}}

	r := request(t, "GET", gw.URL()+"/slow?d=2s", h)
	if r.status != 504 || r.body != `{"error":"gateway timeout"}` {
		t.Fatalf("slow upstream: %d %s", r.status, r.body)
	}

	b.Close()
	start := time.Now()
	r = request(t, "GET", gw.URL()+"/", h)
	if r.status != 502 || r.body != `{"error":"bad gateway"}` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("upstream down: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("502 took %v", d)
	}
	gw.WaitOutput(t, "upstream error", 5*time.Second)

	// The backend comes back on the same address: traffic flows again.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("relisten %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "back") })}
	go srv.Serve(ln)
	defer srv.Close()
	if r := request(t, "GET", gw.URL()+"/", h); r.status != 200 || r.body != "back" {
		t.Fatalf("after recovery: %d %s", r.status, r.body)
	}
}

func TestStreaming(t *testing.T) {
	b := newBackend(t)
	gw := e2e.StartGateway(t, "", gatewayEnv(b))
	valid := tok(t, map[string]any{})

	// Upload: 1 MiB goes first; the rest only once the backend has seen it.
	// A gateway that buffered uploads would deadlock here.
	body := make([]byte, 24<<20)
	rand.Read(body)
	want := sha256.Sum256(body)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(body[:1<<20])
		select {
		case <-b.uploaded:
		case <-time.After(10 * time.Second):
			pw.CloseWithError(fmt.Errorf("backend never saw the first MiB: the upload was buffered"))
			return
		}
		pw.Write(body[1<<20:])
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", gw.URL()+"/upload", pr)
	req.Header.Set("Approov-Token", valid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Bytes  int64
		SHA256 string
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got.Bytes != int64(len(body)) || got.SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("upload: status %d, %d bytes, sha %s", resp.StatusCode, got.Bytes, got.SHA256)
	}

	// Download: the first chunk arrives while the backend is still holding
	// the second.
	req, _ = http.NewRequest("GET", gw.URL()+"/stream", nil)
	req.Header.Set("Approov-Token", valid)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first chunk\n" {
		t.Fatalf("first chunk: %q %v", line, err)
	}
	close(b.release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second chunk\n" {
		t.Fatalf("second chunk: %q", rest)
	}
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

func TestWebSocket(t *testing.T) {
	b := newBackend(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", fmt.Sprintf(`
upstream: %s
routes:
  - match: /ws-query/
    token_query_param: approov_token
`, b.URL))
	gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=gateway.yaml"})
	valid := tok(t, map[string]any{})

	echo := func(conn net.Conn) {
		t.Helper()
		msg := []byte("raw frames pass through untouched")
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil || string(got) != string(msg) {
			t.Fatalf("echo: %q %v", got, err)
		}
	}

	conn, resp := wsDial(t, gw.Addr, "/ws", http.Header{"Approov-Token": {valid}})
	if resp.StatusCode != 101 || resp.Header.Get("Sec-Websocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("upgrade with token: %s %v", resp.Status, resp.Header)
	}
	echo(conn)
	conn.Close()

	_, resp = wsDial(t, gw.Addr, "/ws", nil)
	if resp.StatusCode != 401 {
		t.Fatalf("upgrade without token: %s", resp.Status)
	}

	conn, resp = wsDial(t, gw.Addr, "/ws-query/ws?room=7&approov_token="+valid, nil)
	if resp.StatusCode != 101 {
		t.Fatalf("upgrade with query token: %s", resp.Status)
	}
	if q := resp.Header.Get("X-Query"); q != "room=7" {
		t.Fatalf("backend saw query %q; the token parameter must be removed", q)
	}
	echo(conn)
	conn.Close()

	// The query parameter only works on WebSocket upgrades.
	if r := request(t, "GET", gw.URL()+"/ws-query/x?approov_token="+valid, nil); r.status != 401 {
		t.Fatalf("query token on a plain request: %d", r.status)
	}
	if strings.Contains(gw.Output(), valid) {
		t.Fatal("the token from the query string reached the log")
	}
}

func TestMetricsAndHealth(t *testing.T) {
	b := newBackend(t)
	gw := e2e.StartGateway(t, "", gatewayEnv(b))
	valid := tok(t, map[string]any{})
	request(t, "GET", gw.URL()+"/", http.Header{"Approov-Token": {valid}})
	request(t, "GET", gw.URL()+"/", nil)
	request(t, "GET", gw.URL()+"/", http.Header{"Approov-Token": {"garbage"}})

	if r := request(t, "GET", gw.AdminURL()+"/healthz", nil); r.status != 200 || r.body != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	if r := request(t, "GET", gw.AdminURL()+"/readyz", nil); r.status != 200 {
		t.Fatalf("readyz: %d", r.status)
	}
	m := request(t, "GET", gw.AdminURL()+"/metrics", nil).body
	for _, want := range []string{
		`approov_gateway_requests_total{endpoint="proxy",outcome="allowed",reason="ok",route="default"} 1`,
		`approov_gateway_requests_total{endpoint="proxy",outcome="rejected",reason="token_missing",route="default"} 1`,
		`approov_gateway_requests_total{endpoint="proxy",outcome="rejected",reason="token_malformed",route="default"} 1`,
		`approov_gateway_verification_duration_seconds_count 3`,
		`approov_gateway_upstream_duration_seconds_count{route="default"} 1`,
		`approov_gateway_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The API listener does not serve the admin endpoints.
	if r := request(t, "GET", gw.URL()+"/metrics", nil); r.status != 401 {
		t.Errorf("/metrics on the API listener: %d", r.status)
	}
}

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

	var ok, failed atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", gw.URL()+"/slow?d=20ms", nil)
				req.Header.Set("Approov-Token", valid)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					failures.Store(err.Error(), true)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					failed.Add(1)
					failures.Store(resp.Status, true)
				}
			}
		}()
	}
	for i := range 6 {
		time.Sleep(250 * time.Millisecond)
		writeFile(t, dir, "gateway.yaml", configs[(i+1)%2])
		gw.Signal(t, syscall.SIGHUP)
	}
	// A broken configuration is refused; the old one keeps serving.
	time.Sleep(250 * time.Millisecond)
	writeFile(t, dir, "gateway.yaml", "upstream: ftp://nowhere\nlisten: bad\n")
	gw.Signal(t, syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	_ = cfgPath

	if failed.Load() > 0 {
		var reasons []string
		failures.Range(func(k, _ any) bool { reasons = append(reasons, k.(string)); return true })
		t.Fatalf("%d of %d requests failed across reloads: %v", failed.Load(), ok.Load()+failed.Load(), reasons)
	}
	if ok.Load() < 100 {
		t.Fatalf("only %d requests ran: the load did not overlap the reloads", ok.Load())
	}
	gw.WaitOutput(t, "configuration reload refused", 5*time.Second)
	m := request(t, "GET", gw.AdminURL()+"/metrics", nil).body
	if !strings.Contains(m, `approov_gateway_config_reloads_total{result="success"} 6`) || !strings.Contains(m, `approov_gateway_config_reloads_total{result="failure"} 1`) {
		t.Fatalf("reload counters:\n%s", grep(m, "reloads_total"))
	}
	if r := request(t, "GET", gw.URL()+"/", http.Header{"Approov-Token": {valid}}); r.status != 200 {
		t.Fatalf("after a refused reload: %d", r.status)
	}
	t.Logf("%d requests, none failed, across 6 reloads and 1 refused reload", ok.Load())
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
	gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=gateway.yaml"})
	const credential = "Bearer credential-that-must-stay-private"
	valid := tok(t, map[string]any{"did": "d"})
	bound := tok(t, map[string]any{"pay": "w1Xc6WwWEogNEZQP/dkBTThsJT4MNlKmzQanIm970rY="})
	expired := tok(t, map[string]any{"exp": time.Now().Add(-time.Hour)})
	forged, _ := forger.Sign(map[string]any{"exp": time.Now().Add(time.Hour)})
	secrets := []string{secretB64, valid, bound, expired, forged, credential, "credential-that-must-stay-private"}

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
	request(t, "GET", gw.URL()+"/_approov/verify", http.Header{"X-Original-Uri": {"/account/me"}, "Approov-Token": {bound}, "Authorization": {credential}})
	request(t, "GET", gw.URL()+"/ws-query/x?approov_token="+expired, nil)
	conn, _ := wsDial(t, gw.Addr, "/ws-query/ws?approov_token="+forged, nil)
	conn.Close()

	gw.Signal(t, syscall.SIGTERM)
	gw.Wait(t, 10*time.Second)
	out := gw.Output()
	if !strings.Contains(out, `"reason":"binding_mismatch"`) || !strings.Contains(out, `"msg":"request"`) {
		t.Fatalf("the log lacks the lines this test needs to be meaningful:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log contains %.24s...", s)
		}
	}
}
