package gateway

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/ratelimit"
)

// route is one routing rule, built.
type route struct {
	name    string
	pattern string
	mode    string
	monitor bool
	// boundHeaders are the canonical names of the headers the route binds
	// tokens to, in order; none unless the mode is binding.
	boundHeaders []string
	// bindTarget: the assertion binds the request target, not only the
	// method and host (assertion_bind).
	bindTarget bool
	// rateLimit is the per-device limit of the route's proxied requests,
	// or nil.
	rateLimit *ratelimit.Limit
	// proxy serves requests on the proxy listener; auth answers
	// forward-auth checks for requests the route would match.
	proxy http.Handler
	auth  http.Handler
}

// ServeHTTP serves the route on the proxy listener. The mux holds routes
// as handlers, so that what it returns for a request says which route
// applies, or that none does (a redirect to the path with a slash, say).
func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.proxy.ServeHTTP(w, r) }

// upstream is one backend and the transport that reaches it.
type upstream struct {
	target    *url.URL
	transport *upstreamTransport
}

// upstreamFor returns the upstream for raw, making one the first time: one
// transport per upstream, so that each pools connections as its own server
// allows (see upstreamTransport).
func (g *Gateway) upstreamFor(st *state, upstreams map[string]*upstream, raw string) *upstream {
	if u, ok := upstreams[raw]; ok {
		return u
	}
	up, err := config.ParseUpstream(raw)
	if err != nil {
		// Config refuses such upstreams; a configuration built in code
		// that skipped validation gets a route that answers 502.
		up = config.Upstream{Network: "tcp", Address: "invalid.invalid:80", URL: &url.URL{Scheme: "http", Host: "invalid.invalid"}}
	}
	t := newUpstreamTransport(st.cfg, up, g.metrics)
	u := &upstream{target: up.URL, transport: t}
	upstreams[raw] = u
	st.transports = append(st.transports, t)
	st.upstreams = append(st.upstreams, up)
	return u
}

func (g *Gateway) buildRoute(st *state, rc *config.Route, upstreams map[string]*upstream) (*route, error) {
	cfg := st.cfg
	name := rc.Name
	if name == "" {
		name = rc.Match
	}
	rt := &route{
		name:       name,
		pattern:    canonicalPattern(rc.Match),
		mode:       cfg.RouteMode(rc),
		monitor:    boolOr(rc.Monitor, cfg.Monitor),
		bindTarget: rc.AssertionBind != config.BindHost,
	}
	rt.rateLimit, _ = cfg.RouteRateLimit(*rc) // validated with the configuration

	var backend http.Handler = notFound{}
	switch {
	case rc.Upstream != "":
		up := g.upstreamFor(st, upstreams, rc.Upstream)
		backend = g.newProxy(st, rt, up.target, up.transport)
	case cfg.Upstream != "":
		up := g.upstreamFor(st, upstreams, cfg.Upstream)
		backend = g.newProxy(st, rt, up.target, up.transport)
	}
	backend = g.bodyLimits(st, backend)
	facts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.answerForwardAuth(st, rt, w, r)
	})

	// Each endpoint is built, with its metric series, only when served.
	rt.proxy, rt.auth = notFound{}, notFound{}
	serveProxy := !cfg.ForwardAuthOnly
	serveAuth := cfg.ForwardAuthOnly || cfg.ForwardAuthListen != "off"

	if rt.mode == config.ModePublic {
		if serveProxy {
			rt.proxy = g.publicHandler(rt, "proxy", backend)
		}
		if serveAuth {
			rt.auth = g.publicHandler(rt, "forward_auth", facts)
		}
		return rt, nil
	}

	var binding *approov.Binding
	if rt.mode == config.ModeBinding {
		headers := rc.BindingHeaders
		if len(headers) == 0 {
			headers = cfg.BindingHeaders
		}
		var opts []approov.BindingOption
		if boolOr(rc.BindingOptional, cfg.BindingOptional) {
			opts = append(opts, approov.AllowUnbound())
		}
		if boolOr(rc.BindingStripScheme, cfg.BindingStripScheme) {
			opts = append(opts, approov.StripScheme())
		}
		b, err := approov.NewBinding(headers, opts...)
		if err != nil {
			return nil, fmt.Errorf("route %q: %s", name, config.ErrorText(err))
		}
		binding = b
		rt.boundHeaders = b.Headers()
	}
	protect := func(endpoint string) func(http.Handler) http.Handler {
		return approovhttp.New(st.verifier,
			approovhttp.WithBinding(binding),
			approovhttp.WithMonitorMode(rt.monitor),
			approovhttp.WithPreflightSkipped(boolOr(rc.AllowPreflight, cfg.AllowPreflight)),
			approovhttp.WithLogger(g.log.With("route", rt.name, "endpoint", endpoint)),
			approovhttp.WithLogLimiter(st.logLimit),
			approovhttp.WithObserver(g.metrics.observer(rt.name, endpoint)),
		)
	}
	policy := rc.MessageSigning
	if policy == "" {
		policy = cfg.MessageSigning
	}
	signing := st.signing[policy]
	if serveProxy {
		var proxied http.Handler = backend
		if signing != nil {
			proxied = g.checkSignatures(st, rt, signing, "proxy", st.proxySigned, backend)
		}
		rt.proxy = protect("proxy")(g.rateLimited(st, rt, proxied))
		if rc.TokenQueryParam != "" {
			rt.proxy = queryToken(st, rc.TokenQueryParam, rt.proxy)
		}
	}
	if serveAuth {
		var answered http.Handler = facts
		if signing != nil {
			answered = g.checkSignatures(st, rt, signing, "forward_auth", st.forwardAuthSigned, facts)
		}
		rt.auth = protect("forward_auth")(g.rateLimitedChecks(st, rt, answered))
	}
	return rt, nil
}

func boolOr(p *bool, def bool) bool {
	if p != nil {
		return *p
	}
	return def
}

// publicHandler passes requests on a public route without a check.
func (g *Gateway) publicHandler(rt *route, endpoint string, next http.Handler) http.Handler {
	requests := g.metrics.requests.WithLabelValues(rt.name, endpoint, "public", approov.ReasonOK)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Inc()
		next.ServeHTTP(w, r)
	})
}

type notFound struct{}

func (notFound) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	writeJSONError(w, http.StatusNotFound, "not found")
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"error\":%q}\n", msg)
}
