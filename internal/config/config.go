// Package config loads the gateway's configuration from defaults, an
// optional YAML file, a .env file, the environment and flags, in rising
// precedence, and checks it.
//
// Every scalar setting has one name, used everywhere: the YAML key
// (binding_headers), the environment variable with APPROOV_ in front, in
// capitals (APPROOV_BINDING_HEADERS), and the flag with dashes
// (--binding-headers). Secrets have no flag, so that they never show in a
// process list. Routes and extra keys are YAML only.
//
// Loading collects every problem it finds, each as one line that names where
// the bad value came from, so that a broken configuration is fixed in one
// pass; see [Problems].
package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/assertion"
)

// Config is the gateway's whole configuration.
type Config struct {
	// Keys. At most one of the three secret sources is set; Keys adds
	// more, each with an id.
	Base64Secret    string
	Base64URLSecret string
	SecretFile      string
	PublicKeyFile   string
	KeyID           string
	Keys            []Key

	// Keys fetched from a JWK set URL, beside the ones above.
	JWKSURL                string
	JWKSRefreshInterval    time.Duration
	JWKSUnknownKidInterval time.Duration
	JWKSTimeout            time.Duration
	JWKSAllowSymmetric     bool

	// Verification.
	Leeway             time.Duration
	Issuer             string
	Audience           string
	TokenHeader        string
	TokenPrefix        string
	MaxTokenSize       int
	BindingHeaders     []string
	BindingOptional    bool
	BindingStripScheme bool
	Monitor            bool
	AllowPreflight     bool
	MaxTokenLifetime   time.Duration

	// Message signing (docs/MESSAGE_SIGNING.md).
	MessageSigning          string
	AccountSigningBase64URL string
	AccountSigningBase64    string
	AccountSigningKeyID     string
	MessageSigningTolerance time.Duration
	MessageSigningMaxAge    time.Duration
	MaxSignedBody           int64
	PublicURL               string

	// Proxying and forward auth.
	Listen            string
	Upstream          string
	ForwardAuthOnly   bool
	ForwardAuthPath   string
	ForwardAuthListen string // "off" for none
	// ExtAuthzGRPCListen serves Envoy's ext_authz over gRPC; "off" for none.
	ExtAuthzGRPCListen    string
	ForwardAuthConvention string
	ForwardAuthSecret     string
	ForwardAuthCallers    []netip.Prefix
	PreserveHost          bool
	KeepTokenHeader       bool
	ForwardClaims         []string
	ForwardHeaderPrefix   string
	TrustedProxies        []netip.Prefix
	UnderscoreHeaders     string
	Routes                []Route

	// Signed facts: the Approov-Assertion header (docs/ASSERTION.md).
	AssertionSecret     string
	AssertionSecretFile string
	AssertionAudience   string
	AssertionLifetime   time.Duration

	// Limits and timeouts.
	ReadHeaderTimeout             time.Duration
	IdleTimeout                   time.Duration
	UpstreamDialTimeout           time.Duration
	UpstreamResponseHeaderTimeout time.Duration
	UpstreamKeepAlive             string
	UpstreamFastPath              bool
	ShutdownTimeout               time.Duration
	MaxHeaderBytes                int
	MaxHeaderCount                int
	MaxConnections                int // 0: derived from the file-descriptor limit
	BodyReadTimeout               time.Duration
	BodyMinRate                   int64
	RequestBuffering              int64
	MaxRequestBody                int64

	// Operations.
	AdminListen     string
	LogFormat       string
	LogLevel        string
	AccessLog       bool
	ReadyzUpstreams bool
	// LogRejectionsPerSecond bounds the rejection lines logged per
	// second; 0 logs every one.
	LogRejectionsPerSecond int

	// Rate limits per device (the verified did): RateLimit is "" or "off"
	// for none, else "N/s", "N/m" or "N/h"; routes may replace it.
	RateLimit             string
	RateLimitBurst        int
	RateLimitRedisURL     string
	RateLimitRedisTimeout time.Duration
	RateLimitFailClosed   bool
	RateLimitMonitor      bool
	// RateLimitAddress is a second, opt-in limit per client address (or
	// per the token's ip claim, by RateLimitAddressKey): "off" for none.
	RateLimitAddress      string
	RateLimitAddressBurst int
	RateLimitAddressKey   string

	// File is the YAML file the configuration was read from, if any.
	File string

	// Where values came from and what loading found, for problems to
	// point at their lines (yaml.go) and for Buildable and Warnings.
	lines    map[string]int  // the line of each top-level key of File
	routeSrc []item          // parallel to Routes, when they came from File
	keySrc   []item          // parallel to Keys, when they came from File
	invalid  map[string]bool // the paths of the values validate found bad
	warnings []string
}

