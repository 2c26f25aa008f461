package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCovers: the Proxy serves plain HTTP/1.x requests itself and passes
// on each kind it leaves to ReverseProxy.
func TestCovers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := func(edit func(r *http.Request)) *http.Request {
		r := httptest.NewRequestWithContext(ctx, "GET", "http://front/a?b=c%20d", nil)
		edit(r)
		return r
	}
	withBody := func(n int) func(r *http.Request) {
		return func(r *http.Request) {
			r.Method = "POST"
			r.Body = NewBufferedBody(make([]byte, n))
			r.ContentLength = int64(n)
		}
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"plain GET", req(func(*http.Request) {}), true},
		{"buffered body", req(withBody(100)), true},
		{"buffered body at the limit", req(withBody(MaxFastBody)), true},
		{"buffered body over the limit", req(withBody(MaxFastBody + 1)), false},
		{"streamed body", req(func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader("x")); r.ContentLength = 1 }), false},
		{"body of unknown length", req(func(r *http.Request) { r.Body = NewBufferedBody([]byte("x")); r.ContentLength = -1 }), false},
		{"HTTP/2", req(func(r *http.Request) { r.ProtoMajor, r.ProtoMinor = 2, 0 }), false},
		{"CONNECT", req(func(r *http.Request) { r.Method = "CONNECT" }), false},
		{"Upgrade", req(func(r *http.Request) { r.Header.Set("Upgrade", "websocket") }), false},
		{"Expect", req(func(r *http.Request) { r.Header.Set("Expect", "100-continue") }), false},
		{"TE", req(func(r *http.Request) { r.Header.Set("Te", "trailers") }), false},
		{"Trailer header", req(func(r *http.Request) { r.Header.Set("Trailer", "X-Sum") }), false},
		{"trailers", req(func(r *http.Request) { r.Trailer = http.Header{"X-Sum": nil} }), false},
		{"chunked", req(func(r *http.Request) { r.TransferEncoding = []string{"chunked"} }), false},
		{"semicolon in the query", req(func(r *http.Request) { r.URL.RawQuery = "a=1;b=2" }), false},
		{"bad escape in the query", req(func(r *http.Request) { r.URL.RawQuery = "a=%2" }), false},
		{"a context that never ends", httptest.NewRequest("GET", "http://front/", nil), false},
		{"no header map", req(func(r *http.Request) { r.Header = nil }), false},
	} {
		if got := Covers(tc.r); got != tc.want {
			t.Errorf("%s: Covers = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestProxyFor: the Proxy takes the ReverseProxy's fields and serves in
// front of it; a ReverseProxy it cannot stand for is returned as it is.
func TestProxyFor(t *testing.T) {
	base := func() *httputil.ReverseProxy {
		return &httputil.ReverseProxy{
			Rewrite:        func(*httputil.ProxyRequest) {},
			Transport:      roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") }),
			ModifyResponse: func(*http.Response) error { return nil },
			ErrorHandler:   func(http.ResponseWriter, *http.Request, error) {},
			ErrorLog:       discardLog,
		}
	}
	rp := base()
	p, ok := ProxyFor(rp).(*Proxy)
	if !ok || p.Fallback != rp || p.Transport == nil || p.Rewrite == nil || p.ModifyResponse == nil || p.ErrorHandler == nil || p.ErrorLog != discardLog {
		t.Errorf("ProxyFor: %#v", ProxyFor(rp))
	}
	for name, edit := range map[string]func(*httputil.ReverseProxy){
		//lint:ignore SA1019 the deprecated Director is what this case is about
		"Director":        func(rp *httputil.ReverseProxy) { rp.Rewrite, rp.Director = nil, func(*http.Request) {} },
		"FlushInterval":   func(rp *httputil.ReverseProxy) { rp.FlushInterval = time.Second },
		"no Transport":    func(rp *httputil.ReverseProxy) { rp.Transport = nil },
		"no ErrorHandler": func(rp *httputil.ReverseProxy) { rp.ErrorHandler = nil },
	} {
		rp := base()
		edit(rp)
		if got := ProxyFor(rp); got != http.Handler(rp) {
			t.Errorf("%s: ProxyFor returned %T, want the ReverseProxy itself", name, got)
		}
	}
}

// TestProxyStreams: a body of unknown length reaches the client as it
// comes, header first, not when the proxy's buffer fills or the body ends.
func TestProxyStreams(t *testing.T) {
	for _, header := range []string{"Transfer-Encoding: chunked", "Content-Type: text/event-stream\r\nContent-Length: 12"} {
		next := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\n%s\r\n\r\n", header)
			if strings.Contains(header, "chunked") {
				bw.WriteString("6\r\nfirst\n\r\n")
			} else {
				bw.WriteString("first\n")
			}
			bw.Flush()
			<-next // until the client has had the first piece
			if strings.Contains(header, "chunked") {
				bw.WriteString("7\r\nsecond\n\r\n0\r\n\r\n")
			} else {
				bw.WriteString("second\n")
			}
			bw.Flush()
		}))
		target, _ := url.Parse(up.URL)
		rewrite := func(pr *httputil.ProxyRequest) { pr.SetURL(target) }
		var tr http.RoundTripper = &Transport{Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", target.Host)
		}}
		front := httptest.NewServer(&Proxy{Transport: tr, Rewrite: rewrite,
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) { t.Error(err); w.WriteHeader(502) },
			Fallback:     http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { t.Error("passed on"); w.WriteHeader(500) })})
		got := make(chan string, 1)
		var body io.ReadCloser
		go func() {
			resp, err := http.Get(front.URL)
			if err != nil {
				got <- err.Error()
				return
			}
			body = resp.Body
			line, _ := bufio.NewReader(resp.Body).ReadString('\n')
			got <- line
		}()
		select {
		case line := <-got:
			if line != "first\n" {
				t.Errorf("%s: first line %q", header, line)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the first piece never came through before the rest was sent", header)
			close(next)
			<-got
			next = nil
		}
		if next != nil {
			close(next)
		}
		if body != nil {
			body.Close()
		}
		front.Close()
		up.Close()
	}
}

