package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/msgsig"
)

// signing is what the sign tests share: a token secret, an installation
// key in device.pem and an account key, in an isolated directory.
type signing struct {
	secret     []byte
	secretB64  string
	install    *ecdsa.PrivateKey
	account    []byte
	accountB64 string
	tokens     *approov.Verifier
	signatures *msgsig.Verifier
}

func newSigning(t *testing.T) *signing {
	t.Helper()
	isolate(t)
	s := &signing{}
	s.secret, s.secretB64 = newSecret()
	s.account = approovtest.NewSecret()[:32]
	s.accountB64 = base64.RawURLEncoding.EncodeToString(s.account)
	code, stdout, stderr := run(t, "", "install-key", "gen")
	if code != 0 || stderr != "" {
		t.Fatalf("install-key gen: status %d, stderr %q", code, stderr)
	}
	writeFile(t, "device.pem", stdout, 0o600)
	key, err := loadInstallKey("device.pem")
	if err != nil {
		t.Fatal(err)
	}
	s.install = key
	s.tokens = must(approov.NewVerifier(approov.WithSecret(s.secret)))
	s.signatures = must(msgsig.NewVerifier(msgsig.WithAccountKey(s.account)))
	return s
}

// token makes a token with token gen and the given flags.
func (s *signing) token(t *testing.T, args ...string) string {
	t.Helper()
	return gen(t, append([]string{"--secret", s.secretB64}, args...)...)
}

// verify checks a request as the gateway does: the token, then the
// signatures its claims call for, then the body against Content-Digest
// when a signature covers it. It returns the labels verified.
func (s *signing) verify(method, uri string, h http.Header, body []byte) (string, error) {
	claims, err := s.tokens.VerifyRequest(h)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	res, err := s.signatures.Verify(&claims, &msgsig.Request{Method: method, TargetURI: uri, Header: h})
	if err != nil {
		return "", err
	}
	if res.Digest != nil {
		res.Digest.Write(body)
		if err := res.Digest.Verify(); err != nil {
			return "", err
		}
	}
	var labels []string
	if res.Install {
		labels = append(labels, "install")
	}
	if res.Account {
		labels = append(labels, "account")
	}
	if len(labels) == 0 {
		return "", errors.New("no signature verified")
	}
	return strings.Join(labels, "+"), nil
}

// parseFields parses the "Name: value" lines sign prints.
func parseFields(t *testing.T, out string) http.Header {
	t.Helper()
	h := http.Header{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("sign printed %q, not a field", line)
		}
		h.Add(name, value)
	}
	return h
}

