package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/msgsig"
)

// The known-answer values: an installation key (SEC 1 DER) and
// the ipk claim of its public key.
const (
	vectorInstallKey = "MHcCAQEEIHWZ2Ueq6odQNG+aaYmEbp7C6nujYNGr7nYKK2jqQ2asoAoGCCqGSM49AwEHoUQDQgAEJSm4DMcivAwvhM+KNce2C/X26cj3oGyUwWVUPuNuZHtd2qyVsM+0g7qX73Qh0Of6fn10AApLnl8vRQsvx94fZQ=="
	vectorIPK        = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJSm4DMcivAwvhM+KNce2C/X26cj3oGyUwWVUPuNuZHtd2qyVsM+0g7qX73Qh0Of6fn10AApLnl8vRQsvx94fZQ=="
)

// TestSecretGenMessageSigning: secret gen --message-signing prints an
// account key for .env, which sign then signs with.
func TestSecretGenMessageSigning(t *testing.T) {
	s := newSigning(t)
	code, stdout, stderr := run(t, "", "secret", "gen", "--message-signing")
	name, value, _ := strings.Cut(strings.TrimSuffix(stdout, "\n"), "=")
	key, err := base64.RawURLEncoding.DecodeString(value)
	if code != 0 || stderr != "" || name != "APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL" || err != nil || len(key) != msgsig.MinAccountKeySize {
		t.Fatalf("status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	writeFile(t, ".env", stdout, 0o600)
	tok := s.token(t, "--mskid", "k")
	_, out, _ := run(t, "", "sign", "--header", "Approov-Token: "+tok, "GET", "http://h/")
	h := parseFields(t, out)
	h.Set("Approov-Token", tok)
	claims := must(s.tokens.VerifyRequest(h))
	v := must(msgsig.NewVerifier(msgsig.WithAccountKey(key)))
	if res, err := v.Verify(&claims, &msgsig.Request{Method: "GET", TargetURI: "http://h/", Header: h}); err != nil || !res.Account {
		t.Errorf("account signature with the key from .env: %+v, %v", res, err)
	}
}

// TestInstallKey: install-key gen writes a fresh P-256 key in PEM, and
// install-key ipk and token gen --ipk give the ipk claim msgsig makes for
// it; the known-answer key, in SEC 1 form, gives the ipk.
func TestInstallKey(t *testing.T) {
	isolate(t)
	_, secret := newSecret()
	code, first, stderr := run(t, "", "install-key", "gen")
	if code != 0 || stderr != "" || !strings.HasPrefix(first, "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatalf("install-key gen: status %d, stdout %q, stderr %q", code, first, stderr)
	}
	if _, second, _ := run(t, "", "install-key", "gen"); second == first {
		t.Error("install-key gen printed the same key twice")
	}
	writeFile(t, "fresh.pem", first, 0o600)
	key := must(loadInstallKey("fresh.pem"))
	fresh := must(msgsig.InstallationPublicKey(&key.PublicKey))

	der := must(base64.StdEncoding.DecodeString(vectorInstallKey))
	writeFile(t, "vector.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})), 0o600)
	for file, ipk := range map[string]string{"fresh.pem": fresh, "vector.pem": vectorIPK} {
		if code, stdout, stderr := run(t, "", "install-key", "ipk", file); code != 0 || stdout != ipk+"\n" || stderr != "" {
			t.Errorf("install-key ipk %s: status %d, stdout %q, stderr %q; want %s", file, code, stdout, stderr, ipk)
		}
		for _, flag := range []string{"--ipk", "--install-key"} {
			c := claimsOf(t, gen(t, "--secret", secret, flag, file, "--mskid", "key-7"))
			if c["ipk"] != ipk || c["mskid"] != "key-7" {
				t.Errorf("token gen %s %s: ipk %v, mskid %v; want %s, key-7", flag, file, c["ipk"], c["mskid"], ipk)
			}
		}
	}

	writeKeys(t, "rsa", must(rsa.GenerateKey(rand.Reader, 2048)))
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"install-key"}, "approov-gateway install-key: want gen or ipk (see approov-gateway help install-key)\n"},
		{[]string{"install-key", "rotate"}, "approov-gateway install-key: unknown command \"rotate\" (want gen or ipk)\n"},
		{[]string{"install-key", "gen", "x"}, "approov-gateway install-key gen: unexpected argument \"x\"\n"},
		{[]string{"install-key", "ipk"}, "approov-gateway install-key ipk: want one argument, the PEM file of the key\n"},
		{[]string{"install-key", "ipk", "nope.pem"}, "approov-gateway install-key ipk: nope.pem: no such file or directory\n"},
		{[]string{"token", "gen", "--secret", secret, "--ipk", "nope.pem"}, "approov-gateway token gen: --ipk nope.pem: no such file or directory\n"},
		{[]string{"token", "gen", "--secret", secret, "--ipk", "rsa.pem"}, "approov-gateway token gen: --ipk rsa.pem: not a P-256 key (make one with approov-gateway install-key gen)\n"},
	} {
		if code, stdout, stderr := run(t, "", tt.args...); code != 2 || stdout != "" || stderr != tt.stderr {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want status 2, stderr %q", tt.args, code, stdout, stderr, tt.stderr)
		}
	}
}
