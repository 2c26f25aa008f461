package gateway

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

func TestProxyEnforces(t *testing.T) {
	tg := newTestGateway(t, "")
	valid := token(t, map[string]any{"did": "device-1"})
	expired := token(t, map[string]any{"exp": time.Now().Add(-time.Minute)})
	forged, _ := approovtest.MustSigner(approov.HS256, approovtest.NewSecret(), "").Sign(map[string]any{"exp": time.Now().Add(time.Hour)})
	noExp, _ := testSigner.SignJSON([]byte(`{"alg":"HS256","typ":"JWT"}`), []byte(`{"did":"x"}`))
	emptyExp, _ := testSigner.SignJSON([]byte(`{"alg":"HS256","typ":"JWT"}`), []byte(`{"exp":""}`))

	for _, tt := range []struct {
		name   string
		header http.Header
		status int
	}{
		{"valid", h("Approov-Token", valid), 200},
		{"missing", nil, 401},
		{"empty", h("Approov-Token", ""), 401},
		{"malformed", h("Approov-Token", "not-a-jwt"), 401},
		{"bad signature", h("Approov-Token", forged), 401},
		{"expired", h("Approov-Token", expired), 401},
		{"exp missing", h("Approov-Token", noExp), 401},
		{"exp empty", h("Approov-Token", emptyExp), 401},
		{"duplicated", h("Approov-Token", valid, "Approov-Token", valid), 401},
		{"oversized token", h("Approov-Token", valid+strings.Repeat("A", 9000)), 401},
		{"SDK status", h("Approov-Token", "", "Approov-Status", "NO_NETWORK"), 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := tg.backend.hits.Load()
			r := tg.do(t, "GET", "/api/thing", tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (body %s)", r.status, tt.status, r.body)
			}
			reached := tg.backend.hits.Load() > before
			if tt.status == 401 {
				// Every rejection looks the same to the client.
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
}

func TestForwardedHeaders(t *testing.T) {
	tg := newTestGateway(t, "", "APPROOV_FORWARD_CLAIMS=result,did,exp,ip")
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	valid := token(t, map[string]any{"did": "device-7", "ip": "203.0.113.9", "exp": exp})
	r := tg.do(t, "GET", "/who?x=1", h(
		"Approov-Token", valid,
		"Approov-Device-Id", "forged-device",
		"Approov_Device_Id", "forged-underscore",
		"APPROOV-RESULT", "ok",
		"X-Forwarded-For", "6.6.6.6",
	))
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
		"X-Forwarded-Host":     tg.front.Listener.Addr().String(),
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
	if s.RequestURI != "/who?x=1" {
		t.Errorf("upstream target %q", s.RequestURI)
	}

	// A facts value that is no valid header value is dropped, not sent.
	crlf := token(t, map[string]any{"did": "evil\r\nX-Injected: 1"})
	s = decodeSeen(t, tg.do(t, "GET", "/who", h("Approov-Token", crlf)).body)
	if s.Header.Get("Approov-Device-Id") != "" || s.Header.Get("X-Injected") != "" {
		t.Fatalf("device %q, injected %q", s.Header.Get("Approov-Device-Id"), s.Header.Get("X-Injected"))
	}
}

func TestKeepTokenAndTrustedProxies(t *testing.T) {
	tg := newTestGateway(t, "", "APPROOV_KEEP_TOKEN_HEADER=true", "APPROOV_TRUSTED_PROXIES=127.0.0.1/32", "APPROOV_PRESERVE_HOST=true")
	valid := token(t, nil)
	s := decodeSeen(t, tg.do(t, "GET", "/", h("Approov-Token", valid, "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https")).body)
	if s.Header.Get("Approov-Token") != valid {
		t.Error("keep_token_header: token not forwarded")
	}
	if got := s.Header.Get("X-Forwarded-For"); got != "198.51.100.7, 127.0.0.1" {
		t.Errorf("trusted proxy: X-Forwarded-For = %q", got)
	}
	if got := s.Header.Get("X-Forwarded-Proto"); got != "https" {
		t.Errorf("trusted proxy: X-Forwarded-Proto = %q", got)
	}
	if s.Host != tg.front.Listener.Addr().String() {
		t.Errorf("preserve_host: upstream Host = %q", s.Host)
	}
}

func TestRequestLimits(t *testing.T) {
	tg := newTestGateway(t, "", "APPROOV_MAX_HEADER_COUNT=20")
	valid := token(t, nil)
	many := h("Approov-Token", valid)
	for i := range 30 {
		many.Set(fmt.Sprintf("X-Filler-%d", i), "x")
	}
	if r := tg.do(t, "GET", "/", many); r.status != 431 {
		t.Errorf("too many header fields: status %d", r.status)
	}
	if r := tg.do(t, "GET", "/", h("Approov-Token", valid)); r.status != 200 {
		t.Errorf("normal request after limits: status %d", r.status)
	}
}

func TestRoutes(t *testing.T) {
	other := newBackend(t)
	tg := newTestGateway(t, `
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
    upstream: `+other.URL+`
  - name: failover
    match: /failover/
    mode: binding
    binding_headers: [Authorization]
    binding_optional: true
`)
	const auth = "Bearer alice"
	plain := token(t, map[string]any{"did": "d"})
	bound := token(t, map[string]any{"did": "d", "pay": approov.PayloadHash(auth)})
	for _, tt := range []struct {
		name, method, path string
		header             http.Header
		status             int
		result             string // Approov-Result seen upstream
	}{
		{"public route, no token", "GET", "/healthz", nil, 200, "public"},
		{"public route is GET only", "POST", "/healthz", nil, 401, ""},
		{"default route needs a token", "GET", "/other", nil, 401, ""},
		{"default route with token", "GET", "/other", h("Approov-Token", plain), 200, "ok"},
		{"binding route, bound token", "GET", "/account/me", h("Approov-Token", bound, "Authorization", auth), 200, "ok"},
		{"binding route, wrong credential", "GET", "/account/me", h("Approov-Token", bound, "Authorization", "Bearer mallory"), 401, ""},
		{"binding route, token without pay", "GET", "/account/me", h("Approov-Token", plain, "Authorization", auth), 401, ""},
		{"binding route, no Authorization", "GET", "/account/me", h("Approov-Token", bound), 401, ""},
		{"binding route, Authorization twice", "GET", "/account/me", h("Approov-Token", bound, "Authorization", auth, "Authorization", auth), 401, ""},
		{"optional binding, no pay", "GET", "/failover/x", h("Approov-Token", plain), 200, "ok"},
		{"optional binding, pay checked", "GET", "/failover/x", h("Approov-Token", bound, "Authorization", "Bearer mallory"), 401, ""},
		{"monitor route lets failures through", "GET", "/beta/x", nil, 200, "token_missing"},
		{"preflight allowed", "OPTIONS", "/browser/x", h("Access-Control-Request-Method", "POST", "Origin", "https://app.example"), 200, "public"},
		{"preflight elsewhere checked", "OPTIONS", "/other", h("Access-Control-Request-Method", "POST"), 401, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tg.do(t, tt.method, tt.path, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if tt.status == 200 {
				if got := decodeSeen(t, r.body).Header.Get("Approov-Result"); got != tt.result {
					t.Fatalf("upstream Approov-Result %q, want %q", got, tt.result)
				}
			}
		})
	}
	before := other.hits.Load()
	if r := tg.do(t, "GET", "/reports/q1", h("Approov-Token", plain)); r.status != 200 || other.hits.Load() != before+1 {
		t.Fatalf("route upstream: status %d, other backend hits %d -> %d", r.status, before, other.hits.Load())
	}
}

func TestUpstreamFailure(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	tg := newTestGateway(t, "upstream: "+slow.URL+"\n", "APPROOV_UPSTREAM_RESPONSE_HEADER_TIMEOUT=200ms")
	valid := h("Approov-Token", token(t, nil))
	if r := tg.do(t, "GET", "/slow", valid); r.status != 504 || r.body != `{"error":"gateway timeout"}` {
		t.Fatalf("slow upstream: %d %s", r.status, r.body)
	}

	// An upstream that refuses connections: 502 at once.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	down := newTestGateway(t, "upstream: http://"+addr+"\n")
	if r := down.do(t, "GET", "/", valid); r.status != 502 || r.body != `{"error":"bad gateway"}` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("upstream down: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	// The backend comes back on the same address: traffic flows again.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("relisten %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "back") })}
	go srv.Serve(ln)
	defer srv.Close()
	if r := down.do(t, "GET", "/", valid); r.status != 200 || r.body != "back" {
		t.Fatalf("after recovery: %d %s", r.status, r.body)
	}
}

