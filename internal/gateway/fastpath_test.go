package gateway

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sent returns how many requests the gateway sent its upstream on each
// client, as /metrics says.
func (tg *testGateway) sent(t *testing.T) (fast, fallback float64) {
	t.Helper()
	rec := httptest.NewRecorder()
	tg.adminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	value := func(client string) float64 {
		series := fmt.Sprintf("approov_gateway_upstream_requests_total{client=%q,upstream=%q} ", client, tg.backend.URL)
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			if v, ok := strings.CutPrefix(line, series); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		t.Fatalf("no series %s", series)
		return 0
	}
	return value("fast"), value("fallback")
}

// TestFastPathCarriesPlainRequests: requests without a body, or with one
// buffered in memory, go on the fast client; a body larger than
// request_buffering streams, on net/http's; with upstream_fast_path off,
// everything does. Each request reaches the backend as sent.
func TestFastPathCarriesPlainRequests(t *testing.T) {
	tg := newTestGateway(t, "request_buffering: 1KiB\n")
	valid := h("Approov-Token", token(t, nil))
	post := func(body string) response {
		req, _ := http.NewRequest("POST", tg.front.URL+"/upload", strings.NewReader(body))
		req.Header = valid.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, body: string(b)}
	}
	if r := tg.do(t, "GET", "/a?b=c", valid); r.status != 200 || decodeSeen(t, r.body).RequestURI != "/a?b=c" {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	if r := post("small"); r.status != 200 || decodeSeen(t, r.body).Body != "small" {
		t.Fatalf("small POST: %d %s", r.status, r.body)
	}
	if fast, fallback := tg.sent(t); fast != 2 || fallback != 0 {
		t.Fatalf("fast %v, fallback %v; want 2 and 0", fast, fallback)
	}
	big := strings.Repeat("b", 4096)
	if r := post(big); r.status != 200 || decodeSeen(t, r.body).Body != big {
		t.Fatalf("large POST: %d", r.status)
	}
	if fast, fallback := tg.sent(t); fast != 2 || fallback != 1 {
		t.Fatalf("fast %v, fallback %v; want 2 and 1", fast, fallback)
	}

	off := newTestGateway(t, "upstream_fast_path: false\n")
	off.do(t, "GET", "/a", valid)
	if fast, fallback := off.sent(t); fast != 0 || fallback != 1 {
		t.Fatalf("fast path off: fast %v, fallback %v", fast, fallback)
	}
}

// TestBadUpstreamStatus: a status code net/http reads but cannot write
// (+04 reads as 4) is a 502, not a handler panic.
func TestBadUpstreamStatus(t *testing.T) {
	addr := rawUpstream(t, func(c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 +04 Odd\r\nContent-Length: 0\r\n\r\n")
	})
	for _, fast := range []string{"true", "false"} {
		tg := newTestGateway(t, "upstream: http://"+addr+"\nupstream_fast_path: "+fast+"\n")
		if r := tg.do(t, "GET", "/", h("Approov-Token", token(t, nil))); r.status != 502 {
			t.Errorf("fast path %s: %d, want 502", fast, r.status)
		}
	}
}

// TestNoSniffedContentType: a response without Content-Type reaches the
// client without one; the gateway never guesses it from the body.
func TestNoSniffedContentType(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = nil
		w.Header().Set("Transfer-Encoding", "chunked")
		io.WriteString(w, "<html><script>alert(1)</script>")
		w.(http.Flusher).Flush()
	}))
	defer up.Close()
	tg := newTestGateway(t, "upstream: "+up.URL+"\n")
	for range 20 {
		r := tg.do(t, "GET", "/", h("Approov-Token", token(t, nil)))
		if ct, ok := r.header["Content-Type"]; r.status != 200 || ok {
			t.Fatalf("%d, Content-Type %q", r.status, ct)
		}
	}
}