// TestSignVerifies signs requests with sign, for both labels, both forms,
// with and without a body, and verifies them with msgsig as the gateway
// would.
func TestSignVerifies(t *testing.T) {
	s := newSigning(t)
	const uri = "https://api.example.com/v1/orders?id=7&x=a%20b"
	tests := []struct {
		name    string
		keys    []string // sign flags choosing the keys
		tokFlag []string // token gen flags
		labels  string
	}{
		{"install", []string{"--install-key", "device.pem"}, []string{"--ipk", "device.pem"}, "install"},
		{"account", []string{"--account-key", s.accountB64}, []string{"--mskid", "key-1"}, "account"},
		{"both", []string{"--install-key", "device.pem", "--account-key", s.accountB64}, []string{"--install-key", "device.pem", "--mskid", "key-1"}, "install+account"},
	}
	bodies := []struct {
		name   string
		flags  []string
		body   []byte
		fields []string
		digest bool
	}{
		{"no body", nil, nil, nil, false},
		{"body", []string{"--data", "{\"n\": 1}"}, []byte("{\"n\": 1}"), []string{"content-digest"}, true},
		{"body with type and length", []string{"--data", "{\"n\": 1}", "--header", "Content-Type: application/json", "--header", "Content-Length: 8"},
			[]byte("{\"n\": 1}"), []string{"content-length", "content-type", "content-digest"}, true},
		{"empty body", []string{"--data", ""}, []byte{}, nil, false},
	}
	for _, tt := range tests {
		tok := s.token(t, tt.tokFlag...)
		for _, form := range []string{"bytes", "string"} {
			for _, b := range bodies {
				t.Run(tt.name+"/"+form+"/"+b.name, func(t *testing.T) {
					args := append([]string{"sign", "--form", form, "--header", "Approov-Token: " + tok, "--header", "Authorization: Bearer abc"}, tt.keys...)
					args = append(append(args, b.flags...), "POST", uri)
					code, stdout, stderr := run(t, "", args...)
					if code != 0 || stderr != "" {
						t.Fatalf("sign: status %d, stderr %q", code, stderr)
					}
					added := parseFields(t, stdout)
					if got := added.Get("Content-Digest") != ""; got != b.digest {
						t.Fatalf("Content-Digest printed: %v, want %v\n%s", got, b.digest, stdout)
					}
					for _, member := range strings.Split(added.Get("Signature"), ", ") {
						if bytesForm := strings.Contains(member, "=:"); bytesForm != (form == "bytes") {
							t.Errorf("--form %s wrote %s", form, member)
						}
					}
					// The SDK's default components, in its order.
					want := strings.Join(append([]string{`"@method" "@target-uri" "approov-token" "authorization"`}, quoteAll(b.fields)...), " ")
					if !strings.Contains(added.Get("Signature-Input"), "=("+want+")") {
						t.Errorf("Signature-Input %s, want the components %s", added.Get("Signature-Input"), want)
					}

					h := http.Header{"Approov-Token": {tok}, "Authorization": {"Bearer abc"}}
					for _, f := range b.flags {
						if name, value, ok := strings.Cut(f, ": "); ok {
							h.Set(name, value)
						}
					}
					for name, values := range added {
						h[name] = values
					}
					labels, err := s.verify("POST", uri, h, b.body)
					if err != nil || labels != tt.labels {
						t.Fatalf("verified %q, %v; want %q", labels, err, tt.labels)
					}
					if b.digest {
						if err := msgsig.VerifyContentDigest(added.Get("Content-Digest"), bytes.NewReader(b.body)); err != nil {
							t.Errorf("Content-Digest: %v", err)
						}
						// A changed body no longer matches.
						if _, err := s.verify("POST", uri, h, append(b.body, '!')); !errors.Is(err, msgsig.ErrDigestMismatch) {
							t.Errorf("changed body: %v, want content_digest_mismatch", err)
						}
					}
					// Another method, URI or credential does not verify.
					if _, err := s.verify("PUT", uri, h, b.body); !errors.Is(err, msgsig.ErrInvalid) {
						t.Errorf("other method: %v, want signature_invalid", err)
					}
					if _, err := s.verify("POST", strings.Replace(uri, "id=7", "id=8", 1), h, b.body); !errors.Is(err, msgsig.ErrInvalid) {
						t.Errorf("other query: %v, want signature_invalid", err)
					}
					h.Set("Authorization", "Bearer abd")
					if _, err := s.verify("POST", uri, h, b.body); !errors.Is(err, msgsig.ErrInvalid) {
						t.Errorf("other Authorization: %v, want signature_invalid", err)
					}
				})
			}
		}
	}
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}

// TestSignParameters: --components, --created, --expires and
// --token-header write what they say, and the target URI is the one the
// SDK would sign for the URL given.
func TestSignParameters(t *testing.T) {
	s := newSigning(t)
	tok := s.token(t, "--ipk", "device.pem")
	signInput := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, "", append([]string{"sign", "--install-key", "device.pem"}, args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("sign %q: status %d, stderr %q", args, code, stderr)
		}
		return parseFields(t, stdout).Get("Signature-Input")
	}
	header := "Approov-Token: " + tok
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"created and expires", []string{"--header", header, "--created", "1744292750", "GET", "http://h/"},
			`install=("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256";created=1744292750;expires=1744292765`},
		{"other lifetime", []string{"--header", header, "--created", "1744292750", "--expires", "1m", "GET", "http://h/"},
			`;created=1744292750;expires=1744292810`},
		{"no expires", []string{"--header", header, "--created", "1744292750", "--expires", "0", "GET", "http://h/"},
			`;alg="ecdsa-p256-sha256";created=1744292750`},
		{"components", []string{"--header", header, "--components", "@method, @target-uri,approov-token,@path", "GET", "http://h/"},
			`install=("@method" "@target-uri" "approov-token" "@path");`},
		{"token header", []string{"--header", "X-Approov: " + tok, "--token-header", "x-approov", "GET", "http://h/"},
			`install=("@method" "@target-uri" "x-approov");`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := signInput(tt.args...); !strings.Contains(got, tt.want) || tt.name == "no expires" && strings.Contains(got, "expires") {
				t.Errorf("Signature-Input %s, want %s", got, tt.want)
			}
		})
	}

	// The token header from the environment, as serve reads it.
	t.Setenv("APPROOV_TOKEN_HEADER", "X-Approov")
	if got := signInput("--header", "X-Approov: "+tok, "GET", "http://h/"); !strings.Contains(got, `"x-approov"`) {
		t.Errorf("APPROOV_TOKEN_HEADER: %s", got)
	}
	os.Unsetenv("APPROOV_TOKEN_HEADER")

	// The target URI: scheme and host in lower case, no default port, the
	// path and query as written, / for none.
	for url, uri := range map[string]string{
		"HTTP://API.Example.com:80/a/../b?q=%7e&r": "http://api.example.com/a/../b?q=%7e&r",
		"https://api.example.com:443":              "https://api.example.com/",
		"https://api.example.com:8443?x=1":         "https://api.example.com:8443/?x=1",
		"http://[::1]:8002/x":                      "http://[::1]:8002/x",
	} {
		code, stdout, stderr := run(t, "", "sign", "--install-key", "device.pem", "--header", header, "--curl", "GET", url)
		if code != 0 || !strings.HasSuffix(stdout, " \\\n  "+shellQuote(uri)+"\n") {
			t.Errorf("sign GET %s: status %d, stderr %q, stdout\n%s\nwant the URL %s", url, code, stderr, stdout, uri)
		}
	}
}

