package gateway

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/approov-gateway/approov/internal/logfield"
)

// Handler returns the handler of the listen address: the proxy, or the
// forward-auth endpoint when forward_auth_only is set.
func (g *Gateway) Handler() http.Handler { return g }

// forwardAuthHandler returns the handler of forward_auth_listen: the
// forward-auth endpoint alone.
func (g *Gateway) forwardAuthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.front(g.state.Load(), w, r, g.serveForwardAuth)
	})
}

// ServeHTTP serves the listen address.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := g.state.Load()
	if st.cfg.ForwardAuthOnly {
		g.front(st, w, r, g.serveForwardAuth)
		return
	}
	g.front(st, w, r, g.serveProxy)
}

// front does what every API request goes through: in-flight accounting
// (for draining), the request id, the access log, and the header-count
// limit.
func (g *Gateway) front(st *state, w http.ResponseWriter, r *http.Request, serve func(*state, http.ResponseWriter, *http.Request)) {
	g.inflight.Add(1)
	defer g.inflight.Done()
	g.metrics.inflight.Inc()
	defer g.metrics.inflight.Dec()

	ctx, id := st.withRequestID(r)
	r = r.WithContext(ctx)
	w.Header()[RequestIDHeader] = []string{id}
	if st.cfg.AccessLog {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		w = rec
		defer func() {
			// The path, never the query: query strings can carry tokens.
			// A forward-auth check is logged as the request it is about.
			method, path := r.Method, logfield.Path(r)
			if rec.original.uri != "" {
				method, path = rec.original.method, logfield.Truncate(targetPath(rec.original.uri))
			}
			g.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", logfield.Truncate(method)), slog.String("path", path),
				slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_seconds", time.Since(start).Seconds()), slog.String("remote_addr", r.RemoteAddr))
		}()
	}
	if headerCount(r.Header) > st.cfg.MaxHeaderCount {
		g.refuse(w, r, refuseHeaderCount)
		return
	}
	serve(st, w, r)
}

// serveProxy routes a request on the proxy listener.
func (g *Gateway) serveProxy(st *state, w http.ResponseWriter, r *http.Request) {
	if ref := st.checkRequest(r.Method, r.RequestURI, r.Header); ref != nil {
		g.refuse(w, r, ref)
		return
	}
	if host := canonicalHost(r.Host); host != r.Host {
		r2 := *r
		r2.Host = host
		r = &r2
	}
	rt, ref := st.route(r)
	switch {
	case ref != nil:
		g.refuse(w, r, ref)
	case rt == nil:
		// A redirect to the path with a trailing slash, or the mux's 404
		// or 405: nothing is forwarded.
		st.lookup(r).ServeHTTP(w, r)
	default:
		rt.proxy.ServeHTTP(w, r)
	}
}

// checkRequest refuses what layers around the gateway could read
// differently from it: the method's case, the path's dot segments and
// encodings, and a Connection header that would drop a header the check
// depends on (see canonical.go).
func (st *state) checkRequest(method, requestURI string, h http.Header) *refusal {
	if ref := st.checkMethod(method); ref != nil {
		return ref
	}
	if ref := checkTarget(requestURI); ref != nil {
		return ref
	}
	if ref := checkPath(targetPath(requestURI)); ref != nil {
		return ref
	}
	if ref := st.checkConnection(h["Connection"]); ref != nil {
		return ref
	}
	return st.checkConnection(h["Trailer"])
}

// route returns the route for r, nil when the mux answers r itself, or a
// refusal when the path, fully decoded, would select another route than
// the one the router picked: the reference for what a backend acts on.
func (st *state) route(r *http.Request) (*route, *refusal) {
	rt, ok := st.lookup(r).(*route)
	if !ok {
		return nil, nil
	}
	raw := targetPath(r.RequestURI)
	if strings.IndexByte(raw, '%') < 0 {
		return rt, nil // nothing to decode: the router saw the path as is
	}
	decoded, err := decodedPath(raw)
	if err != nil {
		return nil, refuseTarget
	}
	u := *r.URL
	u.Path, u.RawPath = decoded, ""
	probe := *r
	probe.URL = &u
	if other, ok := st.lookup(&probe).(*route); !ok || other != rt {
		return nil, refuseRouteMix
	}
	return rt, nil
}

// refuse answers a request refused before routing.
// The metric counts refusals by cause; the log line, at debug level since
// a flood of malformed requests must not flood the log, says which request.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, ref *refusal) {
	g.refuseWith(w, r, ref, ref.status)
}

func (g *Gateway) refuseWith(w http.ResponseWriter, r *http.Request, ref *refusal, status int) {
	g.metrics.refused.WithLabelValues(ref.cause).Inc()
	if g.log.Enabled(r.Context(), slog.LevelDebug) {
		g.log.LogAttrs(r.Context(), slog.LevelDebug, "request refused", slog.String("cause", ref.cause),
			slog.String("method", logfield.Truncate(r.Method)), slog.String("target", logfield.Truncate(targetPath(r.RequestURI))),
			slog.String("remote_addr", r.RemoteAddr))
	}
	writeJSONError(w, status, ref.msg)
}

func headerCount(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

// statusRecorder notes the status and size of a response. Unwrap lets
// http.ResponseController reach Flush and Hijack, which streaming and
// WebSocket proxying need.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	// original is the request a forward-auth check was about, for the
	// access log.
	original original
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
