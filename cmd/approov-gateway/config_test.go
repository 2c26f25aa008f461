package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
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
		{"missing secret file", []string{up, "APPROOV_SECRET_FILE=missing.txt"}, nil, "APPROOV_SECRET_FILE missing.txt: no such file or directory"},
		{"P-384 public key", []string{up, "APPROOV_PUBLIC_KEY_FILE=k.pem"}, map[string]string{"k.pem": p384PEM}, "only P-256 (ES256) is supported"},
		{"no upstream", []string{"APPROOV_BASE64_SECRET=" + secretB64}, nil, "no upstream: set APPROOV_UPSTREAM"},
		{"bad upstream", []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_UPSTREAM=127.0.0.1:8000"}, nil, "want an http:// or https:// URL"},
		{"bad listen", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_LISTEN=8002"}, nil, `listen "8002": want host:port`},
		{"bad duration", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_LEEWAY=5 minutes"}, nil, `APPROOV_LEEWAY: "5 minutes" is not a duration`},
		{"bad bool", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_MONITOR=yes please"}, nil, `APPROOV_MONITOR: "yes please" is not true or false`},
		{"bad binding header", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_BINDING_HEADERS=Bad Header"}, nil, `binding header "Bad Header" is not a valid header name`},
		{"unknown forwarded fact", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_FORWARD_CLAIMS=did,password"}, nil, `unknown fact "password"`},
		{"missing config file", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=nope.yaml"}, nil, "config file: nope.yaml: no such file or directory"},
		{"yaml typo", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "upstrem: http://x\n"}, "unknown setting (did you mean upstream?)"},
		{"yaml syntax", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes: [\n"}, "c.yaml: yaml:"},
		{"route field typo", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/\n    mdoe: public\n"}, "field mdoe not found"},
		{"route bad mode", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/\n    mode: open\n"}, `mode "open": want public, token or binding`},
		{"binding route without headers", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/\n    mode: binding\n"}, "mode binding needs binding_headers"},
		{"conflicting routes", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: GET /a/{x}\n  - match: GET /a/{y}\n"}, "conflicts with pattern"},
		{"invalid route pattern", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=c.yaml"}, map[string]string{"c.yaml": "routes:\n  - match: /a/{x\n"}, `route "/a/{x"`},
		{"bad .env line", []string{up, "APPROOV_BASE64_SECRET=" + secretB64}, map[string]string{".env": "APPROOV_MONITOR true\n"}, ".env:1: want NAME=value"},
		{"admin on the API address", []string{up, "APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_LISTEN=127.0.0.1:7001", "APPROOV_ADMIN_LISTEN=127.0.0.1:7001"}, nil, "need their own address"},
		{"bad flag", nil, nil, "flag provided but not defined: -no-such-flag"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content)
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
				if strings.Contains(stderr, secretB64) || strings.Contains(stderr, short) {
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
	if code != 0 || !strings.HasPrefix(stdout, "configuration ok: listen 127.0.0.1:8002, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), binding Authorization, enforcing") || stderr != "" {
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
