// Package gateway composes the approov library into a reverse proxy and
// forward-auth service: per-route policy, proxying, forwarded facts,
// metrics, health, reloads and graceful shutdown.
//
// A [Gateway] holds its configuration as an immutable snapshot, a state,
// swapped atomically on reload: each request runs to its end on the state it
// started with, so a reload never changes the rules under a request.
package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/prometheus/client_golang/prometheus"
)

// Gateway is the running service. Build it with [New]; it serves the API
// through [Gateway.Handler] and operations through [Gateway.AdminHandler].
type Gateway struct {
	log     *slog.Logger
	metrics *metrics
	state   atomic.Pointer[state]

	// inflight counts requests in ServeHTTP, WebSocket connections
	// included, which http.Server.Shutdown does not wait for.
	inflight sync.WaitGroup
	draining atomic.Bool
}

var _ http.Handler = (*Gateway)(nil)

// New builds a gateway from cfg, registering its metrics with reg. It fails,
// with one line per problem, if any key cannot be loaded or any route built:
// a gateway that cannot verify tokens never starts.
func New(cfg *config.Config, log *slog.Logger, reg prometheus.Registerer) (*Gateway, error) {
	g := &Gateway{log: log, metrics: newMetrics(reg)}
	st, err := g.build(cfg)
	if err != nil {
		return nil, err
	}
	g.state.Store(st)
	return g, nil
}

// Check builds everything a gateway needs from cfg without serving: what
// --check-config runs.
func Check(cfg *config.Config) error {
	g := &Gateway{log: slog.New(slog.DiscardHandler), metrics: newMetrics(prometheus.NewRegistry())}
	_, err := g.build(cfg)
	return err
}

// Reload replaces the configuration with the one load returns. If load
// fails, or its configuration is bad, the gateway keeps serving with the
// old one and Reload returns why. Requests in flight finish under the
// configuration they started with.
func (g *Gateway) Reload(load func() (*config.Config, error)) error {
	cfg, err := load()
	var st *state
	if err == nil {
		st, err = g.build(cfg)
	}
	if err != nil {
		g.metrics.reloads.WithLabelValues("failure").Inc()
		return err
	}
	old := g.state.Swap(st)
	g.metrics.reloads.WithLabelValues("success").Inc()
	g.metrics.lastReload.SetToCurrentTime()
	for _, w := range restartOnly(old.cfg, cfg) {
		g.log.Warn("setting changed but needs a restart to apply", "setting", w)
	}
	// Idle connections of the old transports are closed now; busy ones
	// finish their requests first.
	go func() {
		time.Sleep(old.cfg.UpstreamResponseHeaderTimeout)
		old.closeIdle()
	}()
	return nil
}

// restartOnly names the settings that differ between a and b but apply
// only at start-up.
func restartOnly(a, b *config.Config) []string {
	var out []string
	for _, s := range []struct {
		name string
		a, b any
	}{
		{"listen", a.Listen, b.Listen}, {"admin_listen", a.AdminListen, b.AdminListen},
		{"log_format", a.LogFormat, b.LogFormat}, {"log_level", a.LogLevel, b.LogLevel},
		{"read_header_timeout", a.ReadHeaderTimeout, b.ReadHeaderTimeout}, {"idle_timeout", a.IdleTimeout, b.IdleTimeout},
		{"max_header_bytes", a.MaxHeaderBytes, b.MaxHeaderBytes}, {"shutdown_timeout", a.ShutdownTimeout, b.ShutdownTimeout},
	} {
		if s.a != s.b {
			out = append(out, s.name)
		}
	}
	return out
}

// Config returns the configuration in force.
func (g *Gateway) Config() *config.Config { return g.state.Load().cfg }

