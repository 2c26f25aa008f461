package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestProblemsAtTheirLine: a problem validation finds in a value from the
// YAML file starts with the file and the value's line, and names the
// setting or the route's field as the file does — by its place in the
// file, which a list element that is not a mapping shifts — never a Go
// type.
func TestProblemsAtTheirLine(t *testing.T) {
	const file = `upstream: http://127.0.0.1:8000
listen: nowhere
forward_auth_path: relative
routes:
  - match: /a/
    mode: open
  - not a route
  - name: second
    assertion_bind: path
    upstream: ftp://127.0.0.1/
  - match: /c/
    name: second
    message_signing: sometimes
  - match: /d/
    mode: binding
keys:
  - id: k1
  - id: k2
    base64_secret: x
    secret_file: y
`
	_, _, err := Load(source(t, with("APPROOV_CONFIG", "c.yaml"), map[string]string{"c.yaml": file}))
	want := Problems{
		"c.yaml:7: routes[1]: want a mapping of fields",
		"c.yaml:17: keys[0]: set exactly one of base64_secret, base64url_secret, secret_file, public_key_file",
		"c.yaml:18: keys[1]: set exactly one of base64_secret, base64url_secret, secret_file, public_key_file",
		"c.yaml:2: listen: want host:port, such as 127.0.0.1:8002",
		"c.yaml:3: forward_auth_path: want an absolute path such as /_approov/verify, without a trailing slash",
		"c.yaml:6: routes[0].mode: want public, token or binding",
		`c.yaml:8: routes[2]: match is required, such as "GET /api/"`,
		"c.yaml:9: routes[2].assertion_bind: want target or host",
		"c.yaml:10: routes[2].upstream: want an http:// or https:// URL, such as http://127.0.0.1:8000, or unix:/path/to.sock",
		"c.yaml:13: routes[3].message_signing: want off, auto or required",
		"c.yaml:12: routes[3].name: already used by routes[2]",
		"c.yaml:15: routes[4]: mode binding needs binding_headers, here or at the top level",
	}
	if p := problemsOf(t, err); !slices.Equal(p, want) {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(p, "\n"), strings.Join(want, "\n"))
	}

	// A value the environment or a flag replaced is no longer the file's.
	_, _, err = Load(source(t, with("APPROOV_CONFIG", "c.yaml", "APPROOV_LISTEN", "nowhere"), map[string]string{"c.yaml": "listen: 127.0.0.1:1\nforward_auth_path: /ok\n"}, "--forward-auth-path=relative"))
	want = Problems{"listen: want host:port, such as 127.0.0.1:8002", "forward_auth_path: want an absolute path such as /_approov/verify, without a trailing slash"}
	if p := problemsOf(t, err); !slices.Equal(p, want) {
		t.Errorf("problems\n%q\nwant\n%q", p, want)
	}

	// Routes that share an upstream are placed at the later one.
	_, _, err = Load(source(t, with("APPROOV_CONFIG", "c.yaml"), map[string]string{"c.yaml": "routes:\n  - match: /\n    mode: public\n  - match: api.example.com/\n"}))
	if p := problemsOf(t, err); len(p) != 1 || !strings.HasPrefix(p[0], "c.yaml:4: routes[0] and routes[1] route different hosts") {
		t.Errorf("problems %q", p)
	}
}

// TestYAMLSetTwice: a key given twice is a problem at the second, which
// does not count.
func TestYAMLSetTwice(t *testing.T) {
	file := "monitor: true\nroutes:\n  - match: /a/\n    mode: public\n    mode: token\nmonitor: false\n"
	c, _, err := Load(source(t, with("APPROOV_CONFIG", "c.yaml"), map[string]string{"c.yaml": file}))
	want := Problems{"c.yaml:5: routes[0].mode: set twice (first at line 4)", "c.yaml:6: monitor: set twice (first at line 1)"}
	if p := problemsOf(t, err); !slices.Equal(p, want) {
		t.Errorf("problems %q, want %q", p, want)
	}
	if !c.Monitor || c.Routes[0].Mode != ModePublic {
		t.Errorf("monitor %v, mode %q: the second counted", c.Monitor, c.Routes[0].Mode)
	}
}