// Key is an extra verification key, from the YAML keys list.
type Key struct {
	ID              string `yaml:"id"`
	Base64Secret    string `yaml:"base64_secret"`
	Base64URLSecret string `yaml:"base64url_secret"`
	SecretFile      string `yaml:"secret_file"`
	PublicKeyFile   string `yaml:"public_key_file"`
}

// Route is one rule of the routing policy, from the YAML routes list.
// Unset fields take the top-level setting of the same name.
type Route struct {
	// Name labels the route in metrics and logs; the default is Match.
	Name string `yaml:"name"`
	// Match is a net/http ServeMux pattern: "[METHOD ][HOST]/PATH", where a
	// path ending in a slash matches everything below it.
	Match string `yaml:"match"`
	// Mode is public (no check), token, or binding.
	Mode               string   `yaml:"mode"`
	BindingHeaders     []string `yaml:"binding_headers"`
	BindingOptional    *bool    `yaml:"binding_optional"`
	BindingStripScheme *bool    `yaml:"binding_strip_scheme"`
	Monitor            *bool    `yaml:"monitor"`
	AllowPreflight     *bool    `yaml:"allow_preflight"`
	// Upstream replaces the top-level upstream for this route.
	Upstream string `yaml:"upstream"`
	// TokenQueryParam names a query parameter that may carry the token
	// on WebSocket upgrades, for clients that cannot set headers. The
	// parameter is removed before the request goes upstream.
	TokenQueryParam string `yaml:"token_query_param"`
	// AssertionBind is what the signed assertion binds: target (method,
	// host and request target; the default) or host (method and host),
	// for proxies that rewrite the path after a forward-auth check.
	AssertionBind string `yaml:"assertion_bind"`
	// MessageSigning replaces the top-level message_signing for this
	// route: off, auto or required.
	MessageSigning string `yaml:"message_signing"`
	// RateLimit and RateLimitBurst replace the top-level rate_limit and
	// rate_limit_burst for this route; "off" turns the limit off.
	RateLimit      string `yaml:"rate_limit"`
	RateLimitBurst *int   `yaml:"rate_limit_burst"`
}

// The values of Route.AssertionBind.
const (
	BindTarget = "target"
	BindHost   = "host"
)

// The values of message_signing.
const (
	SigningOff      = "off"
	SigningAuto     = "auto"
	SigningRequired = "required"
)

// The values of underscore_headers.
const (
	UnderscoreDrop = "drop"
	UnderscoreKeep = "keep"
)

// The forward-auth conventions: where a check reads the original method
// and URI.
const (
	ConventionAuto      = "auto"
	ConventionNginx     = "nginx"
	ConventionForwarded = "forwarded"
	ConventionEnvoy     = "envoy"
)

// The route modes.
const (
	ModePublic  = "public"
	ModeToken   = "token"
	ModeBinding = "binding"
)

// Fact is one fact the gateway can forward upstream: the name
// forward_claims lists it by, the header it travels in after
// forward_header_prefix, how to read it from a token's verified claims,
// and its field in a signed assertion's clm.
type Fact struct {
	Name   string
	Header string
	// Get reads the fact from verified claims; nil for result, which is
	// the verdict rather than a claim.
	Get func(*approov.Claims) string
	// Clm is the fact's field in an assertion's clm; nil for the facts an
	// assertion carries as claims of its own (result, did, exp).
	Clm func(*assertion.Forwarded) *string
}

// facts is the one table of the facts the gateway can forward. The
// forwarded headers, the assertion's clm, validation of forward_claims and
// docs/CONFIGURATION.md all derive from it.
var facts = []Fact{
	{Name: "result", Header: "Result"},
	{Name: "did", Header: "Device-Id", Get: func(c *approov.Claims) string { return c.DeviceID }},
	{Name: "exp", Header: "Token-Expiry", Get: func(c *approov.Claims) string { return strconv.FormatInt(c.Expiry.Unix(), 10) }},
	{Name: "ip", Header: "Client-Ip", Get: func(c *approov.Claims) string { return c.IP },
		Clm: func(f *assertion.Forwarded) *string { return &f.IP }},
	{Name: "arc", Header: "Attestation-Response", Get: func(c *approov.Claims) string { return c.AttestationResponse },
		Clm: func(f *assertion.Forwarded) *string { return &f.AttestationResponse }},
	{Name: "ipk", Header: "Installation-Key", Get: func(c *approov.Claims) string { return c.InstallationPublicKey },
		Clm: func(f *assertion.Forwarded) *string { return &f.InstallationPublicKey }},
	{Name: "mskid", Header: "Message-Signing-Key-Id", Get: func(c *approov.Claims) string { return c.MessageSigningKeyID },
		Clm: func(f *assertion.Forwarded) *string { return &f.MessageSigningKeyID }},
	{Name: "pay", Header: "Payload-Hash", Get: func(c *approov.Claims) string { return c.PayloadHash },
		Clm: func(f *assertion.Forwarded) *string { return &f.PayloadHash }},
	{Name: "iss", Header: "Issuer", Get: func(c *approov.Claims) string { return c.Issuer },
		Clm: func(f *assertion.Forwarded) *string { return &f.Issuer }},
	{Name: "sub", Header: "Subject", Get: func(c *approov.Claims) string { return c.Subject },
		Clm: func(f *assertion.Forwarded) *string { return &f.Subject }},
}

