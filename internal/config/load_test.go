package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// leak is put in bad values: no problem may repeat it, since the value
// could be a secret put in the wrong setting.
const leak = "Zq9-LEAK-7f3e"

// assertNoLeak fails if any problem repeats leak.
func assertNoLeak(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), leak) {
		t.Errorf("a problem repeats the value:\n%v", err)
	}
}

// problemsOf returns err as Problems, failing if it is another error.
func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	if err == nil {
		return nil
	}
	var p Problems
	if !errors.As(err, &p) {
		t.Fatalf("error is not Problems: %v", err)
	}
	return p
}

// valid is the environment of a configuration that loads without problems.
var valid = map[string]string{"APPROOV_BASE64_SECRET": secret, "APPROOV_UPSTREAM": "http://127.0.0.1:8000"}

// with returns valid with more variables.
func with(kv ...string) map[string]string {
	env := map[string]string{}
	for k, v := range valid {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// TestLoadPrecedence checks each level of flags > environment > .env >
// YAML > defaults on its own, so that a level that is skipped shows.
func TestLoadPrecedence(t *testing.T) {
	yaml := map[string]string{"c.yaml": "leeway: 1s\n"}
	tests := []struct {
		name  string
		env   map[string]string
		files map[string]string
		args  []string
		want  time.Duration
	}{
		{"default", valid, nil, nil, 0},
		{"yaml over default", with("APPROOV_CONFIG", "c.yaml"), yaml, nil, time.Second},
		{".env over yaml", with("APPROOV_CONFIG", "c.yaml"), map[string]string{"c.yaml": "leeway: 1s\n", ".env": "APPROOV_LEEWAY=2s\n"}, nil, 2 * time.Second},
		{"environment over .env", with("APPROOV_CONFIG", "c.yaml", "APPROOV_LEEWAY", "3s"), map[string]string{"c.yaml": "leeway: 1s\n", ".env": "APPROOV_LEEWAY=2s\n"}, nil, 3 * time.Second},
		{"flag over environment", with("APPROOV_CONFIG", "c.yaml", "APPROOV_LEEWAY", "3s"), map[string]string{"c.yaml": "leeway: 1s\n", ".env": "APPROOV_LEEWAY=2s\n"}, []string{"--leeway", "4s"}, 4 * time.Second},
		{"flag over yaml alone", valid, yaml, []string{"--config=c.yaml", "-leeway=5s"}, 5 * time.Second},
		{"flag equal to the default still wins", with("APPROOV_LEEWAY", "3s"), nil, []string{"--leeway=0s"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(source(t, tt.env, tt.files, tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			if c.Leeway != tt.want {
				t.Errorf("leeway = %v, want %v", c.Leeway, tt.want)
			}
		})
	}
}

// TestLoadConfigFile checks where the YAML file comes from: --config, then
// APPROOV_CONFIG from the environment, then from .env; a relative path is
// relative to the source's directory.
func TestLoadConfigFile(t *testing.T) {
	files := map[string]string{
		"flag.yaml":   "token_prefix: flag\n",
		"env.yaml":    "token_prefix: env\n",
		"dotenv.yaml": "token_prefix: dotenv\n",
		".env":        "APPROOV_CONFIG=dotenv.yaml\n",
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"flag", with("APPROOV_CONFIG", "env.yaml"), []string{"--config", "flag.yaml"}, "flag"},
		{"environment", with("APPROOV_CONFIG", "env.yaml"), nil, "env"},
		{".env", valid, nil, "dotenv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(source(t, tt.env, files, tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			if c.TokenPrefix != tt.want || c.File != tt.want+".yaml" {
				t.Errorf("token_prefix %q from %q, want %q from %s.yaml", c.TokenPrefix, c.File, tt.want, tt.want)
			}
		})
	}

	t.Run("absolute path", func(t *testing.T) {
		abs := filepath.Join(t.TempDir(), "abs.yaml")
		if err := os.WriteFile(abs, []byte("token_prefix: abs\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, _, err := Load(source(t, with("APPROOV_CONFIG", abs), nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.TokenPrefix != "abs" || c.File != abs {
			t.Errorf("token_prefix %q from %q", c.TokenPrefix, c.File)
		}
	})
}

// TestLoadEnvironmentWinsOverDotenv: a variable the process sets, even to
// the empty string, hides the .env one, as python-dotenv does by default.
func TestLoadEnvironmentWinsOverDotenv(t *testing.T) {
	c, _, err := Load(source(t, with("APPROOV_TOKEN_PREFIX", ""), map[string]string{".env": "APPROOV_TOKEN_PREFIX=\"Bearer \"\nAPPROOV_ISSUER=from-dotenv\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenPrefix != "" || c.Issuer != "from-dotenv" {
		t.Errorf("token_prefix %q, issuer %q", c.TokenPrefix, c.Issuer)
	}
}

// TestLoadValues sets one setting of each kind of value, through the
// environment, and checks what it becomes or the problem it makes.
func TestLoadValues(t *testing.T) {
	tests := []struct {
		env     string
		value   string
		get     func(*Config) any
		want    any
		problem string // the whole problem line, when the value is bad
	}{
		// text
		{"APPROOV_TOKEN_HEADER", "X-Approov", func(c *Config) any { return c.TokenHeader }, "X-Approov", ""},
		{"APPROOV_TOKEN_PREFIX", "Bearer ", func(c *Config) any { return c.TokenPrefix }, "Bearer ", ""},
		// choice: case and spaces do not matter
		{"APPROOV_LOG_FORMAT", " TEXT ", func(c *Config) any { return c.LogFormat }, "text", ""},
		{"APPROOV_LOG_LEVEL", "Warn", func(c *Config) any { return c.LogLevel }, "warn", ""},
		{"APPROOV_UPSTREAM_KEEPALIVE", "false", func(c *Config) any { return c.UpstreamKeepAlive }, "false", ""},
		{"APPROOV_FORWARD_AUTH_CONVENTION", "envoy", func(c *Config) any { return c.ForwardAuthConvention }, ConventionEnvoy, ""},
		{"APPROOV_LOG_FORMAT", "yaml" + leak, nil, nil, "APPROOV_LOG_FORMAT: want json or text"},
		{"APPROOV_LOG_LEVEL", leak, nil, nil, "APPROOV_LOG_LEVEL: want debug, info, warn or error"},
		{"APPROOV_FORWARD_AUTH_CONVENTION", leak, nil, nil, "APPROOV_FORWARD_AUTH_CONVENTION: want auto, nginx, forwarded or envoy"},
		// duration
		{"APPROOV_LEEWAY", " 1m30s ", func(c *Config) any { return c.Leeway }, 90 * time.Second, ""},
		{"APPROOV_LEEWAY", "-1s", nil, nil, "APPROOV_LEEWAY: not a duration (use for example 30s or 1m)"},
		{"APPROOV_LEEWAY", "30" + leak, nil, nil, "APPROOV_LEEWAY: not a duration (use for example 30s or 1m)"},
		// integer
		{"APPROOV_MAX_TOKEN_SIZE", "4096", func(c *Config) any { return c.MaxTokenSize }, 4096, ""},
		{"APPROOV_MAX_TOKEN_SIZE", "-4096", nil, nil, "APPROOV_MAX_TOKEN_SIZE: not a whole number"},
		{"APPROOV_MAX_HEADER_COUNT", "1e3", nil, nil, "APPROOV_MAX_HEADER_COUNT: not a whole number"},
		{"APPROOV_MAX_HEADER_BYTES", leak, nil, nil, "APPROOV_MAX_HEADER_BYTES: not a whole number"},
		// auto or a positive whole number
		{"APPROOV_MAX_CONNECTIONS", "auto", func(c *Config) any { return c.MaxConnections }, 0, ""},
		{"APPROOV_MAX_CONNECTIONS", " AUTO ", func(c *Config) any { return c.MaxConnections }, 0, ""},
		{"APPROOV_MAX_CONNECTIONS", "500", func(c *Config) any { return c.MaxConnections }, 500, ""},
		{"APPROOV_MAX_CONNECTIONS", "0", nil, nil, "APPROOV_MAX_CONNECTIONS: not auto or a positive whole number"},
		{"APPROOV_MAX_CONNECTIONS", "-5", nil, nil, "APPROOV_MAX_CONNECTIONS: not auto or a positive whole number"},
		{"APPROOV_MAX_CONNECTIONS", leak, nil, nil, "APPROOV_MAX_CONNECTIONS: not auto or a positive whole number"},
		// size
		{"APPROOV_REQUEST_BUFFERING", "1MiB", func(c *Config) any { return c.RequestBuffering }, int64(1 << 20), ""},
		{"APPROOV_MAX_REQUEST_BODY", "10m", func(c *Config) any { return c.MaxRequestBody }, int64(10 << 20), ""},
		{"APPROOV_BODY_MIN_RATE", "0", func(c *Config) any { return c.BodyMinRate }, int64(0), ""},
		{"APPROOV_MAX_REQUEST_BODY", "1.5k", nil, nil, "APPROOV_MAX_REQUEST_BODY: not a size (use for example 65536, 64KiB or 1MiB)"},
		{"APPROOV_BODY_MIN_RATE", leak + "KiB", nil, nil, "APPROOV_BODY_MIN_RATE: not a size (use for example 65536, 64KiB or 1MiB)"},
		// boolean
		{"APPROOV_MONITOR", "true", func(c *Config) any { return c.Monitor }, true, ""},
		{"APPROOV_ACCESS_LOG", " 1 ", func(c *Config) any { return c.AccessLog }, true, ""},
		{"APPROOV_PRESERVE_HOST", "FALSE", func(c *Config) any { return c.PreserveHost }, false, ""},
		{"APPROOV_MONITOR", "yes", nil, nil, "APPROOV_MONITOR: not true or false"},
		{"APPROOV_MONITOR", leak, nil, nil, "APPROOV_MONITOR: not true or false"},
		// list: spaces and empty items dropped
		{"APPROOV_BINDING_HEADERS", " Authorization , ,X-Session ", func(c *Config) any { return c.BindingHeaders }, []string{"Authorization", "X-Session"}, ""},
		{"APPROOV_FORWARD_CLAIMS", "", func(c *Config) any { return c.ForwardClaims }, []string(nil), ""},
		// prefixes: addresses become single-address prefixes, CIDRs are masked
		{"APPROOV_TRUSTED_PROXIES", "10.1.2.3/8, 192.168.1.7,2001:db8::1/32", func(c *Config) any { return c.TrustedProxies },
			[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("2001:db8::/32")}, ""},
		{"APPROOV_FORWARD_AUTH_CALLERS", "::1", func(c *Config) any { return c.ForwardAuthCallers }, []netip.Prefix{netip.MustParsePrefix("::1/128")}, ""},
		{"APPROOV_TRUSTED_PROXIES", "10.0.0.0/8," + leak, nil, nil, "APPROOV_TRUSTED_PROXIES: item 2: not an IP address or CIDR"},
		{"APPROOV_FORWARD_AUTH_CALLERS", "10.0.0.0/33", nil, nil, "APPROOV_FORWARD_AUTH_CALLERS: item 1: not an IP address or CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			c, _, err := Load(source(t, with(tt.env, tt.value), nil))
			if tt.problem != "" {
				p := problemsOf(t, err)
				if !slices.Equal(p, Problems{tt.problem}) {
					t.Errorf("problems %q, want %q", p, tt.problem)
				}
				assertNoLeak(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestLoadNeverEchoesValues gives every setting a bad value, from each
// source in turn, and checks that the problems name where each came from
// but never repeat it.
func TestLoadNeverEchoesValues(t *testing.T) {
	// Values of these kinds can be wrong on their own; text and lists are
	// judged by validate.
	failsAlone := func(s setting) bool {
		switch s.value.(type) {
		case textValue, listValue:
			return false
		}
		return true
	}
	var yaml, dotenv strings.Builder
	env := map[string]string{}
	var args []string
	for _, s := range settings {
		fmt.Fprintf(&yaml, "%s: %s\n", s.name, leak)
		fmt.Fprintf(&dotenv, "%s=%s\n", envName(s.name), leak)
		env[envName(s.name)] = leak
		if !s.secret {
			args = append(args, "--"+flagName(s.name)+"="+leak)
		}
	}
	line := func(name string) int {
		for i, s := range settings {
			if s.name == name {
				return i + 1
			}
		}
		return 0
	}
	sources := []struct {
		name  string
		src   Source
		where func(name string) string
	}{
		{"environment", source(t, env, nil), func(n string) string { return envName(n) }},
		{".env", source(t, nil, map[string]string{".env": dotenv.String()}), func(n string) string { return fmt.Sprintf(".env:%d: %s", line(n), envName(n)) }},
		{"yaml", source(t, map[string]string{"APPROOV_CONFIG": "c.yaml"}, map[string]string{"c.yaml": yaml.String()}),
			func(n string) string { return fmt.Sprintf("c.yaml:%d: %s", line(n), n) }},
		{"flags", source(t, nil, nil, args...), func(n string) string { return "--" + flagName(n) }},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			_, _, err := Load(src.src)
			p := problemsOf(t, err)
			assertNoLeak(t, err)
			for _, s := range settings {
				if !failsAlone(s) || (src.name == "flags" && s.secret) {
					continue
				}
				prefix := src.where(s.name) + ": "
				if !slices.ContainsFunc(p, func(l string) bool { return strings.HasPrefix(l, prefix) }) {
					t.Errorf("no problem starts with %q", prefix)
				}
			}
			// Text values are judged as a whole, at their line when they
			// come from the YAML file.
			for _, want := range []string{"listen: want host:port, such as 127.0.0.1:8002", "upstream: want an http:// or https:// URL, such as http://127.0.0.1:8000, or unix:/path/to.sock"} {
				if src.name == "yaml" {
					name, _, _ := strings.Cut(want, ":")
					want = fmt.Sprintf("c.yaml:%d: %s", line(name), want)
				}
				if !slices.Contains(p, want) {
					t.Errorf("no problem %q in\n%v", want, p)
				}
			}
		})
	}

	t.Run("routes and keys", func(t *testing.T) {
		yaml := strings.ReplaceAll(`routes:
  - match: /LEAK/
    mode: LEAK
    upstream: http://user:LEAK@127.0.0.1/
    token_query_param: LEAK&
    assertion_bind: LEAK
    monitor: LEAK
    binding_headers: {LEAK: LEAK}
    LEAK: LEAK
  - LEAK
keys:
  - id: LEAK
    base64_secret: LEAK
    secret_file: LEAK
`, "LEAK", leak)
		_, _, err := Load(source(t, with("APPROOV_CONFIG", "c.yaml"), map[string]string{"c.yaml": yaml}))
		p := problemsOf(t, err)
		assertNoLeak(t, err)
		if len(p) < 9 {
			t.Errorf("want a problem for each bad field, got\n%v", err)
		}
	})
}

// TestLoadArguments: flag syntax errors are not Problems, and secrets have
// no flag.
func TestLoadArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "unknown flag --no-such-flag (see approov-gateway serve -h)"},
		{[]string{"--base64-secret", secret}, "unknown flag --base64-secret (see approov-gateway serve -h)"},
		{[]string{"--forward-auth-secret=x"}, "unknown flag --forward-auth-secret (see approov-gateway serve -h)"},
		{[]string{"--monitr"}, "unknown flag --monitr (did you mean --monitor?)"},
		{[]string{"-chek-config"}, "unknown flag --chek-config (did you mean --check-config?)"},
		{[]string{"--Listen=127.0.0.1:1"}, "unknown flag --Listen (did you mean --listen?)"},
		{[]string{"--leeway"}, "flag needs an argument: -leeway (see approov-gateway serve -h)"},
		{[]string{"--leeway", "1s", "extra", "--monitor=true"}, `unexpected argument "extra" (see approov-gateway serve -h)`},
		{[]string{"--monitor", "false"}, `unexpected argument "false"; --monitor is a boolean flag: --monitor alone turns it on, --monitor=false sets it`},
		{[]string{"--leeway=1s", "--access-log", "true", "--check-config"}, `unexpected argument "true"; --access-log is a boolean flag: --access-log alone turns it on, --access-log=true sets it`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := Load(source(t, valid, nil, tt.args...))
			var p Problems
			if err == nil || errors.As(err, &p) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if err.Error() != tt.want {
				t.Errorf("err = %q, want %q", err, tt.want)
			}
		})
	}

	t.Run("check-config", func(t *testing.T) {
		_, flags, err := Load(source(t, valid, nil, "--check-config"))
		if err != nil || !flags.CheckConfig {
			t.Errorf("err %v, CheckConfig %v", err, flags != nil && flags.CheckConfig)
		}
	})
}

// TestLoadYAML covers the YAML file: settings, lists, routes and keys
// decoded field by field, and each problem with its line.
func TestLoadYAML(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name     string
		yaml     string
		problems Problems // exactly these, when not nil
		check    func(t *testing.T, c *Config)
	}{
		{name: "empty file sets nothing", yaml: "",
			check: func(t *testing.T, c *Config) {
				if c.TokenHeader != "Approov-Token" {
					t.Errorf("token_header %q", c.TokenHeader)
				}
			}},
		{name: "comments only", yaml: "# nothing yet\n"},
		{name: "scalars and lists", yaml: "monitor: true\nleeway: 2s\nbinding_headers: [Authorization, X-Session]\nforward_claims:\n  - did\n  - ip\ntrusted_proxies: 10.0.0.0/8, 127.0.0.1\n",
			check: func(t *testing.T, c *Config) {
				if !c.Monitor || c.Leeway != 2*time.Second || !slices.Equal(c.BindingHeaders, []string{"Authorization", "X-Session"}) ||
					!slices.Equal(c.ForwardClaims, []string{"did", "ip"}) || len(c.TrustedProxies) != 2 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "unknown setting with a suggestion", yaml: "monitor: true\nupstrem: http://127.0.0.1:8000\n",
			problems: Problems{"c.yaml:2: upstrem: unknown setting (did you mean upstream?)"}},
		{name: "unknown setting without a suggestion", yaml: "completely_unknown: 1\n",
			problems: Problems{"c.yaml:1: completely_unknown: unknown setting"}},
		{name: "list misspelt", yaml: "rotues: []\n",
			problems: Problems{"c.yaml:1: rotues: unknown setting (did you mean routes?)"}},
		{name: "bad value", yaml: "\n\nleeway: soon\n",
			problems: Problems{"c.yaml:3: leeway: not a duration (use for example 30s or 1m)"}},
		{name: "mapping for a setting", yaml: "binding_headers: {a: b}\n",
			problems: Problems{"c.yaml:1: binding_headers: want a plain value or a list"}},
		{name: "nested list for a setting", yaml: "binding_headers: [[a]]\n",
			problems: Problems{"c.yaml:1: binding_headers: want a list of plain values"}},
		{name: "top level not a mapping", yaml: "- upstream\n",
			problems: Problems{"c.yaml: want a mapping of settings at the top level"}},
		{name: "routes not a list", yaml: "routes:\n  match: /\n",
			problems: Problems{"c.yaml:2: routes: want a list"}},
		{name: "keys not a list", yaml: "keys: none\n",
			problems: Problems{"c.yaml:1: keys: want a list"}},
		{name: "route not a mapping", yaml: "routes:\n  - /api/\n  - match: /ok/\n",
			problems: Problems{"c.yaml:2: routes[0]: want a mapping of fields"},
			check: func(t *testing.T, c *Config) {
				if len(c.Routes) != 1 || c.Routes[0].Match != "/ok/" {
					t.Errorf("routes %+v", c.Routes)
				}
			}},
		{name: "route unknown field", yaml: "routes:\n  - match: /a/\n  - match: /b/\n    mdoe: public\n",
			problems: Problems{"c.yaml:4: routes[1]: unknown field (did you mean mode?)"}},
		{name: "route unknown field without a suggestion", yaml: "routes:\n  - match: /a/\n    xyzzy_plugh: 1\n",
			problems: Problems{"c.yaml:3: routes[0]: unknown field"}},
		{name: "route field wrong types", yaml: "routes:\n  - match: [/a/]\n    monitor: maybe\n    allow_preflight: [true]\n    binding_headers: {a: b}\n    upstream: {}\n",
			problems: Problems{
				"c.yaml:2: routes[0].match: want a plain value",
				"c.yaml:3: routes[0].monitor: want true or false",
				"c.yaml:4: routes[0].allow_preflight: want true or false",
				"c.yaml:5: routes[0].binding_headers: want a plain value or a list",
				"c.yaml:6: routes[0].upstream: want a plain value",
				`c.yaml:2: routes[0]: match is required, such as "GET /api/"`,
			}},
		{name: "route fields", yaml: `routes:
  - name: api
    match: GET /api/
    mode: binding
    binding_headers: Authorization, X-Session
    binding_optional: true
    binding_strip_scheme: false
    monitor: false
    allow_preflight: true
    upstream: http://127.0.0.1:8001
    token_query_param: approov_token
    assertion_bind: host
  - match: /ws/
    binding_headers: [Authorization]
`,
			check: func(t *testing.T, c *Config) {
				want := []Route{{
					Name: "api", Match: "GET /api/", Mode: ModeBinding, BindingHeaders: []string{"Authorization", "X-Session"},
					BindingOptional: &yes, BindingStripScheme: &no, Monitor: &no, AllowPreflight: &yes,
					Upstream: "http://127.0.0.1:8001", TokenQueryParam: "approov_token", AssertionBind: BindHost,
				}, {Match: "/ws/", BindingHeaders: []string{"Authorization"}}}
				if !reflect.DeepEqual(c.Routes, want) {
					t.Errorf("routes\n%+v\nwant\n%+v", c.Routes, want)
				}
			}},
		{name: "key fields", yaml: "keys:\n  - id: next\n    base64url_secret: abc\n  - id: es\n    public_key_file: /etc/es.pem\n",
			check: func(t *testing.T, c *Config) {
				want := []Key{{ID: "next", Base64URLSecret: "abc"}, {ID: "es", PublicKeyFile: "/etc/es.pem"}}
				if !reflect.DeepEqual(c.Keys, want) {
					t.Errorf("keys %+v", c.Keys)
				}
			}},
		{name: "key unknown field", yaml: "keys:\n  - id: a\n    secretfile: /s\n",
			problems: Problems{"c.yaml:3: keys[0]: unknown field (did you mean secret_file?)", "c.yaml:2: keys[0]: set exactly one of base64_secret, base64url_secret, secret_file, public_key_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(source(t, with("APPROOV_CONFIG", "c.yaml"), map[string]string{"c.yaml": tt.yaml}))
			if tt.problems != nil {
				if p := problemsOf(t, err); !slices.Equal(p, tt.problems) {
					t.Errorf("problems\n%q\nwant\n%q", p, tt.problems)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestLoadYAMLFileErrors: a missing or unreadable file, or one that is not
// YAML, is one problem naming the file.
func TestLoadYAMLFileErrors(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		files  map[string]string
		prefix string
	}{
		{"missing", "missing.yaml", nil, "config file: missing.yaml: no such file or directory"},
		{"syntax error", "c.yaml", map[string]string{"c.yaml": "upstream: [http://127.0.0.1:8000\n"}, "c.yaml:1: not valid YAML: did not find expected ',' or ']'"},
		{"tab indentation", "c.yaml", map[string]string{"c.yaml": "routes:\n\t- match: /\n"}, "c.yaml:2: not valid YAML: found character that cannot start any token"},
		{"unknown anchor", "c.yaml", map[string]string{"c.yaml": "monitor: *yes\n"}, "c.yaml: not valid YAML: unknown anchor 'yes' referenced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(source(t, with("APPROOV_CONFIG", tt.file), tt.files))
			p := problemsOf(t, err)
			if len(p) != 1 || !strings.HasPrefix(p[0], tt.prefix) {
				t.Errorf("problems %q, want one starting %q", p, tt.prefix)
			}
		})
	}

	t.Run("directory", func(t *testing.T) {
		src := source(t, with("APPROOV_CONFIG", "conf.d"), nil)
		if err := os.Mkdir(filepath.Join(src.Dir, "conf.d"), 0o700); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(src)
		if p := problemsOf(t, err); !slices.Equal(p, Problems{"config file: conf.d: is a directory"}) {
			t.Errorf("problems %q", p)
		}
	})
}

// TestSourceLookup reads single variables as the token commands do: the
// environment first, then .env.
func TestSourceLookup(t *testing.T) {
	src := source(t, map[string]string{"APPROOV_A": "env"}, map[string]string{".env": "APPROOV_A=dotenv\nAPPROOV_B=dotenv\n"})
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{{"APPROOV_A", "env", true}, {"APPROOV_B", "dotenv", true}, {"APPROOV_C", "", false}} {
		v, ok, err := src.Lookup(tt.name)
		if v != tt.want || ok != tt.ok || err != nil {
			t.Errorf("Lookup(%s) = %q, %v, %v; want %q, %v", tt.name, v, ok, err, tt.want, tt.ok)
		}
	}

	bad := source(t, map[string]string{"APPROOV_A": "env"}, map[string]string{".env": "oops\n"})
	if v, ok, err := bad.Lookup("APPROOV_A"); v != "env" || !ok || err == nil || err.Error() != ".env:1: want NAME=value" {
		t.Errorf("with a bad .env: %q, %v, %v", v, ok, err)
	}
}

// TestOSSource reads the process's environment and working directory.
func TestOSSource(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(".env", []byte("APPROOV_OS_SOURCE_TEST_B=dotenv\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("APPROOV_OS_SOURCE_TEST_A", "env")
	src := OSSource([]string{"--monitor"})
	if !slices.Equal(src.Args, []string{"--monitor"}) {
		t.Errorf("args %q", src.Args)
	}
	if v, _, _ := src.Lookup("APPROOV_OS_SOURCE_TEST_A"); v != "env" {
		t.Errorf("environment: %q", v)
	}
	if v, _, _ := src.Lookup("APPROOV_OS_SOURCE_TEST_B"); v != "dotenv" {
		t.Errorf(".env: %q", v)
	}
	_, unknown := src.environment().unknownNames()
	if !slices.Contains(unknown, "APPROOV_OS_SOURCE_TEST_A: not a setting of approov-gateway; ignored") {
		t.Errorf("unknown names: %q", unknown)
	}
}

// TestYAMLNullIsEmpty: ~ and null leave a setting empty, as an empty value
// does, rather than setting it to the text "~" or "null".
func TestYAMLNullIsEmpty(t *testing.T) {
	for _, v := range []string{"~", "null", "Null", ""} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("token_prefix: "+v+"\nbinding_headers: "+v+"\nupstream: http://127.0.0.1:9\n"), 0o600)
		cfg, _, err := Load(Source{Args: []string{"--config", "c.yaml"}, Dir: dir,
			Getenv: func(k string) (string, bool) {
				return map[string]string{"APPROOV_BASE64_SECRET": "x"}[k], k == "APPROOV_BASE64_SECRET"
			}})
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if cfg.TokenPrefix != "" || len(cfg.BindingHeaders) != 0 {
			t.Errorf("%q: token_prefix %q, binding_headers %q", v, cfg.TokenPrefix, cfg.BindingHeaders)
		}
	}
}