// TestKeysAtTheirLine: keys from the YAML file that do not load are named
// by their YAML key and line.
func TestKeysAtTheirLine(t *testing.T) {
	file := "base64_secret: '%%%'\nkeys:\n  - id: a\n    base64url_secret: c2hvcnQ\n  - id: b\n    secret_file: missing.txt\n"
	c, _, err := Load(source(t, map[string]string{"APPROOV_UPSTREAM": "http://127.0.0.1:8000", "APPROOV_CONFIG": "c.yaml"}, map[string]string{"c.yaml": file}))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadKeys(c)
	want := Problems{
		"c.yaml:1: base64_secret: secret is neither base64 nor base64url",
		"c.yaml:4: keys[0].base64url_secret: secret decodes to 5 bytes; at least 32 are required (Approov secrets are 64)",
		"c.yaml:6: keys[1].secret_file: no such file or directory",
	}
	if p := problemsOf(t, err); !slices.Equal(p, want) {
		t.Errorf("problems\n%q\nwant\n%q", p, want)
	}
}

// TestLocate places problems found outside the package, such as the
// gateway's about route patterns, at the line of the value they are about.
func TestLocate(t *testing.T) {
	file := "routes:\n  - /not-a-route/\n  - match: /a/{x\n  - name: b\n    match: /b/\nkeys:\n  - id: k\n    secret_file: s\n"
	c, _, _ := Load(source(t, with("APPROOV_CONFIG", "c.yaml"), map[string]string{"c.yaml": file}))
	for _, tt := range []struct{ in, want string }{
		// The element's index in the Config is 0: the file's first
		// element was not a route.
		{`routes[0].match: parsing "/a/{x": at offset 3: bad wildcard segment`, `c.yaml:3: routes[1].match: parsing "/a/{x": at offset 3: bad wildcard segment`},
		{"routes[1].upstream: x", "c.yaml:4: routes[2].upstream: x"}, // unset: at the element
		{"routes[1] and routes[0] conflict", "c.yaml:4: routes[2] and routes[0] conflict"},
		{"keys[0].secret_file: no such file or directory", "c.yaml:8: keys[0].secret_file: no such file or directory"},
		{"routes[5].match: x", "routes[5].match: x"}, // no such element
		{"listen: x", "listen: x"},
		{"the default route.match: x", "the default route.match: x"},
		{`route "b": binding header "Bad Header" is not a valid header name`, `c.yaml:4: route "b": binding header "Bad Header" is not a valid header name`},
		{`route "/a/{x": x`, `c.yaml:3: route "/a/{x": x`}, // named by its match
		{`route "\"q\"": x`, `route "\"q\"": x`},           // no such route
		{`route "unterminated: x`, `route "unterminated: x`},
	} {
		if got := c.Locate(tt.in); got != tt.want {
			t.Errorf("Locate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	// A configuration built in code has no lines.
	d := validConfig()
	d.Routes = []Route{{Match: "/"}}
	if got := d.Locate("routes[0].match: x"); got != "routes[0].match: x" {
		t.Errorf("Locate = %q", got)
	}
}

// TestEveryFieldDecodes sets every field of a route and a key from YAML,
// so that a field added without a way to decode it fails here rather than
// in a user's configuration.
func TestEveryFieldDecodes(t *testing.T) {
	for _, list := range []any{&[]Route{}, &[]Key{}} {
		typ := reflect.TypeOf(list).Elem().Elem()
		var b strings.Builder
		b.WriteString("-")
		for i := range typ.NumField() {
			f := typ.Field(i)
			value := "x"
			switch {
			case f.Type == reflect.TypeOf(new(int)):
				value = "7"
			case f.Type.Kind() == reflect.Pointer:
				value = "true"
			case f.Type.Kind() == reflect.Slice:
				value = "[x, y]"
			}
			b.WriteString(" " + f.Tag.Get("yaml") + ": " + value + "\n ")
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(b.String()), &doc); err != nil {
			t.Fatal(err)
		}
		if _, p := decodeList("c.yaml", "list", doc.Content[0], list); p != nil {
			t.Errorf("%s: %q", typ, p)
		}
		v := reflect.ValueOf(list).Elem().Index(0)
		for i := range typ.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("%s.%s not set", typ, typ.Field(i).Name)
			}
		}
	}

	// A field of a type without a decoding is a problem that names no type.
	var odd []struct {
		N int `yaml:"n"`
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("- n: 1\n"), &doc); err != nil {
		t.Fatal(err)
	}
	if _, p := decodeList("c.yaml", "odd", doc.Content[0], &odd); !slices.Equal(p, Problems{"c.yaml:1: odd[0].n: cannot be set from the YAML file"}) {
		t.Errorf("problems %q", p)
	}
}
