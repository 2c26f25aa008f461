// Package approovhttp protects net/http handlers with Approov token checks.
//
//	v, err := approov.NewVerifier(approov.WithBase64Secret(os.Getenv("APPROOV_BASE64_SECRET")))
//	if err != nil {
//		log.Fatal(err)
//	}
//	protect := approovhttp.New(v, approovhttp.WithLogger(slog.Default()))
//	http.Handle("/", protect(api))
//
// The middleware verifies the token before anything else runs. A request
// that fails gets 401 with Content-Type application/json and the body {},
// as the Approov reference integrations answer: the response never says
// why. The reason goes to the log, one line per rejection, and to an
// optional observer for metrics. A request that passes reaches the handler
// with its verified claims in the context: see [ClaimsFromContext].
//
// For rollouts, [WithMonitorMode] logs failures but lets the requests
// through, so the effect of enforcement can be measured before it is
// switched on.
//
// # Behind approov-gateway
//
// A server behind approov-gateway checks no token itself: [BehindGateway]
// verifies the gateway's signed Approov-Assertion instead (package
// assertion, docs/ASSERTION.md) — that it came from the gateway and was made
// for this very request — and puts the same claims in the context, so
// handlers read [ClaimsFromContext] whichever middleware protects them.
package approovhttp

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/logfield"
)

// Result is what the middleware decided about one request, for observers.
type Result struct {
	// Claims are the verified claims, or nil when the token failed.
	Claims *approov.Claims
	// Err is the verification failure, or nil. approov.Reason(Err) gives
	// its reason code.
	Err error
	// Duration is the time spent verifying.
	Duration time.Duration
	// Monitor reports that the request failed but was let through because
	// the middleware is in monitor mode.
	Monitor bool
	// Preflight reports that the request was a CORS preflight let through
	// unchecked.
	Preflight bool
}

// Option configures the middleware.
type Option func(*middleware)

// WithLogger logs one line per rejection, at level Warn, with the reason
// code, its detail, the method, path and remote address, and the device id
// when the token itself was valid. It never logs the token, the bound
// header or a secret. The default is no logging.
func WithLogger(l *slog.Logger) Option {
	return func(m *middleware) { m.log = l }
}

// WithLogLimiter bounds the rejection lines written to the logger of
// [WithLogger]: see [LogLimiter]. Without it every rejection is logged.
func WithLogLimiter(l *LogLimiter) Option {
	return func(m *middleware) { m.logLimit = l }
}

// WithRejectHandler replaces the default rejection, [Reject], with h. h
// gets the verification error; it should not tell the client why.
func WithRejectHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return func(m *middleware) { m.reject = h }
}

// WithMonitorMode lets requests with failing tokens through, when on, to
// the handler, after logging and observing them, without claims in the
// context but with the failure: see [FailureFromContext]. Use it to measure
// before enforcing.
func WithMonitorMode(on bool) Option {
	return func(m *middleware) { m.monitor = on }
}

// WithPreflightSkipped lets CORS preflight requests (OPTIONS with
// an Access-Control-Request-Method header) through unchecked, when on:
// browsers send them without custom headers, so they can never carry a token.
func WithPreflightSkipped(on bool) Option {
	return func(m *middleware) { m.skipPreflight = on }
}

// WithBinding checks token binding as b describes for this handler,
// instead of the verifier's own binding (approov.WithBinding). A nil b turns
// binding off for this handler.
func WithBinding(b *approov.Binding) Option {
	return func(m *middleware) { m.binding, m.bindingSet = b, true }
}

// WithObserver calls observe for every request the middleware handles,
// after verifying and before the handler or the rejection runs, for
// metrics.
func WithObserver(observe func(r *http.Request, res Result)) Option {
	return func(m *middleware) { m.observe = observe }
}

type middleware struct {
	v             *approov.Verifier
	log           *slog.Logger
	reject        func(http.ResponseWriter, *http.Request, error)
	monitor       bool
	skipPreflight bool
	binding       *approov.Binding
	bindingSet    bool
	observe       func(*http.Request, Result)
	logLimit      *LogLimiter
}

// New returns middleware that verifies each request's token with v. It
// panics if v is nil: a handler that cannot verify must not be built.
func New(v *approov.Verifier, opts ...Option) func(http.Handler) http.Handler {
	if v == nil {
		panic("approovhttp: New called with a nil verifier")
	}
	m := &middleware{v: v, reject: Reject}
	for _, opt := range opts {
		opt(m)
	}
	if !m.bindingSet {
		m.binding = v.Binding()
	}
	return func(next http.Handler) http.Handler {
		return &handler{m: m, next: next}
	}
}

