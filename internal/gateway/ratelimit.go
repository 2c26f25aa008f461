package gateway

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/internal/ratelimit"
	"github.com/prometheus/client_golang/prometheus"
)

// rateLimited applies, after the token check, the route's per-device limit
// and the opt-in per-address one (rate_limit_address). The device key is
// the did of the verified token, never of one that failed (in monitor mode
// a failed token's request carries no claims), so nobody can spend another
// device's allowance without its token; requests without a did pass that
// limit, counted. The address is the client's (behind trusted proxies, the
// last forwarded address that is not one of them; an IPv6 /64) or the
// verified token's ip claim. Over a limit: 429 {} with Retry-After and the
// RateLimit fields, or with rate_limit_monitor a log line. When Redis
// cannot decide within its timeout the request passes (the token check
// still guarded it), or with rate_limit_fail_closed gets 503 {}.
func (g *Gateway) rateLimited(st *state, rt *route, next http.Handler) http.Handler {
	address := st.cfg.AddressRateLimit()
	if rt.rateLimit == nil && address == nil {
		return next
	}
	type check struct {
		name  string
		limit *ratelimit.Limit
		key   func(r *http.Request, c *approov.Claims) string
		count map[string]prometheus.Counter
	}
	var checks []check
	add := func(name string, l *ratelimit.Limit, key func(*http.Request, *approov.Claims) string) {
		if l == nil {
			return
		}
		c := check{name: name, limit: l, key: key, count: map[string]prometheus.Counter{}}
		for _, o := range []string{"allowed", "limited", "monitored", "no_key", "error"} {
			c.count[o] = g.metrics.rateLimits.WithLabelValues(rt.name, name, o)
		}
		checks = append(checks, c)
	}
	add("device", rt.rateLimit, func(_ *http.Request, c *approov.Claims) string {
		if c == nil || c.DeviceID == "" {
			return ""
		}
		return "did:" + c.DeviceID
	})
	add("address", address, func(r *http.Request, c *approov.Claims) string {
		var a netip.Addr
		if st.cfg.RateLimitAddressKey != "ip_claim" {
			if o, ok := r.Context().Value(originalKey{}).(original); ok && o.convention != conventionGRPC && !st.isTrusted(r.RemoteAddr) {
				// An HTTP check comes from the proxy, whose address is
				// every client's: only a trusted one says whose it is.
				return ""
			}
			a = st.clientAddr(r)
		} else if c != nil {
			a, _ = netip.ParseAddr(c.IP)
		}
		if !a.IsValid() {
			return ""
		}
		if a = a.Unmap(); a.Is6() {
			a = netip.PrefixFrom(a, 64).Masked().Addr()
		}
		return "addr:" + a.String()
	})
	log := g.log.With("route", rt.name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Without claims (a failed token in monitor mode, a preflight),
		// only the client-address limit has a key: it needs no token.
		claims, _ := approovhttp.ClaimsFromContext(r.Context())
		did := ""
		if claims != nil {
			did = claims.DeviceID
		}
		for _, c := range checks {
			key := c.key(r, claims)
			if key == "" {
				c.count["no_key"].Inc()
				continue
			}
			res, err := st.limiter.Allow(r.Context(), key, *c.limit)
			switch {
			case err != nil:
				c.count["error"].Inc()
				st.logLimit.Log(r.Context(), log, slog.LevelWarn, "rate limit undecided", slog.String("limit", c.name),
					slog.String("error", err.Error()), slog.Bool("fail_closed", st.cfg.RateLimitFailClosed))
				if st.cfg.RateLimitFailClosed {
					writeEmptyJSON(w, http.StatusServiceUnavailable)
					return
				}
			case res.Allowed:
				c.count["allowed"].Inc()
			case st.cfg.RateLimitMonitor:
				c.count["monitored"].Inc()
				st.logLimit.Log(r.Context(), log, slog.LevelWarn, "rate limit exceeded (monitor mode: request let through)",
					slog.String("limit", c.name), slog.String("device_id", did), slog.String("rate", c.limit.String()))
			default:
				c.count["limited"].Inc()
				st.logLimit.Log(r.Context(), log, slog.LevelWarn, "rate limit exceeded", slog.String("limit", c.name),
					slog.String("device_id", did), slog.String("rate", c.limit.String()),
					slog.Duration("retry_after", res.RetryAfter))
				ratelimit.SetHeaders(w.Header(), c.name, *c.limit, res)
				writeEmptyJSON(w, http.StatusTooManyRequests)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the address of the client: the connection's, or behind
// trusted proxies the last address X-Forwarded-For names that is not
// one of them; for a gRPC check, the downstream address Envoy reports.
func (st *state) clientAddr(r *http.Request) netip.Addr {
	if src, ok := r.Context().Value(grpcCheckKey{}).(grpcSource); ok {
		return netip.Addr(src)
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !st.isTrusted(r.RemoteAddr) {
		return addr
	}
	var hops []string
	for _, v := range r.Header["X-Forwarded-For"] {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a malformed chain: the proxy's own address
		}
		a = a.Unmap()
		if !st.trustedAddr(a) {
			return a
		}
	}
	return addr
}

// grpcCheckKey marks the context of a check that came over gRPC
// (ext_authz_grpc_listen); its value is a grpcSource.
type grpcCheckKey struct{}

// grpcSource is the downstream client's address a CheckRequest reports
// (attributes.source), the zero Addr when it reports none.
type grpcSource netip.Addr

// rateLimitedChecks applies the route's rate limits to the forward-auth
// checks whose proxy passes a 429 to its client as it is: Envoy's gRPC and
// HTTP ext_authz, Traefik and Caddy (the envoy and forwarded
// conventions). Checks by nginx's convention are not limited: its
// auth_request turns any answer but 2xx, 401 and 403 into a 500.
func (g *Gateway) rateLimitedChecks(st *state, rt *route, next http.Handler) http.Handler {
	if rt.rateLimit == nil && st.cfg.AddressRateLimit() == nil {
		return next
	}
	limited := g.rateLimited(st, rt, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o, ok := r.Context().Value(originalKey{}).(original); ok && o.passesStatus() {
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
