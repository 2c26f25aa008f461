package gateway

import (
	"log/slog"
	"net/http"

	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/internal/ratelimit"
	"github.com/prometheus/client_golang/prometheus"
)

// rateLimited limits the requests of each device on route rt, after the
// token check: the key is the did of the verified token, never of one that
// failed (in monitor mode a failed token's request carries no claims), so
// nobody can spend another device's allowance without its token. Requests
// without a did pass unlimited, counted. Over the limit: 429 {} with
// Retry-After and the RateLimit fields, or with rate_limit_monitor a log
// line. When Redis cannot decide within its timeout the request passes
// (the token check still guarded it), or with rate_limit_fail_closed gets
// 503 {}.
func (g *Gateway) rateLimited(st *state, rt *route, next http.Handler) http.Handler {
	if rt.rateLimit == nil {
		return next
	}
	limit := *rt.rateLimit
	count := func(outcome string) prometheus.Counter { return g.metrics.rateLimits.WithLabelValues(rt.name, outcome) }
	allowed, limited, monitored, noDevice, failed := count("allowed"), count("limited"), count("monitored"), count("no_device"), count("error")
	log := g.log.With("route", rt.name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := approovhttp.ClaimsFromContext(r.Context())
		if !ok || claims == nil || claims.DeviceID == "" {
			noDevice.Inc()
			next.ServeHTTP(w, r)
			return
		}
		res, err := st.limiter.Allow(r.Context(), claims.DeviceID, limit)
		switch {
		case err != nil:
			failed.Inc()
			st.logLimit.Log(r.Context(), log, slog.LevelWarn, "rate limit undecided", slog.String("error", err.Error()),
				slog.Bool("fail_closed", st.cfg.RateLimitFailClosed))
			if st.cfg.RateLimitFailClosed {
				writeEmptyJSON(w, http.StatusServiceUnavailable)
				return
			}
		case res.Allowed:
			allowed.Inc()
		case st.cfg.RateLimitMonitor:
			monitored.Inc()
			st.logLimit.Log(r.Context(), log, slog.LevelWarn, "rate limit exceeded (monitor mode: request let through)",
				slog.String("device_id", claims.DeviceID), slog.String("limit", limit.String()))
		default:
			limited.Inc()
			st.logLimit.Log(r.Context(), log, slog.LevelWarn, "rate limit exceeded",
				slog.String("device_id", claims.DeviceID), slog.String("limit", limit.String()),
				slog.Duration("retry_after", res.RetryAfter))
			ratelimit.SetHeaders(w.Header(), limit, res)
			writeEmptyJSON(w, http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// grpcCheckKey marks the context of a check that came over gRPC
// (ext_authz_grpc_listen).
type grpcCheckKey struct{}

// rateLimitedGRPC applies the route's rate limit to checks that came over
// gRPC, where Envoy passes a 429 to the client as it is. HTTP forward-auth
// checks are not limited: nginx's auth_request turns any answer but 2xx,
// 401 and 403 into a 500.
func (g *Gateway) rateLimitedGRPC(st *state, rt *route, next http.Handler) http.Handler {
	if rt.rateLimit == nil {
		return next
	}
	limited := g.rateLimited(st, rt, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(grpcCheckKey{}) != nil {
			limited.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeEmptyJSON answers status with the body {}, saying nothing more.
func writeEmptyJSON(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte("{}"))
}