type handler struct {
	m    *middleware
	next http.Handler
}

var _ http.Handler = (*handler)(nil)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	if m.skipPreflight && IsPreflight(r) {
		if m.observe != nil {
			m.observe(r, Result{Preflight: true})
		}
		h.next.ServeHTTP(w, r)
		return
	}
	claims, took, err := m.check(r)
	if err == nil {
		if m.observe != nil {
			m.observe(r, Result{Claims: claims, Duration: took})
		}
		h.next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), claims)))
		return
	}
	if m.observe != nil {
		m.observe(r, Result{Claims: claims, Err: err, Duration: took, Monitor: m.monitor})
	}
	if m.log != nil {
		logRejection(m.log, m.logLimit, r, claims, err, m.monitor)
	}
	if m.monitor {
		h.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), failureKey{}, err)))
		return
	}
	m.reject(w, r, err)
}

// check verifies the request; on a binding failure it also returns the
// claims, which are then verified and safe to log.
func (m *middleware) check(r *http.Request) (*approov.Claims, time.Duration, error) {
	start := time.Now()
	token, err := m.v.TokenFromHeader(r.Header)
	if err != nil {
		return nil, time.Since(start), err
	}
	claims, err := m.v.Verify(token)
	if err != nil {
		return nil, time.Since(start), err
	}
	if m.binding != nil {
		if err := m.binding.Check(&claims, r.Header); err != nil {
			return &claims, time.Since(start), err
		}
	}
	return &claims, time.Since(start), nil
}

// LogRejection writes the middleware's log line for a rejected request:
// reason code, detail, method, path (as sent, without the query, cut at
// 256 bytes), remote address, and the device id when claims is not nil. It is exported so that other front ends, such as a
// gateway, log rejections in the same shape.
func LogRejection(l *slog.Logger, r *http.Request, claims *approov.Claims, err error, monitor bool) {
	logRejection(l, nil, r, claims, err, monitor)
}

// logRejection is [LogRejection] through limit.
func logRejection(l *slog.Logger, limit *LogLimiter, r *http.Request, claims *approov.Claims, err error, monitor bool) {
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.String("reason", approov.Reason(err)),
		slog.String("detail", detail(err)),
		slog.String("method", logfield.Truncate(r.Method)),
		slog.String("path", logfield.Path(r)),
		slog.String("remote_addr", r.RemoteAddr),
	)
	if claims != nil && claims.DeviceID != "" {
		attrs = append(attrs, slog.String("device_id", claims.DeviceID))
	}
	msg := "approov token rejected"
	if monitor {
		attrs = append(attrs, slog.Bool("monitor", true))
		msg = "approov token failed (monitor mode: request let through)"
	}
	limit.Log(r.Context(), l, slog.LevelWarn, msg, attrs...)
}

func detail(err error) string {
	if e, ok := err.(*approov.Error); ok {
		return e.Detail()
	}
	return err.Error()
}

// Reject is the default rejection: status 401, Content-Type
// application/json, body {}. It says nothing of why.
func Reject(w http.ResponseWriter, _ *http.Request, _ error) {
	h := w.Header()
	// Shared, never modified: a rejection, the common answer to a flood,
	// allocates no header values.
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(emptyJSON)
}

var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
	emptyJSON       = []byte("{}")
)

// IsPreflight reports whether r is a CORS preflight request: OPTIONS with
// an Access-Control-Request-Method header.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

type contextKey struct{}

type failureKey struct{}

// FailureFromContext returns why the token of a request let through by
// monitor mode failed, or nil.
func FailureFromContext(ctx context.Context) error {
	err, _ := ctx.Value(failureKey{}).(error)
	return err
}

// NewContext returns a copy of ctx carrying verified claims.
func NewContext(ctx context.Context, claims *approov.Claims) context.Context {
	return context.WithValue(ctx, contextKey{}, claims)
}

// ClaimsFromContext returns the verified claims the middleware put in a
// request's context, and whether there were any. There are none when the
// request was let through by monitor mode or as a preflight.
func ClaimsFromContext(ctx context.Context) (*approov.Claims, bool) {
	c, ok := ctx.Value(contextKey{}).(*approov.Claims)
	return c, ok && c != nil
}
