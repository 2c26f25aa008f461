package config

import (
	"slices"
	"testing"
)

// TestUnknownNames: an APPROOV_ name within two edits of a setting's, in
// the environment or .env, is a problem naming the setting meant; other
// unknown names are warnings, and Approov's own CLI's are left alone.
func TestUnknownNames(t *testing.T) {
	env := with(
		"APPROOV_BINDING_HEADER", "Authorization", // the example: binding silently off
		"APPROOV_Monitor", "true", // case matters to the environment
		"APPROOV_DJANGO_SETTING", "x", // another program's
		"APPROOV_MANAGEMENT_TOKEN", "x", // Approov's CLI's
		"NOT_APPROOV_MONITOR", "true",
	)
	dotenv := "APPROOV_MONITR=true\n" + // the other example
		"APPROOV_REQUIRE_GATEWAY=true\n" + // the Django package's
		"APPROOV_LEEWAY=1s\n" +
		"APPROOV_BINDING_HEADER=X-Shadowed\n" + // set in the environment too: reported once
		"APPROOV_UPSTRAEM=http://127.0.0.1:9\n"
	c, _, err := Load(source(t, env, map[string]string{".env": dotenv}))
	p := problemsOf(t, err)
	want := Problems{
		"APPROOV_BINDING_HEADER: unknown setting (did you mean APPROOV_BINDING_HEADERS?)",
		"APPROOV_Monitor: unknown setting (did you mean APPROOV_MONITOR?)",
		".env:1: APPROOV_MONITR: unknown setting (did you mean APPROOV_MONITOR?)",
		".env:5: APPROOV_UPSTRAEM: unknown setting (did you mean APPROOV_UPSTREAM?)",
	}
	if !slices.Equal(p, want) {
		t.Errorf("problems\n%q\nwant\n%q", p, want)
	}
	wantWarnings := []string{
		"APPROOV_DJANGO_SETTING: not a setting of approov-gateway; ignored",
		".env:2: APPROOV_REQUIRE_GATEWAY: not a setting of approov-gateway; ignored",
	}
	if !slices.Equal(c.Warnings(), wantWarnings) {
		t.Errorf("warnings\n%q\nwant\n%q", c.Warnings(), wantWarnings)
	}
	// The rest of the configuration is read, for the other checks.
	if c.Leeway.String() != "1s" || c.Base64Secret != secret {
		t.Errorf("leeway %v", c.Leeway)
	}

	// Unknown names that are no near miss pass, with their warnings.
	c, _, err = Load(source(t, with("APPROOV_E2E", "1"), nil))
	if err != nil || !slices.Equal(c.Warnings(), []string{"APPROOV_E2E: not a setting of approov-gateway; ignored"}) {
		t.Errorf("err %v, warnings %q", err, c.Warnings())
	}

	// Without Environ, only .env is judged.
	src := source(t, with("APPROOV_MONITR", "true"), map[string]string{".env": "APPROOV_ZZZ=1\n"})
	src.Environ = nil
	c, _, err = Load(src)
	if err != nil || !slices.Equal(c.Warnings(), []string{".env:1: APPROOV_ZZZ: not a setting of approov-gateway; ignored"}) {
		t.Errorf("err %v, warnings %q", err, c.Warnings())
	}
}

// TestSourceLookupKeepsGoodLines: Lookup reads the good lines of a .env
// with bad ones, and names every bad one.
func TestSourceLookupKeepsGoodLines(t *testing.T) {
	src := source(t, nil, map[string]string{".env": "oops\nAPPROOV_A=dotenv\nalso bad\n"})
	v, ok, err := src.Lookup("APPROOV_A")
	if v != "dotenv" || !ok || err == nil || err.Error() != ".env:1: want NAME=value\n.env:3: want NAME=value" {
		t.Errorf("Lookup = %q, %v, %v", v, ok, err)
	}
}
