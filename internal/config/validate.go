package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/approov-gateway/approov/internal/jwks"
	"github.com/approov-gateway/approov/internal/ratelimit"
)

// maxAssertionLifetime is the longest assertion_lifetime accepted: the
// default maximum of the verifiers in docs/ASSERTION.md.
const maxAssertionLifetime = 5 * time.Minute

// validation collects the problems validate finds. Each is about the value
// at a path — a setting's name (listen), or a route or key of the Config
// or one of its fields (routes[2], routes[2].mode) — or about no one value
// (path ""). The path places the problem at the value's line when the
// value came from the YAML file, and tells [Config.Buildable] which values
// to put back to their defaults.
type validation struct {
	c        *Config
	problems Problems
	invalid  map[string]bool
}

func (c *Config) newValidation() *validation {
	return &validation{c: c, invalid: map[string]bool{}}
}

func (v *validation) add(path, format string, args ...any) {
	if path != "" {
		v.invalid[path] = true
	}
	v.problems = append(v.problems, v.c.at(path)+fmt.Sprintf(format, args...))
}

// validate checks what single settings cannot: consistency, addresses,
// URLs and routes. Keys are checked when they are loaded (see the
// gateway). Problems name settings, never their values. It keeps the paths
// of the values found bad, for [Config.Buildable].
func (c *Config) validate() Problems {
	v := c.newValidation()
	add := v.add

	c.validateKeys(add)
	c.validateListeners(add)
	c.validateForwardAuth(add)

	if c.TokenHeader == "" {
		add("token_header", "token_header is empty")
	}
	if c.ForwardHeaderPrefix == "" || strings.ContainsAny(c.ForwardHeaderPrefix, " _:") {
		add("forward_header_prefix", "forward_header_prefix: want a header name prefix such as Approov-")
	}
	for i, f := range c.ForwardClaims {
		if _, ok := FactNamed(f); !ok {
			add("forward_claims", "forward_claims: item %d is not one of %s", i+1, strings.Join(factNames(), ", "))
		}
	}
	if c.AssertionSecret != "" && c.AssertionSecretFile != "" {
		add("assertion_secret_file", "set only one of assertion_secret and assertion_secret_file")
	}
	if c.AssertionAudience == "" {
		add("assertion_audience", "assertion_audience is empty")
	}
	if c.AssertionLifetime < time.Second || c.AssertionLifetime > maxAssertionLifetime {
		add("assertion_lifetime", "assertion_lifetime: want from 1s to %v", maxAssertionLifetime)
	}
	if c.MaxHeaderBytes < 1024 {
		add("max_header_bytes", "max_header_bytes: want at least 1024")
	}
	if c.MaxHeaderCount < 8 {
		add("max_header_count", "max_header_count: want at least 8")
	}
	c.validateRateLimit(add)
	if c.LogRejectionsPerSecond < 0 {
		add("log_rejections_per_second", "log_rejections_per_second: want 0 (every line) or more")
	}
	if c.MaxTokenSize < 64 {
		add("max_token_size", "max_token_size: want at least 64")
	}
	if c.RequestBuffering > 1<<30 {
		add("request_buffering", "request_buffering: want at most 1GiB (bodies are buffered in memory)")
	}
	if c.ReadHeaderTimeout == 0 {
		add("read_header_timeout", "read_header_timeout must not be 0: without it, slow clients can hold connections forever")
	}
	if c.BodyReadTimeout == 0 {
		add("body_read_timeout", "body_read_timeout must not be 0: without it, slow uploads can hold connections forever")
	}
	if c.ShutdownTimeout == 0 {
		add("shutdown_timeout", "shutdown_timeout must not be 0")
	}
	if c.UpstreamDialTimeout == 0 {
		add("upstream_dial_timeout", "upstream_dial_timeout must not be 0")
	}
	if c.UpstreamResponseHeaderTimeout == 0 {
		add("upstream_response_header_timeout", "upstream_response_header_timeout must not be 0")
	}
	c.validateSigning(add)
	c.validateRoutes(add)
	c.invalid = v.invalid
	return v.problems
}

// addFunc records a problem about the value at path; see validation.
type addFunc func(path, format string, args ...any)