// state is one immutable configuration, ready to serve.
type state struct {
	cfg        *config.Config
	verifier   *approov.Verifier
	mux        *http.ServeMux
	routes     map[string]*route // by ServeMux pattern
	fallback   *route
	transports []*upstreamTransport
	trusted    []netip.Prefix
	// reservedPrefix is the gateway's header namespace, lower case with
	// dashes: only the gateway may send such headers upstream.
	reservedPrefix string
	tokenHeader    string
	facts          []fact
	buffers        *bufferPool
}

// fact is one verified fact forwarded upstream as a header.
type fact struct {
	claim  string
	header string
}

func (st *state) closeIdle() {
	for _, t := range st.transports {
		t.CloseIdleConnections()
	}
}

// build turns a configuration into a state, collecting every problem.
func (g *Gateway) build(cfg *config.Config) (*state, error) {
	var problems config.Problems
	keys, err := loadKeys(cfg)
	if err != nil {
		problems = append(problems, err.(config.Problems)...)
	}
	opts := []approov.Option{
		approov.WithKeys(keys...),
		approov.WithLeeway(cfg.Leeway),
		approov.WithIssuer(cfg.Issuer),
		approov.WithAudience(cfg.Audience),
		approov.WithTokenHeader(cfg.TokenHeader),
		approov.WithTokenPrefix(cfg.TokenPrefix),
		approov.WithMaxTokenSize(cfg.MaxTokenSize),
	}
	v, err := approov.NewVerifier(opts...)
	if err != nil {
		if len(problems) == 0 {
			problems = append(problems, strings.TrimPrefix(err.Error(), "approov: "))
		}
		// The routes are still built, with a stand-in key, so that their
		// problems are reported in the same pass; the state is discarded.
		v, _ = approov.NewVerifier(approov.WithSecret(make([]byte, approov.MinSecretSize)))
	}

	st := &state{
		cfg:            cfg,
		verifier:       v,
		mux:            http.NewServeMux(),
		routes:         map[string]*route{},
		trusted:        cfg.TrustedProxies,
		reservedPrefix: strings.ToLower(strings.ReplaceAll(cfg.ForwardHeaderPrefix, "_", "-")),
		tokenHeader:    http.CanonicalHeaderKey(cfg.TokenHeader),
		buffers:        newBufferPool(),
	}
	for _, name := range cfg.ForwardClaims {
		st.facts = append(st.facts, fact{claim: name, header: http.CanonicalHeaderKey(cfg.ForwardHeaderPrefix + config.ForwardedClaims[name])})
	}

	// One transport per upstream, so that each pools connections as its
	// own server allows (see upstreamTransport).
	upstreams := map[string]*upstream{}
	upstreamFor := func(raw string) *upstream {
		if u, ok := upstreams[raw]; ok {
			return u
		}
		target, _ := url.Parse(raw) // validated by config
		gauge := g.metrics.keepAlive.WithLabelValues(raw)
		t := newUpstreamTransport(cfg, func(on bool) {
			if on {
				gauge.Set(1)
			} else {
				gauge.Set(0)
			}
		})
		u := &upstream{target: target, transport: t}
		upstreams[raw] = u
		st.transports = append(st.transports, t)
		return u
	}

	defaultRoute := config.Route{Name: "default", Match: "/"}
	hasRoot := false
	for _, r := range cfg.Routes {
		if r.Match == "/" {
			hasRoot = true
		}
	}
	all := cfg.Routes
	if !hasRoot {
		all = append([]config.Route{defaultRoute}, cfg.Routes...)
	}
	for i := range all {
		rc := all[i]
		rt, err := g.buildRoute(st, &rc, upstreamFor)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if err := register(st.mux, rc.Match, rt); err != nil {
			problems = append(problems, fmt.Sprintf("route %q: %v", rt.name, err))
			continue
		}
		st.routes[rc.Match] = rt
		if rc.Match == "/" {
			st.fallback = rt
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return st, nil
}

var registeredAt = regexp.MustCompile(`\s*\(registered at [^)]*\)`)

// register adds a route's pattern to the mux, turning the mux's panic on an
// invalid or conflicting pattern into an error.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			// ServeMux explains in several lines and names its own source
			// lines; one line without them is what a user can act on.
			msg := registeredAt.ReplaceAllString(fmt.Sprint(r), "")
			msg = strings.TrimPrefix(msg, fmt.Sprintf("pattern %q", pattern))
			msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, ":\n", ": ")), " ")
			err = errors.New(strings.TrimSpace(msg))
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// loadKeys reads every configured key.
func loadKeys(cfg *config.Config) ([]*approov.Key, error) {
	var keys []*approov.Key
	var problems config.Problems
	add := func(where string, k *approov.Key, err error) {
		if err != nil {
			problems = append(problems, where+": "+strings.TrimPrefix(err.Error(), "approov: "))
			return
		}
		keys = append(keys, k)
	}
	// where names the setting as the user wrote it: the environment
	// variable for top-level keys, the YAML path for the keys list.
	load := func(name func(setting string) string, id, b64, b64url, file, pubFile string) {
		var k *approov.Key
		var err error
		var where string
		switch {
		case b64 != "":
			where = name("base64_secret")
			k, err = secretKey(id, b64)
		case b64url != "":
			where = name("base64url_secret")
			k, err = secretKey(id, b64url)
		case file != "":
			where = name("secret_file") + " " + file
			var data []byte
			if data, err = os.ReadFile(file); err == nil {
				k, err = secretKey(id, string(data))
			} else {
				err = fileError(err)
			}
		case pubFile != "":
			where = name("public_key_file") + " " + pubFile
			var data []byte
			if data, err = os.ReadFile(pubFile); err == nil {
				k, err = approov.ParsePublicKey(id, data)
			} else {
				err = fileError(err)
			}
		default:
			return
		}
		add(where, k, err)
	}
	load(config.EnvName, cfg.KeyID, cfg.Base64Secret, cfg.Base64URLSecret, cfg.SecretFile, cfg.PublicKeyFile)
	for i, k := range cfg.Keys {
		load(func(s string) string { return fmt.Sprintf("keys[%d].%s", i, s) }, k.ID, k.Base64Secret, k.Base64URLSecret, k.SecretFile, k.PublicKeyFile)
	}
	if len(problems) > 0 {
		return keys, problems
	}
	return keys, nil
}

