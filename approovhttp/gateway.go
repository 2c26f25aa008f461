package approovhttp

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/assertion"
)

// BehindGateway returns middleware for a server that runs behind
// approov-gateway with assertion_secret set: instead of a token, it
// verifies the gateway's signed assertion with v ([assertion.Verifier.VerifyRequest]:
// signature, lifetime, and that it was made for this request), and never
// reads the unsigned fact headers. It panics if v is nil.
//
// A request that fails gets [Reject] (401 {}), and a log line with the
// reason code, such as "assertion_request_mismatch". One that passes
// reaches the handler with the facts in its context, as [New] puts them,
// so that handlers read them the same way whichever middleware protects
// them:
//
//   - result "ok": the token's claims, for [ClaimsFromContext]: DeviceID,
//     Expiry (the token's exp), and the forwarded IP, AttestationResponse,
//     InstallationPublicKey, MessageSigningKeyID, PayloadHash, Issuer and
//     Subject. Other fields are empty, and HasPayloadHash is false.
//   - result "public": no claims; the route needs no token.
//   - any other result, which the gateway sends only in monitor mode: no
//     claims, and for [FailureFromContext] an error whose approov.Reason is
//     the gateway's reason code, such as "token_expired".
//
// [AssertionFromContext] returns the assertion's own claims in every case.
//
// The options of [New] apply, with these differences: errors passed to the
// logger, the observer and the reject handler come from package assertion
// (assertion.Reason gives their codes); [WithMonitorMode] lets requests
// with failing assertions through, with the failure for FailureFromContext;
// [WithBinding] has no effect, since the assertion binds the headers the
// gateway was told to.
func BehindGateway(v *assertion.Verifier, opts ...Option) func(http.Handler) http.Handler {
	if v == nil {
		panic("approovhttp: BehindGateway called with a nil verifier")
	}
	m := &middleware{reject: Reject}
	for _, opt := range opts {
		opt(m)
	}
	return func(next http.Handler) http.Handler {
		return &gatewayHandler{v: v, m: m, next: next}
	}
}

type gatewayHandler struct {
	v    *assertion.Verifier
	m    *middleware
	next http.Handler
}

var _ http.Handler = (*gatewayHandler)(nil)

func (h *gatewayHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	if m.skipPreflight && IsPreflight(r) {
		if m.observe != nil {
			m.observe(r, Result{Preflight: true})
		}
		h.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	facts, err := h.v.VerifyRequest(r)
	took := time.Since(start)
	if err != nil {
		if m.observe != nil {
			m.observe(r, Result{Err: err, Duration: took, Monitor: m.monitor})
		}
		if m.log != nil {
			logAssertionRejection(m.log, m.logLimit, r, err, m.monitor)
		}
		if m.monitor {
			h.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), failureKey{}, err)))
			return
		}
		m.reject(w, r, err)
		return
	}
	ctx := context.WithValue(r.Context(), assertionKey{}, &facts)
	var claims *approov.Claims
	switch facts.Result {
	case assertion.ResultOK:
		claims = tokenClaims(&facts)
		ctx = NewContext(ctx, claims)
	case assertion.ResultPublic:
	default:
		ctx = context.WithValue(ctx, failureKey{}, &gatewayFailure{reason: facts.Result})
	}
	if m.observe != nil {
		m.observe(r, Result{Claims: claims, Duration: took})
	}
	h.next.ServeHTTP(w, r.WithContext(ctx))
}

// tokenClaims returns the token claims an assertion forwards, in the form
// [New] gives them.
func tokenClaims(a *assertion.Claims) *approov.Claims {
	return &approov.Claims{
		Expiry:                a.TokenExpiry,
		DeviceID:              a.DeviceID,
		IP:                    a.Forwarded.IP,
		PayloadHash:           a.Forwarded.PayloadHash,
		AttestationResponse:   a.Forwarded.AttestationResponse,
		InstallationPublicKey: a.Forwarded.InstallationPublicKey,
		MessageSigningKeyID:   a.Forwarded.MessageSigningKeyID,
		Issuer:                a.Forwarded.Issuer,
		Subject:               a.Forwarded.Subject,
	}
}

type assertionKey struct{}

// AssertionFromContext returns the verified assertion [BehindGateway] put
// in a request's context, and whether there was one: result, device id,
// request binding and all.
func AssertionFromContext(ctx context.Context) (*assertion.Claims, bool) {
	c, ok := ctx.Value(assertionKey{}).(*assertion.Claims)
	return c, ok && c != nil
}

// gatewayFailure is a token failure the gateway reported in a monitor-mode
// assertion. It unwraps to the package approov sentinel of the same reason
// code, so that approov.Reason and errors.Is see it as that failure.
type gatewayFailure struct{ reason string }

func (f *gatewayFailure) Error() string {
	return "approovhttp: token failed at the gateway (monitor mode): " + f.reason
}

func (f *gatewayFailure) Unwrap() error { return approov.ErrorFor(f.reason) }

// logAssertionRejection writes [LogRejection]'s line for a failed
// assertion: reason code, detail, method, path and remote address. It
// never logs the assertion or a header value.
func logAssertionRejection(l *slog.Logger, limit *LogLimiter, r *http.Request, err error, monitor bool) {
	detail := err.Error()
	if e, ok := err.(*assertion.Error); ok {
		detail = e.Detail()
	}
	attrs := []slog.Attr{
		slog.String("reason", assertion.Reason(err)),
		slog.String("detail", detail),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("remote_addr", r.RemoteAddr),
	}
	msg := "approov assertion rejected"
	if monitor {
		attrs = append(attrs, slog.Bool("monitor", true))
		msg = "approov assertion failed (monitor mode: request let through)"
	}
	limit.Log(r.Context(), l, slog.LevelWarn, msg, attrs...)
}
