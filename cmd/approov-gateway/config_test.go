package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestBadConfig: every broken configuration is refused at start-up with one
// line that says what to fix, exit status 2, and nothing listening.
func TestBadConfig(t *testing.T) {
	const up = "APPROOV_UPSTREAM=http://127.0.0.1:9"
	short := base64.StdEncoding.EncodeToString([]byte("only sixteen byt"))
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	p384PEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))

	for _, tt := range []struct {
		name  string
		env   []string
		files map[string]string
		want  string
	}{
		{"no key", []string{up}, nil, "no key: set APPROOV_BASE64_SECRET"},
		{"short secret", []string{up, "APPROOV_BASE64_SECRET=" + short}, nil, "decodes to 16 bytes; at least 32 are required"},
		{"secret not base64", []string{up, "APPROOV_BASE64_SECRET=not*base64*at*all"}, nil, "neither base64 nor base64url"},
		{"two secrets", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_SECRET_FILE=s"}, nil, "set only one of"},
		{"missing secret file", []string{up, "APPROOV_SECRET_FILE=missing.txt"}, nil, "APPROOV_SECRET_FILE: no such file or directory"},
		{"world-writable secret file", []string{up, "APPROOV_SECRET_FILE=s.txt"}, map[string]string{"s.txt!0666": secretB64}, "APPROOV_SECRET_FILE: the file is writable by every user"},
		{"all-zero secret", []string{up, "APPROOV_BASE64_SECRET=" + base64.StdEncoding.EncodeToString(make([]byte, 64))}, nil, "secret is too weak"},
		{"weak assertion secret", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_ASSERTION_SECRET=" + base64.StdEncoding.EncodeToString(make([]byte, 48))}, nil, "APPROOV_ASSERTION_SECRET: "},
		{"upstream with a password", []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_UPSTREAM=http://u:hunter2-password@127.0.0.1:8000"}, nil, "upstream: want a base URL without query, fragment or credentials"},
		{"secret in the wrong setting", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_MONITOR=" + secretB64}, nil, "APPROOV_MONITOR: not true or false"},
		{"forward_auth_only and forward_auth_listen", []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_FORWARD_AUTH_ONLY=true", "APPROOV_FORWARD_AUTH_LISTEN=127.0.0.1:7002"}, nil, "forward_auth_only already serves the forward-auth endpoint"},
		{"weak forward_auth_secret", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_FORWARD_AUTH_SECRET=aaaaaaaaaaaaaaaaaaaa"}, nil, "forward_auth_secret: want at least 16 characters, random"},
		{"host routes sharing an upstream", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /\n    mode: public\n  - match: api.example.com/\n"}, "routes[0] and routes[1] route different hosts to the same upstream while preserve_host is off"},
		{"P-384 public key", []string{up, "APPROOV_PUBLIC_KEY_FILE=k.pem"}, map[string]string{"k.pem": p384PEM}, "only P-256 (ES256) is supported"},
		{"no upstream", []string{"APPROOV_BASE64_SECRET=" + secretB64}, nil, "no upstream: set APPROOV_UPSTREAM"},
		{"bad upstream", []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_UPSTREAM=127.0.0.1:8000"}, nil, "want an http:// or https:// URL"},
		{"bad listen", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_LISTEN=8002"}, nil, `listen: want host:port`},
		{"bad duration", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_LEEWAY=5 minutes"}, nil, `APPROOV_LEEWAY: not a duration`},
		{"bad bool", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_MONITOR=yes please"}, nil, `APPROOV_MONITOR: not true or false`},
		{"bad binding header", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_BINDING_HEADERS=Bad Header"}, nil, `binding header "Bad Header" is not a valid header name`},
		{"unknown forwarded fact", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_FORWARD_CLAIMS=did,password"}, nil, `forward_claims: item 2 is not one of`},
		{"missing config file", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=nope.yaml"}, nil, "config file: nope.yaml: no such file or directory"},
		{"yaml typo", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "upstrem: http://x\n"}, "unknown setting (did you mean upstream?)"},
		{"yaml syntax", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes: [\n"}, "c.yaml:1: not valid YAML: "},
		{"route field typo", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/\n    mdoe: public\n"}, "c.yaml:3: routes[0]: unknown field (did you mean mode?)"},
		{"route bad mode", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/\n    mode: open\n"}, `routes[0].mode: want public, token or binding`},
		{"binding route without headers", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/\n    mode: binding\n"}, "mode binding needs binding_headers"},
		{"conflicting routes", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: GET /a/{x}\n  - match: GET /a/{y}\n"}, "conflicts with pattern"},
		{"invalid route pattern", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/{x\n"}, `routes[0].match: parsing "/a/{x": at offset 3: bad wildcard segment`},
		{"bad .env line", []string{up, "APPROOV_BASE64_SECRET=" + secretB64}, map[string]string{".env": "APPROOV_MONITOR true\n"}, ".env:1: want NAME=value"},
		{"admin on the API address", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_LISTEN=127.0.0.1:7001", "APPROOV_ADMIN_LISTEN=127.0.0.1:7001"}, nil, "admin_listen and listen have the same address"},
		{"near miss of a setting", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_BINDING_HEADER=Authorization"}, nil, "APPROOV_BINDING_HEADER: unknown setting (did you mean APPROOV_BINDING_HEADERS?)"},
		{"near miss in .env", []string{up, "APPROOV_BASE64_SECRET=" + secretB64}, map[string]string{".env": "APPROOV_MONITR=true\n"}, ".env:1: APPROOV_MONITR: unknown setting (did you mean APPROOV_MONITOR?)"},
		{"bad flag", nil, nil, "unknown flag --no-such-flag (see approov-gateway serve -h)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				name, mode, _ := strings.Cut(name, "!")
				p := writeFile(t, dir, name, content)
				if mode != "" {
					m, _ := strconv.ParseUint(mode, 8, 32)
					os.Chmod(p, os.FileMode(m))
				}
			}
			args := []string{"serve"}
			if tt.name == "bad flag" {
				args = append(args, "--no-such-flag")
			}
			for _, mode := range [][]string{args, append(args, "--check-config")} {
				code, stdout, stderr := e2e.Run(t, dir, tt.env, mode...)
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if code != 2 || len(lines) != 1 || !strings.Contains(stderr, tt.want) || stdout != "" {
					t.Fatalf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and one line containing %q", mode, code, stdout, stderr, tt.want)
				}
				if strings.Contains(stderr, secretB64) || strings.Contains(stderr, short) || strings.Contains(stderr, "hunter2") || strings.Contains(stderr, "AAAAAAAA") {
					t.Fatalf("the error repeats the secret: %s", stderr)
				}
			}
		})
	}
}

func TestManyProblemsAtOnce(t *testing.T) {
	code, _, stderr := e2e.Run(t, "", []string{"APPROOV_LEEWAY=x", "APPROOV_LISTEN=nope"}, "serve")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 2 || len(lines) != 4 {
		t.Fatalf("exit %d, want every problem on its own line:\n%s", code, stderr)
	}
}

func TestCheckConfigOK(t *testing.T) {
	code, stdout, stderr := e2e.Run(t, "", []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_UPSTREAM=http://127.0.0.1:8000", "APPROOV_BINDING_HEADERS=Authorization"}, "serve", "--check-config")
	if code != 0 || !strings.HasPrefix(stdout, "configuration ok: listen 127.0.0.1:8002, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), binding Authorization, enforcing, no signed facts") ||
		stderr != "approov-gateway: warning: assertion_secret is not set: backends cannot tell the facts the gateway forwards from forged ones (docs/ASSERTION.md)\n"+
			"approov-gateway: warning: message_signing is on but neither public_url nor trusted_proxies is set: the target URI apps signed is rebuilt as http:// and the Host header, which fails behind TLS or a load balancer\n" {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if strings.Contains(stdout, secretB64) {
		t.Fatal("check-config printed the secret")
	}
}

// TestPrecedence: flags > environment > .env > YAML > defaults.
func TestPrecedence(t *testing.T) {
	b := newBackend(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", "monitor: true\nupstream: http://127.0.0.1:9\nbinding_headers: [X-From-Yaml]\n")
	// .env points at the real backend and beats the YAML file; the
	// environment turns monitor back off and beats .env on binding.
	writeFile(t, dir, ".env", "# quickstart style\nexport APPROOV_UPSTREAM=\""+b.URL+"\"\nAPPROOV_BINDING_HEADERS=X-From-Dotenv # comment\nAPPROOV_CONFIG=gateway.yaml\n")
	gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_BINDING_HEADERS="}, "--monitor=false")
	valid := tok(t, map[string]any{})
	// No binding (environment's empty value wins over .env and YAML), not
	// monitoring (the flag wins over YAML), upstream from .env.
	if r := request(t, "GET", gw.URL()+"/", nil); r.status != 401 {
		t.Fatalf("monitor should be off: %d", r.status)
	}
	if r := request(t, "GET", gw.URL()+"/", http.Header{"Approov-Token": {valid}}); r.status != 200 {
		t.Fatalf("upstream from .env, no binding: %d %s", r.status, r.body)
	}
}