// proxied is what one of the two handlers did with a request: the bytes
// it sent upstream, and what the client got.
type proxied struct {
	sent    string
	code    int
	header  string
	body    string
	trailer string
	covered bool // the Proxy served it itself
}

// proxyOnce serves the raw request with ReverseProxy or, fast, the Proxy
// in front of it, over a transport that records the outbound request and
// answers with the raw response. The request goes through what the
// gateway does first: a body that fits is read into memory. ok is false
// for a request that does not parse or does not fit.
func proxyOnce(rawReq, rawResp []byte, fast bool) (res proxied, ok bool) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(rawReq)))
	if err != nil {
		return res, false
	}
	if r.ContentLength != 0 {
		data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
		if err != nil || len(data) > 64<<10 {
			return res, false
		}
		r.Body, r.ContentLength, r.TransferEncoding = NewBufferedBody(data), int64(len(data)), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r = r.WithContext(ctx)
	r.RemoteAddr = "192.0.2.1:1234"
	res.covered = Covers(r)
	var sent bytes.Buffer
	tr := roundTripFunc(func(out *http.Request) (*http.Response, error) {
		if err := out.Write(&sent); err != nil {
			return nil, err
		}
		return http.ReadResponse(bufio.NewReader(bytes.NewReader(rawResp)), out)
	})
	rewrite := rewriteTo("http://upstream.test/base/", "X-Fact")
	errorHandler := func(w http.ResponseWriter, _ *http.Request, err error) {
		w.WriteHeader(http.StatusBadGateway)
		if errors.Is(err, errRefused) {
			io.WriteString(w, err.Error()) // the rest differ in wording only
		}
	}
	modify := func(res *http.Response) error {
		if res.StatusCode < 100 || res.StatusCode > 999 {
			return errors.New("no status code") // as the gateway: both would panic writing it
		}
		if res.Header.Get("X-Refuse") != "" {
			return errRefused
		}
		return nil
	}
	rp := &httputil.ReverseProxy{Rewrite: rewrite, Transport: tr, ModifyResponse: modify, ErrorHandler: errorHandler, ErrorLog: discardLog}
	var h http.Handler = rp
	if fast {
		h = ProxyFor(rp)
	}
	rec := httptest.NewRecorder()
	rec.Header()["Content-Type"] = nil
	rec.Header().Set("X-Request-Id", "front")
	h.ServeHTTP(rec, r)
	res.sent = sent.String()
	result := rec.Result()
	res.code = result.StatusCode
	res.header = canonical(result.Header)
	res.body = rec.Body.String()
	res.trailer = canonical(result.Trailer)
	return res, true
}

// errRefused is the test ModifyResponse's refusal.
var errRefused = errors.New("refused by ModifyResponse")

// sameAsReverseProxy fails t unless the Proxy and ReverseProxy did the
// same with the request and response, and reports whether the Proxy
// served it itself.
func sameAsReverseProxy(t *testing.T, rawReq, rawResp string) bool {
	t.Helper()
	want, ok := proxyOnce([]byte(rawReq), []byte(rawResp), false)
	if !ok {
		t.Fatalf("request does not parse: %q", rawReq)
	}
	got, _ := proxyOnce([]byte(rawReq), []byte(rawResp), true)
	got.covered, want.covered = false, false
	if got != want {
		t.Errorf("Proxy:\n%+v\nReverseProxy:\n%+v", got, want)
	}
	return Covers(mustReadRequest(t, rawReq))
}

func mustReadRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return r.WithContext(ctx)
}