// TestSignEnvironment: without key flags, sign reads the account key as
// serve does, and uses it when there is no install key or the token has
// an mskid claim: it signs what the token calls for.
func TestSignEnvironment(t *testing.T) {
	s := newSigning(t)
	writeFile(t, ".env", "APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL="+s.accountB64+"\n", 0o600)
	labels := func(tok string, args ...string) string {
		t.Helper()
		args = append([]string{"sign", "--header", "Approov-Token: " + tok}, args...)
		code, stdout, stderr := run(t, "", append(args, "GET", "http://h/")...)
		if code != 0 || stderr != "" {
			t.Fatalf("sign %q: status %d, stderr %q", args, code, stderr)
		}
		var names []string
		for _, m := range strings.Split(parseFields(t, stdout).Get("Signature"), ", ") {
			names = append(names, strings.SplitN(m, "=", 2)[0])
		}
		return strings.Join(names, "+")
	}
	ipk, mskid, both := s.token(t, "--ipk", "device.pem"), s.token(t, "--mskid", "k"), s.token(t, "--ipk", "device.pem", "--mskid", "k")
	for _, tt := range []struct {
		tok  string
		args []string
		want string
	}{
		{mskid, nil, "account"},
		{ipk, []string{"--install-key", "device.pem"}, "install"},
		{both, []string{"--install-key", "device.pem"}, "install+account"},
	} {
		if got := labels(tt.tok, tt.args...); got != tt.want {
			t.Errorf("sign %q: labels %s, want %s", tt.args, got, tt.want)
		}
	}
	// The base64 variable, when the base64url one is not set.
	os.Remove(".env")
	t.Setenv("APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64", base64.StdEncoding.EncodeToString(s.account))
	if got := labels(mskid); got != "account" {
		t.Errorf("APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64: labels %s", got)
	}
}

// TestSignWarnings: a signature the token calls for and sign does not
// make, or makes with another key, is a warning: the request is printed,
// since a test may mean it.
func TestSignWarnings(t *testing.T) {
	s := newSigning(t)
	writeKeys(t, "other", must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)))
	tests := []struct {
		name    string
		tokFlag []string
		args    []string
		warning string
	}{
		{"ipk, other key", []string{"--ipk", "device.pem"}, []string{"--install-key", "other.pem"}, "the token's ipk is not the public key of --install-key"},
		{"ipk, no install key", []string{"--ipk", "device.pem"}, []string{"--account-key", s.accountB64}, "the token has an ipk claim, so the gateway needs an install signature too"},
		{"mskid, no account key", []string{"--mskid", "k"}, []string{"--install-key", "device.pem"}, "the token has an mskid claim, so the gateway needs an account signature too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"sign", "--header", "Approov-Token: " + s.token(t, tt.tokFlag...)}, tt.args...)
			code, stdout, stderr := run(t, "", append(args, "GET", "http://h/")...)
			if code != 0 || !strings.Contains(stdout, "Signature: ") || !strings.HasPrefix(stderr, "approov-gateway sign: warning: "+tt.warning) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("status %d, stderr %q, want one warning %q", code, stderr, tt.warning)
			}
		})
	}
}

