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
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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

	// Proxying and forward auth.
	Listen              string
	Upstream            string
	ForwardAuthOnly     bool
	ForwardAuthPath     string
	PreserveHost        bool
	KeepTokenHeader     bool
	ForwardClaims       []string
	ForwardHeaderPrefix string
	TrustedProxies      []netip.Prefix
	Routes              []Route

	// Limits and timeouts.
	ReadHeaderTimeout             time.Duration
	IdleTimeout                   time.Duration
	UpstreamDialTimeout           time.Duration
	UpstreamResponseHeaderTimeout time.Duration
	UpstreamKeepAlive             string
	ShutdownTimeout               time.Duration
	MaxHeaderBytes                int
	MaxHeaderCount                int

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
}

// The route modes.
const (
	ModePublic  = "public"
	ModeToken   = "token"
	ModeBinding = "binding"
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

// Problems is every problem found while loading a configuration, one line
// each.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

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

// Source is where settings come from: the arguments after the subcommand,
// the process environment and the working directory (for .env).
type Source struct {
	Args    []string
	Getenv  func(string) (string, bool)
	Environ func() []string
	Dir     string
}

// OSSource is the process's own arguments, environment and directory.
func OSSource(args []string) Source {
	dir, _ := os.Getwd()
	return Source{Args: args, Getenv: os.LookupEnv, Environ: os.Environ, Dir: dir}
}

// lookup returns the environment as settings see it: the process's, then
// the .env file's for names the process does not set, as python-dotenv does
// by default. The second result says where a value came from.
func (src Source) lookup() (func(name string) (string, string, bool), error) {
	dotenv, err := readDotenv(filepath.Join(src.Dir, ".env"))
	return func(name string) (string, string, bool) {
		if v, ok := src.Getenv(name); ok {
			return v, name, true
		}
		if v, ok := dotenv[name]; ok {
			return v, ".env " + name, true
		}
		return "", "", false
	}, err
}

// Lookup returns the value of an environment variable as settings see it,
// .env included, for commands that read a few settings without loading a
// whole configuration.
func (src Source) Lookup(name string) (value string, ok bool, err error) {
	lookup, err := src.lookup()
	value, _, ok = lookup(name)
	return value, ok, err
}

// Flags are the command-line options that are not settings.
type Flags struct {
	CheckConfig bool
}

// NewFlagSet returns the flag set of the serve command: one flag per
// non-secret setting, plus --config and --check-config.
func NewFlagSet(name string) (*flag.FlagSet, *Flags, map[string]*string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	values := map[string]*string{}
	for _, s := range settings {
		if s.secret {
			continue
		}
		usage := s.usage + " (" + EnvName(s.name) + ")"
		values[s.name] = fs.String(FlagName(s.name), s.def, usage)
	}
	values["config"] = fs.String("config", "", "YAML configuration file (APPROOV_CONFIG)")
	f := &Flags{}
	fs.BoolVar(&f.CheckConfig, "check-config", false, "check the configuration, print what is wrong, and exit")
	return fs, f, values
}

// Defaults returns a configuration with every default applied and nothing
// else: no key, no upstream. Callers that build configurations in code,
// such as the demo, start from it.
func Defaults() *Config {
	c := &Config{}
	for _, s := range settings {
		if s.def != "" {
			if err := s.apply(c, s.def); err != nil {
				panic("config: bad default for " + s.name + ": " + err.Error())
			}
		}
	}
	return c
}

// Validate checks a configuration built in code, as Load checks one read
// from files and the environment.
func (c *Config) Validate() error {
	if p := c.validate(); len(p) > 0 {
		return p
	}
	return nil
}

// Load reads the configuration for the serve command. On a bad
// configuration it returns [Problems]; flag syntax errors come back as
// other errors, after the flag package has printed its usage.
func Load(src Source) (*Config, *Flags, error) {
	fs, flags, values := NewFlagSet("serve")
	fs.SetOutput(new(strings.Builder))
	if err := fs.Parse(src.Args); err != nil {
		return nil, nil, fmt.Errorf("%v (see approov-gateway serve -h)", err)
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q (see approov-gateway serve -h)", fs.Arg(0))
	}
	setFlags := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if v, ok := values[strings.ReplaceAll(f.Name, "-", "_")]; ok {
			setFlags[f.Name] = *v
		}
	})

	var problems Problems
	c := Defaults()

	lookup, err := src.lookup()
	if err != nil {
		problems = append(problems, err.Error())
	}

	file := setFlags["config"]
	if file == "" {
		file, _, _ = lookup("APPROOV_CONFIG")
	}
	if file != "" {
		c.File = file
		path := file
		if !filepath.IsAbs(path) && src.Dir != "" {
			path = filepath.Join(src.Dir, path)
		}
		problems = append(problems, loadYAML(c, path, file)...)
	}
	for _, s := range settings {
		if v, from, ok := lookup(EnvName(s.name)); ok {
			if err := s.apply(c, v); err != nil {
				problems = append(problems, from+": "+err.Error())
			}
		}
	}
	for _, s := range settings {
		if v, ok := setFlags[FlagName(s.name)]; ok {
			if err := s.apply(c, v); err != nil {
				problems = append(problems, "--"+FlagName(s.name)+": "+err.Error())
			}
		}
	}
	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return c, flags, problems
	}
	return c, flags, nil
}