func secretKey(id, encoded string) (*approov.Key, error) {
	secret, err := approov.DecodeSecret(encoded)
	if err != nil {
		return nil, err
	}
	return approov.NewSecretKey(id, secret)
}

func fileError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err // the path is already in the message
	}
	return err
}

// route is one routing rule, built.
type route struct {
	name            string
	mode            string
	monitor         bool
	tokenQueryParam string
	// proxy serves requests on the proxy listener; auth answers
	// forward-auth checks for requests the route would match.
	proxy http.Handler
	auth  http.Handler
}

// ServeHTTP serves the route on the proxy listener.
func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.proxy.ServeHTTP(w, r) }

// upstream is one backend and the transport that reaches it.
type upstream struct {
	target    *url.URL
	transport *upstreamTransport
}

func (g *Gateway) buildRoute(st *state, rc *config.Route, upstreamFor func(string) *upstream) (*route, error) {
	cfg := st.cfg
	name := rc.Name
	if name == "" {
		name = rc.Match
	}
	rt := &route{
		name:            name,
		mode:            cfg.RouteMode(rc),
		monitor:         boolOr(rc.Monitor, cfg.Monitor),
		tokenQueryParam: rc.TokenQueryParam,
	}

	var up *upstream
	switch {
	case rc.Upstream != "":
		up = upstreamFor(rc.Upstream)
	case cfg.Upstream != "":
		up = upstreamFor(cfg.Upstream)
	}
	var backend http.Handler = notFound{}
	if up != nil {
		backend = g.newProxy(st, rt, up.target, up.transport)
	}

	facts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.setFacts(w.Header(), r, rt, true)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	})
	if rt.mode == config.ModePublic {
		rt.proxy = g.publicHandler(st, rt, "proxy", backend)
		rt.auth = g.publicHandler(st, rt, "forward_auth", facts)
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
			return nil, fmt.Errorf("route %q: %v", name, strings.TrimPrefix(err.Error(), "approov: "))
		}
		binding = b
	}
	protect := func(endpoint string) func(http.Handler) http.Handler {
		return approovhttp.New(st.verifier,
			approovhttp.WithBinding(binding),
			approovhttp.WithMonitorMode(rt.monitor),
			approovhttp.WithPreflightSkipped(boolOr(rc.AllowPreflight, cfg.AllowPreflight)),
			approovhttp.WithLogger(g.log.With("route", rt.name, "endpoint", endpoint)),
			approovhttp.WithObserver(g.metrics.observer(rt.name, endpoint)),
		)
	}
	rt.proxy = protect("proxy")(backend)
	rt.auth = protect("forward_auth")(facts)
	if rt.tokenQueryParam != "" {
		rt.proxy = queryToken(st, rt.tokenQueryParam, rt.proxy)
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
func (g *Gateway) publicHandler(st *state, rt *route, endpoint string, next http.Handler) http.Handler {
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

// ServeHTTP serves the API listener: request limits, the forward-auth
// endpoint, then the routes.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.inflight.Add(1)
	defer g.inflight.Done()
	g.metrics.inflight.Inc()
	defer g.metrics.inflight.Dec()

	st := g.state.Load()
	if n := headerCount(r.Header); n > st.cfg.MaxHeaderCount {
		g.metrics.refused.WithLabelValues("too_many_headers").Inc()
		writeJSONError(w, http.StatusRequestHeaderFieldsTooLarge, "too many header fields")
		return
	}
	if ambiguousPath(r.URL.EscapedPath()) {
		g.metrics.refused.WithLabelValues("ambiguous_path").Inc()
		writeJSONError(w, http.StatusBadRequest, "encoded slash or backslash in path")
		return
	}
	if p := r.URL.Path; p == st.cfg.ForwardAuthPath || strings.HasPrefix(p, st.cfg.ForwardAuthPath+"/") {
		g.serveForwardAuth(st, w, r)
		return
	}
	if st.cfg.ForwardAuthOnly {
		writeJSONError(w, http.StatusNotFound, "not found")
		return
	}
	st.mux.ServeHTTP(w, r)
}

func headerCount(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

// ambiguousPath reports an escaped path that backends may split
// differently than the gateway's router does: %2F and %5C become separators
// in some servers and not in others.
func ambiguousPath(escaped string) bool {
	if !strings.Contains(escaped, "%") {
		return false
	}
	lower := strings.ToLower(escaped)
	return strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%00")
}

// queryToken moves a token from the query parameter param into the token
// header, for WebSocket upgrades from clients that cannot set headers. Both
// at once are ambiguous and rejected by the verifier as a duplicate.
func queryToken(st *state, param string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebSocketUpgrade(r) || !strings.Contains(r.URL.RawQuery, param) {
			next.ServeHTTP(w, r)
			return
		}
		values, rest := extractQueryParam(r.URL.RawQuery, param)
		if len(values) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = rest
		r2.RequestURI = ""
		for _, v := range values {
			r2.Header.Add(st.tokenHeader, v)
		}
		next.ServeHTTP(w, r2)
	})
}

// extractQueryParam removes every occurrence of param from a raw query,
// returning their values and the query without them, other parameters left
// exactly as they were.
func extractQueryParam(raw, param string) (values []string, rest string) {
	var kept []string
	for _, part := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == param {
			if val, err := url.QueryUnescape(v); err == nil {
				values = append(values, val)
			} else {
				values = append(values, v)
			}
			continue
		}
		kept = append(kept, part)
	}
	return values, strings.Join(kept, "&")
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
