package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func TestDotenv(t *testing.T) {
	vars, err := readDotenvString(t, `
# comment
export APPROOV_A=plain
APPROOV_B = "double quoted # not a comment"
APPROOV_C='single quoted'
APPROOV_D=value # trailing comment
APPROOV_E=
APPROOV_F="line\nbreak"
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"APPROOV_A": "plain", "APPROOV_B": "double quoted # not a comment", "APPROOV_C": "single quoted",
		"APPROOV_D": "value", "APPROOV_E": "", "APPROOV_F": "line\nbreak"}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %q, want %q", k, vars[k], v)
		}
	}
	for _, bad := range []string{"NOEQUALS\n", "A=\"unterminated\n", "A='x' y\n", "BAD NAME=1\n"} {
		if _, err := readDotenvString(t, bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func readDotenvString(t *testing.T, content string) (map[string]string, error) {
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return readDotenv(p)
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{"upstrem": "upstream", "rotues": "routes", "bindng_headers": "binding_headers", "zzzzzzzz": ""} {
		got := suggest(in)
		if (want == "" && got != "") || (want != "" && got != " (did you mean "+want+"?)") {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownEnv(t *testing.T) {
	src := source(t, map[string]string{"APPROOV_UPSTRAEM": "x", "APPROOV_UPSTREAM": "y", "APPROOV_MANAGEMENT_TOKEN": "z", "HOME": "/"}, nil)
	if got := UnknownEnv(src); len(got) != 1 || got[0] != "APPROOV_UPSTRAEM" {
		t.Fatalf("UnknownEnv = %v", got)
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