// FactNamed returns the fact forward_claims calls name.
func FactNamed(name string) (Fact, bool) {
	for _, f := range facts {
		if f.Name == name {
			return f, true
		}
	}
	return Fact{}, false
}

func factNames() []string {
	names := make([]string, len(facts))
	for i, f := range facts {
		names[i] = f.Name
	}
	return names
}

// RouteMode returns the mode of route r: its own, or binding when binding
// headers apply to it, or token.
func (c *Config) RouteMode(r *Route) string {
	if r != nil && r.Mode != "" {
		return r.Mode
	}
	if r != nil && len(r.BindingHeaders) > 0 {
		return ModeBinding
	}
	if len(c.BindingHeaders) > 0 {
		return ModeBinding
	}
	return ModeToken
}

// Addresses are where the gateway's listeners are: the API's (the proxy,
// or the forward-auth endpoint with forward_auth_only), the forward-auth
// endpoint's beside the proxy, and the admin endpoints'; "" for one that is
// off.
type Addresses struct {
	Listen, ForwardAuth, Admin string
}

// Addresses returns the addresses the configuration asks for. They are the
// addresses in use only until a listener binds port 0, which the kernel
// then chooses, or a reload changes an address, which applies only at the
// next start: a running gateway knows its own.
func (c *Config) Addresses() Addresses {
	a := Addresses{Listen: c.Listen, ForwardAuth: c.ForwardAuthListen, Admin: c.AdminListen}
	if c.ForwardAuthOnly || a.ForwardAuth == "off" {
		a.ForwardAuth = ""
	}
	if a.Admin == "off" {
		a.Admin = ""
	}
	return a
}

// Summary describes a configuration in one line, without any secret or
// credential, and without addresses, which it cannot know for a running
// gateway (see [Config.Addresses]); [Config.SummaryAt] adds them.
func (c *Config) Summary() string {
	forwardAuth := "forward-auth off"
	switch {
	case c.ForwardAuthOnly:
		forwardAuth = "forward-auth at " + c.ForwardAuthPath
	case c.ForwardAuthListen != "off":
		forwardAuth = "forward-auth beside the proxy at " + c.ForwardAuthPath
	}
	return c.summary() + ", " + forwardAuth
}

// SummaryAt is [Config.Summary] with the addresses the listeners are at,
// which a running gateway passes as they are in use, and a check passes as
// the configuration asks for them.
func (c *Config) SummaryAt(a Addresses) string {
	forwardAuth := "forward-auth off"
	switch {
	case c.ForwardAuthOnly:
		forwardAuth = "forward-auth at " + c.ForwardAuthPath
	case a.ForwardAuth != "":
		forwardAuth = "forward-auth at " + a.ForwardAuth + c.ForwardAuthPath
	}
	admin := "admin off"
	if a.Admin != "" {
		admin = "admin " + a.Admin
	}
	return fmt.Sprintf("listen %s, %s, %s, %s", a.Listen, c.summary(), forwardAuth, admin)
}

// summary is what Summary and SummaryAt share: the policy, keys and routes.
func (c *Config) summary() string {
	keys := len(c.Keys)
	if c.Base64Secret != "" || c.Base64URLSecret != "" || c.SecretFile != "" || c.PublicKeyFile != "" {
		keys++
	}
	target := "upstream " + redactURL(c.Upstream)
	if c.ForwardAuthOnly {
		target = "forward-auth only"
	}
	binding := "no binding"
	if len(c.BindingHeaders) > 0 {
		binding = "binding " + strings.Join(c.BindingHeaders, "+")
	}
	mode := "enforcing"
	if c.Monitor {
		mode = "monitor mode"
	}
	assertion := "no signed facts"
	if c.AssertionSecret != "" || c.AssertionSecretFile != "" {
		assertion = "signed facts for " + c.AssertionAudience
	}
	keySources := fmt.Sprintf("%d key(s)", keys)
	if c.JWKSURL != "" {
		keySources += " + JWK set " + redactURL(c.JWKSURL)
	}
	return fmt.Sprintf("%s, %s, %d route(s), %s, %s, %s", target, keySources, len(c.Routes), binding, mode, assertion)
}

// redactURL returns raw without user information or query, for logs. The
// user name goes too, not only the password: in http://TOKEN@host it is
// the credential; a query may hold an API key.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
