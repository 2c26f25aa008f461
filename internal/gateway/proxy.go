package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/approov-gateway/approov/internal/h1"
	"github.com/approov-gateway/approov/internal/logfield"
	"github.com/prometheus/client_golang/prometheus"
)

// copyBufferSize is the size of the buffers the proxy copies bodies with,
// the size httputil.ReverseProxy allocates on its own.
const copyBufferSize = 32 << 10

// bufferPool lends the proxy its copy buffers. Without it ReverseProxy
// allocates and zeroes 32 KiB per request, which was measured as the
// largest single allocation in the gateway and the main driver of its
// garbage collection. The pool holds array pointers, so Put allocates
// nothing.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

func (b *bufferPool) Get() []byte { return b.p.Get().(*[copyBufferSize]byte)[:] }

func (b *bufferPool) Put(buf []byte) {
	if len(buf) == copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf))
	}
}

var _ httputil.BufferPool = (*bufferPool)(nil)

// newProxy returns the reverse proxy of one route to target: with the
// fast path on, h1.Proxy in front of httputil.ReverseProxy, which serves
// what h1.Proxy does not cover; both with the same fields (h1.ProxyFor).
func (g *Gateway) newProxy(st *state, rt *route, target *url.URL, transport *upstreamTransport) http.Handler {
	upstreamSeconds := g.metrics.upstream.WithLabelValues(rt.name)
	p := &httputil.ReverseProxy{
		Transport:  signedTransport{RoundTripper: transport, seconds: upstreamSeconds},
		BufferPool: st.buffers,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			h1.ForProxy(pr.Out, pr.In) // a buffered body stays one, for the fast client
			if pr.Out.Method == http.MethodHead {
				// No connection is reused after HEAD: an upstream that
				// sent the body anyway, late, would answer the next
				// request with it. The fast client never reuses one;
				// this makes net/http's Transport close it too.
				pr.Out.Close = true
			}
			if st.cfg.PreserveHost {
				pr.Out.Host = pr.In.Host
			}
			trusted := st.isTrusted(pr.In.RemoteAddr)
			st.stripClientHeaders(pr.Out.Header, trusted)
			if trusted {
				// Behind a trusted load balancer, its chain of addresses
				// is kept and this hop appended.
				if xff := pr.In.Header["X-Forwarded-For"]; len(xff) > 0 {
					pr.Out.Header["X-Forwarded-For"] = append([]string(nil), xff...)
				}
			}
			pr.SetXForwarded()
			if trusted {
				for _, h := range []string{"X-Forwarded-Proto", "X-Forwarded-Host"} {
					if v := pr.In.Header.Get(h); v != "" {
						pr.Out.Header.Set(h, v)
					}
				}
			}
			if !st.cfg.KeepTokenHeader {
				pr.Out.Header.Del(st.tokenHeader)
			}
			v := verdictOf(pr.In, rt)
			st.setFacts(pr.Out.Header, v, false)
			id := requestID(pr.In.Context())
			if id != "" {
				pr.Out.Header.Set(RequestIDHeader, id)
			}
			if st.signer == nil {
				return // no assertion to sign
			}
			host := pr.Out.Host
			if host == "" {
				host = pr.Out.URL.Host
			}
			token, err := st.sign(v, rt, id, pr.Out.Method, host, pr.Out.URL.RequestURI(), pr.Out.Header)
			if err != nil {
				// Never forward without the assertion: signedTransport
				// fails the request instead.
				pr.Out = pr.Out.WithContext(context.WithValue(pr.Out.Context(), unsignedKey{}, err))
				return
			}
			if token != "" {
				pr.Out.Header[st.assertionHeader] = []string{token}
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode < 100 || resp.StatusCode > 999 {
				// net/http reads "+04" as 4, and its server panics on
				// writing such a status: a broken upstream is a 502.
				return errBadStatus
			}
			return nil
		},
		ErrorHandler: g.proxyError(rt),
		// Its own lines (a body that broke off mid-copy) go to the
		// gateway's log, as JSON, not to the standard logger.
		ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	var proxy http.Handler = p
	if transport.fast != nil {
		proxy = h1.ProxyFor(p)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No Content-Type the upstream did not send: net/http would
		// otherwise sniff one from the body (text/html, say), depending
		// on when ReverseProxy first flushes.
		w.Header()["Content-Type"] = nil
		fw := &finalHeaders{ResponseWriter: w, requestID: w.Header()[RequestIDHeader]}
		proxy.ServeHTTP(fw, r)
	})
}

