package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// validConfig is a configuration that passes validate: the defaults, a
// key and an upstream.
func validConfig() *Config {
	c := Defaults()
	c.Base64Secret, c.Upstream = secret, "http://127.0.0.1:8000"
	return c
}

const (
	problemNoUpstream = "no upstream: set APPROOV_UPSTREAM (such as http://127.0.0.1:8000), or forward_auth_only: true to serve only the forward-auth endpoint"
	problemFAPath     = "forward_auth_path: want an absolute path such as /_approov/verify, without a trailing slash"
	problemFASecret   = "forward_auth_secret: want at least 16 characters, random (approov-gateway secret gen makes one)"
	problemFAASCII    = "forward_auth_secret: only printable ASCII without spaces can travel in a header"
	problemPrefix     = "forward_header_prefix: want a header name prefix such as Approov-"
	problemLifetime   = "assertion_lifetime: want from 1s to 5m0s"
	problemBaseURL    = "want a base URL without query, fragment or credentials"
	problemShared     = "route different hosts to the same upstream while preserve_host is off, so the upstream cannot tell them apart: set preserve_host: true, or give each host its own upstream"
)

// validateTests each apply one change to a valid configuration, and give
// the problems validate reports, or none.
var validateTests = []struct {
	name   string
	change func(c *Config)
	want   []string // nil: valid
}{
	{"valid", func(*Config) {}, nil},

	// Rate limits.
	{"rate limits", func(c *Config) {
		c.RateLimit, c.RateLimitBurst, c.RateLimitRedisURL = "100/m", 20, "redis://127.0.0.1:6379/0"
		c.Routes = []Route{{Match: "/a/", RateLimit: "5/s"}, {Match: "/b/", RateLimit: "off"}, {Match: "/c/", Mode: ModePublic, RateLimit: "off"}}
	}, nil},
	{"rate limits wrong", func(c *Config) {
		c.RateLimit, c.RateLimitRedisURL, c.RateLimitRedisTimeout = "100 per minute", "http://127.0.0.1:6379", 0
		burst := -1
		c.Routes = []Route{{Match: "/a/", RateLimitBurst: &burst}, {Match: "/p/", Mode: ModePublic, RateLimit: "1/s"}}
	}, []string{
		"rate_limit: want a number of requests per s, m or h, such as 100/m",
		"rate_limit_redis_url: not a redis:// or rediss:// URL",
		"rate_limit_redis_timeout: want more than 0 and at most 1s",
		"routes[0].rate_limit: want a number of requests per s, m or h, such as 100/m",
		"routes[1]: a public route verifies no device to limit; remove rate_limit",
	}},

	// Keys.
	{"two key sources", func(c *Config) { c.SecretFile = "/s" },
		[]string{"set only one of APPROOV_BASE64_SECRET, APPROOV_BASE64URL_SECRET, APPROOV_SECRET_FILE and APPROOV_PUBLIC_KEY_FILE; list more keys under keys: in the config file"}},
	{"no key", func(c *Config) { c.Base64Secret = "" },
		[]string{"no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE, APPROOV_PUBLIC_KEY_FILE or APPROOV_JWKS_URL"}},
	{"keys list alone", func(c *Config) {
		c.Base64Secret, c.Keys = "", []Key{{ID: "a", SecretFile: "/a"}, {PublicKeyFile: "/b"}}
	}, nil},
	{"key_id without a key", func(c *Config) { c.Base64Secret, c.KeyID, c.Keys = "", "k", []Key{{Base64Secret: secret}} },
		[]string{"key_id is set but there is no secret or public key for it"}},
	{"key_id with a key", func(c *Config) { c.KeyID = "k" }, nil},
	{"jwks_url alone", func(c *Config) { c.Base64Secret, c.JWKSURL = "", "https://keys.example.com/jwks.json" }, nil},
	{"jwks_url beside a secret", func(c *Config) { c.JWKSURL = "http://127.0.0.1:9000/jwks" }, nil},
	{"jwks_url over http", func(c *Config) { c.JWKSURL = "http://keys.example.com/jwks.json" },
		[]string{"jwks_url: want https: a JWK set fetched over http could be replaced on the way (http is accepted for loopback addresses only, such as 127.0.0.1)"}},
	{"jwks_url not a URL", func(c *Config) { c.JWKSURL = "keys.example.com" }, []string{"jwks_url: want an https:// URL"}},
	{"jwks timings out of bounds", func(c *Config) {
		c.JWKSRefreshInterval, c.JWKSUnknownKidInterval, c.JWKSTimeout = 10*time.Second, time.Second, 2*time.Minute
	}, []string{
		"jwks_refresh_interval: want at least 30s",
		"jwks_unknown_kid_interval: want at least 10s: tokens choose their kid, so each may cost the account's server a request",
		"jwks_timeout: want from 1s to 1m0s",
	}},
	{"keys item with none or two", func(c *Config) {
		c.Keys = []Key{{ID: "a", Base64URLSecret: "x"}, {ID: "b"}, {Base64Secret: "x", PublicKeyFile: "/p"}}
	}, []string{
		"keys[1]: set exactly one of base64_secret, base64url_secret, secret_file, public_key_file",
		"keys[2]: set exactly one of base64_secret, base64url_secret, secret_file, public_key_file",
	}},

	// Listeners.
	{"listen without port", func(c *Config) { c.Listen = "127.0.0.1" }, []string{"listen: want host:port, such as 127.0.0.1:8002"}},
	{"listen off", func(c *Config) { c.Listen = "off" }, []string{"listen: want host:port, such as 127.0.0.1:8002"}},
	{"listen bad port", func(c *Config) { c.Listen = "127.0.0.1:65536" }, []string{"listen: bad port"}},
	{"listen named port", func(c *Config) { c.Listen = "127.0.0.1:http" }, []string{"listen: bad port"}},
	{"listen host name", func(c *Config) { c.Listen = "example.com:8002" }, []string{"listen: host must be an IP address, localhost, or empty for all interfaces"}},
	{"listen forms", func(c *Config) {
		c.Listen, c.AdminListen, c.ForwardAuthListen = ":8002", "localhost:9002", "[::1]:9003"
	}, nil},
	{"admin_listen bad", func(c *Config) { c.AdminListen = "9002" }, []string{"admin_listen: want host:port, such as 127.0.0.1:8002 (or off)"}},
	{"forward_auth_listen bad", func(c *Config) { c.ForwardAuthListen = "on" }, []string{"forward_auth_listen: want host:port, such as 127.0.0.1:8002 (or off)"}},
	{"admin on the listen address", func(c *Config) { c.AdminListen = c.Listen },
		[]string{"admin_listen and listen have the same address; each listener needs its own"}},
	{"forward auth on the listen address", func(c *Config) { c.ForwardAuthListen = c.Listen },
		[]string{"forward_auth_listen and listen have the same address; each listener needs its own"}},
	{"admin on the forward-auth address", func(c *Config) { c.ForwardAuthListen = "127.0.0.1:9003"; c.AdminListen = "127.0.0.1:9003" },
		[]string{"admin_listen and forward_auth_listen have the same address; each listener needs its own"}},
	{"port 0 everywhere", func(c *Config) {
		c.Listen, c.ForwardAuthListen, c.AdminListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	}, nil},
	{"admin and forward auth off", func(c *Config) { c.ForwardAuthListen, c.AdminListen = "off", "off" }, nil},

	// Upstreams.
	{"upstream not http", func(c *Config) { c.Upstream = "ftp://127.0.0.1/" }, []string{"upstream: want an http:// or https:// URL, such as http://127.0.0.1:8000, or unix:/path/to.sock"}},
	{"upstream a Unix socket", func(c *Config) { c.Upstream = "unix:/run/gunicorn.sock" }, nil},
	{"upstream a relative socket", func(c *Config) { c.Upstream = "unix:gunicorn.sock" },
		[]string{"upstream: want unix: and the absolute path of a socket, such as unix:/run/gunicorn.sock"}},
	{"upstream without scheme", func(c *Config) { c.Upstream = "127.0.0.1:8000" }, []string{"upstream: want an http:// or https:// URL, such as http://127.0.0.1:8000, or unix:/path/to.sock"}},
	{"upstream without host", func(c *Config) { c.Upstream = "http:///path" }, []string{"upstream: no host"}},
	{"upstream with query", func(c *Config) { c.Upstream = "http://127.0.0.1:8000/?a=b" }, []string{"upstream: " + problemBaseURL}},
	{"upstream with fragment", func(c *Config) { c.Upstream = "http://127.0.0.1:8000/#a" }, []string{"upstream: " + problemBaseURL}},
	{"upstream with credentials", func(c *Config) { c.Upstream = "http://user:pw@127.0.0.1:8000/" }, []string{"upstream: " + problemBaseURL}},
	{"upstream with user only", func(c *Config) { c.Upstream = "https://token@example.com/" }, []string{"upstream: " + problemBaseURL}},
	{"upstream with a base path", func(c *Config) { c.Upstream = "https://example.com/api/" }, nil},
	{"no upstream", func(c *Config) { c.Upstream = "" }, []string{problemNoUpstream}},
	{"no upstream, a route without one", func(c *Config) {
		c.Upstream, c.Routes = "", []Route{{Match: "/a/", Upstream: "http://127.0.0.1:8001"}, {Match: "/b/"}}
	}, []string{problemNoUpstream}},
	{"no upstream, every route has one", func(c *Config) {
		c.Upstream, c.Routes = "", []Route{{Match: "/a/", Upstream: "http://127.0.0.1:8001"}, {Match: "/b/", Upstream: "http://127.0.0.1:8002"}}
	}, nil},

	// Forward auth.
	{"forward_auth_only", func(c *Config) { c.Upstream, c.ForwardAuthOnly = "", true }, nil},
	{"forward_auth_only with upstream", func(c *Config) { c.ForwardAuthOnly = true },
		[]string{"forward_auth_only is true but upstream is set: choose one"}},
	{"forward_auth_only with forward_auth_listen", func(c *Config) { c.Upstream, c.ForwardAuthOnly, c.ForwardAuthListen = "", true, "127.0.0.1:9003" },
		[]string{"forward_auth_only already serves the forward-auth endpoint on listen; forward_auth_listen is for serving it beside the proxy"}},
	{"forward_auth_only with a route upstream", func(c *Config) {
		c.Upstream, c.ForwardAuthOnly, c.Routes = "", true, []Route{{Match: "/a/", Upstream: "http://127.0.0.1:8001"}}
	}, []string{"routes[0]: forward_auth_only is true but the route has an upstream"}},
	{"forward_auth_path relative", func(c *Config) { c.ForwardAuthPath = "verify" }, []string{problemFAPath}},
	{"forward_auth_path empty", func(c *Config) { c.ForwardAuthPath = "" }, []string{problemFAPath}},
	{"forward_auth_path trailing slash", func(c *Config) { c.ForwardAuthPath = "/verify/" }, []string{problemFAPath}},
	{"forward_auth_path root", func(c *Config) { c.ForwardAuthPath = "/" }, []string{problemFAPath}},
	{"forward_auth_path empty segment", func(c *Config) { c.ForwardAuthPath = "/a//verify" }, []string{problemFAPath}},
	{"forward_auth_path query", func(c *Config) { c.ForwardAuthPath = "/verify?x" }, []string{problemFAPath}},
	{"forward_auth_path encoded", func(c *Config) { c.ForwardAuthPath = "/ver%69fy" }, []string{problemFAPath}},
	{"forward_auth_path backslash", func(c *Config) { c.ForwardAuthPath = `/a\verify` }, []string{problemFAPath}},
	{"forward_auth_path space", func(c *Config) { c.ForwardAuthPath = "/a verify" }, []string{problemFAPath}},
	{"forward_auth_path nested", func(c *Config) { c.ForwardAuthPath = "/auth/approov-check" }, nil},
	{"forward_auth_secret random", func(c *Config) { c.ForwardAuthSecret = "kT3_x9Qm-Zr2Lw8V" }, nil},
	{"forward_auth_secret short", func(c *Config) { c.ForwardAuthSecret = "kT3_x9Qm-Zr2Lw8" }, []string{problemFASecret}},
	{"forward_auth_secret repetitive", func(c *Config) { c.ForwardAuthSecret = strings.Repeat("ab12", 16) }, []string{problemFASecret}},
	{"forward_auth_secret one byte", func(c *Config) { c.ForwardAuthSecret = strings.Repeat("a", 64) }, []string{problemFASecret}},
	{"forward_auth_secret space", func(c *Config) { c.ForwardAuthSecret = "kT3_x9Qm Zr2Lw8Vp" }, []string{problemFAASCII}},
	{"forward_auth_secret control", func(c *Config) { c.ForwardAuthSecret = "kT3_x9Qm\x01Zr2Lw8Vp" }, []string{problemFAASCII}},
	{"forward_auth_secret non-ASCII", func(c *Config) { c.ForwardAuthSecret = "kT3_x9Qmé_Zr2Lw8Vp" }, []string{problemFAASCII}},
	{"forward_auth_secret short with a space", func(c *Config) { c.ForwardAuthSecret = "a b" }, []string{problemFASecret, problemFAASCII}},

	// Headers and facts.
	{"token_header empty", func(c *Config) { c.TokenHeader = "" }, []string{"token_header is empty"}},
	{"forward_header_prefix empty", func(c *Config) { c.ForwardHeaderPrefix = "" }, []string{problemPrefix}},
	{"forward_header_prefix underscore", func(c *Config) { c.ForwardHeaderPrefix = "Approov_" }, []string{problemPrefix}},
	{"forward_header_prefix colon", func(c *Config) { c.ForwardHeaderPrefix = "Approov:" }, []string{problemPrefix}},
	{"forward_header_prefix space", func(c *Config) { c.ForwardHeaderPrefix = "X Approov-" }, []string{problemPrefix}},
	{"forward_header_prefix other", func(c *Config) { c.ForwardHeaderPrefix = "X-Gateway-" }, nil},
	{"forward_claims every fact", func(c *Config) { c.ForwardClaims = factNames() }, nil},
	{"forward_claims none", func(c *Config) { c.ForwardClaims = nil }, nil},
	{"forward_claims unknown", func(c *Config) { c.ForwardClaims = []string{"did", "device_id", "exp", "aud"} }, []string{
		"forward_claims: item 2 is not one of result, did, exp, ip, arc, ipk, mskid, pay, iss, sub",
		"forward_claims: item 4 is not one of result, did, exp, ip, arc, ipk, mskid, pay, iss, sub",
	}},

	// Signed facts.
	{"assertion secret and file", func(c *Config) { c.AssertionSecret, c.AssertionSecretFile = "x", "/x" },
		[]string{"set only one of assertion_secret and assertion_secret_file"}},
	{"assertion_audience empty", func(c *Config) { c.AssertionAudience = "" }, []string{"assertion_audience is empty"}},
	{"assertion_lifetime 0", func(c *Config) { c.AssertionLifetime = 0 }, []string{problemLifetime}},
	{"assertion_lifetime under 1s", func(c *Config) { c.AssertionLifetime = time.Second - 1 }, []string{problemLifetime}},
	{"assertion_lifetime 1s", func(c *Config) { c.AssertionLifetime = time.Second }, nil},
	{"assertion_lifetime 5m", func(c *Config) { c.AssertionLifetime = maxAssertionLifetime }, nil},
	{"assertion_lifetime over 5m", func(c *Config) { c.AssertionLifetime = maxAssertionLifetime + time.Second }, []string{problemLifetime}},

	{"both account signing keys", func(c *Config) { c.AccountSigningBase64, c.AccountSigningBase64URL = "a", "b" },
		[]string{"set only one of APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL and APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64"}},
	{"public_url", func(c *Config) { c.PublicURL = "https://api.example.com" }, nil},
	{"public_url with a port and a slash", func(c *Config) { c.PublicURL = "https://api.example.com:8443/" }, nil},
	{"public_url not a URL", func(c *Config) { c.PublicURL = "api.example.com" },
		[]string{"public_url: want the scheme and host apps use, such as https://api.example.com"}},
	{"public_url with a path", func(c *Config) { c.PublicURL = "https://api.example.com/v1" },
		[]string{"public_url: want only a scheme and host (and port), no path, query or credentials"}},
	{"public_url with credentials", func(c *Config) { c.PublicURL = "https://u:p@api.example.com" },
		[]string{"public_url: want only a scheme and host (and port), no path, query or credentials"}},
	{"route message_signing", func(c *Config) { c.Routes = []Route{{Match: "/a/", MessageSigning: "sometimes"}} },
		[]string{"routes[0].message_signing: want off, auto or required"}},

	// Limits and timeouts.
	{"max_header_bytes 1023", func(c *Config) { c.MaxHeaderBytes = 1023 }, []string{"max_header_bytes: want at least 1024"}},
	{"max_header_bytes 1024", func(c *Config) { c.MaxHeaderBytes = 1024 }, nil},
	{"max_header_count 7", func(c *Config) { c.MaxHeaderCount = 7 }, []string{"max_header_count: want at least 8"}},
	{"max_header_count 8", func(c *Config) { c.MaxHeaderCount = 8 }, nil},
	{"max_token_size 63", func(c *Config) { c.MaxTokenSize = 63 }, []string{"max_token_size: want at least 64"}},
	{"max_token_size 64", func(c *Config) { c.MaxTokenSize = 64 }, nil},
	{"request_buffering 1GiB", func(c *Config) { c.RequestBuffering = 1 << 30 }, nil},
	{"request_buffering over 1GiB", func(c *Config) { c.RequestBuffering = 1<<30 + 1 }, []string{"request_buffering: want at most 1GiB (bodies are buffered in memory)"}},
	{"read_header_timeout 0", func(c *Config) { c.ReadHeaderTimeout = 0 }, []string{"read_header_timeout must not be 0: without it, slow clients can hold connections forever"}},
	{"body_read_timeout 0", func(c *Config) { c.BodyReadTimeout = 0 }, []string{"body_read_timeout must not be 0: without it, slow uploads can hold connections forever"}},
	{"shutdown_timeout 0", func(c *Config) { c.ShutdownTimeout = 0 }, []string{"shutdown_timeout must not be 0"}},
	{"upstream_dial_timeout 0", func(c *Config) { c.UpstreamDialTimeout = 0 }, []string{"upstream_dial_timeout must not be 0"}},
	{"upstream_response_header_timeout 0", func(c *Config) { c.UpstreamResponseHeaderTimeout = 0 }, []string{"upstream_response_header_timeout must not be 0"}},
	{"idle_timeout 0 is allowed", func(c *Config) { c.IdleTimeout = 0 }, nil},

	// Routes.
	{"route without match", func(c *Config) { c.Routes = []Route{{Name: "x"}} }, []string{`routes[0]: match is required, such as "GET /api/"`}},
	{"route bad mode", func(c *Config) { c.Routes = []Route{{Match: "/", Mode: "strict"}} }, []string{"routes[0].mode: want public, token or binding"}},
	{"route modes", func(c *Config) {
		c.Routes = []Route{{Match: "/a/", Mode: ModePublic}, {Match: "/b/", Mode: ModeToken, TokenQueryParam: "t"}, {Match: "/c/", Mode: ModeBinding, BindingHeaders: []string{"Authorization"}}}
	}, nil},
	{"binding route without headers", func(c *Config) { c.Routes = []Route{{Match: "/", Mode: ModeBinding}} },
		[]string{"routes[0]: mode binding needs binding_headers, here or at the top level"}},
	{"binding route with top-level headers", func(c *Config) {
		c.BindingHeaders, c.Routes = []string{"Authorization"}, []Route{{Match: "/", Mode: ModeBinding}}
	}, nil},
	{"public route with binding headers", func(c *Config) { c.Routes = []Route{{Match: "/", Mode: ModePublic, BindingHeaders: []string{"A"}}} },
		[]string{"routes[0]: a public route checks no token; remove binding_headers and token_query_param"}},
	{"public route with token_query_param", func(c *Config) { c.Routes = []Route{{Match: "/", Mode: ModePublic, TokenQueryParam: "t"}} },
		[]string{"routes[0]: a public route checks no token; remove binding_headers and token_query_param"}},
	{"assertion_bind", func(c *Config) {
		c.Routes = []Route{{Match: "/a/", AssertionBind: BindHost}, {Match: "/b/", AssertionBind: BindTarget}}
	}, nil},
	{"assertion_bind bad", func(c *Config) { c.Routes = []Route{{Match: "/", AssertionBind: "path"}} }, []string{"routes[0].assertion_bind: want target or host"}},
	{"route upstream bad", func(c *Config) {
		c.Routes = []Route{{Match: "/x/"}, {Match: "/", Upstream: "http://127.0.0.1:8001/?x=1"}}
	},
		[]string{"routes[1].upstream: " + problemBaseURL}},
	{"same match twice", func(c *Config) { c.Routes = []Route{{Match: "/a/"}, {Match: "/b/"}, {Match: "/a/"}} },
		[]string{"routes[2].name: already used by routes[0]"}},
	{"name equal to another's match", func(c *Config) { c.Routes = []Route{{Match: "/a/"}, {Name: "/a/", Match: "/b/"}} },
		[]string{"routes[1].name: already used by routes[0]"}},
	{"same match, different names", func(c *Config) { c.Routes = []Route{{Name: "a", Match: "/a/"}, {Name: "b", Match: "/a/"}} }, nil},
	{"token_query_param not plain", func(c *Config) { c.Routes = []Route{{Match: "/ws/", TokenQueryParam: "t=1"}} },
		[]string{"routes[0].token_query_param: not a plain parameter name"}},
	{"token_query_param plain", func(c *Config) { c.Routes = []Route{{Match: "/ws/", TokenQueryParam: "approov_token"}} }, nil},
}

