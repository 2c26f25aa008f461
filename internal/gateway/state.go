package gateway

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/assertion"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/ratelimit"
	"github.com/approov-gateway/approov/msgsig"
)

// state is one immutable configuration, ready to serve.
type state struct {
	cfg      *config.Config
	verifier *approov.Verifier
	// mux routes requests to *route handlers; anything else it returns
	// (a redirect, 404, 405) is served as ServeMux serves it.
	mux        *http.ServeMux
	routes     []*route
	transports []*upstreamTransport
	upstreams  []config.Upstream // for readyz_upstreams
	trusted    []netip.Prefix
	// reservedPrefix is the gateway's header namespace, lower case with
	// dashes: only the gateway may send such headers upstream.
	reservedPrefix string
	tokenHeader    string
	facts          []fact
	buffers        *bufferPool
	// signer signs the Approov-Assertion header; nil when no
	// assertion_secret is set.
	signer          *assertion.Signer
	assertionHeader string
	// guardedHeaders are the names a Connection header must not nominate
	// besides the namespace and forwarding headers: the token header and
	// every bound header.
	guardedHeaders []string
	// routedMethods are the methods route patterns name, so that CONNECT
	// and TRACE pass only where a route asks for them.
	routedMethods map[string]bool
	forwardAuth   forwardAuthPolicy
	// signing holds the message-signature verifiers by policy (auto,
	// required); publicURL is public_url, or nil.
	// logLimit bounds the rejection lines of every route and endpoint
	// (log_rejections_per_second); nil logs every one.
	logLimit *approovhttp.LogLimiter
	// limiter decides per-device rate limits: the gateway's Local, or
	// redis when rate_limit_redis_url shares them.
	limiter   ratelimit.Limiter
	redis     *ratelimit.Redis
	signing   map[string]*msgsig.Verifier
	publicURL *url.URL
	warnings  []string
}

// retire lets the idle upstream connections of a replaced state go, once
// requests still running on it have had time to finish.
func (st *state) retire() {
	time.AfterFunc(st.cfg.UpstreamResponseHeaderTimeout, func() {
		for _, t := range st.transports {
			t.CloseIdleConnections()
		}
		if st.redis != nil {
			st.redis.Close()
		}
	})
}