// TestUnixSocketUpstream: an upstream on a Unix socket gets the request,
// with Host: localhost, or the client's Host with preserve_host, on both
// clients.
func TestUnixSocketUpstream(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "gunicorn.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{Server: httptest.NewUnstartedServer(newBackend(t).Config.Handler)}
	b.Listener.Close()
	b.Listener = ln
	b.Start()
	defer b.Close()
	for _, tt := range []struct{ yaml, host string }{
		{"", "localhost"},
		{"preserve_host: true\n", "api.example.com"},
		{"upstream_fast_path: false\n", "localhost"},
	} {
		tg := newTestGateway(t, "upstream: unix:"+sock+"\n"+tt.yaml)
		hdr := h("Approov-Token", token(t, nil), "Host", "api.example.com")
		r := tg.do(t, "GET", "/orders?x=1", hdr)
		if r.status != 200 {
			t.Fatalf("%q: %d %s", tt.yaml, r.status, r.body)
		}
		if s := decodeSeen(t, r.body); s.Host != tt.host || s.RequestURI != "/orders?x=1" {
			t.Errorf("%q: Host %q, target %q", tt.yaml, s.Host, s.RequestURI)
		}
	}
	// readyz_upstreams dials the socket.
	tg := newTestGateway(t, "upstream: unix:"+sock+"\nreadyz_upstreams: true\n")
	rec := httptest.NewRecorder()
	tg.adminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Fatalf("readyz with the socket up: %d", rec.Code)
	}
	tg = newTestGateway(t, "upstream: unix:"+sock+".gone\nreadyz_upstreams: true\n")
	rec = httptest.NewRecorder()
	tg.adminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 {
		t.Fatalf("readyz with no socket: %d", rec.Code)
	}
}

// TestNoReuseAfterHead: a connection that answered HEAD is not reused, on
// either client. An upstream that sends a body with its HEAD answer
// anyway, late, would otherwise have it read as the answer to the next
// request on that connection — another client's.
func TestNoReuseAfterHead(t *testing.T) {
	addr := rawUpstream(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		headSeen := false
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			switch {
			case headSeen: // reused after HEAD
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
			case req.Method == "HEAD":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
				headSeen = true
			default:
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood")
			}
		}
	})
	valid := h("Approov-Token", token(t, nil))
	for _, fast := range []string{"true", "false"} {
		tg := newTestGateway(t, "upstream: http://"+addr+"\nupstream_fast_path: "+fast+"\n")
		if r := tg.do(t, "HEAD", "/", valid); r.status != 200 {
			t.Fatalf("fast path %s: HEAD: %d", fast, r.status)
		}
		if r := tg.do(t, "GET", "/", valid); r.status != 200 || r.body != "good" {
			t.Errorf("fast path %s: the GET after HEAD got %d %q", fast, r.status, r.body)
		}
	}
}

// TestHeadsKeepPooling: HEAD requests, which the gateway sends with
// Connection: close, do not count towards upstream_keepalive: auto's streak
// of closing answers; a client sending HEADs cannot turn pooling off.
func TestHeadsKeepPooling(t *testing.T) {
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok")
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	for _, fast := range []string{"true", "false"} {
		tg := newTestGateway(t, "upstream: "+up.URL+"\nupstream_fast_path: "+fast+"\n")
		valid := h("Approov-Token", token(t, nil))
		for range 20 {
			tg.do(t, "HEAD", "/", valid)
		}
		before := conns.Load()
		for range 10 {
			if r := tg.do(t, "GET", "/", valid); r.status != 200 {
				t.Fatalf("%d", r.status)
			}
		}
		if n := conns.Load() - before; n > 1 {
			t.Errorf("fast path %s: 10 GETs after 20 HEADs opened %d connections: pooling was turned off", fast, n)
		}
	}
}

// TestFinalResponseAfter1xx: ReverseProxy clears the response header after
// relaying a 1xx; the final answer still has the request id and no
// guessed Content-Type.
func TestFinalResponseAfter1xx(t *testing.T) {
	addr := rawUpstream(t, func(c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
			"HTTP/1.1 200 OK\r\nContent-Length: 31\r\n\r\n<html><script>alert(1)</script>")
	})
	for _, fast := range []string{"true", "false"} {
		tg := newTestGateway(t, "upstream: http://"+addr+"\nupstream_fast_path: "+fast+"\n")
		resp, err := http.DefaultClient.Do(func() *http.Request {
			req, _ := http.NewRequest("GET", tg.front.URL+"/", nil)
			req.Header.Set("Approov-Token", token(t, nil))
			return req
		}())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct, ok := resp.Header["Content-Type"]; resp.StatusCode != 200 || ok || resp.Header.Get(RequestIDHeader) == "" {
			t.Errorf("fast path %s: %d, Content-Type %q, request id %q", fast, resp.StatusCode, ct, resp.Header.Get(RequestIDHeader))
		}
	}
}