// UnknownEnv lists APPROOV_* variables in the environment that name no
// setting, to warn about typos.
func UnknownEnv(src Source) []string {
	known := map[string]bool{"APPROOV_CONFIG": true}
	for _, s := range settings {
		known[EnvName(s.name)] = true
	}
	var unknown []string
	if src.Environ == nil {
		return nil
	}
	for _, kv := range src.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		// Variables of Approov's own CLI are not ours to judge.
		if strings.HasPrefix(name, "APPROOV_") && !known[name] && !strings.HasPrefix(name, "APPROOV_MANAGEMENT") {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	return unknown
}

// loadYAML applies the settings in the YAML file at path, named file in
// messages.
func loadYAML(c *Config, path, file string) Problems {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return Problems{"config file: " + file + ": " + pe.Err.Error()}
		}
		return Problems{"config file: " + err.Error()}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Problems{file + ": " + err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Problems{file + ": want a mapping of settings at the top level"}
	}
	byName := map[string]setting{}
	for _, s := range settings {
		byName[s.name] = s
	}
	var problems Problems
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("%s:%d: %s", file, key.Line, key.Value)
		switch key.Value {
		case "routes":
			if err := decodeStrict(val, &c.Routes); err != nil {
				problems = append(problems, where+": "+err.Error())
			}
		case "keys":
			if err := decodeStrict(val, &c.Keys); err != nil {
				problems = append(problems, where+": "+err.Error())
			}
		default:
			s, ok := byName[key.Value]
			if !ok {
				problems = append(problems, where+": unknown setting"+suggest(key.Value))
				continue
			}
			text, err := scalarText(val)
			if err != nil {
				problems = append(problems, where+": "+err.Error())
				continue
			}
			if err := s.apply(c, text); err != nil {
				problems = append(problems, where+": "+err.Error())
			}
		}
	}
	return problems
}

// scalarText returns a YAML value as the text a setting parses; a sequence
// becomes a comma-separated list.
func scalarText(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		parts := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return "", errors.New("want a list of plain values")
			}
			parts = append(parts, item.Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", errors.New("want a plain value or a list")
}

func decodeStrict(n *yaml.Node, v any) error {
	// Node.Decode has no KnownFields switch; re-encoding through a decoder
	// that has one makes typos in route and key fields errors.
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
	}
	return nil
}

// suggest names the closest setting, for typos.
func suggest(name string) string {
	best, bestDist := "", 4
	for _, s := range settings {
		if d := editDistance(name, s.name); d < bestDist {
			best, bestDist = s.name, d
		}
	}
	for _, other := range []string{"routes", "keys"} {
		if d := editDistance(name, other); d < bestDist {
			best, bestDist = other, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// errorText shortens file errors to what a user acts on.
func errorText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

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
