package cli

import (
	"strings"
	"testing"
)

// setenv sets NAME=value pairs for the test.
func setenv(t *testing.T, env ...string) {
	t.Helper()
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
}

// TestUnknownNamesCheck: a near miss of a setting's variable, in the
// environment or .env, fails the check and a start, naming the setting
// meant; other unknown APPROOV_ names are warnings.
func TestUnknownNamesCheck(t *testing.T) {
	_, secret := newSecret()
	base := []string{"APPROOV_BASE64_SECRET=" + secret, "APPROOV_UPSTREAM=http://127.0.0.1:8000", "APPROOV_ASSERTION_SECRET=" + secret, "APPROOV_MESSAGE_SIGNING=off"}
	tests := []struct {
		name   string
		env    []string
		dotenv string
		code   int
		stderr string
	}{
		{"the issue's example", []string{"APPROOV_BINDING_HEADER=Authorization"}, "", 2,
			"approov-gateway: APPROOV_BINDING_HEADER: unknown setting (did you mean APPROOV_BINDING_HEADERS?)\n"},
		{"in .env", nil, "APPROOV_LEEWAY=5s\nAPPROOV_MONITR=true\n", 2,
			"approov-gateway: .env:2: APPROOV_MONITR: unknown setting (did you mean APPROOV_MONITOR?)\n"},
		{"another program's", []string{"APPROOV_DJANGO_SETTING=x"}, "APPROOV_REQUIRE_GATEWAY=true\n", 0,
			"approov-gateway: warning: APPROOV_DJANGO_SETTING: not a setting of approov-gateway; ignored\n" +
				"approov-gateway: warning: .env:1: APPROOV_REQUIRE_GATEWAY: not a setting of approov-gateway; ignored\n"},
		{"both", []string{"APPROOV_DJANGO_SETTING=x", "APPROOV_UPSTRAEM=http://127.0.0.1:8001"}, "", 2,
			"approov-gateway: APPROOV_UPSTRAEM: unknown setting (did you mean APPROOV_UPSTREAM?)\n" +
				"approov-gateway: warning: APPROOV_DJANGO_SETTING: not a setting of approov-gateway; ignored\n"},
		{"Approov's CLI's", []string{"APPROOV_MANAGEMENT_TOKEN=x"}, "", 0, ""},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{"serve", "--check-config"}, {"serve"}} {
			if tt.code == 0 && len(args) == 1 {
				continue // a start that passes serves; TestServe logs the warnings
			}
			t.Run(tt.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				isolate(t)
				setenv(t, append(base, tt.env...)...)
				if tt.dotenv != "" {
					writeFile(t, ".env", tt.dotenv, 0o600)
				}
				code, stdout, stderr := run(t, "", args...)
				if code != tt.code || stderr != tt.stderr || (code == 0) != strings.HasPrefix(stdout, "configuration ok: ") {
					t.Errorf("status %d, stdout %q, stderr\n%s\nwant status %d, stderr\n%s", code, stdout, stderr, tt.code, tt.stderr)
				}
			})
		}
	}
}

// TestDotenvEveryBadLine: each bad line of .env is named, and the good
// ones count, so the other problems show too.
func TestDotenvEveryBadLine(t *testing.T) {
	isolate(t)
	writeFile(t, ".env", "APPROOV_MONITOR true\nAPPROOV_UPSTREAM=http://127.0.0.1:8000\nAPPROOV_ISSUER='"+leak+"\nAPPROOV_LISTEN=nowhere\n", 0o600)
	code, _, stderr := run(t, "", "serve", "--check-config")
	want := "approov-gateway: .env:1: want NAME=value\n" +
		"approov-gateway: .env:3: APPROOV_ISSUER: unterminated quote\n" +
		"approov-gateway: no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE or APPROOV_PUBLIC_KEY_FILE\n" +
		"approov-gateway: listen: want host:port, such as 127.0.0.1:8002\n"
	if code != 2 || stderr != want {
		t.Errorf("status %d, stderr\n%s\nwant\n%s", code, stderr, want)
	}
}

// TestGatewayProblemsAtTheirLine: the problems only the gateway finds,
// such as a pattern ServeMux refuses, point at the line of the YAML file
// too.
func TestGatewayProblemsAtTheirLine(t *testing.T) {
	isolate(t)
	_, secret := newSecret()
	setenv(t, "APPROOV_BASE64_SECRET="+secret, "APPROOV_UPSTREAM=http://127.0.0.1:8000", "APPROOV_CONFIG=gateway.yaml")
	writeFile(t, "gateway.yaml", "routes:\n  - match: /a/\n  - match: /files/{name\n  - match: /b/\n    binding_headers: [Bad Header]\n", 0o600)
	for _, args := range [][]string{{"serve", "--check-config"}, {"serve"}} {
		code, _, stderr := run(t, "", args...)
		want := "approov-gateway: gateway.yaml:3: routes[1].match: parsing \"/files/{name\": at offset 7: bad wildcard segment (must end with '}')\n" +
			"approov-gateway: gateway.yaml:4: route \"/b/\": binding header \"Bad Header\" is not a valid header name\n"
		if code != 2 || stderr != want {
			t.Errorf("%q: status %d, stderr\n%s\nwant\n%s", args, code, stderr, want)
		}
	}
}