// rawUpstream serves each connection with handle, for upstreams that
// misbehave in ways net/http's server would not, and returns its address.
func rawUpstream(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln := mustListen(t)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestBodyBrokenOffIsLogged: an upstream that closes in the middle of a
// body is reported in the gateway's JSON log, on both clients, and not on
// the standard logger (which wrote lines of another format to stderr).
func TestBodyBrokenOffIsLogged(t *testing.T) {
	for _, fast := range []string{"true", "false"} {
		addr := rawUpstream(t, func(c net.Conn) {
			http.ReadRequest(bufio.NewReader(c))
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
		})
		tg, logs := loggedGateway(t, "upstream_fast_path: "+fast+"\n", "APPROOV_UPSTREAM=http://"+addr)
		var std strings.Builder
		log.SetOutput(&std)
		c, err := net.Dial("tcp", tg.front.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nApproov-Token: %s\r\nConnection: close\r\n\r\n", token(t, nil))
		io.Copy(io.Discard, c) // the gateway aborts the answer
		c.Close()
		tg.front.Close() // waits for the handler to finish
		log.SetOutput(os.Stderr)
		found := false
		for _, l := range logs.lines(t) {
			msg, _ := l["msg"].(string)
			found = found || l["level"] == "WARN" && strings.Contains(msg, "read error during body copy") && strings.Contains(msg, "unexpected EOF")
		}
		if !found {
			t.Errorf("fast path %s: no JSON warning in the log: %v", fast, logs.lines(t))
		}
		if std.Len() > 0 {
			t.Errorf("fast path %s: the standard logger got %q", fast, std.String())
		}
	}
}

// TestClientGoneIsNotABodyError: a client that goes away while the body
// is being copied ends the copy, whatever the upstream does, on both
// clients, and it is no upstream failure: nothing is logged about it.
func TestClientGoneIsNotABodyError(t *testing.T) {
	for _, fast := range []string{"true", "false"} {
		written := make(chan struct{})
		release := make(chan struct{})
		addr := rawUpstream(t, func(c net.Conn) {
			http.ReadRequest(bufio.NewReader(c))
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
			close(written)
			<-release // the rest never comes
		})
		tg, logs := loggedGateway(t, "upstream_fast_path: "+fast+"\n", "APPROOV_UPSTREAM=http://"+addr)
		done := make(chan struct{})
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			tg.Handler().ServeHTTP(w, r)
		}))
		c, err := net.Dial("tcp", front.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nApproov-Token: %s\r\n\r\n", token(t, nil))
		<-written
		c.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("fast path %s: the handler still waits on the upstream after the client went away", fast)
		}
		close(release)
		front.Close()
		for _, l := range logs.lines(t) {
			if msg, _ := l["msg"].(string); strings.Contains(msg, "body copy") {
				t.Errorf("fast path %s: logged %q", fast, msg)
			}
		}
	}
}

// TestFastPathQueries: the backend sees the same query whether the fast
// path is on or off, for the queries ReverseProxy rewrites too: one with
// more parameters than net/url parses (which it drops), one with a
// semicolon (which it re-encodes without the parameter).
func TestFastPathQueries(t *testing.T) {
	valid := h("Approov-Token", token(t, nil))
	for _, target := range []string{
		"/a?admin=1" + strings.Repeat("&x", 10000),
		"/a?b=1;c=2&d=3",
		"/a?b=%41&c",
	} {
		var uris [2]string
		for i, yaml := range []string{"upstream_fast_path: false\n", ""} {
			tg := newTestGateway(t, yaml)
			r := tg.do(t, "GET", target, valid)
			if r.status != 200 {
				t.Fatalf("%q: %d %s", yaml, r.status, r.body)
			}
			uris[i] = decodeSeen(t, r.body).RequestURI
		}
		if uris[0] != uris[1] {
			t.Errorf("%.30q…: fast path on, the backend saw %.40q… (%d bytes); off, %.40q (%d bytes)", target, uris[1], len(uris[1]), uris[0], len(uris[0]))
		}
	}
}