// TestSignUsageErrors: every bad input is one line on stderr, exit status
// 2, nothing on stdout, and never a key.
func TestSignUsageErrors(t *testing.T) {
	s := newSigning(t)
	tok := s.token(t, "--ipk", "device.pem")
	writeKeys(t, "rsa", must(rsa.GenerateKey(rand.Reader, 2048)))
	writeKeys(t, "p384", must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)))
	writeFile(t, "garbage.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0o600)
	writeFile(t, "leak.key", leak+"\n", 0o600)
	ok := []string{"--install-key", "device.pem", "--header", "Approov-Token: " + tok}
	tests := []struct {
		name string
		args []string
		want string // the line, without "approov-gateway sign: "
	}{
		{"no arguments", nil, "want METHOD URL, got 0 arguments (see approov-gateway help sign)"},
		{"no URL", append(ok, "GET"), "want METHOD URL, got 1 arguments (see approov-gateway help sign)"},
		{"unknown flag", append(ok, "--bogus", "GET", "http://h/"), "unknown flag --bogus (see approov-gateway help sign)"},
		{"typo of a flag", append(ok, "--curll", "GET", "http://h/"), "unknown flag --curll (did you mean --curl?)"},
		{"bad method", append(ok, "GE T", "http://h/"), `method "GE T" is not a valid HTTP method`},
		{"relative URL", append(ok, "GET", "/api"), `URL "/api": want an absolute http:// or https:// URL`},
		{"other scheme", append(ok, "GET", "ftp://h/"), `URL "ftp://h/": want an absolute http:// or https:// URL`},
		{"credentials in the URL", append(ok, "GET", "http://u:p@h/"), `URL "http://u:p@h/": credentials in the URL are not sent as the app sends them; use --header 'Authorization: ...'`},
		{"fragment", append(ok, "GET", "http://h#x"), `URL "http://h#x": a fragment is never sent`},
		{"bad host", append(ok, "GET", "http://h^st/"), `URL "http://h^st/": target URI: the host is empty or holds a character an authority cannot`},
		{"bad port", append(ok, "GET", "http://h:99999/"), `URL "http://h:99999/": target URI: the port is not a number from 0 to 65535`},
		{"space in the path", append(ok, "GET", "http://h/a b"), `URL "http://h/a b": target URI: the request-target is not origin-form (a path starting with /, then an optional query)`},
		{"bad header", append(ok, "--header", "NoColon", "GET", "http://h/"), `--header "NoColon": want 'Name: value'`},
		{"bad header name", append(ok, "--header", "Bad Name: x", "GET", "http://h/"), `--header "Bad Name: x": want 'Name: value'`},
		{"line break in a header", append(ok, "--header", "X-A: a\nb", "GET", "http://h/"), `--header X-A: a line break or NUL cannot be sent in a header`},
		{"two bodies", append(ok, "--data", "a", "--data-file", "x", "POST", "http://h/"), "use --data or --data-file, not both"},
		{"missing body file", append(ok, "--data-file", "nope", "POST", "http://h/"), "--data-file nope: no such file or directory"},
		{"wrong Content-Length", append(ok, "--data", "abc", "--header", "Content-Length: 4", "POST", "http://h/"), "--header Content-Length: the body is 3 bytes"},
		{"bad form", append(ok, "--form", "base64", "GET", "http://h/"), `--form "base64": want bytes or string`},
		{"bad created", append(ok, "--created", "yesterday", "GET", "http://h/"), `--created "yesterday": want a Unix time in seconds, such as 1744292750`},
		{"fractional expires", append(ok, "--expires", "1.5s", "GET", "http://h/"), "--expires 1.5s: want a whole number of seconds, 0 or more"},
		{"negative expires", append(ok, "--expires", "-15s", "GET", "http://h/"), "--expires -15s: want a whole number of seconds, 0 or more"},
		{"bad token header", append(ok, "--token-header", "X Approov", "GET", "http://h/"), `--token-header "X Approov" is not a valid header name`},
		{"no token header", []string{"--install-key", "device.pem", "GET", "http://h/"}, `no Approov-Token header, which the signature covers: add --header "Approov-Token: $(approov-gateway token gen ...)"`},
		{"uncomputed component", append(ok, "--components", "@method,@target-uri,approov-token,@status", "GET", "http://h/"), `install: a covered derived component is not one this package computes`},
		{"missing component", append(ok, "--components", "@method,@target-uri,approov-token,x-absent", "GET", "http://h/"), `install: covered header x-absent is not in the request`},
		{"no key", []string{"--header", "Approov-Token: " + tok, "GET", "http://h/"}, "no key: use --install-key FILE.pem, --account-key BASE64, --account-key-file FILE or APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL"},
		{"missing install key", []string{"--install-key", "nope.pem", "GET", "http://h/"}, "--install-key nope.pem: no such file or directory"},
		{"install key not PEM", []string{"--install-key", "leak.key", "GET", "http://h/"}, "--install-key leak.key: no PEM block in private key"},
		{"install key garbage", []string{"--install-key", "garbage.pem", "GET", "http://h/"}, "--install-key garbage.pem: parsing private key: "},
		{"install key RSA", []string{"--install-key", "rsa.pem", "GET", "http://h/"}, "--install-key rsa.pem: not a P-256 key (make one with approov-gateway install-key gen)"},
		{"install key P-384", []string{"--install-key", "p384.pem", "GET", "http://h/"}, "--install-key p384.pem: "},
		{"install key public", []string{"--install-key", "rsa.pub", "GET", "http://h/"}, `--install-key rsa.pub: PEM block is "PUBLIC KEY"; want a private key`},
		{"account key not base64", append(ok, "--account-key", leak+"!", "GET", "http://h/"), "--account-key: account key is neither base64 nor base64url"},
		{"account key short", append(ok, "--account-key", leak+"AAA", "GET", "http://h/"), "--account-key: account key is 12 bytes; at least 32 are required"},
		{"account key placeholder", append(ok, "--account-key", base64.StdEncoding.EncodeToString(make([]byte, 32)), "GET", "http://h/"), "--account-key: account key has 1 distinct byte values, fewer than 8: a placeholder, not a key"},
		{"account key file", append(ok, "--account-key-file", "leak.key", "GET", "http://h/"), "--account-key-file leak.key: account key is neither base64 nor base64url"},
		{"account key file missing", append(ok, "--account-key-file", "nope", "GET", "http://h/"), "--account-key-file nope: no such file or directory"},
		{"account key twice", append(ok, "--account-key", "x", "--account-key-file", "y", "GET", "http://h/"), "use --account-key or --account-key-file, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append([]string{"sign"}, tt.args...)...)
			prefix := "approov-gateway sign: " + tt.want
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, prefix) || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("status %d, stdout %q, stderr %q\nwant status 2, one line starting %q", code, stdout, stderr, prefix)
			}
			if strings.Contains(stderr, leak) || strings.Contains(stderr, s.accountB64) || strings.Contains(stderr, tok) {
				t.Errorf("stderr repeats a key or the token: %q", stderr)
			}
		})
	}

	// An account key from the environment that is not one: the variable is
	// named, its value is not.
	t.Setenv("APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL", leak+"!")
	code, _, stderr := run(t, "", "sign", "--header", "Approov-Token: "+tok, "GET", "http://h/")
	if code != 2 || stderr != "approov-gateway sign: APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL: account key is neither base64 nor base64url\n" {
		t.Errorf("status %d, stderr %q", code, stderr)
	}
	os.Unsetenv("APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL")
	writeFile(t, ".env", "NOT A LINE\n", 0o600)
	if code, _, stderr := run(t, "", "sign", "--header", "Approov-Token: "+tok, "GET", "http://h/"); code != 2 || stderr != "approov-gateway sign: .env:1: want NAME=value\n" {
		t.Errorf("bad .env: status %d, stderr %q", code, stderr)
	}
}

// TestSignHelp: -h and help sign print the usage on stdout, status 0.
func TestSignHelp(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{{"sign", "-h"}, {"sign", "--help"}, {"sign", "GET", "--help"}, {"help", "sign"}} {
		if code, stdout, stderr := run(t, "", args...); code != 0 || stdout != signUsage || stderr != "" {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"install-key", "-h"}, {"install-key", "help"}, {"help", "install-key"}} {
		if code, stdout, stderr := run(t, "", args...); code != 0 || stdout != installKeyUsage || stderr != "" {
			t.Errorf("%q: status %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	_, stdout, _ := run(t, "", "help")
	for _, want := range []string{"approov-gateway sign [flags] METHOD URL", "approov-gateway install-key gen|ipk", "help [COMMAND | settings]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}