func TestStreaming(t *testing.T) {
	release := make(chan struct{})
	uploaded := make(chan int64, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/upload":
			sum := sha256.New()
			var n int64
			buf := make([]byte, 64<<10)
			reported := false
			for {
				k, err := r.Body.Read(buf)
				sum.Write(buf[:k])
				n += int64(k)
				if !reported && n >= 1<<20 {
					uploaded <- n
					reported = true
				}
				if err != nil {
					break
				}
			}
			json.NewEncoder(w).Encode(map[string]any{"bytes": n, "sha256": hex.EncodeToString(sum.Sum(nil))})
		case "/stream":
			io.WriteString(w, "first chunk\n")
			http.NewResponseController(w).Flush()
			<-release
			io.WriteString(w, "second chunk\n")
		}
	}))
	defer up.Close()
	tg := newTestGateway(t, "upstream: "+up.URL+"\n")
	valid := token(t, nil)

	// Upload: 1 MiB goes first; the rest only once the backend has seen it.
	// A gateway that buffered large uploads would deadlock here.
	body := make([]byte, 24<<20)
	rand.Read(body)
	want := sha256.Sum256(body)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(body[:1<<20])
		select {
		case <-uploaded:
		case <-time.After(10 * time.Second):
			pw.CloseWithError(fmt.Errorf("backend never saw the first MiB: the upload was buffered"))
			return
		}
		pw.Write(body[1<<20:])
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", tg.front.URL+"/upload", pr)
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

	// Download: the first chunk arrives while the backend still holds the
	// second.
	req, _ = http.NewRequest("GET", tg.front.URL+"/stream", nil)
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
	close(release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "second chunk\n" {
		t.Fatalf("second chunk: %q", rest)
	}
}