// TestProxyQueries: the queries ReverseProxy re-encodes — too many
// parameters for net/url (parsed as none: the query is dropped), or any
// query while a urlmaxqueryparams GODEBUG setting is in force — are left
// to it, as are semicolons and bad escapes. A helper's review found the
// first two forwarded as they came.
func TestProxyQueries(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	get := func(q string) string { return "GET /api?" + q + " HTTP/1.1\r\nHost: front\r\n\r\n" }
	for _, tc := range []struct {
		name, query string
		covered     bool
	}{
		{"plain", "b=2&a=%41&c", true},
		{"at the Proxy's limit", "a=1" + strings.Repeat("&x", maxPlainParams-1), true},
		{"over the Proxy's limit", "a=1" + strings.Repeat("&x", maxPlainParams), false},
		{"over net/url's limit", "admin=1" + strings.Repeat("&x=1", 10000), false},
		{"semicolon", "a=1;b=2", false},
		{"bad escape", "a=%4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if covered := sameAsReverseProxy(t, get(tc.query), ok); covered != tc.covered {
				t.Errorf("covered %v, want %v", covered, tc.covered)
			}
		})
	}
	t.Run("urlmaxqueryparams set", func(t *testing.T) {
		t.Setenv("GODEBUG", "urlmaxqueryparams=20000")
		if sameAsReverseProxy(t, get("b=2&a=%41&c"), ok) {
			t.Error("covered, with every query re-encoded by ReverseProxy")
		}
		if !sameAsReverseProxy(t, "GET /api HTTP/1.1\r\nHost: front\r\n\r\n", ok) {
			t.Error("a request without a query not covered")
		}
	})
}

// TestProxy101: a 101 to a request that asked for no upgrade goes through
// ModifyResponse first, as with ReverseProxy, and then to the error
// handler.
func TestProxy101(t *testing.T) {
	req := "GET /a HTTP/1.1\r\nHost: front\r\n\r\n"
	for _, extra := range []string{"", "X-Refuse: 1\r\n"} {
		resp := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" + extra + "\r\n"
		want, _ := proxyOnce([]byte(req), []byte(resp), false)
		got, _ := proxyOnce([]byte(req), []byte(resp), true)
		if got.code != http.StatusBadGateway || want.code != http.StatusBadGateway {
			t.Errorf("%q: status %d (Proxy), %d (ReverseProxy), want 502", extra, got.code, want.code)
		}
		if refused := strings.Contains(want.body, "ModifyResponse"); refused != strings.Contains(got.body, "ModifyResponse") || refused != (extra != "") {
			t.Errorf("%q: ModifyResponse's error: Proxy %q, ReverseProxy %q", extra, got.body, want.body)
		}
	}
}

// FuzzProxy holds the Proxy to ReverseProxy with the same fields, without
// a network: for any request and any response the transport returns,
// both must send the same bytes upstream and give the client the same
// status, header, body and trailers.
func FuzzProxy(f *testing.F) {
	f.Add([]byte("GET /a?b=1 HTTP/1.1\r\nHost: front\r\nConnection: x-a, keep-alive\r\nX-A: 1\r\nX-B: 2\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: x-c\r\nX-C: 3\r\n\r\nok"))
	f.Add([]byte("POST /p HTTP/1.1\r\nHost: front\r\nContent-Length: 4\r\nX-Forwarded-For: 1.2.3.4\r\nForwarded: for=x\r\n\r\nbody"),
		[]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum, X-Two\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\nX-Two: 2\r\nX-Extra: 3\r\n\r\n"))
	f.Add([]byte("HEAD / HTTP/1.0\r\nHost: front\r\nUser-Agent:\r\nKeep-Alive: 1\r\nProxy-Authorization: x\r\n\r\n"),
		[]byte("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\nKeep-Alive: timeout=1\r\n\r\n"))
	f.Add([]byte("GET http://h/x?%41=%zz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"),
		[]byte("HTTP/1.0 200 OK\r\nContent-Type: Text/Event-Stream; charset=utf-8\r\n\r\nstream"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nX-Refuse: 1\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, rawReq, rawResp []byte) {
		want, ok := proxyOnce(rawReq, rawResp, false)
		if !ok {
			return
		}
		got, _ := proxyOnce(rawReq, rawResp, true)
		got.covered, want.covered = false, false
		if got != want {
			t.Errorf("Proxy:\n%+v\nReverseProxy:\n%+v", got, want)
		}
	})
}

// discardLog swallows what the proxies log about bodies that break off.
var discardLog = log.New(io.Discard, "", 0)

// canonical writes h in a fixed order; the Trailer header's list, which
// both proxies build from a map, is sorted.
func canonical(h http.Header) string {
	var sb strings.Builder
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		vv := h[k]
		if k == "Trailer" {
			var names []string
			for _, v := range vv {
				for n := range strings.SplitSeq(v, ",") {
					names = append(names, strings.TrimSpace(n))
				}
			}
			slices.Sort(names)
			vv = []string{strings.Join(names, ", ")}
		}
		fmt.Fprintf(&sb, "%s: %q\n", k, vv)
	}
	return sb.String()
}
