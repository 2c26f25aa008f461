package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/assertion"
	"github.com/approov-gateway/approov/internal/config"
)

var tokenShape = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$`)

// gen runs token gen with args and returns the token it prints.
func gen(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, "", append([]string{"token", "gen"}, args...)...)
	if code != 0 || stderr != "" || !tokenShape.MatchString(stdout) {
		t.Fatalf("token gen %q: status %d, stdout %q, stderr %q", args, code, stdout, stderr)
	}
	return strings.TrimSuffix(stdout, "\n")
}

// claimsOf decodes the claims of tok without verifying it.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestTokenGenCheck makes tokens with token gen and checks them with token
// check: the verdict line and the exit status, 0 valid and 1 invalid.
func TestTokenGenCheck(t *testing.T) {
	isolate(t)
	_, s := newSecret()
	_, other := newSecret()
	tests := []struct {
		name    string
		gen     []string
		check   []string
		code    int
		verdict string
	}{
		{"valid", nil, nil, 0, "verdict: valid (ok)"},
		{"expired", []string{"--exp", "-1m"}, nil, 1, "verdict: invalid (token_expired: "},
		{"expired within the leeway", []string{"--exp", "-1m"}, []string{"--leeway", "2m"}, 0, "verdict: valid (ok)"},
		{"expiry as a NumericDate", []string{"--exp", "4102444800.5"}, nil, 0, "verdict: valid (ok)"},
		{"past NumericDate", []string{"--exp", "1000000000"}, nil, 1, "verdict: invalid (token_expired: "},
		{"not yet valid", []string{"--claim", "nbf=4102444800"}, nil, 1, "verdict: invalid (token_not_yet_valid: "},
		{"wrong secret", nil, []string{"--secret", other}, 1, "verdict: invalid (token_signature: no configured key verifies the signature)"},
		{"bound, --bind", []string{"--bind", "Bearer abc"}, []string{"--bind", "Bearer abc"}, 0, "verdict: valid (ok)"},
		{"bound, values concatenated", []string{"--bind", "Bearer ", "--bind", "abc"}, []string{"--bind", "Bearer abc"}, 0, "verdict: valid (ok)"},
		{"bound, other value", []string{"--bind", "Bearer abc"}, []string{"--bind", "Bearer xyz"}, 1, "verdict: invalid (binding_mismatch: "},
		{"bound, --header", []string{"--bind", "Bearer abc"}, []string{"--header", "authorization:  Bearer abc "}, 0, "verdict: valid (ok)"},
		{"bound to two headers in order", []string{"--bind", "Bearer abc", "--bind", "s1"},
			[]string{"--header", "Authorization: Bearer abc", "--header", "X-Session: s1"}, 0, "verdict: valid (ok)"},
		{"bound to two headers, other order", []string{"--bind", "Bearer abc", "--bind", "s1"},
			[]string{"--header", "X-Session: s1", "--header", "Authorization: Bearer abc"}, 1, "verdict: invalid (binding_mismatch: "},
		{"binding required, not bound", nil, []string{"--bind", "Bearer abc"}, 1, "verdict: invalid (binding_claim_missing: "},
		{"key id", []string{"--kid", "k1"}, []string{"--kid", "k1"}, 0, "verdict: valid (ok)"},
		{"other key id", []string{"--kid", "k1"}, []string{"--kid", "k2"}, 1, "verdict: invalid (token_unknown_key: "},
		{"secret given as base64url", nil, []string{"--secret", strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(s), "=")}, 0, "verdict: valid (ok)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := gen(t, append([]string{"--secret", s}, tt.gen...)...)
			args := append([]string{"token", "check", tok, "--secret", s}, tt.check...)
			code, stdout, stderr := run(t, "", args...)
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if code != tt.code || stderr != "" || !strings.HasPrefix(lines[len(lines)-1], tt.verdict) {
				t.Errorf("status %d, stdout\n%s\nstderr %q\nwant status %d, last line %q", code, stdout, stderr, tt.code, tt.verdict)
			}
			label := map[bool]string{true: "verified", false: "UNVERIFIED"}[tt.code == 0]
			if !strings.HasPrefix(stdout, "header ("+label+"):\n") || !strings.Contains(stdout, "\nclaims ("+label+"):\n") {
				t.Errorf("header and claims not labelled %s:\n%s", label, stdout)
			}
		})
	}
}

// TestTokenGenClaims: the flags of token gen become the claims.
func TestTokenGenClaims(t *testing.T) {
	isolate(t)
	_, s := newSecret()
	before := time.Now()
	tok := gen(t, "--secret", s, "--exp", "10m", "--did", "device-1", "--ip", "203.0.113.7", "--bind", "Bearer abc",
		"--claim", "n=42", "--claim", "list=[1,2]", "--claim", "text=hello world", "--claim", "empty=", "--claim", "eq=a=b")
	c := claimsOf(t, tok)
	exp, _ := c["exp"].(float64)
	if exp < float64(before.Add(10*time.Minute).Unix()) || exp > float64(time.Now().Add(10*time.Minute).Unix()+1) {
		t.Errorf("exp %v, want 10 minutes from now", c["exp"])
	}
	want := map[string]any{"did": "device-1", "ip": "203.0.113.7", "pay": approov.PayloadHash("Bearer abc"),
		"n": 42.0, "list": []any{1.0, 2.0}, "text": "hello world", "empty": "", "eq": "a=b"}
	for k, v := range want {
		if got, _ := json.Marshal(c[k]); string(got) != string(must(json.Marshal(v))) {
			t.Errorf("%s = %s, want %v", k, got, v)
		}
	}
	if len(c) != len(want)+1 {
		t.Errorf("claims %v", c)
	}

	// A NumericDate is kept as written.
	if got := claimsOf(t, gen(t, "--secret", s, "--exp", "1700000000.5"))["exp"]; got != 1700000000.5 {
		t.Errorf("exp %v", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestTokenSecretSources: without --secret, the token commands read the
// secret as serve does: APPROOV_BASE64_SECRET, APPROOV_BASE64URL_SECRET,
// APPROOV_SECRET_FILE, from the environment or ./.env.
func TestTokenSecretSources(t *testing.T) {
	raw, s := newSecret()
	url := base64.RawURLEncoding.EncodeToString(raw)
	tests := []struct {
		name   string
		env    []string
		dotenv string
		args   []string
	}{
		{name: "APPROOV_BASE64_SECRET", env: []string{"APPROOV_BASE64_SECRET=" + s}},
		{name: "APPROOV_BASE64URL_SECRET", env: []string{"APPROOV_BASE64URL_SECRET=" + url}},
		{name: "APPROOV_SECRET_FILE", env: []string{"APPROOV_SECRET_FILE=secret.txt"}},
		{name: "empty variables skipped", env: []string{"APPROOV_BASE64_SECRET=", "APPROOV_SECRET_FILE=secret.txt"}},
		{name: ".env", dotenv: "APPROOV_BASE64_SECRET=" + s + "\n"},
		{name: "environment over .env", env: []string{"APPROOV_BASE64_SECRET=" + s}, dotenv: "APPROOV_BASE64_SECRET=" + leak + "\n"},
		{name: "--secret-file", args: []string{"--secret-file", "secret.txt"}},
		{name: "--secret over the environment", env: []string{"APPROOV_BASE64_SECRET=" + leak}, args: []string{"--secret", s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			writeFile(t, "secret.txt", s+"\n", 0o600)
			if tt.dotenv != "" {
				writeFile(t, ".env", tt.dotenv, 0o600)
			}
			for _, kv := range tt.env {
				name, value, _ := strings.Cut(kv, "=")
				t.Setenv(name, value)
			}
			tok := gen(t, tt.args...)
			if code, stdout, _ := run(t, tok, append([]string{"token", "check"}, tt.args...)...); code != 0 {
				t.Errorf("check with the same source: %d\n%s", code, stdout)
			}
			if code, stdout, _ := run(t, "", "token", "check", "--secret", s, tok); code != 0 {
				t.Errorf("check with the secret itself: %d\n%s", code, stdout)
			}
		})
	}
}

// TestTokenCheckReadsServeKeys: without a key flag, token check verifies
// with every key serve would: the keys list of the YAML file too.
func TestTokenCheckReadsServeKeys(t *testing.T) {
	isolate(t)
	_, first := newSecret()
	raw, second := newSecret()
	writeFile(t, "next.txt", second+"\n", 0o600)
	writeFile(t, "gateway.yaml", "base64_secret: "+first+"\nkeys:\n  - id: next\n    secret_file: next.txt\n", 0o600)
	tok := gen(t, "--secret", base64.RawURLEncoding.EncodeToString(raw), "--kid", "next")
	if code, stdout, stderr := run(t, "", "token", "check", "--config", "gateway.yaml", tok); code != 0 {
		t.Fatalf("token check --config with a key from the keys list: %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv("APPROOV_CONFIG", "gateway.yaml")
	if code, _, _ := run(t, "", "token", "check", tok); code != 0 {
		t.Fatalf("token check with APPROOV_CONFIG: %d", code)
	}
	writeFile(t, "broken.yaml", "keys:\n  - id: x\n", 0o600)
	if code, _, stderr := run(t, "", "token", "check", "--config", "broken.yaml", tok); code != 2 || !strings.Contains(stderr, "keys[0]: set exactly one of") {
		t.Fatalf("token check with a broken keys list: %d %s", code, stderr)
	}
}

// TestTokenUsageErrors: bad input is one line on stderr and status 2, and
// never echoes a secret.
func TestTokenUsageErrors(t *testing.T) {
	isolate(t)
	_, s := newSecret()
	writeFile(t, "bad-secret.txt", leak, 0o600)
	writeFile(t, "key.pem", "not a PEM file", 0o600)
	tok := gen(t, "--secret", s)
	tests := []struct {
		name   string
		env    string // NAME=value, if any
		args   []string
		stdin  string
		stderr string // the whole output, "" for any
	}{
		{"gen without secret", "", []string{"token", "gen"}, "",
			"approov-gateway token gen: no secret: use --secret, --secret-file or APPROOV_BASE64_SECRET (make one with approov-gateway secret gen)\n"},
		{"gen with a secret not base64", "", []string{"token", "gen", "--secret", leak + "!"}, "",
			"approov-gateway token gen: --secret: secret is neither base64 nor base64url\n"},
		{"gen with a short secret", "", []string{"token", "gen", "--secret", "c2hvcnQgc2VjcmV0"}, "",
			"approov-gateway token gen: --secret: secret decodes to 12 bytes; at least 32 are required (Approov secrets are 64)\n"},
		{"gen with a bad secret file", "", []string{"token", "gen", "--secret-file", "bad-secret.txt"}, "",
			"approov-gateway token gen: --secret-file bad-secret.txt: secret is neither base64 nor base64url\n"},
		{"gen with a missing secret file", "", []string{"token", "gen", "--secret-file", "missing.txt"}, "",
			"approov-gateway token gen: --secret-file missing.txt: no such file or directory\n"},
		{"gen with a bad secret in the environment", "APPROOV_BASE64_SECRET=" + leak, []string{"token", "gen"}, "",
			"approov-gateway token gen: APPROOV_BASE64_SECRET: secret is neither base64 nor base64url\n"},
		{"gen with a bad APPROOV_SECRET_FILE", "APPROOV_SECRET_FILE=bad-secret.txt", []string{"token", "gen"}, "",
			"approov-gateway token gen: APPROOV_SECRET_FILE bad-secret.txt: secret is neither base64 nor base64url\n"},
		{"gen with a bad --exp", "", []string{"token", "gen", "--secret", s, "--exp", "tomorrow"}, "",
			"approov-gateway token gen: --exp \"tomorrow\": want a duration such as 5m or -1h, or a NumericDate such as 1700000000.5\n"},
		{"gen with an infinite --exp", "", []string{"token", "gen", "--secret", s, "--exp", "Inf"}, "",
			"approov-gateway token gen: --exp \"Inf\": want a duration such as 5m or -1h, or a NumericDate such as 1700000000.5\n"},
		{"gen with a bad --claim", "", []string{"token", "gen", "--secret", s, "--claim", "novalue"}, "",
			"approov-gateway token gen: --claim \"novalue\": want NAME=VALUE\n"},
		{"gen with a nameless --claim", "", []string{"token", "gen", "--secret", s, "--claim", "=1"}, "",
			"approov-gateway token gen: --claim \"=1\": want NAME=VALUE\n"},
		{"gen with an argument", "", []string{"token", "gen", "--secret", s, "extra"}, "",
			"approov-gateway token gen: unexpected argument \"extra\"\n"},
		{"gen with another algorithm", "", []string{"token", "gen", "--secret", s, "--alg", "HS512"}, "",
			"approov-gateway token gen: --alg \"HS512\": want HS256, RS256 or ES256\n"},
		{"gen HS256 with a key", "", []string{"token", "gen", "--secret", s, "--key", "key.pem"}, "",
			"approov-gateway token gen: --key is for RS256 and ES256; HS256 uses the secret\n"},
		{"gen ES256 without a key", "", []string{"token", "gen", "--alg", "ES256"}, "",
			"approov-gateway token gen: --alg ES256 needs --key FILE, a PEM private key\n"},
		{"gen ES256 with a missing key", "", []string{"token", "gen", "--alg", "ES256", "--key", "missing.pem"}, "",
			"approov-gateway token gen: --key: open missing.pem: no such file or directory\n"},
		{"gen ES256 with a bad key", "", []string{"token", "gen", "--alg", "ES256", "--key", "key.pem"}, "",
			"approov-gateway token gen: --key key.pem: no PEM block in private key\n"},
		{"gen with an unknown flag", "", []string{"token", "gen", "--frobnicate"}, "",
			"approov-gateway token gen: unknown flag --frobnicate (see approov-gateway help token)\n"},
		{"gen with a typo of a flag", "", []string{"token", "gen", "--dd", "x"}, "",
			"approov-gateway token gen: unknown flag --dd (did you mean --did?)\n"},
		{"check with a typo of a flag", "", []string{"token", "check", tok, "--bnd", "x"}, "",
			"approov-gateway token check: unknown flag --bnd (did you mean --bind?)\n"},
		{"check without secret", "", []string{"token", "check", tok}, "",
			"approov-gateway: no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE, APPROOV_PUBLIC_KEY_FILE or APPROOV_JWKS_URL\n"},
		{"check with a bad secret", "", []string{"token", "check", tok, "--secret", leak}, "",
			"approov-gateway token check: --secret: secret is neither base64 nor base64url\n"},
		{"check with a weak secret", "", []string{"token", "check", tok, "--secret", strings.Repeat("A", 88)}, "",
			"approov-gateway token check: secret is too weak: it has 1 distinct byte values, fewer than 8 (use the account's secret, from `approov secret -get base64`, or random bytes)\n"},
		{"check without token", "", []string{"token", "check", "--secret", s}, "",
			"approov-gateway token check: no token: give it as an argument or on stdin\n"},
		{"check with a blank stdin", "", []string{"token", "check", "--secret", s}, "  \n",
			"approov-gateway token check: no token: give it as an argument or on stdin\n"},
		{"check with two tokens", "", []string{"token", "check", "--secret", s, tok, tok}, "",
			"approov-gateway token check: want one token, got 2 arguments\n"},
		{"check with --bind and --header", "", []string{"token", "check", "--secret", s, tok, "--bind", "a", "--header", "A: a"}, "",
			"approov-gateway token check: use --bind or --header, not both\n"},
		{"check with a bad --header", "", []string{"token", "check", "--secret", s, tok, "--header", "Authorization"}, "",
			"approov-gateway token check: --header \"Authorization\": want 'Name: value'\n"},
		{"check with a nameless --header", "", []string{"token", "check", "--secret", s, tok, "--header", " : v"}, "",
			"approov-gateway token check: --header \" : v\": want 'Name: value'\n"},
		{"check with a missing public key", "", []string{"token", "check", tok, "--public-key", "missing.pem"}, "",
			"approov-gateway token check: --public-key: open missing.pem: no such file or directory\n"},
		{"check with a bad public key", "", []string{"token", "check", tok, "--public-key", "key.pem"}, "",
			"approov-gateway token check: --public-key key.pem: no PEM block in public key\n"},
		{"check with a bad --leeway", "", []string{"token", "check", tok, "--leeway", "soon"}, "",
			"approov-gateway token check: invalid value \"soon\" for flag -leeway: parse error (see approov-gateway help token)\n"},
		{"decode without token", "", []string{"token", "decode"}, "",
			"approov-gateway token decode: no token: give it as an argument or on stdin\n"},
		{"decode with an unknown flag", "", []string{"token", "decode", "--verify", tok}, "",
			"approov-gateway token decode: unknown flag --verify (see approov-gateway help token)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				name, value, _ := strings.Cut(tt.env, "=")
				t.Setenv(name, value)
			}
			code, stdout, stderr := run(t, tt.stdin, tt.args...)
			if code != 2 || stdout != "" {
				t.Errorf("status %d, stdout %q; want status 2 and no output", code, stdout)
			}
			if stderr != tt.stderr {
				t.Errorf("stderr\n%q\nwant\n%q", stderr, tt.stderr)
			}
			if strings.Contains(stderr, leak) || strings.Contains(stderr, s) {
				t.Errorf("stderr repeats a secret: %q", stderr)
			}
		})
	}
}

// TestTokenInput: the token comes from the one argument, wherever the flags
// are, or from the first line of stdin.
func TestTokenInput(t *testing.T) {
	isolate(t)
	_, s := newSecret()
	tok := gen(t, "--secret", s)
	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"argument first", "", []string{tok, "--secret", s}},
		{"argument last", "", []string{"--secret", s, tok}},
		{"argument with spaces", "", []string{"--secret", s, " " + tok + "\n"}},
		{"after --", "", []string{"--secret", s, "--", tok}},
		{"stdin", tok + "\n", []string{"--secret", s}},
		{"stdin without newline", tok, []string{"--secret", s}},
		{"stdin, first line", "  " + tok + "  \nsecond line\n", []string{"--secret", s}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.stdin, append([]string{"token", "check"}, tt.args...)...)
			if code != 0 || !strings.HasSuffix(stdout, "verdict: valid (ok)\n") {
				t.Errorf("status %d\n%s%s", code, stdout, stderr)
			}
		})
	}
}

// TestTokenCheckJSON: --json prints one object with the verdict, the reason
// code and the decoded token, whatever the verdict.
func TestTokenCheckJSON(t *testing.T) {
	isolate(t)
	_, s := newSecret()
	for _, tt := range []struct {
		name   string
		tok    string
		code   int
		valid  bool
		reason string
		claims bool
	}{
		{"valid", gen(t, "--secret", s, "--did", "d1"), 0, true, "ok", true},
		{"expired", gen(t, "--secret", s, "--did", "d1", "--exp", "-1h"), 1, false, "token_expired", true},
		{"malformed", "not-a-token", 1, false, "token_malformed", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", "token", "check", "--json", "--secret", s, tt.tok)
			if code != tt.code || stderr != "" || strings.Count(stdout, "\n") != 1 {
				t.Fatalf("status %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			var out struct {
				Valid  bool
				Reason string
				Detail *string
				Header map[string]any
				Claims map[string]any
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatal(err)
			}
			if out.Valid != tt.valid || out.Reason != tt.reason || (out.Detail != nil) == tt.valid {
				t.Errorf("%s", stdout)
			}
			if tt.claims && (out.Claims["did"] != "d1" || out.Header["alg"] != "HS256") {
				t.Errorf("decoded token missing: %s", stdout)
			}
			if !tt.claims && (out.Claims != nil || out.Header != nil) {
				t.Errorf("claims of a malformed token: %s", stdout)
			}
		})
	}
}

// writeKeys writes a PEM private key and its public key to name.pem and
// name.pub in the working directory.
func writeKeys(t *testing.T, name string, private any) {
	t.Helper()
	var der []byte
	var pub any
	switch k := private.(type) {
	case *ecdsa.PrivateKey:
		der, pub = must(x509.MarshalPKCS8PrivateKey(k)), k.Public()
	case *rsa.PrivateKey:
		// PKCS #1, the form openssl genrsa -traditional writes.
		writeFile(t, name+".pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})), 0o600)
		writeFile(t, name+".pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(k.Public()))})), 0o644)
		return
	}
	writeFile(t, name+".pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), 0o600)
	writeFile(t, name+".pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(pub))})), 0o644)
}

// TestTokenAsymmetric signs ES256 and RS256 tokens with PEM private keys
// and checks them with the public keys.
func TestTokenAsymmetric(t *testing.T) {
	isolate(t)
	writeKeys(t, "es", must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)))
	writeKeys(t, "es2", must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)))
	writeKeys(t, "rs", must(rsa.GenerateKey(rand.Reader, 2048)))
	writeKeys(t, "p384", must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)))
	es := gen(t, "--alg", "ES256", "--key", "es.pem", "--kid", "es-1", "--did", "d")
	rs := gen(t, "--alg", "RS256", "--key", "rs.pem")
	tests := []struct {
		name    string
		tok     string
		check   []string
		code    int
		verdict string
	}{
		{"ES256", es, []string{"--public-key", "es.pub", "--kid", "es-1"}, 0, "verdict: valid (ok)"},
		{"ES256 without kid", es, []string{"--public-key", "es.pub"}, 0, "verdict: valid (ok)"},
		{"ES256, another key", es, []string{"--public-key", "es2.pub"}, 1, "verdict: invalid (token_signature: "},
		{"ES256, RSA key", es, []string{"--public-key", "rs.pub"}, 1, "verdict: invalid (token_algorithm: "},
		{"RS256", rs, []string{"--public-key", "rs.pub"}, 0, "verdict: valid (ok)"},
		{"RS256, EC key", rs, []string{"--public-key", "es.pub"}, 1, "verdict: invalid (token_algorithm: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.tok, append([]string{"token", "check"}, tt.check...)...)
			if code != tt.code || stderr != "" || !strings.Contains(stdout, "\n"+tt.verdict) {
				t.Errorf("status %d\n%s%s", code, stdout, stderr)
			}
		})
	}
	if c := claimsOf(t, es); c["did"] != "d" {
		t.Errorf("claims %v", c)
	}
	header := must(base64.RawURLEncoding.DecodeString(strings.Split(es, ".")[0]))
	if !strings.Contains(string(header), `"kid":"es-1"`) || !strings.Contains(string(header), `"alg":"ES256"`) {
		t.Errorf("header %s", header)
	}

	for _, bad := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"--alg", "RS256", "--key", "es.pem"}, "approov-gateway token gen: --key es.pem: "},
		{[]string{"--alg", "ES256", "--key", "es.pub"}, "approov-gateway token gen: --key es.pub: PEM block is \"PUBLIC KEY\"; want a private key\n"},
		{[]string{"--alg", "ES256", "--key", "p384.pem"}, "approov-gateway token gen: --key p384.pem: "},
		{[]string{"check", "--public-key", "p384.pub"}, "approov-gateway token check: --public-key p384.pub: ECDSA key is on P-384; only P-256 (ES256) is supported\n"},
	} {
		args := append([]string{"token", "gen"}, bad.args...)
		if bad.args[0] == "check" {
			args = append([]string{"token", "check", es}, bad.args[1:]...)
		}
		code, stdout, stderr := run(t, "", args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, bad.stderr) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: status %d, stdout %q, stderr %q", bad.args, code, stdout, stderr)
		}
	}
}

// TestTokenDecode shows a token's header and claims without verifying it,
// and its times in human terms.
func TestTokenDecode(t *testing.T) {
	isolate(t)
	_, s := newSecret()
	tok := gen(t, "--secret", s, "--did", "d1", "--exp", "100h", "--claim", "iat=1700000000", "--claim", "nbf=1700000000")

	code, stdout, stderr := run(t, "", "token", "decode", tok)
	if code != 0 || stderr != "" {
		t.Fatalf("status %d, stderr %q", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^UNVERIFIED: decoded without checking the signature; do not trust these values\.$`),
		regexp.MustCompile(`^header:$`),
		regexp.MustCompile(`^  \{$`),
		regexp.MustCompile(`^    "alg": "HS256",$`),
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d %q, want %v", i+1, lines[i], re)
		}
	}
	for _, re := range []string{
		`(?m)^claims:$`,
		`(?m)^    "did": "d1",$`,
		`(?m)^exp: expires 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 4 days\)$`,
		`(?m)^nbf: valid from 2023-11-14T22:13:20Z \(\d+ days ago\)$`,
		`(?m)^iat: issued 2023-11-14T22:13:20Z \(\d+ days ago\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("no match for %s in\n%s", re, stdout)
		}
	}

	// Short times are written as Go durations.
	_, stdout, _ = run(t, "", "token", "decode", gen(t, "--secret", s, "--exp", "-90s"))
	if !regexp.MustCompile(`(?m)^exp: expired \S+ \(1m3\ds ago\)$`).MatchString(stdout) {
		t.Errorf("expired token:\n%s", stdout)
	}

	// --json, from stdin.
	code, stdout, _ = run(t, tok+"\n", "token", "decode", "--json")
	var out struct {
		Verified *bool
		Header   map[string]any
		Claims   map[string]any
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != 0 {
		t.Fatalf("status %d, %q: %v", code, stdout, err)
	}
	if out.Verified == nil || *out.Verified || out.Header["typ"] != "JWT" || out.Claims["did"] != "d1" {
		t.Errorf("%s", stdout)
	}

	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []struct{ tok, stderr string }{
		{"not-a-token", "approov-gateway token decode: not a JWT: want three dot-separated parts, got 1\n"},
		{"a.b.c.d", "approov-gateway token decode: not a JWT: want three dot-separated parts, got 4\n"},
		{"!!." + seg("{}") + ".x", "approov-gateway token decode: header is not base64url\n"},
		{seg("{}") + ".!!.x", "approov-gateway token decode: claims is not base64url\n"},
		{seg("{") + "." + seg("{}") + ".x", "approov-gateway token decode: header is not JSON\n"},
		{seg("{}") + "." + seg("not json") + ".x", "approov-gateway token decode: claims is not JSON\n"},
	} {
		code, stdout, stderr := run(t, "", "token", "decode", bad.tok)
		if code != 1 || stdout != "" || stderr != bad.stderr {
			t.Errorf("%s: status %d, stdout %q, stderr %q", bad.tok, code, stdout, stderr)
		}
	}

	// Claims that are not times, or not numbers, are shown but not read as times.
	weird := seg(`{"alg":"none"}`) + "." + seg(`{"exp":"soon","nbf":1e400,"iat":null}`) + ".x"
	code, stdout, _ = run(t, "", "token", "decode", weird)
	if code != 0 || strings.Contains(stdout, "exp: ") || strings.Contains(stdout, "nbf: ") || strings.Contains(stdout, "iat: ") {
		t.Errorf("status %d\n%s", code, stdout)
	}
}

// TestSecretGen: each kind of secret decodes to the size its use needs and
// is accepted where it goes.
func TestSecretGen(t *testing.T) {
	isolate(t)
	t.Run("approov", func(t *testing.T) {
		code, stdout, stderr := run(t, "", "secret", "gen")
		m := regexp.MustCompile(`^APPROOV_BASE64_SECRET=(\S+)\n# the same secret, base64url: APPROOV_BASE64URL_SECRET=(\S+)\n$`).FindStringSubmatch(stdout)
		if code != 0 || stderr != "" || m == nil {
			t.Fatalf("status %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		std, err1 := base64.StdEncoding.DecodeString(m[1])
		url, err2 := base64.RawURLEncoding.DecodeString(m[2])
		if err1 != nil || err2 != nil || len(std) != 64 || string(std) != string(url) {
			t.Errorf("secrets %q %q: %v %v", m[1], m[2], err1, err2)
		}
		if _, err := approov.NewSecretKey("", std); err != nil {
			t.Error(err)
		}
		// The output is a .env file the commands read.
		writeFile(t, ".env", stdout, 0o600)
		tok := gen(t)
		if code, _, _ := run(t, "", "token", "check", "--secret", m[2], tok); code != 0 {
			t.Errorf("token from the .env secret: %d", code)
		}
		if _, again, _ := run(t, "", "secret", "gen"); again == stdout {
			t.Error("two secrets alike")
		}
	})
	t.Run("assertion", func(t *testing.T) {
		for _, flag := range []string{"--assertion", "-assertion"} {
			code, stdout, _ := run(t, "", "secret", "gen", flag)
			v, ok := strings.CutPrefix(strings.TrimSuffix(stdout, "\n"), "APPROOV_ASSERTION_SECRET=")
			if code != 0 || !ok {
				t.Fatalf("status %d, %q", code, stdout)
			}
			if b, err := base64.StdEncoding.DecodeString(v); err != nil || len(b) != 64 {
				t.Errorf("%q: %d bytes, %v", v, len(b), err)
			}
			if _, err := assertion.ParseKeys(v); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("forward auth", func(t *testing.T) {
		for _, flag := range []string{"--forward-auth", "-forward-auth"} {
			code, stdout, _ := run(t, "", "secret", "gen", flag)
			v, ok := strings.CutPrefix(strings.TrimSuffix(stdout, "\n"), "APPROOV_FORWARD_AUTH_SECRET=")
			if code != 0 || !ok {
				t.Fatalf("status %d, %q", code, stdout)
			}
			if b, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(b) != 32 {
				t.Errorf("%q: %d bytes, %v", v, len(b), err)
			}
			c := config.Defaults()
			_, c.Base64Secret = newSecret()
			c.Upstream, c.ForwardAuthSecret = "http://127.0.0.1:8000", v
			if err := c.Validate(); err != nil {
				t.Errorf("forward_auth_secret refused: %v", err)
			}
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, tt := range []struct {
			args   []string
			stderr string
		}{
			{[]string{"secret"}, secretUsage},
			{[]string{"secret", "make"}, "approov-gateway secret: unknown command \"make\" (want gen)\n"},
			{[]string{"secret", "gen", "--rsa"}, "approov-gateway secret gen: unknown flag --rsa (see approov-gateway help secret)\n"},
			{[]string{"secret", "gen", "--asertion"}, "approov-gateway secret gen: unknown flag --asertion (did you mean --assertion?)\n"},
			{[]string{"secret", "gen", "extra"}, "approov-gateway secret gen: unexpected argument \"extra\" (see approov-gateway help secret)\n"},
			{[]string{"secret", "gen", "--assertion", "--forward-auth"}, "approov-gateway secret gen: one kind of secret at a time: --assertion, --forward-auth or --message-signing\n"},
			{[]string{"secret", "gen", "--forward-auth", "--message-signing"}, "approov-gateway secret gen: one kind of secret at a time: --assertion, --forward-auth or --message-signing\n"},
		} {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != 2 || stdout != "" || stderr != tt.stderr {
				t.Errorf("%q: status %d, stdout %q, stderr %q, want %q", tt.args, code, stdout, stderr, tt.stderr)
			}
		}
	})
}

// TestBind prints the pay claim of the values concatenated, as the app SDK
// binds them.
func TestBind(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{{"Bearer abc"}, {"Bearer ", "abc"}, {"B", "earer a", "bc"}} {
		code, stdout, stderr := run(t, "", append([]string{"bind"}, args...)...)
		if code != 0 || stderr != "" || stdout != approov.PayloadHash("Bearer abc")+"\n" {
			t.Errorf("%q: status %d, %q %q", args, code, stdout, stderr)
		}
	}
	code, stdout, stderr := run(t, "", "bind")
	if code != 2 || stdout != "" || stderr != "approov-gateway bind: usage: approov-gateway bind VALUE... (the bound header values, in order)\n" {
		t.Errorf("no values: status %d, %q %q", code, stdout, stderr)
	}
	// What bind prints is what token gen --bind puts in pay.
	_, s := newSecret()
	if pay := claimsOf(t, gen(t, "--secret", s, "--bind", "Bearer ", "--bind", "abc"))["pay"]; pay != approov.PayloadHash("Bearer abc") {
		t.Errorf("pay %v", pay)
	}
}

// TestTokenCheckAppliesServeClaimChecks: read the serve way, the
// configuration's audience and issuer apply too, as serve applies them.
func TestTokenCheckAppliesServeClaimChecks(t *testing.T) {
	isolate(t)
	_, s := newSecret()
	writeFile(t, "gateway.yaml", "base64_secret: "+s+"\naudience: approov.io\n", 0o600)
	withAud := gen(t, "--secret", s, "--claim", "aud=approov.io")
	if code, stdout, stderr := run(t, "", "token", "check", "--config", "gateway.yaml", withAud); code != 0 {
		t.Fatalf("a token for the configured audience: %d\n%s%s", code, stdout, stderr)
	}
	other := gen(t, "--secret", s, "--claim", "aud=elsewhere")
	if code, _, _ := run(t, "", "token", "check", "--config", "gateway.yaml", other); code != 1 {
		t.Fatalf("a token for another audience: %d", code)
	}
}

// TestTokenCheckReadsJWKS: token check reads the JWK set serve would,
// from the same settings, says which keys it skips, and fails rather
// than answer without a key source it cannot read.
func TestTokenCheckReadsJWKS(t *testing.T) {
	isolate(t)
	priv := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	writeKeys(t, "es", priv)
	b64 := base64.RawURLEncoding
	doc := fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","kid":"jwks-1","x":%q,"y":%q},{"kty":"RSA","kid":"legacy","n":"AQAB","e":"AQAB"}]}`,
		b64.EncodeToString(priv.X.FillBytes(make([]byte, 32))), b64.EncodeToString(priv.Y.FillBytes(make([]byte, 32))))
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		io.WriteString(w, doc)
	}))
	defer srv.Close()
	_, secret := newSecret()
	writeFile(t, "gateway.yaml", "base64_secret: "+secret+"\njwks_url: "+srv.URL+"/jwks\n", 0o600)

	tok := gen(t, "--alg", "ES256", "--key", "es.pem", "--kid", "jwks-1")
	code, stdout, stderr := run(t, "", "token", "check", "--config", "gateway.yaml", tok)
	if code != 0 || !strings.Contains(stdout, "verdict: valid (ok)") {
		t.Fatalf("a JWK set key: %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `warning: jwks keys[1] (kid "legacy"): no alg, and RSA keys admit more than one algorithm`) {
		t.Errorf("stderr %q", stderr)
	}
	if code, stdout, _ := run(t, "", "token", "check", "--config", "gateway.yaml", gen(t, "--secret", secret)); code != 0 {
		t.Fatalf("the static secret beside the set: %d\n%s", code, stdout)
	}
	down.Store(true)
	if code, _, stderr := run(t, "", "token", "check", "--config", "gateway.yaml", tok); code != 2 || stderr != "approov-gateway token check: jwks_url: fetching: HTTP status 502\n" {
		t.Fatalf("account down: %d %q", code, stderr)
	}
	writeFile(t, "plain.yaml", "jwks_url: http://keys.example.com/jwks\n", 0o600)
	if code, _, stderr := run(t, "", "token", "check", "--config", "plain.yaml", tok); code != 2 || !strings.Contains(stderr, "jwks_url: want https") {
		t.Fatalf("plain http: %d %q", code, stderr)
	}
}