func (c *Config) validateSigning(add addFunc) {
	if c.AccountSigningBase64URL != "" && c.AccountSigningBase64 != "" {
		add("account_message_signing_secret_base64", "set only one of APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL and APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			add("public_url", "public_url: want the scheme and host apps use, such as https://api.example.com")
		case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
			add("public_url", "public_url: want only a scheme and host (and port), no path, query or credentials")
		}
	}
}

func (c *Config) validateKeys(add addFunc) {
	sources := 0
	for _, s := range []string{c.Base64Secret, c.Base64URLSecret, c.SecretFile, c.PublicKeyFile} {
		if s != "" {
			sources++
		}
	}
	if sources > 1 {
		add("", "set only one of APPROOV_BASE64_SECRET, APPROOV_BASE64URL_SECRET, APPROOV_SECRET_FILE and APPROOV_PUBLIC_KEY_FILE; list more keys under keys: in the config file")
	}
	if sources == 0 && len(c.Keys) == 0 && c.JWKSURL == "" {
		add("", "no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE, APPROOV_PUBLIC_KEY_FILE or APPROOV_JWKS_URL")
	}
	c.validateJWKS(add)
	if c.KeyID != "" && sources == 0 {
		add("key_id", "key_id is set but there is no secret or public key for it")
	}
	for i, k := range c.Keys {
		n := 0
		for _, s := range []string{k.Base64Secret, k.Base64URLSecret, k.SecretFile, k.PublicKeyFile} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			add(fmt.Sprintf("keys[%d]", i), "%s: set exactly one of base64_secret, base64url_secret, secret_file, public_key_file", c.itemName("keys", i))
		}
	}
}

// The bounds of the JWK set's timings: refreshes that protect the
// account's server, a timeout that bounds the requests waiting for a
// fetch an unknown kid caused.
const (
	minJWKSRefresh    = 30 * time.Second
	minJWKSUnknownKid = 10 * time.Second
	maxJWKSTimeout    = time.Minute
)

func (c *Config) validateJWKS(add addFunc) {
	if c.JWKSURL != "" {
		if _, err := jwks.CheckURL(c.JWKSURL); err != nil {
			add("jwks_url", "jwks_url: %v", err)
		}
	}
	if c.JWKSRefreshInterval < minJWKSRefresh {
		add("jwks_refresh_interval", "jwks_refresh_interval: want at least %v", minJWKSRefresh)
	}
	if c.JWKSUnknownKidInterval < minJWKSUnknownKid {
		add("jwks_unknown_kid_interval", "jwks_unknown_kid_interval: want at least %v: tokens choose their kid, so each may cost the account's server a request", minJWKSUnknownKid)
	}
	if c.JWKSTimeout < time.Second || c.JWKSTimeout > maxJWKSTimeout {
		add("jwks_timeout", "jwks_timeout: want from 1s to %v", maxJWKSTimeout)
	}
}

func (c *Config) validateListeners(add addFunc) {
	if err := checkAddr(c.Listen); err != nil {
		add("listen", "listen: %v", err)
	}
	seen := map[string]string{c.Listen: "listen"}
	for _, l := range []struct{ name, addr string }{
		{"forward_auth_listen", c.ForwardAuthListen},
		{"ext_authz_grpc_listen", c.ExtAuthzGRPCListen},
		{"admin_listen", c.AdminListen},
	} {
		if l.addr == "off" {
			continue
		}
		if err := checkAddr(l.addr); err != nil {
			add(l.name, "%s: %v (or off)", l.name, err)
			continue
		}
		if other, dup := seen[l.addr]; dup && !strings.HasSuffix(l.addr, ":0") {
			add(l.name, "%s and %s have the same address; each listener needs its own", l.name, other)
		}
		seen[l.addr] = l.name
	}
	switch {
	case c.Upstream != "":
		if err := checkUpstream(c.Upstream); err != nil {
			add("upstream", "upstream: %v", err)
		}
		if c.ForwardAuthOnly {
			add("forward_auth_only", "forward_auth_only is true but upstream is set: choose one")
		}
	case !c.ForwardAuthOnly:
		missing := len(c.Routes) == 0
		for _, r := range c.Routes {
			if r.Upstream == "" {
				missing = true
			}
		}
		if missing {
			add("upstream", "no upstream: set APPROOV_UPSTREAM (such as http://127.0.0.1:8000), or forward_auth_only: true to serve only the forward-auth endpoint")
		}
	}
	if c.ForwardAuthOnly && c.ForwardAuthListen != "off" {
		add("forward_auth_listen", "forward_auth_only already serves the forward-auth endpoint on listen; forward_auth_listen is for serving it beside the proxy")
	}
}

