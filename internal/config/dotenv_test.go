package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDotenv(t *testing.T) {
	d := readDotenvString(t, `
# comment
export APPROOV_A=plain
APPROOV_B = "double quoted # not a comment"
APPROOV_C='single quoted'
APPROOV_D=value # trailing comment
APPROOV_E=
APPROOV_F="line\nbreak"
`)
	if d.problems != nil {
		t.Fatal(d.problems)
	}
	want := map[string]string{"APPROOV_A": "plain", "APPROOV_B": "double quoted # not a comment", "APPROOV_C": "single quoted",
		"APPROOV_D": "value", "APPROOV_E": "", "APPROOV_F": "line\nbreak"}
	for k, v := range want {
		if d.vars[k] != v {
			t.Errorf("%s = %q, want %q", k, d.vars[k], v)
		}
	}
	for _, bad := range []string{"NOEQUALS\n", "A=\"unterminated\n", "A='x' y\n", "BAD NAME=1\n"} {
		if d := readDotenvString(t, bad); len(d.problems) != 1 || len(d.vars) != 0 {
			t.Errorf("%q: problems %q, variables %q", bad, d.problems, d.vars)
		}
	}
}

func readDotenvString(t *testing.T, content string) dotenv {
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return readDotenv(p)
}

// TestLoadDotenvFile reads settings from .env in the source's directory,
// in the forms the Approov quickstarts use, and reports bad lines by
// number without their content.
func TestLoadDotenvFile(t *testing.T) {
	t.Run("forms", func(t *testing.T) {
		dotenv := "# Approov\nexport APPROOV_BASE64_SECRET=" + secret + "\nAPPROOV_UPSTREAM='http://127.0.0.1:8000' # Django\n" +
			"APPROOV_TOKEN_PREFIX=\"Bearer \"\nAPPROOV_ISSUER=issuer # comment\n\n  APPROOV_AUDIENCE = aud#not-a-comment\n"
		c, _, err := Load(source(t, nil, map[string]string{".env": dotenv}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Base64Secret != secret || c.Upstream != "http://127.0.0.1:8000" || c.TokenPrefix != "Bearer " || c.Issuer != "issuer" || c.Audience != "aud#not-a-comment" {
			t.Errorf("%+v", c)
		}
	})

	tests := []struct {
		name, dotenv, want string
	}{
		{"no equals sign", "APPROOV_MONITOR=true\nAPPROOV_BASE64_SECRET " + leak + "\n", ".env:2: want NAME=value"},
		{"space in name", "APPROOV BASE64_SECRET=" + leak + "\n", ".env:1: want NAME=value"},
		{"unterminated quote", "APPROOV_BASE64_SECRET=\"" + leak + "\n", ".env:1: APPROOV_BASE64_SECRET: unterminated quote"},
		{"text after quote", "APPROOV_BASE64_SECRET='" + leak + "' " + leak + "\n", ".env:1: APPROOV_BASE64_SECRET: text after the closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(source(t, valid, map[string]string{".env": tt.dotenv}))
			p := problemsOf(t, err)
			if !slices.Equal(p, Problems{tt.want}) {
				t.Errorf("problems %q, want %q", p, tt.want)
			}
			assertNoLeak(t, err)
		})
	}

	// Each bad line is named, and the good ones still count: the secret
	// and upstream of the last line load, so the problems are the bad
	// lines' alone.
	t.Run("every bad line, the good ones kept", func(t *testing.T) {
		dotenv := "APPROOV_MONITOR " + leak + "\nAPPROOV_LEEWAY=2s\nAPPROOV_ISSUER='" + leak + "\n=" + leak + "\n" +
			"APPROOV_BASE64_SECRET=" + secret + "\nAPPROOV_UPSTREAM=http://127.0.0.1:8000\n"
		c, _, err := Load(source(t, nil, map[string]string{".env": dotenv}))
		p := problemsOf(t, err)
		want := Problems{".env:1: want NAME=value", ".env:3: APPROOV_ISSUER: unterminated quote", ".env:4: want NAME=value"}
		if !slices.Equal(p, want) {
			t.Errorf("problems %q, want %q", p, want)
		}
		assertNoLeak(t, err)
		if c.Leeway != 2*time.Second || c.Base64Secret != secret || c.Upstream != "http://127.0.0.1:8000" {
			t.Errorf("the good lines did not count: %+v", c)
		}
	})

	// A bad value names the line of .env it is on.
	t.Run("bad value", func(t *testing.T) {
		_, _, err := Load(source(t, valid, map[string]string{".env": "# settings\n\nAPPROOV_LEEWAY=" + leak + "\n"}))
		if p := problemsOf(t, err); !slices.Equal(p, Problems{".env:3: APPROOV_LEEWAY: not a duration (use for example 30s or 1m)"}) {
			t.Errorf("problems %q", p)
		}
	})

	t.Run("line too long", func(t *testing.T) {
		dotenv := "APPROOV_LEEWAY=2s\nAPPROOV_ISSUER=" + strings.Repeat("x", 70000) + "\n"
		c, _, err := Load(source(t, valid, map[string]string{".env": dotenv}))
		if p := problemsOf(t, err); len(p) != 1 || !strings.HasPrefix(p[0], ".env:2: ") || c.Leeway != 2*time.Second {
			t.Errorf("problems %q, leeway %v", p, c.Leeway)
		}
	})

	t.Run("unreadable", func(t *testing.T) {
		src := source(t, valid, nil)
		if err := os.Mkdir(filepath.Join(src.Dir, ".env"), 0o700); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(src)
		p := problemsOf(t, err)
		if len(p) != 1 || !strings.HasPrefix(p[0], ".env: ") || !strings.HasSuffix(p[0], "is a directory") {
			t.Errorf("problems %q", p)
		}
	})
}
