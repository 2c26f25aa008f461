package config

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// setting is one scalar setting: its name, documentation, default, how
// its value is parsed and where it is stored, and whether a reload can
// apply it. Everything else about a setting — the environment variable,
// the flag, help, docs/CONFIGURATION.md, reload warnings — is derived from
// this table.
type setting struct {
	name   string
	usage  string
	def    string
	secret bool
	// restart: the setting applies at start-up only; a reload that changes
	// it says so.
	restart bool
	value   value
}

// value parses a setting's text into its field of a Config and reads it
// back.
type value interface {
	set(c *Config, text string) error
	get(c *Config) any
}

// envName returns the environment variable of the setting name.
func envName(name string) string { return "APPROOV_" + strings.ToUpper(name) }

// flagName returns the flag of the setting name.
func flagName(name string) string { return strings.ReplaceAll(name, "_", "-") }

var settings = []setting{
	{name: "base64_secret", secret: true, usage: "the Approov secret, base64-encoded (from `approov secret -get base64`)",
		value: text(func(c *Config) *string { return &c.Base64Secret })},
	{name: "base64url_secret", secret: true, usage: "the Approov secret, base64url-encoded",
		value: text(func(c *Config) *string { return &c.Base64URLSecret })},
	{name: "secret_file", usage: "file holding the Approov secret, base64 or base64url",
		value: text(func(c *Config) *string { return &c.SecretFile })},
	{name: "public_key_file", usage: "PEM public key file, for accounts that sign with RS256 or ES256",
		value: text(func(c *Config) *string { return &c.PublicKeyFile })},
	{name: "key_id", usage: "key id (kid) of the secret or public key above, if the account sets one",
		value: text(func(c *Config) *string { return &c.KeyID })},
	{name: "jwks_url", restart: true, usage: "URL of the account's JWK set (https; http only to a loopback address), whose keys verify tokens beside those above",
		value: text(func(c *Config) *string { return &c.JWKSURL })},
	{name: "jwks_refresh_interval", def: "15m", restart: true, usage: "time between background fetches of the JWK set (give or take a tenth); failures retry sooner",
		value: duration(func(c *Config) *time.Duration { return &c.JWKSRefreshInterval })},
	{name: "jwks_unknown_kid_interval", def: "1m", restart: true, usage: "shortest time between fetches caused by tokens naming a key the set lacks",
		value: duration(func(c *Config) *time.Duration { return &c.JWKSUnknownKidInterval })},
	{name: "jwks_timeout", def: "10s", restart: true, usage: "time allowed for one fetch of the JWK set",
		value: duration(func(c *Config) *time.Duration { return &c.JWKSTimeout })},
	{name: "jwks_allow_symmetric", def: "false", restart: true, usage: "use oct (HMAC) keys of the JWK set; off because a published HMAC secret lets anyone make tokens",
		value: boolean(func(c *Config) *bool { return &c.JWKSAllowSymmetric })},

	{name: "leeway", def: "0s", usage: "clock skew allowed when checking exp, nbf and iat",
		value: duration(func(c *Config) *time.Duration { return &c.Leeway })},
	{name: "issuer", usage: "required iss claim, if any",
		value: text(func(c *Config) *string { return &c.Issuer })},
	{name: "audience", usage: "required aud claim, if any",
		value: text(func(c *Config) *string { return &c.Audience })},
	{name: "token_header", def: "Approov-Token", usage: "header the app sends the token in",
		value: text(func(c *Config) *string { return &c.TokenHeader })},
	{name: "token_prefix", usage: "prefix to strip from the token header, such as \"Bearer \"",
		value: text(func(c *Config) *string { return &c.TokenPrefix })},
	{name: "max_token_size", def: "8192", usage: "longest token accepted, in bytes",
		value: integer(func(c *Config) *int { return &c.MaxTokenSize })},
	{name: "max_token_lifetime", def: "0s", usage: "reject tokens that expire further ahead than this (token_lifetime); 0s for no limit",
		value: duration(func(c *Config) *time.Duration { return &c.MaxTokenLifetime })},
	{name: "binding_headers", usage: "comma-separated headers tokens are bound to, usually Authorization; empty for no binding",
		value: list(func(c *Config) *[]string { return &c.BindingHeaders })},
	{name: "binding_optional", def: "false", usage: "accept tokens without a pay claim (the Approov failover system sends none)",
		value: boolean(func(c *Config) *bool { return &c.BindingOptional })},
	{name: "binding_strip_scheme", def: "false", usage: "hash only the credential of bound headers, without \"Bearer \"",
		value: boolean(func(c *Config) *bool { return &c.BindingStripScheme })},
	{name: "monitor", def: "false", usage: "log and forward requests with failing tokens instead of rejecting them",
		value: boolean(func(c *Config) *bool { return &c.Monitor })},
	{name: "allow_preflight", def: "false", usage: "let CORS preflight requests through without a token",
		value: boolean(func(c *Config) *bool { return &c.AllowPreflight })},

	{name: "message_signing", def: SigningAuto, usage: "Approov message signatures (RFC 9421): auto checks those a token calls for (ipk: install, mskid: account), required needs one on every protected request, off checks none",
		value: choice(func(c *Config) *string { return &c.MessageSigning }, SigningOff, SigningAuto, SigningRequired)},
	{name: "account_message_signing_secret_base64url", secret: true, usage: "the account message signing key, base64url (approov secret -messageSigningKey get-base64url)",
		value: text(func(c *Config) *string { return &c.AccountSigningBase64URL })},
	{name: "account_message_signing_secret_base64", secret: true, usage: "the account message signing key, base64",
		value: text(func(c *Config) *string { return &c.AccountSigningBase64 })},
	{name: "account_message_signing_key_id", usage: "id of that key, checked against the token's mskid when set",
		value: text(func(c *Config) *string { return &c.AccountSigningKeyID })},
	{name: "message_signing_tolerance", def: "60s", usage: "clock skew allowed on a signature's created and expires",
		value: duration(func(c *Config) *time.Duration { return &c.MessageSigningTolerance })},
	{name: "message_signing_max_age", def: "0s", usage: "oldest signature accepted, by its created; 0s for no limit beyond expires",
		value: duration(func(c *Config) *time.Duration { return &c.MessageSigningMaxAge })},
	{name: "max_signed_body", def: "64MiB", usage: "largest body whose Content-Digest is checked before the upstream sees it (spooled to a temporary file beyond request_buffering; 413 beyond)",
		value: size(func(c *Config) *int64 { return &c.MaxSignedBody })},
	{name: "public_url", usage: "the scheme and host apps use, such as https://api.example.com, to rebuild the target URI they signed; default: from trusted proxies' X-Forwarded-Proto/Host, else http and Host",
		value: text(func(c *Config) *string { return &c.PublicURL })},

	{name: "listen", def: "127.0.0.1:8002", restart: true, usage: "address to serve the API on",
		value: text(func(c *Config) *string { return &c.Listen })},
	{name: "upstream", usage: "backend base URL, such as http://127.0.0.1:8000, or a Unix socket, such as unix:/run/gunicorn.sock",
		value: text(func(c *Config) *string { return &c.Upstream })},
	{name: "preserve_host", def: "false", usage: "send the client's Host header upstream instead of the upstream's",
		value: boolean(func(c *Config) *bool { return &c.PreserveHost })},
	{name: "keep_token_header", def: "false", usage: "send the token header upstream too",
		value: boolean(func(c *Config) *bool { return &c.KeepTokenHeader })},
	{name: "forward_claims", def: "result,did,exp", usage: "verified facts sent upstream as headers: result, did, exp, ip, arc, ipk, mskid, pay, iss, sub",
		value: list(func(c *Config) *[]string { return &c.ForwardClaims })},
	{name: "forward_header_prefix", def: "Approov-", usage: "prefix of the headers the gateway sets upstream; client copies are removed",
		value: text(func(c *Config) *string { return &c.ForwardHeaderPrefix })},
	{name: "underscore_headers", def: UnderscoreDrop, usage: "request headers whose names have an underscore: drop them before the upstream, as nginx does (WSGI servers read Script_Name as SCRIPT_NAME), or keep them",
		value: choice(func(c *Config) *string { return &c.UnderscoreHeaders }, UnderscoreDrop, UnderscoreKeep)},
	{name: "trusted_proxies", usage: "comma-separated CIDRs of load balancers whose X-Forwarded-* headers are kept",
		value: prefixes(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},

	{name: "assertion_secret", secret: true, usage: "comma-separated base64 keys that sign the Approov-Assertion header for the backend (docs/ASSERTION.md); the first signs",
		value: text(func(c *Config) *string { return &c.AssertionSecret })},
	{name: "assertion_secret_file", usage: "file holding assertion_secret",
		value: text(func(c *Config) *string { return &c.AssertionSecretFile })},
	{name: "assertion_audience", def: "approov-backend", usage: "aud claim of assertions; give each backend sharing a key its own",
		value: text(func(c *Config) *string { return &c.AssertionAudience })},
	{name: "assertion_lifetime", def: "60s", usage: "how long an assertion is valid (at most 5m); long enough to outlast queueing in the backend",
		value: duration(func(c *Config) *time.Duration { return &c.AssertionLifetime })},

	{name: "forward_auth_only", def: "false", usage: "serve only the forward-auth endpoint on listen, with no upstream",
		value: boolean(func(c *Config) *bool { return &c.ForwardAuthOnly })},
	{name: "ext_authz_grpc_listen", def: "off", restart: true, usage: "address of a listener for Envoy's external authorisation over gRPC (envoy.service.auth.v3.Authorization/Check), answered as the forward-auth endpoint answers; off for none",
		value: text(func(c *Config) *string { return &c.ExtAuthzGRPCListen })},
	{name: "forward_auth_listen", def: "off", restart: true, usage: "address of a listener for the forward-auth endpoint beside the proxy; off for none",
		value: text(func(c *Config) *string { return &c.ForwardAuthListen })},
	{name: "forward_auth_path", def: "/_approov/verify", usage: "path of the forward-auth endpoint (nginx auth_request, Traefik, Caddy, Envoy)",
		value: text(func(c *Config) *string { return &c.ForwardAuthPath })},
	{name: "forward_auth_convention", def: ConventionAuto, usage: "where checks read the original request: nginx (X-Original-*), forwarded (X-Forwarded-Method/Uri: Traefik, Caddy), envoy (the path after forward_auth_path), or auto (whichever one a check carries)",
		value: choice(func(c *Config) *string { return &c.ForwardAuthConvention }, ConventionAuto, ConventionNginx, ConventionForwarded, ConventionEnvoy)},
	{name: "forward_auth_secret", secret: true, usage: "shared secret the calling proxy must send in Approov-Forward-Auth-Secret; empty for none",
		value: text(func(c *Config) *string { return &c.ForwardAuthSecret })},
	{name: "forward_auth_callers", usage: "comma-separated CIDRs allowed to call the forward-auth endpoint; empty for any",
		value: prefixes(func(c *Config) *[]netip.Prefix { return &c.ForwardAuthCallers })},

	{name: "read_header_timeout", def: "10s", restart: true, usage: "time allowed to read a request's headers",
		value: duration(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{name: "idle_timeout", def: "120s", restart: true, usage: "how long an idle keep-alive connection stays open",
		value: duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{name: "body_read_timeout", def: "30s", usage: "longest wait for the next bytes of a request body (408 after); never applies to WebSockets",
		value: duration(func(c *Config) *time.Duration { return &c.BodyReadTimeout })},
	{name: "body_min_rate", def: "240", usage: "slowest request body accepted, in bytes per second over each body_read_timeout (408 below); 0 for none",
		value: size(func(c *Config) *int64 { return &c.BodyMinRate })},
	{name: "request_buffering", def: "64KiB", usage: "request bodies up to this size are read whole before the upstream is called; larger ones stream; 0 for none",
		value: size(func(c *Config) *int64 { return &c.RequestBuffering })},
	{name: "max_request_body", def: "0", usage: "largest request body accepted (413 beyond); 0 for no limit",
		value: size(func(c *Config) *int64 { return &c.MaxRequestBody })},
	{name: "max_connections", def: "auto", restart: true, usage: "most client connections open at once, idle keep-alive ones included; auto: half the file-descriptor limit, at most 10000",
		value: autoInt(func(c *Config) *int { return &c.MaxConnections })},
	{name: "upstream_dial_timeout", def: "5s", usage: "time allowed to connect to the upstream",
		value: duration(func(c *Config) *time.Duration { return &c.UpstreamDialTimeout })},
	{name: "upstream_response_header_timeout", def: "60s", usage: "time allowed for the upstream's response headers (504 after)",
		value: duration(func(c *Config) *time.Duration { return &c.UpstreamResponseHeaderTimeout })},
	{name: "upstream_keepalive", def: "auto", usage: "pool upstream connections: auto (while the upstream keeps them alive), true or false",
		value: choice(func(c *Config) *string { return &c.UpstreamKeepAlive }, "auto", "true", "false")},
	{name: "upstream_fast_path", def: "true", usage: "proxy plain requests (no body, or one of at most 32 KiB buffered in memory) with the gateway's own HTTP/1.1 proxy and client, the rest with httputil.ReverseProxy and net/http's Transport; false for those only",
		value: boolean(func(c *Config) *bool { return &c.UpstreamFastPath })},
	{name: "shutdown_timeout", def: "15s", usage: "time allowed to drain in-flight requests on SIGTERM",
		value: duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{name: "max_header_bytes", def: "32768", restart: true, usage: "largest request header block accepted, in bytes",
		value: integer(func(c *Config) *int { return &c.MaxHeaderBytes })},
	{name: "max_header_count", def: "100", usage: "most request header fields accepted (431 beyond)",
		value: integer(func(c *Config) *int { return &c.MaxHeaderCount })},

	{name: "admin_listen", def: "127.0.0.1:9002", restart: true, usage: "address for /healthz, /readyz and /metrics; off for none",
		value: text(func(c *Config) *string { return &c.AdminListen })},
	{name: "log_format", def: "json", restart: true, usage: "json or text",
		value: choice(func(c *Config) *string { return &c.LogFormat }, "json", "text")},
	{name: "log_level", def: "info", restart: true, usage: "debug, info, warn or error",
		value: choice(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{name: "readyz_upstreams", def: "false", usage: "make /readyz connect to every upstream, and answer 503 when one cannot be reached",
		value: boolean(func(c *Config) *bool { return &c.ReadyzUpstreams })},
	{name: "access_log", def: "false", usage: "log one line per request",
		value: boolean(func(c *Config) *bool { return &c.AccessLog })},
	{name: "rate_limit", def: "off", usage: "requests each device (the verified token's did) may make, such as 100/m (per s, m or h); off for none; routes may set their own",
		value: text(func(c *Config) *string { return &c.RateLimit })},
	{name: "rate_limit_burst", def: "0", usage: "requests a device may make at once before rate_limit paces it; 0 for the limit's count",
		value: integer(func(c *Config) *int { return &c.RateLimitBurst })},
	{name: "rate_limit_redis_url", def: "", usage: "share rate limits between gateways through this Redis (redis://host:6379/0, rediss:// for TLS); empty keeps them in this process",
		value: text(func(c *Config) *string { return &c.RateLimitRedisURL })},
	{name: "rate_limit_redis_timeout", def: "10ms", usage: "longest a rate-limit decision waits for Redis before the failure policy applies",
		value: duration(func(c *Config) *time.Duration { return &c.RateLimitRedisTimeout })},
	{name: "rate_limit_fail_closed", def: "false", usage: "when Redis cannot decide, refuse (503) instead of letting the request through (the token check still applies)",
		value: boolean(func(c *Config) *bool { return &c.RateLimitFailClosed })},
	{name: "rate_limit_monitor", def: "false", usage: "log and count requests over the rate limit, but let them through",
		value: boolean(func(c *Config) *bool { return &c.RateLimitMonitor })},
	{name: "rate_limit_address", def: "off", usage: "a second limit, per client address (an IPv6 /64) or per the token's ip claim (rate_limit_address_key), such as 1000/m; off for none. Many genuine users can share one address behind carrier-grade NAT: keep it well above one device's",
		value: text(func(c *Config) *string { return &c.RateLimitAddress })},
	{name: "rate_limit_address_burst", def: "0", usage: "requests one address may make at once before rate_limit_address paces it; 0 for the limit's count",
		value: integer(func(c *Config) *int { return &c.RateLimitAddressBurst })},
	{name: "rate_limit_address_key", def: "client", usage: "what rate_limit_address counts by: client (the connection's address, or behind trusted_proxies the last address X-Forwarded-For names that is not one of them) or ip_claim (the verified token's ip claim)",
		value: choice(func(c *Config) *string { return &c.RateLimitAddressKey }, "client", "ip_claim")},
	{name: "log_rejections_per_second", def: "100", usage: "most rejection lines (bad tokens, assertions, message signatures) logged per second; the rest are counted in one line, and every one in the metrics; 0 logs every one",
		value: integer(func(c *Config) *int { return &c.LogRejectionsPerSecond })},
}

// Messages about a bad value never repeat the value: someone may have put
// a secret in the wrong setting.

type textValue func(*Config) *string

func text(f func(*Config) *string) value          { return textValue(f) }
func (f textValue) set(c *Config, v string) error { *f(c) = v; return nil }
func (f textValue) get(c *Config) any             { return *f(c) }

type choiceValue struct {
	field   func(*Config) *string
	choices []string
}

func choice(f func(*Config) *string, choices ...string) value {
	return choiceValue{f, choices}
}

func (v choiceValue) set(c *Config, s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(v.choices, s) {
		return fmt.Errorf("want %s", orList(v.choices))
	}
	*v.field(c) = s
	return nil
}
func (v choiceValue) get(c *Config) any { return *v.field(c) }

// orList writes a, b or c.
func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

type durationValue func(*Config) *time.Duration

func duration(f func(*Config) *time.Duration) value { return durationValue(f) }
func (f durationValue) set(c *Config, v string) error {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return errors.New("not a duration (use for example 30s or 1m)")
	}
	*f(c) = d
	return nil
}
func (f durationValue) get(c *Config) any { return *f(c) }

type intValue func(*Config) *int

func integer(f func(*Config) *int) value { return intValue(f) }
func (f intValue) set(c *Config, v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return errors.New("not a whole number")
	}
	*f(c) = n
	return nil
}
func (f intValue) get(c *Config) any { return *f(c) }

// autoIntValue is a whole number, or auto (stored as 0) for a default
// derived from the machine.
type autoIntValue func(*Config) *int

func autoInt(f func(*Config) *int) value { return autoIntValue(f) }
func (f autoIntValue) set(c *Config, v string) error {
	if strings.EqualFold(strings.TrimSpace(v), "auto") {
		*f(c) = 0
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return errors.New("not auto or a positive whole number")
	}
	*f(c) = n
	return nil
}
func (f autoIntValue) get(c *Config) any { return *f(c) }

type sizeValue func(*Config) *int64

func size(f func(*Config) *int64) value { return sizeValue(f) }
func (f sizeValue) set(c *Config, v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*f(c) = n
	return nil
}
func (f sizeValue) get(c *Config) any { return *f(c) }

// parseSize reads a size in bytes: a whole number, optionally followed by
// KiB, MiB or GiB (or k, m, g, as nginx writes them; powers of 1024).
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	// One unit at most: "1mk" is a typo, not a kibi-mebibyte.
units:
	for _, u := range []struct {
		suffixes []string
		mult     int64
	}{
		{[]string{"KiB", "k", "K"}, 1 << 10},
		{[]string{"MiB", "m", "M"}, 1 << 20},
		{[]string{"GiB", "g", "G"}, 1 << 30},
	} {
		for _, suf := range u.suffixes {
			if rest, ok := strings.CutSuffix(s, suf); ok {
				s, mult = strings.TrimSpace(rest), u.mult
				break units
			}
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("not a size (use for example 65536, 64KiB or 1MiB)")
	}
	return n * mult, nil
}

type boolValue func(*Config) *bool

func boolean(f func(*Config) *bool) value { return boolValue(f) }
func (f boolValue) set(c *Config, v string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return errors.New("not true or false")
	}
	*f(c) = b
	return nil
}
func (f boolValue) get(c *Config) any { return *f(c) }

type listValue func(*Config) *[]string

func list(f func(*Config) *[]string) value { return listValue(f) }
func (f listValue) set(c *Config, v string) error {
	*f(c) = splitList(v)
	return nil
}
func (f listValue) get(c *Config) any { return *f(c) }

type prefixesValue func(*Config) *[]netip.Prefix

func prefixes(f func(*Config) *[]netip.Prefix) value { return prefixesValue(f) }
func (f prefixesValue) set(c *Config, v string) error {
	var out []netip.Prefix
	for i, s := range splitList(v) {
		p, err := parsePrefix(s)
		if err != nil {
			return fmt.Errorf("item %d: %v", i+1, err)
		}
		out = append(out, p)
	}
	*f(c) = out
	return nil
}
func (f prefixesValue) get(c *Config) any { return *f(c) }

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
	return netip.Prefix{}, errors.New("not an IP address or CIDR")
}

// RestartOnly names the settings that differ between a and b but apply
// only at start-up.
func RestartOnly(a, b *Config) []string {
	var out []string
	for _, s := range settings {
		if s.restart && !reflect.DeepEqual(s.value.get(a), s.value.get(b)) {
			out = append(out, s.name)
		}
	}
	return out
}

// Changed names what differs between a and b: the settings, in table
// order, then routes and keys. With [RestartOnly], a reload can say which
// changes it applied and which wait for a restart. Secrets are named, as
// every setting is, and never shown.
func Changed(a, b *Config) []string {
	var out []string
	for _, s := range settings {
		if !reflect.DeepEqual(s.value.get(a), s.value.get(b)) {
			out = append(out, s.name)
		}
	}
	if !reflect.DeepEqual(a.Routes, b.Routes) {
		out = append(out, "routes")
	}
	if !reflect.DeepEqual(a.Keys, b.Keys) {
		out = append(out, "keys")
	}
	return out
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
		f := "--" + flagName(s.name)
		if s.secret {
			f = ""
		}
		out[i] = Setting{Name: s.name, Env: envName(s.name), Flag: f, Default: s.def, Usage: s.usage, Secret: s.secret}
	}
	return out
}

// settingsMarkdown returns the settings as the Markdown table of
// docs/CONFIGURATION.md, which is generated from it (go test
// ./internal/config -run TestDocumented -update).
func settingsMarkdown() string {
	var b strings.Builder
	b.WriteString("| name | environment | flag | default | reload | meaning |\n|---|---|---|---|---|---|\n")
	for _, s := range settings {
		flag := "`--" + flagName(s.name) + "`"
		if s.secret {
			flag = "—"
		}
		def := ""
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		reload := "live"
		if s.restart {
			reload = "restart"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s | %s |\n", s.name, envName(s.name), flag, def, reload, strings.ReplaceAll(s.usage, "|", "\\|"))
	}
	return b.String()
}