// finalHeaders puts back, on the final response, the headers the gateway
// set before proxying: ReverseProxy clears the response header after each
// 1xx it relays, which took the request id away and let net/http sniff a
// Content-Type for the final body.
type finalHeaders struct {
	http.ResponseWriter
	requestID []string
	wrote     bool
}

func (f *finalHeaders) WriteHeader(code int) {
	if code >= 200 && !f.wrote {
		f.wrote = true
		h := f.ResponseWriter.Header()
		if _, ok := h["Content-Type"]; !ok {
			h["Content-Type"] = nil
		}
		if f.requestID != nil && h[RequestIDHeader] == nil {
			h[RequestIDHeader] = f.requestID
		}
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *finalHeaders) Write(b []byte) (int, error) {
	if !f.wrote {
		f.WriteHeader(http.StatusOK)
	}
	return f.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's Flush and
// deadlines, as ReverseProxy's flushing needs.
func (f *finalHeaders) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// errBadStatus is an upstream response whose status code is no HTTP
// status.
var errBadStatus = errors.New("upstream sent a status code outside 100-999")

type unsignedKey struct{}

// signedTransport fails a request whose assertion could not be signed, so
// that it never reaches the upstream without one, and times the upstream's
// answers up to their headers.
type signedTransport struct {
	http.RoundTripper
	seconds prometheus.Observer
}

func (t signedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err, ok := r.Context().Value(unsignedKey{}).(error); ok {
		if r.Body != nil {
			r.Body.Close() // as RoundTrip must, even on error
		}
		return nil, err
	}
	start := time.Now()
	resp, err := t.RoundTripper.RoundTrip(r)
	if err == nil {
		t.seconds.Observe(time.Since(start).Seconds())
	}
	return resp, err
}

// proxyError answers upstream failures: 504 when the upstream timed out,
// 502 otherwise, with a JSON body that says no more; the log says what
// happened.
func (g *Gateway) proxyError(rt *route) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			// The client went away; nobody is left to answer.
			g.metrics.upstreamErrors.WithLabelValues(rt.name, "client_closed").Inc()
			return
		}
		kind, status, msg := "unavailable", http.StatusBadGateway, "bad gateway"
		var ne net.Error
		var be *bodyError
		switch {
		case errors.As(err, &be):
			// The client's body, not the upstream, failed.
			kind, status, msg = be.cause, be.status, be.msg
		case errors.Is(err, errAssertion):
			kind, status, msg = "unsigned", http.StatusBadRequest, "bad request"
		case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
			kind, status, msg = "timeout", http.StatusGatewayTimeout, "gateway timeout"
		}
		g.metrics.upstreamErrors.WithLabelValues(rt.name, kind).Inc()
		g.log.LogAttrs(r.Context(), slog.LevelWarn, "upstream error",
			slog.String("route", rt.name), slog.String("kind", kind), slog.String("method", r.Method),
			slog.String("path", logfield.Path(r)), slog.String("error", err.Error()))
		writeJSONError(w, status, msg)
	}
}

// isTrusted reports whether the peer is a configured trusted proxy.
func (st *state) isTrusted(remoteAddr string) bool {
	if len(st.trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	return st.trustedAddr(ap.Addr().Unmap())
}

// trustedAddr reports whether addr is in trusted_proxies.
func (st *state) trustedAddr(addr netip.Addr) bool {
	for _, p := range st.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