// build turns a configuration into a state, collecting every problem.
func (g *Gateway) build(cfg *config.Config) (*state, error) {
	var problems config.Problems
	st := &state{
		cfg:             cfg,
		mux:             http.NewServeMux(),
		trusted:         cfg.TrustedProxies,
		reservedPrefix:  strings.ToLower(strings.ReplaceAll(cfg.ForwardHeaderPrefix, "_", "-")),
		tokenHeader:     http.CanonicalHeaderKey(cfg.TokenHeader),
		assertionHeader: http.CanonicalHeaderKey(cfg.ForwardHeaderPrefix + "Assertion"),
		buffers:         newBufferPool(),
		guardedHeaders:  []string{cfg.TokenHeader},
		routedMethods:   map[string]bool{},
		forwardAuth:     newForwardAuthPolicy(cfg),
		logLimit:        approovhttp.NewLogLimiter(cfg.LogRejectionsPerSecond),
		limiter:         g.local,
	}
	if cfg.ExtAuthzGRPCListen != "off" && !extAuthzBuilt {
		problems = append(problems, "ext_authz_grpc_listen: this approov-gateway was built without Envoy's gRPC ext_authz; use the approov-gateway-envoy build (go build -tags extauthz)")
	}
	if cfg.RateLimitRedisURL != "" {
		r, err := ratelimit.NewRedis(cfg.RateLimitRedisURL, cfg.RateLimitRedisTimeout)
		if err != nil {
			problems = append(problems, "rate_limit_redis_url: "+err.Error())
		} else {
			st.redis, st.limiter = r, r
		}
	}
	for _, name := range cfg.ForwardClaims {
		f, _ := config.FactNamed(name) // validated by config
		st.facts = append(st.facts, fact{Fact: f, header: http.CanonicalHeaderKey(cfg.ForwardHeaderPrefix + f.Header)})
	}

	keys, warnings, err := config.LoadKeys(cfg)
	st.warnings = append(st.warnings, warnings...)
	if err != nil {
		problems = append(problems, problemLines(nil, err)...)
	}
	keyOpts := []approov.Option{approov.WithKeys(keys...)}
	if g.jwks != nil {
		keyOpts = append(keyOpts, approov.WithKeySet(g.jwks.Set()))
	}
	v, err := approov.NewVerifier(append(keyOpts,
		approov.WithLeeway(cfg.Leeway),
		approov.WithIssuer(cfg.Issuer),
		approov.WithAudience(cfg.Audience),
		approov.WithTokenHeader(cfg.TokenHeader),
		approov.WithTokenPrefix(cfg.TokenPrefix),
		approov.WithMaxTokenSize(cfg.MaxTokenSize),
		approov.WithMaxLifetime(cfg.MaxTokenLifetime),
	)...)
	if err != nil {
		if len(problems) == 0 {
			problems = append(problems, config.ErrorText(err))
		}
		// The routes are still built, with a stand-in key, so that their
		// problems are reported in the same pass; the state is discarded.
		v = standInVerifier()
	}
	st.verifier = v

	signer, warning, err := assertionSigner(cfg)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if warning != "" {
		st.warnings = append(st.warnings, warning)
	}
	st.signer = signer
	if signer == nil && err == nil {
		st.warnings = append(st.warnings, "assertion_secret is not set: backends cannot tell the facts the gateway forwards from forged ones (docs/ASSERTION.md)")
	}

	st.publicURL = parsePublicURL(cfg.PublicURL)
	if st.signing, err = signingVerifiers(cfg); err != nil {
		problems = append(problems, problemLines(nil, err)...)
	}
	if cfg.MessageSigning != config.SigningOff && cfg.PublicURL == "" && len(cfg.TrustedProxies) == 0 {
		st.warnings = append(st.warnings, "message_signing is on but neither public_url nor trusted_proxies is set: the target URI apps signed is rebuilt as http:// and the Host header, which fails behind TLS or a load balancer")
	}

	upstreams := map[string]*upstream{}
	for i, rc := range routeConfigs(cfg) {
		rt, err := g.buildRoute(st, &rc, upstreams)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		pattern := canonicalPattern(rc.Match)
		if err := register(st.mux, pattern, rt); err != nil {
			problems = append(problems, fmt.Sprintf("%s.match: %v", routeWhere(cfg, i), err))
			continue
		}
		if method, _, _ := config.SplitPattern(pattern); method != "" {
			st.routedMethods[method] = true
		}
		st.guardedHeaders = append(st.guardedHeaders, rt.boundHeaders...)
		st.routes = append(st.routes, rt)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	st.warnings = append(st.warnings, st.methodWarnings()...)
	return st, nil
}

// routeConfigs returns the configured routes, with the default route
// first when no route matches "/": requests no route matches take the
// default policy and fail closed.
func routeConfigs(cfg *config.Config) []config.Route {
	for _, r := range cfg.Routes {
		if r.Match == "/" {
			return cfg.Routes
		}
	}
	return append([]config.Route{{Name: "default", Match: "/"}}, cfg.Routes...)
}

// routeWhere names the i-th route of routeConfigs as the configuration
// does.
func routeWhere(cfg *config.Config, i int) string {
	if len(routeConfigs(cfg)) > len(cfg.Routes) {
		if i == 0 {
			return "the default route"
		}
		i--
	}
	return fmt.Sprintf("routes[%d]", i)
}

// canonicalPattern lower-cases a pattern's host, as requests are routed
// on lower-case hosts.
func canonicalPattern(match string) string {
	method, host, path := config.SplitPattern(match)
	host = config.CanonicalPatternHost(host)
	if method == "" {
		return host + path
	}
	return method + " " + host + path
}

func standInVerifier() *approov.Verifier {
	secret := make([]byte, 64)
	rand.Read(secret)
	v, _ := approov.NewVerifier(approov.WithSecret(secret))
	return v
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

// methodWarnings warns where a protected route names a method and a public
// route takes the other methods on the same path: "POST /upload" protected
// under a public "/" leaves GET /upload, PUT /upload … public, which may be
// meant, but often is not.
func (st *state) methodWarnings() []string {
	var out []string
	for _, rt := range st.routes {
		method, host, path := config.SplitPattern(rt.pattern)
		if method == "" || rt.mode == config.ModePublic {
			continue
		}
		probe := &http.Request{Host: host, URL: &url.URL{Path: probePath(path)}}
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if m == method || (method == "GET" && m == "HEAD") {
				continue
			}
			probe.Method = m
			if other, ok := st.lookup(probe).(*route); ok && other.mode == config.ModePublic {
				out = append(out, fmt.Sprintf("route %q protects only %s; %s and other methods on its path take the public route %q", rt.name, method, m, other.name))
				break
			}
		}
	}
	return out
}

// probePath turns a pattern's path into a path it matches.
func probePath(pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '{' {
			b.WriteByte(pattern[i])
			continue
		}
		end := strings.IndexByte(pattern[i:], '}')
		if end < 0 {
			break
		}
		if pattern[i:i+end+1] != "{$}" {
			b.WriteString("x")
		}
		i += end
	}
	return b.String()
}

// lookup returns the handler the mux picks for r.
func (st *state) lookup(r *http.Request) http.Handler {
	h, _ := st.mux.Handler(r)
	return h
}

// assertionSigner returns the signer of the Approov-Assertion header, or
// nil when no assertion secret is set.
func assertionSigner(cfg *config.Config) (*assertion.Signer, string, error) {
	secret, where, warning := cfg.AssertionSecret, "APPROOV_ASSERTION_SECRET", ""
	if cfg.AssertionSecretFile != "" {
		where = "APPROOV_ASSERTION_SECRET_FILE"
		data, w, err := config.ReadKeyFile(where, cfg.AssertionSecretFile, true)
		if err != nil {
			return nil, "", err
		}
		secret, warning = string(data), w
	}
	if secret == "" {
		return nil, warning, nil
	}
	keys, err := assertion.ParseKeys(secret)
	if err != nil {
		return nil, warning, fmt.Errorf("%s: %s", where, config.ErrorText(err))
	}
	s, err := assertion.NewSigner(keys, assertion.WithAudience(cfg.AssertionAudience), assertion.WithLifetime(cfg.AssertionLifetime))
	if err != nil {
		return nil, warning, fmt.Errorf("%s: %s", where, config.ErrorText(err))
	}
	return s, warning, nil
}