// ForwardAuthSecretHeader is the header a proxy sends forward_auth_secret
// in.
const ForwardAuthSecretHeader = "Approov-Forward-Auth-Secret"

// minForwardAuthSecret is the shortest forward_auth_secret accepted.
const minForwardAuthSecret = 16

func (c *Config) validateForwardAuth(add addFunc) {
	p := c.ForwardAuthPath
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " ?#%\\") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		add("forward_auth_path", "forward_auth_path: want an absolute path such as /_approov/verify, without a trailing slash")
	}
	if s := c.ForwardAuthSecret; s != "" {
		if len(s) < minForwardAuthSecret || distinctBytes(s) < 8 {
			add("forward_auth_secret", "forward_auth_secret: want at least %d characters, random (approov-gateway secret gen makes one)", minForwardAuthSecret)
		}
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f {
				add("forward_auth_secret", "forward_auth_secret: only printable ASCII without spaces can travel in a header")
				break
			}
		}
	}
}

// distinctBytes counts the distinct byte values of s.
func distinctBytes(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

func (c *Config) validateRoutes(add addFunc) {
	names := map[string]int{}
	for i, r := range c.Routes {
		where := c.itemName("routes", i)
		path := func(field string) string { return fmt.Sprintf("routes[%d].%s", i, field) }
		if r.Match == "" {
			add(path("match"), "%s: match is required, such as \"GET /api/\"", where)
		}
		switch r.Mode {
		case "", ModePublic, ModeToken, ModeBinding:
		default:
			add(path("mode"), "%s.mode: want public, token or binding", where)
		}
		if r.Mode == ModeBinding && len(r.BindingHeaders) == 0 && len(c.BindingHeaders) == 0 {
			add(path("mode"), "%s: mode binding needs binding_headers, here or at the top level", where)
		}
		if r.Mode == ModePublic && (len(r.BindingHeaders) > 0 || r.TokenQueryParam != "") {
			add(path("mode"), "%s: a public route checks no token; remove binding_headers and token_query_param", where)
		}
		switch r.AssertionBind {
		case "", BindTarget, BindHost:
		default:
			add(path("assertion_bind"), "%s.assertion_bind: want target or host", where)
		}
		switch r.MessageSigning {
		case "", SigningOff, SigningAuto, SigningRequired:
		default:
			add(path("message_signing"), "%s.message_signing: want off, auto or required", where)
		}
		if r.RateLimit != "" || r.RateLimitBurst != nil {
			if _, err := c.RouteRateLimit(r); err != nil {
				add(path("rate_limit"), "%s.rate_limit: %v", where, err)
			} else if r.Mode == ModePublic && r.RateLimit != RateLimitOff {
				add(path("rate_limit"), "%s: a public route verifies no device to limit; remove rate_limit", where)
			}
		}
		if r.Upstream != "" {
			if err := checkUpstream(r.Upstream); err != nil {
				add(path("upstream"), "%s.upstream: %v", where, err)
			}
			if c.ForwardAuthOnly {
				add(path("upstream"), "%s: forward_auth_only is true but the route has an upstream", where)
			}
		}
		name := r.Name
		if name == "" {
			name = r.Match
		}
		if j, dup := names[name]; dup {
			add(path("name"), "%s.name: already used by %s", where, c.itemName("routes", j))
		}
		names[name] = i
		if r.TokenQueryParam != "" && strings.ContainsAny(r.TokenQueryParam, "&=#?% ") {
			add(path("token_query_param"), "%s.token_query_param: not a plain parameter name", where)
		}
	}
	c.validateSharedUpstreams(add)
}

// validateSharedUpstreams refuses host routes that send requests for
// different hosts to one upstream while the upstream never sees the Host:
// it cannot tell the hosts apart, so a request for a public host reaches
// the paths a protected host routes there.
func (c *Config) validateSharedUpstreams(add addFunc) {
	if c.PreserveHost || c.ForwardAuthOnly {
		return
	}
	type user struct {
		path, name, host string
	}
	byUpstream := map[string][]user{}
	hasRoot := false
	for i, r := range c.Routes {
		if r.Match == "/" {
			hasRoot = true
		}
		up := r.Upstream
		if up == "" {
			up = c.Upstream
		}
		_, host, _ := SplitPattern(r.Match)
		byUpstream[up] = append(byUpstream[up], user{fmt.Sprintf("routes[%d]", i), c.itemName("routes", i), CanonicalPatternHost(host)})
	}
	if !hasRoot {
		byUpstream[c.Upstream] = append(byUpstream[c.Upstream], user{"", "the default route", ""})
	}
	for _, up := range slices.Sorted(maps.Keys(byUpstream)) {
		users := byUpstream[up]
		if up == "" {
			continue
		}
		for _, u := range users[1:] {
			if u.host != users[0].host {
				// Placed at the later route; the problem is about the
				// pair, so neither is reset for Buildable.
				add("", "%s%s and %s route different hosts to the same upstream while preserve_host is off, so the upstream cannot tell them apart: set preserve_host: true, or give each host its own upstream", c.at(u.path), users[0].name, u.name)
				break
			}
		}
	}
}

// SplitPattern splits a ServeMux pattern "[METHOD ][HOST]/[PATH]" into its
// parts. It does not validate; ServeMux does when the pattern is
// registered.
func SplitPattern(pattern string) (method, host, path string) {
	rest := strings.TrimSpace(pattern)
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return method, rest, ""
	}
	return method, rest[:i], rest[i:]
}

