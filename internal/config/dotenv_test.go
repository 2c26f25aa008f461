package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

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
