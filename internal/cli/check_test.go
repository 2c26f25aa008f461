package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/internal/config"
)

// TestServeBooleanFlags runs the examples: a boolean flag alone
// means true and never swallows the next argument.
func TestServeBooleanFlags(t *testing.T) {
	_, secret := newSecret()
	tests := []struct {
		args   []string
		env    []string
		stdout string
	}{
		{[]string{"--monitor", "--listen", "127.0.0.1:8003", "--check-config"}, []string{"APPROOV_UPSTREAM=http://127.0.0.1:8000"},
			"configuration ok: listen 127.0.0.1:8003, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), no binding, monitor mode, signed facts for approov-backend, forward-auth off, admin 127.0.0.1:9002\n"},
		{[]string{"--forward-auth-only", "--check-config"}, nil,
			"configuration ok: listen 127.0.0.1:8002, forward-auth only, 1 key(s), 0 route(s), no binding, enforcing, signed facts for approov-backend, forward-auth at /_approov/verify, admin 127.0.0.1:9002\n"},
		{[]string{"--monitor=false", "--check-config"}, []string{"APPROOV_UPSTREAM=http://127.0.0.1:8000", "APPROOV_MONITOR=true"},
			"configuration ok: listen 127.0.0.1:8002, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), no binding, enforcing, signed facts for approov-backend, forward-auth off, admin 127.0.0.1:9002\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			isolate(t)
			setenv(t, append(tt.env, "APPROOV_BASE64_SECRET="+secret, "APPROOV_ASSERTION_SECRET="+secret, "APPROOV_MESSAGE_SIGNING=off")...)
			code, stdout, stderr := run(t, "", append([]string{"serve"}, tt.args...)...)
			if code != 0 || stdout != tt.stdout || stderr != "" {
				t.Errorf("status %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, stdout, tt.stdout)
			}
		})
	}

	// "--monitor false" leaves "false" over, and says why.
	isolate(t)
	code, _, stderr := run(t, "", "serve", "--monitor", "false", "--check-config")
	if want := "approov-gateway: unexpected argument \"false\"; --monitor is a boolean flag: --monitor alone turns it on, --monitor=false sets it\n"; code != 2 || stderr != want {
		t.Errorf("status %d, stderr %q", code, stderr)
	}
}

// setenv sets NAME=value pairs for the test.
func setenv(t *testing.T, env ...string) {
	t.Helper()
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
}

// twelveMistakes is a configuration file with twelve mistakes: seven that
// loading finds, five that only building the gateway finds (keys that do
// not load, patterns ServeMux refuses, a binding header that is no header
// name). All twelve must show in one pass.
const twelveMistakes = `upstream: http://127.0.0.1:8000
monitor: maybe
listen: nowhere
leeway: soon
upstrem: http://127.0.0.1:8001
forward_claims: [did, password]
keys:
  - id: one
    base64_secret: "not base64!"
  - id: two
    secret_file: missing-secret.txt
routes:
  - match: /health
    mode: open
  - match: /a/{x
  - match: GET /b/{x}
  - match: GET /b/{y}
  - match: /c/
    assertion_bind: path
  - match: /d/
    mode: binding
    binding_headers: [Bad Header]
`

var twelveProblems = []string{
	"approov-gateway: gateway.yaml:2: monitor: not true or false",
	"approov-gateway: gateway.yaml:4: leeway: not a duration (use for example 30s or 1m)",
	"approov-gateway: gateway.yaml:5: upstrem: unknown setting (did you mean upstream?)",
	"approov-gateway: gateway.yaml:3: listen: want host:port, such as 127.0.0.1:8002",
	"approov-gateway: gateway.yaml:6: forward_claims: item 2 is not one of result, did, exp, ip, arc, ipk, mskid, pay, iss, sub",
	"approov-gateway: gateway.yaml:14: routes[0].mode: want public, token or binding",
	"approov-gateway: gateway.yaml:19: routes[4].assertion_bind: want target or host",
	"approov-gateway: gateway.yaml:9: keys[0].base64_secret: secret is neither base64 nor base64url",
	"approov-gateway: gateway.yaml:11: keys[1].secret_file: no such file or directory",
	`approov-gateway: gateway.yaml:15: routes[1].match: parsing "/a/{x": at offset 3: bad wildcard segment (must end with '}')`,
	`approov-gateway: gateway.yaml:17: routes[3].match: conflicts with pattern "GET /b/{x}": GET /b/{y} matches the same requests as GET /b/{x}`,
	`approov-gateway: gateway.yaml:20: route "/d/": binding header "Bad Header" is not a valid header name`,
}

