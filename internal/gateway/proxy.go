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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/internal/config"
)

type startKey struct{}

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

// newProxy returns the reverse proxy of one route to target.
func (g *Gateway) newProxy(st *state, rt *route, target *url.URL, transport http.RoundTripper) http.Handler {
	upstreamSeconds := g.metrics.upstream.WithLabelValues(rt.name)
	p := &httputil.ReverseProxy{
		Transport:  transport,
		BufferPool: st.buffers,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			if st.cfg.PreserveHost {
				pr.Out.Host = pr.In.Host
			}
			trusted := st.isTrusted(pr.In.RemoteAddr)
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
			st.stripReserved(pr.Out.Header)
			if !st.cfg.KeepTokenHeader {
				pr.Out.Header.Del(st.tokenHeader)
			}
			st.setFacts(pr.Out.Header, pr.In, rt, false)
		},
		ModifyResponse: func(resp *http.Response) error {
			if start, ok := resp.Request.Context().Value(startKey{}).(time.Time); ok {
				upstreamSeconds.Observe(time.Since(start).Seconds())
			}
			return nil
		},
		ErrorHandler: g.proxyError(rt),
		ErrorLog:     nil,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), startKey{}, time.Now())))
	})
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
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			kind, status, msg = "timeout", http.StatusGatewayTimeout, "gateway timeout"
		}
		g.metrics.upstreamErrors.WithLabelValues(rt.name, kind).Inc()
		g.log.LogAttrs(r.Context(), slog.LevelWarn, "upstream error",
			slog.String("route", rt.name), slog.String("kind", kind), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("error", err.Error()))
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
	addr := ap.Addr().Unmap()
	for _, p := range st.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// stripReserved removes every header in the gateway's namespace, however a
// client spelled it: servers such as gunicorn turn both Approov-Device-Id
// and Approov_Device_Id into HTTP_APPROOV_DEVICE_ID, so both are forgeries.
// The token header survives when it is kept on purpose.
func (st *state) stripReserved(h http.Header) {
	for name := range h {
		if len(name) < len(st.reservedPrefix) {
			continue
		}
		norm := strings.ToLower(strings.ReplaceAll(name[:len(st.reservedPrefix)], "_", "-"))
		if norm != st.reservedPrefix {
			continue
		}
		if st.cfg.KeepTokenHeader && name == st.tokenHeader {
			continue
		}
		delete(h, name)
	}
}

// setFacts sets the configured verified facts of request r, on route rt,
// as headers of h: the verification result ("public" on public routes), and
// claims when the token was valid. For forward-auth answers (always set)
// every configured fact is set, empty when unknown, so that a proxy copying
// them overwrites any client-sent copy rather than leaving it, or a
// placeholder, in place.
func (st *state) setFacts(h http.Header, r *http.Request, rt *route, always bool) {
	claims, ok := approovhttp.ClaimsFromContext(r.Context())
	failure := approovhttp.FailureFromContext(r.Context())
	public := rt.mode == config.ModePublic
	if !ok && failure == nil && !public {
		return
	}
	for _, f := range st.facts {
		var v string
		switch f.claim {
		case "result":
			v = approov.Reason(failure)
			if public {
				v = "public"
			}
		case "did":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.DeviceID })
		case "exp":
			if ok {
				v = strconv.FormatInt(claims.Expiry.Unix(), 10)
			}
		case "ip":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.IP })
		case "arc":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.AttestationResponse })
		case "ipk":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.InstallationPublicKey })
		case "mskid":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.MessageSigningKeyID })
		case "pay":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.PayloadHash })
		case "iss":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.Issuer })
		case "sub":
			v = claimOf(claims, ok, func(c *approov.Claims) string { return c.Subject })
		}
		// A claim is signed, not sanitised: a value that is no valid
		// header value (a line break, say) is dropped, never sent.
		if !validHeaderValue(v) {
			v = ""
		}
		if v != "" || always {
			h[f.header] = []string{v}
		}
	}
}

func claimOf(c *approov.Claims, ok bool, get func(*approov.Claims) string) string {
	if !ok {
		return ""
	}
	return get(c)
}

// validHeaderValue reports whether v may be sent as a header value: no
// control characters but tab, no DEL.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
