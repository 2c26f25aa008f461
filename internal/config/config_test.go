package config

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/assertion"
)

func source(t *testing.T, env map[string]string, files map[string]string, args ...string) Source {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Source{
		Args:   args,
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: func() []string {
			var out []string
			for k, v := range env {
				out = append(out, k+"="+v)
			}
			return out
		},
		Dir: dir,
	}
}

const secret = "c2NyaXB0IHRlc3Qgc2VjcmV0OiA2NCBieXRlcywgdGhlIHNpemUgb2YgYW4gQXBwcm9vdiBzZWNyZXQuLi4uLg=="

func TestPrecedence(t *testing.T) {
	files := map[string]string{
		"c.yaml": "leeway: 1s\nmonitor: true\nupstream: http://yaml\ntoken_prefix: yaml\nbinding_headers: [A, B]\n",
		".env":   "APPROOV_CONFIG=c.yaml\nAPPROOV_LEEWAY=2s\nAPPROOV_UPSTREAM=http://dotenv\nAPPROOV_TOKEN_PREFIX=dotenv\n",
	}
	env := map[string]string{"APPROOV_BASE64_SECRET": secret, "APPROOV_LEEWAY": "3s", "APPROOV_UPSTREAM": "http://env"}
	c, _, err := Load(source(t, env, files, "--leeway=4s"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Leeway != 4*time.Second || c.Upstream != "http://env" || c.TokenPrefix != "dotenv" || !c.Monitor || strings.Join(c.BindingHeaders, ",") != "A,B" {
		t.Fatalf("flag > env > .env > yaml > default broken: %+v", c)
	}
	if c.Listen != "127.0.0.1:8002" || c.AdminListen != "127.0.0.1:9002" || c.TokenHeader != "Approov-Token" {
		t.Fatalf("defaults: %q %q %q", c.Listen, c.AdminListen, c.TokenHeader)
	}
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{"upstrem": "upstream", "rotues": "routes", "bindng_headers": "binding_headers", "zzzzzzzz": ""} {
		got := suggest(in)
		if (want == "" && got != "") || (want != "" && got != " (did you mean "+want+"?)") {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRouteMode(t *testing.T) {
	c := Defaults()
	if c.RouteMode(&Route{}) != ModeToken || c.RouteMode(&Route{BindingHeaders: []string{"A"}}) != ModeBinding || c.RouteMode(&Route{Mode: ModePublic}) != ModePublic {
		t.Fatal("route modes without top-level binding")
	}
	c.BindingHeaders = []string{"Authorization"}
	if c.RouteMode(&Route{}) != ModeBinding || c.RouteMode(nil) != ModeBinding || c.RouteMode(&Route{Mode: ModeToken}) != ModeToken {
		t.Fatal("route modes with top-level binding")
	}
}

func TestSettingNames(t *testing.T) {
	// The contract: these names, everywhere.
	for _, name := range []string{"base64_secret", "base64url_secret", "secret_file", "listen", "upstream", "binding_headers", "token_header", "token_prefix", "monitor", "admin_listen"} {
		found := false
		for _, s := range Settings() {
			if s.Name == name {
				found = true
				if s.Env != "APPROOV_"+strings.ToUpper(name) {
					t.Errorf("%s: env %s", name, s.Env)
				}
				if !s.Secret && s.Flag != "--"+strings.ReplaceAll(name, "_", "-") {
					t.Errorf("%s: flag %s", name, s.Flag)
				}
			}
		}
		if !found {
			t.Errorf("no setting %s", name)
		}
	}
}

// TestSummary: Summary names no address, which a running gateway knows
// better than its configuration; SummaryAt names those it is given.
func TestSummary(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
		wantAt string // SummaryAt(c.Addresses())
	}{
		{"defaults", func(*Config) {},
			"upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), no binding, enforcing, no signed facts, forward-auth off",
			"listen 127.0.0.1:8002, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), no binding, enforcing, no signed facts, forward-auth off, admin 127.0.0.1:9002"},
		{"everything on", func(c *Config) {
			c.Keys = []Key{{ID: "a", SecretFile: "/a"}, {ID: "b", PublicKeyFile: "/b"}}
			c.Routes = []Route{{Match: "/a/"}}
			c.BindingHeaders = []string{"Authorization", "X-Session"}
			c.Monitor = true
			c.AssertionSecretFile, c.AssertionAudience = "/assertion", "django"
			c.ForwardAuthListen, c.AdminListen = "127.0.0.1:9003", "off"
		}, "upstream http://127.0.0.1:8000, 3 key(s), 1 route(s), binding Authorization+X-Session, monitor mode, signed facts for django, forward-auth beside the proxy at /_approov/verify",
			"listen 127.0.0.1:8002, upstream http://127.0.0.1:8000, 3 key(s), 1 route(s), binding Authorization+X-Session, monitor mode, signed facts for django, forward-auth at 127.0.0.1:9003/_approov/verify, admin off"},
		{"forward-auth only", func(c *Config) {
			c.Upstream, c.ForwardAuthOnly, c.Base64Secret, c.Keys = "", true, "", []Key{{Base64Secret: secret}}
			c.AssertionSecret, c.ForwardAuthPath = secret, "/auth"
		}, "forward-auth only, 1 key(s), 0 route(s), no binding, enforcing, signed facts for approov-backend, forward-auth at /auth",
			"listen 127.0.0.1:8002, forward-auth only, 1 key(s), 0 route(s), no binding, enforcing, signed facts for approov-backend, forward-auth at /auth, admin 127.0.0.1:9002"},
		{"user information redacted", func(c *Config) { c.Upstream = "http://alice:hunter2@127.0.0.1:8000/api" },
			"upstream http://127.0.0.1:8000/api, 1 key(s), 0 route(s), no binding, enforcing, no signed facts, forward-auth off", ""},
		{"user alone redacted", func(c *Config) { c.Upstream = "https://ghp_token@example.com" },
			"upstream https://example.com, 1 key(s), 0 route(s), no binding, enforcing, no signed facts, forward-auth off", ""},
		{"unparsable upstream", func(c *Config) { c.Upstream = "http://[::1" },
			"upstream (unparsable URL), 1 key(s), 0 route(s), no binding, enforcing, no signed facts, forward-auth off", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			c.Base64Secret, c.Upstream = secret, "http://127.0.0.1:8000"
			tt.change(c)
			if got := c.Summary(); got != tt.want {
				t.Errorf("Summary\n%s\nwant\n%s", got, tt.want)
			}
			if got := c.SummaryAt(c.Addresses()); tt.wantAt != "" && got != tt.wantAt {
				t.Errorf("SummaryAt\n%s\nwant\n%s", got, tt.wantAt)
			}
		})
	}

	// A running gateway passes the addresses it is at: the kernel's port
	// for :0, the old address after a reload that changed it.
	c := Defaults()
	c.Base64Secret, c.Upstream, c.Listen, c.ForwardAuthListen = secret, "http://127.0.0.1:8000", "127.0.0.1:0", "127.0.0.1:0"
	got := c.SummaryAt(Addresses{Listen: "127.0.0.1:40001", ForwardAuth: "127.0.0.1:40002", Admin: "127.0.0.1:40003"})
	if want := "listen 127.0.0.1:40001, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), no binding, enforcing, no signed facts, forward-auth at 127.0.0.1:40002/_approov/verify, admin 127.0.0.1:40003"; got != want {
		t.Errorf("SummaryAt\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(c.Summary(), ":0") {
		t.Errorf("Summary names a configured address: %s", c.Summary())
	}
}

// TestSummaryNoSecret sets every secret, and every key of the keys list,
// and checks that the summary shows none.
func TestSummaryNoSecret(t *testing.T) {
	const s = "Zq9-SUMMARY-SECRET"
	c := Defaults()
	for _, st := range settings {
		if st.secret {
			if err := st.value.set(c, s+st.name); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Keys = []Key{{Base64Secret: s}, {Base64URLSecret: s}}
	c.Upstream = "http://" + s + ":" + s + "@127.0.0.1/"
	for _, got := range []string{c.Summary(), c.SummaryAt(c.Addresses())} {
		if strings.Contains(got, s) {
			t.Errorf("summary shows a secret: %s", got)
		}
	}
}

// TestFacts checks the one table of forwarded facts: names and headers are
// unique, every getter reads its own claim, and Clm is set exactly for the
// facts an assertion carries in clm, under the fact's name.
func TestFacts(t *testing.T) {
	claims := &approov.Claims{
		Expiry: time.Unix(1700000000, 0), DeviceID: "v-did", IP: "v-ip", AttestationResponse: "v-arc",
		InstallationPublicKey: "v-ipk", MessageSigningKeyID: "v-mskid", PayloadHash: "v-pay", Issuer: "v-iss", Subject: "v-sub",
	}
	var signed assertion.Forwarded
	names, headers := map[string]bool{}, map[string]bool{}
	for _, f := range facts {
		if names[f.Name] || headers[f.Header] {
			t.Errorf("%s: name or header %s used twice", f.Name, f.Header)
		}
		names[f.Name], headers[f.Header] = true, true
		if got, ok := FactNamed(f.Name); !ok || got.Header != f.Header {
			t.Errorf("FactNamed(%q) = %+v, %v", f.Name, got, ok)
		}
		switch f.Name {
		case "result":
			if f.Get != nil {
				t.Errorf("result has a getter")
			}
		case "exp":
			if got := f.Get(claims); got != "1700000000" {
				t.Errorf("exp: %q", got)
			}
		default:
			if got := f.Get(claims); got != "v-"+f.Name {
				t.Errorf("%s: Get = %q", f.Name, got)
			}
		}
		inClaims := f.Name == "result" || f.Name == "did" || f.Name == "exp"
		if (f.Clm == nil) != inClaims {
			t.Errorf("%s: Clm set %v", f.Name, f.Clm != nil)
			continue
		}
		if f.Clm != nil {
			*f.Clm(&signed) = "v-" + f.Name
		}
	}
	if _, ok := FactNamed("device_id"); ok {
		t.Error("FactNamed accepts an unknown name")
	}

	// An assertion carries each clm fact under its name.
	key := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/")
	k, err := assertion.NewKey(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := assertion.NewSigner([]*assertion.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign(&assertion.Claims{ID: assertion.NewID(), Result: assertion.ResultOK, Method: "GET", Target: "/", Forwarded: signed})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Clm map[string]string }
	if err := json.Unmarshal(payload, &body); err != nil {
		t.Fatal(err)
	}
	for _, f := range facts {
		if f.Clm != nil && body.Clm[f.Name] != "v-"+f.Name {
			t.Errorf("clm %s = %q, want %q", f.Name, body.Clm[f.Name], "v-"+f.Name)
		}
	}
	if len(body.Clm) != 7 {
		t.Errorf("clm %v", body.Clm)
	}
}