// TestEveryProblemInOnePass: --check-config and a start show the twelve
// mistakes of one file at once, each at its line, the gateway's too.
func TestEveryProblemInOnePass(t *testing.T) {
	for _, args := range [][]string{{"serve", "--check-config"}, {"serve"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			isolate(t)
			writeFile(t, "gateway.yaml", twelveMistakes, 0o600)
			t.Setenv("APPROOV_CONFIG", "gateway.yaml")
			code, stdout, stderr := run(t, "", args...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != 2 || stdout != "" || !slices.Equal(lines, twelveProblems) {
				t.Errorf("status %d, stdout %q, stderr\n%s\nwant\n%s", code, stdout, stderr, strings.Join(twelveProblems, "\n"))
			}
		})
	}

	// Problems both would find are shown once, in loading's words: the
	// gateway's checks run without the values loading refused.
	isolate(t)
	t.Setenv("APPROOV_UPSTREAM", "http://127.0.0.1:8000")
	t.Setenv("APPROOV_TOKEN_HEADER", "")
	code, _, stderr := run(t, "", "serve", "--check-config")
	want := "approov-gateway: no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE, APPROOV_PUBLIC_KEY_FILE or APPROOV_JWKS_URL\n" +
		"approov-gateway: token_header is empty\n"
	if code != 2 || stderr != want {
		t.Errorf("status %d, stderr\n%s\nwant\n%s", code, stderr, want)
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
		"approov-gateway: no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE, APPROOV_PUBLIC_KEY_FILE or APPROOV_JWKS_URL\n" +
		"approov-gateway: listen: want host:port, such as 127.0.0.1:8002\n"
	if code != 2 || stderr != want {
		t.Errorf("status %d, stderr\n%s\nwant\n%s", code, stderr, want)
	}
}

// TestCheckNeverPanics gives each setting, then every setting and route
// field at once, a bad value: the gateway's checks, which run on the
// configuration with the bad values set aside, never fail on one, and no
// problem repeats a value.
func TestCheckNeverPanics(t *testing.T) {
	_, secret := newSecret()
	bad := map[string]string{
		"APPROOV_UPSTREAM": "http://[::1", "APPROOV_PUBLIC_URL": "http://[::1", "APPROOV_FORWARD_AUTH_PATH": "no slash",
		"APPROOV_TOKEN_HEADER": "", "APPROOV_FORWARD_HEADER_PREFIX": "", "APPROOV_ASSERTION_AUDIENCE": "", "APPROOV_ASSERTION_LIFETIME": "1h",
		"APPROOV_MAX_TOKEN_SIZE": "1", "APPROOV_MAX_HEADER_BYTES": "1", "APPROOV_MAX_HEADER_COUNT": "1", "APPROOV_FORWARD_CLAIMS": "did,nope",
		"APPROOV_READ_HEADER_TIMEOUT": "0s", "APPROOV_BODY_READ_TIMEOUT": "0s", "APPROOV_SHUTDOWN_TIMEOUT": "0s",
		"APPROOV_UPSTREAM_DIAL_TIMEOUT": "0s", "APPROOV_UPSTREAM_RESPONSE_HEADER_TIMEOUT": "0s", "APPROOV_FORWARD_AUTH_SECRET": "short",
		"APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64": leak, "APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL": leak,
		"APPROOV_ASSERTION_SECRET_FILE": "missing", "APPROOV_KEY_ID": "k", "APPROOV_LISTEN": "x", "APPROOV_ADMIN_LISTEN": "x",
	}
	for _, s := range config.Settings() {
		if _, ok := bad[s.Env]; !ok {
			bad[s.Env] = leak
		}
	}
	routes := "routes:\n  - mode: " + leak + "\n    upstream: 'http://[::1'\n    assertion_bind: " + leak + "\n    message_signing: " + leak +
		"\n    token_query_param: '" + leak + "&'\n  - match: /x/\n    mode: binding\n  - match: /y/\n    name: /x/\n    upstream: 'ftp://" + leak + "'\n" +
		"keys:\n  - id: a\n  - base64_secret: " + leak + "\n"
	// Some text values are good ones: an issuer may be anything.
	check := func(t *testing.T, env map[string]string, wantCode int) {
		t.Helper()
		isolate(t)
		writeFile(t, "c.yaml", routes, 0o600)
		for name, value := range env {
			t.Setenv(name, value)
		}
		code, stdout, stderr := run(t, "", "serve", "--check-config")
		if code != wantCode && wantCode != 0 || code != 0 && (code != 2 || stdout != "") {
			t.Errorf("status %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if strings.Contains(stderr, leak) {
			t.Errorf("a problem repeats a value:\n%s", stderr)
		}
	}
	for name, value := range bad {
		t.Run(name, func(t *testing.T) {
			check(t, map[string]string{"APPROOV_BASE64_SECRET": secret, "APPROOV_UPSTREAM": "http://127.0.0.1:8000", name: value}, 0)
		})
	}
	t.Run("all at once, with routes", func(t *testing.T) {
		bad["APPROOV_CONFIG"] = "c.yaml"
		check(t, bad, 2)
	})
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
