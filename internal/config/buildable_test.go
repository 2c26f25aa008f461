package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestBuildable: for each problem validate finds, Buildable's copy no
// longer has it, but for those that code written for valid configurations
// copes with — two key sources (the first loads), a key with none or two
// (likewise), no upstream (routes answer 404), hosts sharing an upstream,
// a route name used twice — and the original is left as it was.
func TestBuildable(t *testing.T) {
	kept := []string{"set only one of APPROOV_BASE64_SECRET", "set exactly one of", "no upstream: ", problemShared, "already used by"}
	for _, tt := range validateTests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			before := c.validate()
			saved := *c
			saved.Routes, saved.Keys = slices.Clone(c.Routes), slices.Clone(c.Keys)
			b := c.Buildable()
			for _, p := range b.validate() {
				if !slices.ContainsFunc(kept, func(k string) bool { return strings.Contains(p, k) }) {
					t.Errorf("the copy still has %q", p)
				}
			}
			if !reflect.DeepEqual(c.Routes, saved.Routes) || !reflect.DeepEqual(c.Keys, saved.Keys) || c.Base64Secret != saved.Base64Secret {
				t.Errorf("Buildable changed the original")
			}
			if len(before) == 0 && !reflect.DeepEqual(settingValues(b), settingValues(c)) {
				t.Errorf("Buildable changed a valid configuration")
			}
		})
	}
}

// settingValues is every setting's value, to compare configurations.
func settingValues(c *Config) []any {
	var out []any
	for _, s := range settings {
		out = append(out, s.value.get(c))
	}
	return append(out, c.Routes, c.Keys)
}

// TestBuildableFromLoad: every value Load found bad, from any source, is
// back at its default in the copy, and a configuration without a key gets
// a stand-in.
func TestBuildableFromLoad(t *testing.T) {
	file := "routes:\n  - mode: open\n    upstream: 'http://[::1'\n  - match: /b/\n    assertion_bind: nowhere\n"
	c, _, err := Load(source(t, map[string]string{
		"APPROOV_CONFIG": "c.yaml", "APPROOV_UPSTREAM": "http://[::1", "APPROOV_FORWARD_AUTH_PATH": "x", "APPROOV_TOKEN_HEADER": "",
		"APPROOV_MAX_TOKEN_SIZE": "1", "APPROOV_FORWARD_CLAIMS": "did,password", "APPROOV_ASSERTION_LIFETIME": "1h",
	}, map[string]string{"c.yaml": file}))
	if len(problemsOf(t, err)) < 8 {
		t.Fatalf("problems %q", err)
	}
	b := c.Buildable()
	if p := b.validate(); !slices.Equal(p, Problems{problemNoUpstream}) {
		t.Errorf("the copy has problems %q", p)
	}
	want := Route{Match: "route-0.approov-gateway.invalid/"}
	if !reflect.DeepEqual(b.Routes[0], want) || b.Routes[1].AssertionBind != "" || b.Routes[1].Match != "/b/" {
		t.Errorf("routes %+v", b.Routes)
	}
	if b.Upstream != "" || b.ForwardAuthPath != "/_approov/verify" || b.TokenHeader != "Approov-Token" || b.MaxTokenSize != 8192 ||
		!slices.Equal(b.ForwardClaims, []string{"result", "did", "exp"}) || b.Base64Secret != standInSecret {
		t.Errorf("copy %+v", b)
	}
	if c.Base64Secret != "" || c.Upstream != "http://[::1" {
		t.Errorf("the original changed")
	}
	if _, _, err := LoadKeys(b); err != nil {
		t.Errorf("the stand-in key does not load: %v", err)
	}
}