// TestValidate applies one change to a valid configuration and checks
// that validate reports exactly the expected problems, or none.
func TestValidate(t *testing.T) {
	for _, tt := range validateTests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			if got := c.validate(); !slices.Equal(got, Problems(tt.want)) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestValidateSharedUpstreams: host routes that send different hosts to
// one upstream are refused unless the upstream sees the Host header.
func TestValidateSharedUpstreams(t *testing.T) {
	const a, b = "http://127.0.0.1:8001", "http://127.0.0.1:8002"
	tests := []struct {
		name         string
		upstream     string
		preserveHost bool
		routes       []Route
		want         []string
	}{
		{"two hosts, top-level upstream", a, false,
			[]Route{{Match: "api.example.com/"}, {Match: "www.example.com/", Mode: ModePublic}, {Match: "/"}},
			[]string{"routes[0] and routes[1] " + problemShared}},
		{"two hosts, preserve_host", a, true,
			[]Route{{Match: "api.example.com/"}, {Match: "www.example.com/", Mode: ModePublic}, {Match: "/"}}, nil},
		{"two hosts, one route upstream each", a, false,
			[]Route{{Match: "api.example.com/", Upstream: b}, {Match: "www.example.com/", Upstream: "http://127.0.0.1:8003"}, {Match: "/"}}, nil},
		{"two hosts, the same route upstream", a, false,
			[]Route{{Match: "api.example.com/", Upstream: b}, {Match: "www.example.com/", Upstream: b}, {Match: "/"}},
			[]string{"routes[0] and routes[1] " + problemShared}},
		{"a host route and the default route", a, false,
			[]Route{{Match: "GET api.example.com/v1/"}},
			[]string{"routes[0] and the default route " + problemShared}},
		{"a host route and a root route", a, false,
			[]Route{{Match: "/"}, {Match: "api.example.com/"}},
			[]string{"routes[0] and routes[1] " + problemShared}},
		{"one host, spelt differently", a, false,
			[]Route{{Match: "GET API.Example.com/a/", Upstream: b}, {Match: "POST api.example.com./b/", Upstream: b}}, nil},
		{"paths only", a, false,
			[]Route{{Match: "/api/"}, {Match: "GET /health", Mode: ModePublic}, {Match: "/upload/", Upstream: b}}, nil},
		{"host routes without any upstream of their own or top-level", "", false,
			[]Route{{Match: "api.example.com/", Upstream: a}, {Match: "www.example.com/", Upstream: b}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Upstream, c.PreserveHost, c.Routes = tt.upstream, tt.preserveHost, tt.routes
			if got := c.validate(); !slices.Equal(got, Problems(tt.want)) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
		})
	}

	t.Run("forward_auth_only", func(t *testing.T) {
		c := validConfig()
		c.Upstream, c.ForwardAuthOnly = "", true
		c.Routes = []Route{{Match: "api.example.com/"}, {Match: "www.example.com/", Mode: ModePublic}}
		if got := c.validate(); got != nil {
			t.Errorf("problems %q", got)
		}
	})
}

// TestValidateAll: every problem is reported at once, so that a broken
// configuration is fixed in one pass, and Validate returns them as
// Problems.
func TestValidateAll(t *testing.T) {
	c := Defaults()
	c.Listen, c.AdminListen, c.TokenHeader, c.MaxTokenSize = "x", "y", "", 1
	c.Routes = []Route{{Mode: "x"}}
	p := problemsOf(t, c.Validate())
	for _, want := range []string{"no key: ", "listen: ", "admin_listen: ", problemNoUpstream, "token_header is empty", "max_token_size: ", "routes[0]: match is required", "routes[0].mode: "} {
		if !slices.ContainsFunc(p, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("no problem %q in\n%s", want, p)
		}
	}
	if !strings.Contains(p.Error(), "\n") || strings.Count(p.Error(), "\n") != len(p)-1 {
		t.Errorf("Error() is not one line per problem: %q", p.Error())
	}
}

func TestSplitPattern(t *testing.T) {
	tests := []struct {
		pattern, method, host, path string
	}{
		{"/", "", "", "/"},
		{"/api/", "", "", "/api/"},
		{"GET /api/", "GET", "", "/api/"},
		{"example.com/", "", "example.com", "/"},
		{"POST api.example.com/items/{id}", "POST", "api.example.com", "/items/{id}"},
		{"  GET \t /x  ", "GET", "", "/x"},
		{"GET\t\texample.com:8080/x", "GET", "example.com:8080", "/x"},
		{"example.com", "", "example.com", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		m, h, p := SplitPattern(tt.pattern)
		if m != tt.method || h != tt.host || p != tt.path {
			t.Errorf("SplitPattern(%q) = %q, %q, %q; want %q, %q, %q", tt.pattern, m, h, p, tt.method, tt.host, tt.path)
		}
	}
}

func TestCanonicalPatternHost(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"api.example.com":  "api.example.com",
		"API.Example.COM.": "api.example.com",
		"example.com..":    "example.com",
		"Example.com:8080": "example.com:8080",
	} {
		if got := CanonicalPatternHost(in); got != want {
			t.Errorf("CanonicalPatternHost(%q) = %q, want %q", in, got, want)
		}
	}
}
