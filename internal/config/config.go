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
	"sort"
	"strings"
	"time"
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

	// Proxying and forward auth.
	Listen                string
	Upstream              string
	ForwardAuthOnly       bool
	ForwardAuthPath       string
	ForwardAuthListen     string // "off" for none
	ForwardAuthConvention string
	ForwardAuthSecret     string
	ForwardAuthCallers    []netip.Prefix
	PreserveHost          bool
	KeepTokenHeader       bool
	ForwardClaims         []string
	ForwardHeaderPrefix   string
	TrustedProxies        []netip.Prefix
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
	ShutdownTimeout               time.Duration
	MaxHeaderBytes                int
	MaxHeaderCount                int
	MaxConnections                int // 0: derived from the file-descriptor limit
	BodyReadTimeout               time.Duration
	BodyMinRate                   int64
	RequestBuffering              int64
	MaxRequestBody                int64

	// Operations.
	AdminListen string
	LogFormat   string
	LogLevel    string
	AccessLog   bool

	// File is the YAML file the configuration was read from, if any.
	File string
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
}

// The values of Route.AssertionBind.
const (
	BindTarget = "target"
	BindHost   = "host"
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

// ForwardedClaims maps each fact the gateway can forward upstream to the
// header name after the prefix: did becomes Approov-Device-Id.
var ForwardedClaims = map[string]string{
	"result": "Result",
	"did":    "Device-Id",
	"exp":    "Token-Expiry",
	"ip":     "Client-Ip",
	"arc":    "Attestation-Response",
	"ipk":    "Installation-Key",
	"mskid":  "Message-Signing-Key-Id",
	"pay":    "Payload-Hash",
	"iss":    "Issuer",
	"sub":    "Subject",
}

func forwardedClaimNames() []string {
	names := make([]string, 0, len(ForwardedClaims))
	for n := range ForwardedClaims {
		names = append(names, n)
	}
	sort.Strings(names)
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

// Summary describes a configuration in one line, without any secret or
// credential.
func (c *Config) Summary() string {
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
	forwardAuth := "forward-auth off"
	switch {
	case c.ForwardAuthOnly:
		forwardAuth = "forward-auth at " + c.ForwardAuthPath
	case c.ForwardAuthListen != "off":
		forwardAuth = "forward-auth at " + c.ForwardAuthListen + c.ForwardAuthPath
	}
	return fmt.Sprintf("listen %s, %s, %d key(s), %d route(s), %s, %s, %s, %s",
		c.Listen, target, keys, len(c.Routes), binding, mode, assertion, forwardAuth)
}

// redactURL returns raw without user information, for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
