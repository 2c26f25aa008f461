package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The differential tests run the same requests, against the same scripted
// upstream, three ways: through this package's Proxy over its Transport,
// through httputil.ReverseProxy over its Transport, and through
// ReverseProxy over net/http's Transport configured as the gateway
// configures its fallback. The client must get the same status, headers,
// body and trailers, or the same error status; the upstream must see the
// same requests.

// fallbackTransport is net/http's Transport as the gateway configures it:
// no transparent compression (a proxy does not rewrite what the client
// asked for), the same response header limit, the same header timeout.
func fallbackTransport(dial func(ctx context.Context) (net.Conn, error), headerTimeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:            func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		DisableCompression:     true,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		ResponseHeaderTimeout:  headerTimeout,
		MaxIdleConnsPerHost:    16,
	}
}

// script is what the upstream does with one request: the raw bytes it
// answers with, in pieces with pauses between them, then whether it closes.
type script struct {
	pieces []string
	pause  time.Duration
	// skipBody: answer before reading the request body, then drain it
	// (a lingering close, as real servers do: closing with bytes unread
	// resets the connection, and which side of that race net/http's
	// Transport lands on is chance; transport_test.go covers the reset).
	skipBody bool
	// silent: never answer.
	silent bool
	close  bool
}

// upstream serves scripts in order, one per request, and records what
// each request looked like when it arrived.
type upstream struct {
	ln      net.Listener
	mu      sync.Mutex
	scripts []script
	seen    []string
	conns   int
}

func newUpstream(t *testing.T, scripts ...script) *upstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{ln: ln, scripts: scripts}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.conns++
			u.mu.Unlock()
			go u.serve(c)
		}
	}()
	return u
}

func (u *upstream) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", u.ln.Addr().String())
}

func (u *upstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		u.mu.Lock()
		if len(u.scripts) == 0 {
			u.mu.Unlock()
			return
		}
		s := u.scripts[0]
		u.scripts = u.scripts[1:]
		u.mu.Unlock()
		var b []byte
		if !s.skipBody {
			b, _ = io.ReadAll(req.Body)
		}
		u.record(req, b)
		if s.silent {
			time.Sleep(time.Second)
			return
		}
		for i, p := range s.pieces {
			if i > 0 && s.pause > 0 {
				time.Sleep(s.pause)
			}
			if _, err := io.WriteString(c, p); err != nil {
				return
			}
		}
		if s.skipBody {
			io.Copy(io.Discard, req.Body)
		}
		if s.close {
			return
		}
	}
}

// record notes a request as the upstream saw it: request line, headers
// in order, body.
func (u *upstream) record(req *http.Request, b []byte) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s %s\nHost: %s\n", req.Method, req.RequestURI, req.Proto, req.Host)
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s: %q\n", k, req.Header[k])
	}
	fmt.Fprintf(&sb, "TE %q CL %d close %v\n\n%q", req.TransferEncoding, req.ContentLength, req.Close, b)
	u.mu.Lock()
	u.seen = append(u.seen, sb.String())
	u.mu.Unlock()
}

// outcome is what a client got.
type outcome struct {
	// informational are the 1xx statuses before the final one.
	informational []int
	status        int
	header        http.Header
	body          string
	trailer       http.Header
	err           string // the client's own error, if the answer broke off
}

func (o outcome) String() string {
	return fmt.Sprintf("1xx %v status %d\nheader %v\nbody %q\ntrailer %v\nerr %q", o.informational, o.status, o.header, o.body, o.trailer, o.err)
}

// rewriteTo is the Rewrite of the tests' proxies: to target, with
// X-Forwarded-* and a header of the proxy's own set, a body in memory
// kept so.
func rewriteTo(target, own string) func(*httputil.ProxyRequest) {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	return func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.SetXForwarded()
		pr.Out.Header.Set(own, "1")
		ForProxy(pr.Out, pr.In)
	}
}

// proxyFront serves ReverseProxy over rt to the upstream, or with fast
// set a Proxy in front of it, with bodies up to 64 KiB read into memory
// first, as the gateway does. passed counts the requests the Proxy
// passed on to the ReverseProxy.
func proxyFront(t *testing.T, rt http.RoundTripper, fast bool, passed *atomic.Int32) *httptest.Server {
	rewrite := rewriteTo("http://upstream.test", "X-Proxy")
	errorHandler := func(w http.ResponseWriter, r *http.Request, err error) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	rp := &httputil.ReverseProxy{Rewrite: rewrite, Transport: rt, ErrorHandler: errorHandler}
	var p http.Handler = rp
	if fast {
		fp := ProxyFor(rp).(*Proxy)
		fp.Fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { passed.Add(1); rp.ServeHTTP(w, r) })
		p = fp
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As the gateway: no Content-Type the upstream did not send, a
		// header of its own, and bodies of known or unknown length read
		// into memory when they fit.
		w.Header()["Content-Type"] = nil
		w.Header().Set("X-Front", "front")
		if r.Body != nil && r.ContentLength != 0 && r.ContentLength <= 64<<10 {
			data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if len(data) > 64<<10 {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = NewBufferedBody(data)
			r.ContentLength = int64(len(data))
			r.TransferEncoding = nil
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front
}

// send sends raw request bytes to the front and reads the answer.
func send(t *testing.T, addr, method, raw string) outcome {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	br := bufio.NewReader(c)
	var informational []int
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return outcome{informational: informational, err: "no response: " + err.Error()}
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return finalOutcome(resp, informational)
		}
		informational = append(informational, resp.StatusCode)
	}
}

