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
// upstream, through httputil.ReverseProxy twice: once over this package's
// Transport, once over net/http's Transport configured as the gateway
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

// proxyFront serves ReverseProxy over rt to the upstream, with bodies up
// to 64 KiB read into memory first, as the gateway does.
func proxyFront(t *testing.T, rt http.RoundTripper) *httptest.Server {
	target, _ := url.Parse("http://upstream.test")
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header["X-Forwarded-For"] = nil
			ForProxy(pr.Out, pr.In)
		},
		Transport: rt,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				w.WriteHeader(http.StatusGatewayTimeout)
				return
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As the gateway: no Content-Type the upstream did not send.
		w.Header()["Content-Type"] = nil
		if r.Body != nil && r.ContentLength > 0 && r.ContentLength <= 64<<10 {
			data, err := io.ReadAll(r.Body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			r.Body = NewBufferedBody(data)
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
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n"
}

var diffCases = []diffCase{
	{"content-length", "GET", get("/a"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"}}}},
	{"chunked with trailers", "GET", get("/b"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n"}}}},
	{"close-delimited", "GET", get("/c"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"}, close: true}}},
	{"HTTP/1.0 close-delimited", "GET", get("/d"), []script{{pieces: []string{"HTTP/1.0 200 OK\r\n\r\nold style"}, close: true}}},
	{"HEAD", "HEAD", "HEAD /e HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n", []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"}}}},
	{"204", "GET", get("/f"), []script{{pieces: []string{"HTTP/1.1 204 No Content\r\n\r\n"}}}},
	{"304", "GET", get("/g"), []script{{pieces: []string{"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"}}}},
	{"103 then 200", "GET", get("/h"), []script{{pieces: []string{
		"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}},
	{"stray 100 then 200", "GET", get("/i"), []script{{pieces: []string{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}},
	{"six 1xx", "GET", get("/j"), []script{{pieces: []string{strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}}},
	{"large body", "GET", get("/k"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + strings.Repeat("0123456789abcdef", 65536)}}}},
	{"slow body", "GET", get("/l"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", "def", "ghi"}, pause: 50 * time.Millisecond}}},
	{"slow chunked", "GET", get("/l2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "3\r\ndef\r\n", "0\r\n\r\n"}, pause: 50 * time.Millisecond}}},
	{"closed mid-body", "GET", get("/m"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly part"}, close: true}}},
	{"closed mid-chunk", "GET", get("/m2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort"}, close: true}}},
	{"closed before answering", "GET", get("/n"), []script{{close: true}}},
	{"two different Content-Lengths", "GET", get("/o"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"}, close: true}}},
	{"two equal Content-Lengths", "GET", get("/o2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"}}}},
	{"Content-Length and chunked", "GET", get("/p"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"}}}},
	{"header with a bare CR", "GET", get("/q"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nX-Bad: a\rInjected: 1\r\nContent-Length: 2\r\n\r\nok"}, close: true}}},
	{"header without a colon", "GET", get("/q2"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 2\r\n\r\nok"}, close: true}}},
	{"hop-by-hop response headers", "GET", get("/q3"), []script{{pieces: []string{
		"HTTP/1.1 200 OK\r\nConnection: X-Secret, keep-alive\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: x\r\nContent-Length: 2\r\n\r\nok"}}}},
	{"garbage status line", "GET", get("/r"), []script{{pieces: []string{"HTTP/1.1 abc\r\n\r\n"}, close: true}}},
	{"not HTTP at all", "GET", get("/r2"), []script{{pieces: []string{"SSH-2.0-OpenSSH\r\n"}, close: true}}},
	{"101 to a plain request", "GET", get("/s"), []script{{pieces: []string{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"}, close: true}}},
	{"header too large", "GET", get("/t"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", MaxResponseHeaderBytes+10) + "\r\nContent-Length: 0\r\n\r\n"}, close: true}}},
	{"no answer", "GET", get("/u"), []script{{silent: true}}},
	{"POST with a body", "POST", "POST /v HTTP/1.1\r\nHost: front\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
		[]script{{pieces: []string{"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"}}}},
	{"POST answered before the body is read", "POST", "POST /w HTTP/1.1\r\nHost: front\r\nConnection: close\r\nContent-Length: 30000\r\n\r\n" + strings.Repeat("x", 30000),
		[]script{{pieces: []string{"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"}, skipBody: true, close: true}}},
	{"POST without a body", "POST", "POST /x HTTP/1.1\r\nHost: front\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}}}},
	{"request headers, hop-by-hop and not", "GET", "GET /y?q=1 HTTP/1.1\r\nHost: front\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\nX-Keep: a\r\nX-Keep: b\r\nTE: trailers\r\nUser-Agent: app/1\r\nAccept-Encoding: gzip\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}}}},
	{"no User-Agent, no Accept-Encoding", "GET", "GET /z HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc"}}}},
	{"gzip the client asked for", "GET", "GET /z2 HTTP/1.1\r\nHost: front\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n",
		[]script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n\x1f\x8b\x08\x00"}}}},
	{"event stream", "GET", get("/sse"), []script{{pieces: []string{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata:1\r\n", "6\r\ndata:2\r\n0\r\n\r\n"}, pause: 30 * time.Millisecond}}},
}

func TestDifferential(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var outcomes [2]outcome
			var seen [2][]string
			for i := range 2 {
				up := newUpstream(t, tc.scripts...)
				var rt http.RoundTripper = fallbackTransport(up.dial, 500*time.Millisecond)
				var fellBack atomic.Int32
				if i == 0 {
					fb := rt
					rt = &Transport{Dial: up.dial, ResponseHeaderTimeout: 500 * time.Millisecond, MaxIdle: 16, IdleTimeout: time.Minute,
						Fallback: roundTripFunc(func(r *http.Request) (*http.Response, error) { fellBack.Add(1); return fb.RoundTrip(r) })}
				}
				front := proxyFront(t, rt)
				outcomes[i] = send(t, front.Listener.Addr().String(), tc.method, tc.request)
				if n := fellBack.Load(); n > 0 {
					t.Fatalf("the fast transport fell back %d times: every case here is for the fast path", n)
				}
				up.mu.Lock()
				seen[i] = slices.Clone(up.seen)
				up.mu.Unlock()
			}
			if outcomes[0].String() != outcomes[1].String() {
				t.Errorf("client outcomes differ\nfast path:\n%s\nnet/http:\n%s", outcomes[0], outcomes[1])
			}
			if !slices.Equal(seen[0], seen[1]) {
				t.Errorf("the upstream saw different requests\nfast path:\n%s\nnet/http:\n%s", strings.Join(seen[0], "\n---\n"), strings.Join(seen[1], "\n---\n"))
			}
			t.Logf("both: %s", strings.ReplaceAll(outcomes[0].String()[:min(len(outcomes[0].String()), 160)], "\n", " | "))
		})
	}
}
