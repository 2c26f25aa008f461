package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// validate checks what single settings cannot: consistency, addresses,
// URLs and routes. Keys are checked when they are loaded (see the gateway).
func (c *Config) validate() Problems {
	var p Problems
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	sources := 0
	for _, s := range []string{c.Base64Secret, c.Base64URLSecret, c.SecretFile, c.PublicKeyFile} {
		if s != "" {
			sources++
		}
	}
	if sources > 1 {
		add("set only one of APPROOV_BASE64_SECRET, APPROOV_BASE64URL_SECRET, APPROOV_SECRET_FILE and APPROOV_PUBLIC_KEY_FILE; list more keys under keys: in the config file")
	}
	if sources == 0 && len(c.Keys) == 0 {
		add("no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE or APPROOV_PUBLIC_KEY_FILE")
	}
	if c.KeyID != "" && sources == 0 {
		add("key_id is set but there is no secret or public key for it")
	}
	for i, k := range c.Keys {
		n := 0
		for _, s := range []string{k.Base64Secret, k.Base64URLSecret, k.SecretFile, k.PublicKeyFile} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			add("keys[%d]: set exactly one of base64_secret, base64url_secret, secret_file, public_key_file", i)
		}
	}

	if err := checkAddr(c.Listen); err != nil {
		add("listen %q: %v", c.Listen, err)
	}
	if c.AdminListen != "off" {
		if err := checkAddr(c.AdminListen); err != nil {
			add("admin_listen %q: %v (or \"off\")", c.AdminListen, err)
		} else if c.AdminListen == c.Listen {
			add("admin_listen and listen are both %q; the admin endpoints need their own address", c.Listen)
		}
	}
	switch {
	case c.Upstream != "":
		if err := checkUpstream(c.Upstream); err != nil {
			add("upstream %q: %v", c.Upstream, err)
		}
		if c.ForwardAuthOnly {
			add("forward_auth_only is true but upstream is set: choose one")
		}
	case !c.ForwardAuthOnly:
		missing := len(c.Routes) == 0
		for _, r := range c.Routes {
			if r.Upstream == "" {
				missing = true
			}
		}
		if missing {
			add("no upstream: set APPROOV_UPSTREAM (such as http://127.0.0.1:8000), or forward_auth_only: true to serve only %s", c.ForwardAuthPath)
		}
	}
	if !strings.HasPrefix(c.ForwardAuthPath, "/") || strings.ContainsAny(c.ForwardAuthPath, " ?#") || strings.HasSuffix(c.ForwardAuthPath, "/") {
		add("forward_auth_path %q: want an absolute path such as /_approov/verify, without a trailing slash", c.ForwardAuthPath)
	}
	if c.TokenHeader == "" {
		add("token_header is empty")
	}
	if c.ForwardHeaderPrefix == "" || strings.ContainsAny(c.ForwardHeaderPrefix, " _:") {
		add("forward_header_prefix %q: want a header name prefix such as Approov-", c.ForwardHeaderPrefix)
	}
	for _, f := range c.ForwardClaims {
		if _, ok := ForwardedClaims[f]; !ok {
			add("forward_claims: unknown fact %q (want some of %s)", f, strings.Join(forwardedClaimNames(), ", "))
		}
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		add("log_format %q: want json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.MaxHeaderBytes < 1024 {
		add("max_header_bytes %d: want at least 1024", c.MaxHeaderBytes)
	}
	if c.MaxHeaderCount < 8 {
		add("max_header_count %d: want at least 8", c.MaxHeaderCount)
	}
	if c.MaxTokenSize < 64 {
		add("max_token_size %d: want at least 64", c.MaxTokenSize)
	}
	if c.ReadHeaderTimeout == 0 {
		add("read_header_timeout must not be 0: without it, slow clients can hold connections forever")
	}
	if c.ShutdownTimeout == 0 {
		add("shutdown_timeout must not be 0")
	}
	if c.UpstreamDialTimeout == 0 || c.UpstreamResponseHeaderTimeout == 0 {
		add("upstream timeouts must not be 0")
	}

	names := map[string]int{}
	for i, r := range c.Routes {
		where := fmt.Sprintf("routes[%d]", i)
		if r.Match == "" {
			add("%s: match is required, such as \"GET /api/\"", where)
		}
		switch r.Mode {
		case "", ModePublic, ModeToken, ModeBinding:
		default:
			add("%s: mode %q: want public, token or binding", where, r.Mode)
		}
		if r.Mode == ModeBinding && len(r.BindingHeaders) == 0 && len(c.BindingHeaders) == 0 {
			add("%s: mode binding needs binding_headers, here or at the top level", where)
		}
		if r.Mode == ModePublic && (len(r.BindingHeaders) > 0 || r.TokenQueryParam != "") {
			add("%s: a public route checks no token; remove binding_headers and token_query_param", where)
		}
		if r.Upstream != "" {
			if err := checkUpstream(r.Upstream); err != nil {
				add("%s: upstream %q: %v", where, r.Upstream, err)
			}
			if c.ForwardAuthOnly {
				add("%s: forward_auth_only is true but the route has an upstream", where)
			}
		}
		name := r.Name
		if name == "" {
			name = r.Match
		}
		if j, dup := names[name]; dup {
			add("%s: name %q already used by routes[%d]", where, name, j)
		}
		names[name] = i
		if r.TokenQueryParam != "" && strings.ContainsAny(r.TokenQueryParam, "&=#? ") {
			add("%s: token_query_param %q is not a plain parameter name", where, r.TokenQueryParam)
		}
	}
	return p
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
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("want an http:// or https:// URL, such as http://127.0.0.1:8000")
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("want a base URL without query, fragment or credentials")
	}
	return nil
}