func finalOutcome(resp *http.Response, informational []int) outcome {
	b, err := io.ReadAll(resp.Body)
	o := outcome{informational: informational, status: resp.StatusCode, header: resp.Header, body: string(b), trailer: resp.Trailer}
	o.header.Del("Date")
	if err != nil {
		o.err = err.Error()
	}
	return o
}

type diffCase struct {
	name    string
	method  string
	request string // raw, to the front; Host is filled in
	scripts []script
	// passedOn: the Proxy leaves this request to ReverseProxy.
	passedOn bool
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n"
}

var diffCases = []diffCase{
	{"content-length", "GET", get("/a"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"}}}, false},
	{"chunked with trailers", "GET", get("/b"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n"}}}, false},
	{"close-delimited", "GET", get("/c"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"}, close: true}}, false},
	{"HTTP/1.0 close-delimited", "GET", get("/d"), []script{{pieces: []string{"HTTP/1.0 200 OK\r\n\r\nold style"}, close: true}}, false},
	{"HEAD", "HEAD", "HEAD /e HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n", []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"}}}, false},
	{"204", "GET", get("/f"), []script{{pieces: []string{"HTTP/1.1 204 No Content\r\n\r\n"}}}, false},
	{"304", "GET", get("/g"), []script{{pieces: []string{"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"}}}, false},
	{"103 then 200", "GET", get("/h"), []script{{pieces: []string{
		"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"stray 100 then 200", "GET", get("/i"), []script{{pieces: []string{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"six 1xx", "GET", get("/j"), []script{{pieces: []string{strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"large body", "GET", get("/k"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + strings.Repeat("0123456789abcdef", 65536)}}}, false},
	{"slow body", "GET", get("/l"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", "def", "ghi"}, pause: 50 * time.Millisecond}}, false},
	{"slow chunked", "GET", get("/l2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "3\r\ndef\r\n", "0\r\n\r\n"}, pause: 50 * time.Millisecond}}, false},
	{"closed mid-body", "GET", get("/m"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly part"}, close: true}}, false},
	{"closed mid-chunk", "GET", get("/m2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort"}, close: true}}, false},
	{"closed before answering", "GET", get("/n"), []script{{close: true}}, false},
	{"two different Content-Lengths", "GET", get("/o"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"}, close: true}}, false},
	{"two equal Content-Lengths", "GET", get("/o2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"}}}, false},
	{"Content-Length and chunked", "GET", get("/p"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"}}}, false},
	{"header with a bare CR", "GET", get("/q"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nX-Bad: a\rInjected: 1\r\nContent-Length: 2\r\n\r\nok"}, close: true}}, false},
	{"header without a colon", "GET", get("/q2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 2\r\n\r\nok"}, close: true}}, false},
	{"hop-by-hop response headers", "GET", get("/q3"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nConnection: X-Secret, keep-alive\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: x\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"garbage status line", "GET", get("/r"), []script{{pieces: []string{"HTTP/1.1 abc\r\n\r\n"}, close: true}}, false},
	{"not HTTP at all", "GET", get("/r2"), []script{{pieces: []string{"SSH-2.0-OpenSSH\r\n"}, close: true}}, false},
	{"101 to a plain request", "GET", get("/s"), []script{{pieces: []string{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"}, close: true}}, false},
	{"header too large", "GET", get("/t"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", MaxResponseHeaderBytes+10) + "\r\nContent-Length: 0\r\n\r\n"}, close: true}}, false},
	{"no answer", "GET", get("/u"), []script{{silent: true}}, false},
	{"POST with a body", "POST", "POST /v HTTP/1.1\r\nHost: front\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
		[]script{{pieces: []string{"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"}}}, false},
	{"POST answered before the body is read", "POST", "POST /w HTTP/1.1\r\nHost: front\r\nConnection: close\r\nContent-Length: 30000\r\n\r\n" + strings.Repeat("x", 30000),
		[]script{{pieces: []string{"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"}, skipBody: true, close: true}}, false},
	{"POST without a body", "POST", "POST /x HTTP/1.1\r\nHost: front\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}}}, false},
	{"request headers, hop-by-hop and not", "GET", "GET /y?q=1 HTTP/1.1\r\nHost: front\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\nX-Keep: a\r\nX-Keep: b\r\nTE: trailers\r\nUser-Agent: app/1\r\nAccept-Encoding: gzip\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}}}, true},
	{"request headers, hop-by-hop, no TE", "GET", "GET /y2?q=1&r=%20 HTTP/1.1\r\nHost: front\r\nConnection: close, X-Drop,, x-drop-too \r\nconnection: Cookie\r\nX-Drop: 1\r\nX-Drop-Too: 2\r\nCookie: c=1\r\nX-Keep: a\r\nX-Keep: b\r\nProxy-Connection: keep-alive\r\nKeep-Alive: 300\r\nProxy-Authorization: Basic eA==\r\nUser-Agent: app/1\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}}}, false},
	{"the client's forwarding headers", "GET", "GET /fwd HTTP/1.1\r\nHost: front\r\nConnection: close\r\nForwarded: for=1.2.3.4\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Proto: https\r\nX-Proxy: client\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}}}, false},
	{"HTTP/1.0 request", "GET", "GET /old HTTP/1.0\r\nHost: front\r\n\r\n", []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"absolute-form target", "GET", "GET http://front/abs?x=1 HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n", []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"empty User-Agent", "GET", "GET /ua HTTP/1.1\r\nHost: front\r\nConnection: close\r\nUser-Agent:\r\n\r\n", []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"query with a semicolon", "GET", get("/semi?a=1;b=2&c=3"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, true},
	{"query with a bad escape", "GET", get("/esc?a=%zz&c=3"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, true},
	{"GET with a body", "GET", "GET /gb HTTP/1.1\r\nHost: front\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbody", []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"chunked request body", "POST", "POST /cb HTTP/1.1\r\nHost: front\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"trailers the upstream did not announce", "GET", get("/ut"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Late: 1\r\n\r\n"}}}, false},
	{"response headers the front also sets", "GET", get("/dup"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nX-Front: upstream\r\nx-lower: 1\r\nContent-Length: 2\r\n\r\nok"}}}, false},
	{"no User-Agent, no Accept-Encoding", "GET", "GET /z HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc"}}}, false},
	{"gzip the client asked for", "GET", "GET /z2 HTTP/1.1\r\nHost: front\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n\x1f\x8b\x08\x00"}}}, false},
	{"event stream", "GET", get("/sse"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata:1\r\n", "6\r\ndata:2\r\n0\r\n\r\n"}, pause: 30 * time.Millisecond}}, false},
}

func TestDifferential(t *testing.T) {
	legs := [...]string{"Proxy over Transport", "ReverseProxy over Transport", "ReverseProxy over net/http"}
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var outcomes [len(legs)]outcome
			var seen [len(legs)][]string
			for i := range legs {
				up := newUpstream(t, tc.scripts...)
				var rt http.RoundTripper = fallbackTransport(up.dial, 500*time.Millisecond)
				var fellBack, passed atomic.Int32
				if i < 2 {
					fb := rt
					rt = &Transport{Dial: up.dial, ResponseHeaderTimeout: 500 * time.Millisecond, MaxIdle: 16, IdleTimeout: time.Minute,
						Fallback: roundTripFunc(func(r *http.Request) (*http.Response, error) { fellBack.Add(1); return fb.RoundTrip(r) })}
				}
				front := proxyFront(t, rt, i == 0, &passed)
				outcomes[i] = send(t, front.Listener.Addr().String(), tc.method, tc.request)
				if n := fellBack.Load(); n > 0 {
					t.Fatalf("%s: the fast transport fell back %d times: every case here is for the fast path", legs[i], n)
				}
				if i == 0 && (passed.Load() > 0) != tc.passedOn {
					t.Fatalf("%s: passed on to ReverseProxy %d times, want passedOn %v", legs[i], passed.Load(), tc.passedOn)
				}
				up.mu.Lock()
				seen[i] = slices.Clone(up.seen)
				up.mu.Unlock()
			}
			ref := len(legs) - 1
			for i := range ref {
				if outcomes[i].String() != outcomes[ref].String() {
					t.Errorf("client outcomes differ\n%s:\n%s\n%s:\n%s", legs[i], outcomes[i], legs[ref], outcomes[ref])
				}
				if !slices.Equal(seen[i], seen[ref]) {
					t.Errorf("the upstream saw different requests\n%s:\n%s\n%s:\n%s", legs[i], strings.Join(seen[i], "\n---\n"), legs[ref], strings.Join(seen[ref], "\n---\n"))
				}
			}
			t.Logf("all: %s", strings.ReplaceAll(outcomes[ref].String()[:min(len(outcomes[ref].String()), 160)], "\n", " | "))
		})
	}
}
