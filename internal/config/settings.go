package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// setting is one scalar setting: its name, documentation, default and how
// to apply a value given as text.
type setting struct {
	name   string
	usage  string
	def    string
	secret bool
	apply  func(c *Config, v string) error
}

// EnvName returns the environment variable of the setting name.
func EnvName(name string) string { return "APPROOV_" + strings.ToUpper(name) }

// FlagName returns the flag of the setting name.
func FlagName(name string) string { return strings.ReplaceAll(name, "_", "-") }

var settings = []setting{
	{name: "base64_secret", secret: true, usage: "the Approov secret, base64-encoded (from `approov secret -get base64`)",
		apply: func(c *Config, v string) error { c.Base64Secret = v; return nil }},
	{name: "base64url_secret", secret: true, usage: "the Approov secret, base64url-encoded",
		apply: func(c *Config, v string) error { c.Base64URLSecret = v; return nil }},
	{name: "secret_file", usage: "file holding the Approov secret, base64 or base64url",
		apply: func(c *Config, v string) error { c.SecretFile = v; return nil }},
	{name: "public_key_file", usage: "PEM public key file, for accounts that sign with RS256 or ES256",
		apply: func(c *Config, v string) error { c.PublicKeyFile = v; return nil }},
	{name: "key_id", usage: "key id (kid) of the secret or public key above, if the account sets one",
		apply: func(c *Config, v string) error { c.KeyID = v; return nil }},

	{name: "leeway", def: "0s", usage: "clock skew allowed when checking exp, nbf and iat",
		apply: durationSetting(func(c *Config) *time.Duration { return &c.Leeway })},
	{name: "issuer", usage: "required iss claim, if any",
		apply: func(c *Config, v string) error { c.Issuer = v; return nil }},
	{name: "audience", usage: "required aud claim, if any",
		apply: func(c *Config, v string) error { c.Audience = v; return nil }},
	{name: "token_header", def: "Approov-Token", usage: "header the app sends the token in",
		apply: func(c *Config, v string) error { c.TokenHeader = v; return nil }},
	{name: "token_prefix", usage: "prefix to strip from the token header, such as \"Bearer \"",
		apply: func(c *Config, v string) error { c.TokenPrefix = v; return nil }},
	{name: "max_token_size", def: "8192", usage: "longest token accepted, in bytes",
		apply: intSetting(func(c *Config) *int { return &c.MaxTokenSize })},
	{name: "binding_headers", usage: "comma-separated headers tokens are bound to, usually Authorization; empty for no binding",
		apply: func(c *Config, v string) error { c.BindingHeaders = splitList(v); return nil }},
	{name: "binding_optional", def: "false", usage: "accept tokens without a pay claim (the Approov failover system sends none)",
		apply: boolSetting(func(c *Config) *bool { return &c.BindingOptional })},
	{name: "binding_strip_scheme", def: "false", usage: "hash only the credential of bound headers, without \"Bearer \"",
		apply: boolSetting(func(c *Config) *bool { return &c.BindingStripScheme })},
	{name: "monitor", def: "false", usage: "log and forward requests with failing tokens instead of rejecting them",
		apply: boolSetting(func(c *Config) *bool { return &c.Monitor })},
	{name: "allow_preflight", def: "false", usage: "let CORS preflight requests through without a token",
		apply: boolSetting(func(c *Config) *bool { return &c.AllowPreflight })},

	{name: "listen", def: "127.0.0.1:8002", usage: "address to serve the API on",
		apply: func(c *Config, v string) error { c.Listen = v; return nil }},
	{name: "upstream", usage: "backend base URL, such as http://127.0.0.1:8000",
		apply: func(c *Config, v string) error { c.Upstream = v; return nil }},
	{name: "forward_auth_only", def: "false", usage: "serve only the forward-auth endpoint, with no upstream",
		apply: boolSetting(func(c *Config) *bool { return &c.ForwardAuthOnly })},
	{name: "forward_auth_path", def: "/_approov/verify", usage: "path of the forward-auth endpoint (nginx auth_request, Traefik, Caddy, Envoy)",
		apply: func(c *Config, v string) error { c.ForwardAuthPath = v; return nil }},
	{name: "preserve_host", def: "false", usage: "send the client's Host header upstream instead of the upstream's",
		apply: boolSetting(func(c *Config) *bool { return &c.PreserveHost })},
	{name: "keep_token_header", def: "false", usage: "send the token header upstream too",
		apply: boolSetting(func(c *Config) *bool { return &c.KeepTokenHeader })},
	{name: "forward_claims", def: "result,did,exp", usage: "verified facts sent upstream as headers: result, did, exp, ip, arc, ipk, mskid, pay, iss, sub",
		apply: func(c *Config, v string) error { c.ForwardClaims = splitList(v); return nil }},
	{name: "forward_header_prefix", def: "Approov-", usage: "prefix of the headers the gateway sets upstream; client copies are removed",
		apply: func(c *Config, v string) error { c.ForwardHeaderPrefix = v; return nil }},
	{name: "trusted_proxies", usage: "comma-separated CIDRs of load balancers whose X-Forwarded-* headers are kept",
		apply: func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, s := range splitList(v) {
				p, err := parsePrefix(s)
				if err != nil {
					return err
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			return nil
		}},

	{name: "read_header_timeout", def: "10s", usage: "time allowed to read a request's headers",
		apply: durationSetting(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{name: "idle_timeout", def: "120s", usage: "how long an idle keep-alive connection stays open",
		apply: durationSetting(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{name: "upstream_dial_timeout", def: "5s", usage: "time allowed to connect to the upstream",
		apply: durationSetting(func(c *Config) *time.Duration { return &c.UpstreamDialTimeout })},
	{name: "upstream_response_header_timeout", def: "60s", usage: "time allowed for the upstream's response headers (504 after)",
		apply: durationSetting(func(c *Config) *time.Duration { return &c.UpstreamResponseHeaderTimeout })},
	{name: "upstream_keepalive", def: "auto", usage: "pool upstream connections: auto (while the upstream keeps them alive), true or false",
		apply: func(c *Config, v string) error {
			switch v = strings.ToLower(strings.TrimSpace(v)); v {
			case "auto", "true", "false":
				c.UpstreamKeepAlive = v
				return nil
			}
			return fmt.Errorf("%q is not auto, true or false", v)
		}},
	{name: "shutdown_timeout", def: "15s", usage: "time allowed to drain in-flight requests on SIGTERM",
		apply: durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{name: "max_header_bytes", def: "32768", usage: "largest request header block accepted, in bytes",
		apply: intSetting(func(c *Config) *int { return &c.MaxHeaderBytes })},
	{name: "max_header_count", def: "100", usage: "most request header fields accepted (431 beyond)",
		apply: intSetting(func(c *Config) *int { return &c.MaxHeaderCount })},

	{name: "admin_listen", def: "127.0.0.1:9002", usage: "address for /healthz, /readyz and /metrics; \"off\" for none",
		apply: func(c *Config, v string) error { c.AdminListen = v; return nil }},
	{name: "log_format", def: "json", usage: "json or text",
		apply: func(c *Config, v string) error { c.LogFormat = v; return nil }},
	{name: "log_level", def: "info", usage: "debug, info, warn or error",
		apply: func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{name: "access_log", def: "false", usage: "log one line per request",
		apply: boolSetting(func(c *Config) *bool { return &c.AccessLog })},
}

func durationSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration (use for example 30s or 1m)", v)
		}
		*field(c) = d
		return nil
	}
}

func intSetting(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*field(c) = n
		return nil
	}
}

func boolSetting(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
}

// Setting describes one scalar setting, for help output and docs.
type Setting struct {
	Name, Env, Flag, Default, Usage string
	Secret                          bool
}

// Settings lists the scalar settings in documentation order.
func Settings() []Setting {
	out := make([]Setting, len(settings))
	for i, s := range settings {
		f := "--" + FlagName(s.name)
		if s.secret {
			f = ""
		}
		out[i] = Setting{Name: s.name, Env: EnvName(s.name), Flag: f, Default: s.def, Usage: s.usage, Secret: s.secret}
	}
	return out
}