// CanonicalPatternHost returns a pattern's host as the gateway routes on
// hosts: lower case, without a trailing dot.
func CanonicalPatternHost(host string) string {
	return strings.TrimRight(strings.ToLower(host), ".")
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, such as 127.0.0.1:8002")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("bad port")
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return errors.New("host must be an IP address, localhost, or empty for all interfaces")
		}
	}
	return nil
}

func checkUpstream(raw string) error {
	_, err := ParseUpstream(raw)
	return err
}

// RateLimitOff turns rate limiting off, at the top level or on a route.
const RateLimitOff = "off"

// validateRateLimit checks the top-level rate-limit settings.
func (c *Config) validateRateLimit(add addFunc) {
	if _, err := c.RouteRateLimit(Route{}); err != nil {
		add("rate_limit", "rate_limit: %v", err)
	}
	if c.RateLimitRedisURL != "" {
		if err := ratelimit.CheckURL(c.RateLimitRedisURL); err != nil {
			add("rate_limit_redis_url", "rate_limit_redis_url: %v", err)
		}
	}
	if c.RateLimitAddress != "" && c.RateLimitAddress != RateLimitOff {
		if _, err := ratelimit.ParseLimit(c.RateLimitAddress, c.RateLimitAddressBurst); err != nil {
			add("rate_limit_address", "rate_limit_address: %v", err)
		}
	}
	if c.RateLimitRedisTimeout <= 0 || c.RateLimitRedisTimeout > time.Second {
		add("rate_limit_redis_timeout", "rate_limit_redis_timeout: want more than 0 and at most 1s")
	}
}

// RouteRateLimit returns the limit route r applies (its own rate_limit and
// rate_limit_burst, else the top level's), or nil for none.
func (c *Config) RouteRateLimit(r Route) (*ratelimit.Limit, error) {
	spec, burst := c.RateLimit, c.RateLimitBurst
	if r.RateLimit != "" {
		spec = r.RateLimit
	}
	if r.RateLimitBurst != nil {
		burst = *r.RateLimitBurst
	}
	if spec == "" || spec == RateLimitOff {
		return nil, nil
	}
	l, err := ratelimit.ParseLimit(spec, burst)
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// AddressRateLimit returns the per-address limit, or nil for none.
func (c *Config) AddressRateLimit() *ratelimit.Limit {
	if c.RateLimitAddress == "" || c.RateLimitAddress == RateLimitOff {
		return nil
	}
	l, err := ratelimit.ParseLimit(c.RateLimitAddress, c.RateLimitAddressBurst)
	if err != nil {
		return nil // refused by validate
	}
	return &l
}
