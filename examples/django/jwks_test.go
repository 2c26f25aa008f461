package django_test

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestJWKSFromPyJWT: an account's key set made by an independent
// implementation — keys from Python's cryptography, the JWK set encoded by
// PyJWT's to_jwk, tokens signed by PyJWT — served by Python's own web
// server, fetched by the gateway binary in front of Django. Tokens of both
// keys reach Django with their device ids, a token of a key outside the
// set claiming one of its kids does not, and the key without alg is
// skipped with a warning.
func TestJWKSFromPyJWT(t *testing.T) {
	e2e.Require(t, "/usr/bin/python3")
	dir := t.TempDir()
	out, err := exec.Command("/usr/bin/python3", filepath.Join("testdata", "approov_account.py"), dir).Output()
	if err != nil {
		t.Fatalf("approov_account.py: %v", err)
	}
	tokens := strings.Fields(string(out))
	if len(tokens) != 3 {
		t.Fatalf("approov_account.py printed %q", out)
	}
	es, rs, stranger := tokens[0], tokens[1], tokens[2]

	jwksAddr := e2e.FreeAddr(t)
	host, port, _ := net.SplitHostPort(jwksAddr)
	account := e2e.Start(t, dir, nil, "/usr/bin/python3", "-m", "http.server", "--bind", host, "--directory", dir, port)
	e2e.WaitHTTP(t, account, "http://"+jwksAddr+"/jwks.json", 200, 15*time.Second)

	djangoAddr := e2e.FreeAddr(t)
	startDjango(t, "hello.settings", djangoAddr)
	gw := startGateway(t, "upstream: http://"+djangoAddr+"\n", "APPROOV_JWKS_URL=http://"+jwksAddr+"/jwks.json")

	for _, tc := range []struct {
		name, token, device string
	}{
		{"ES256 key", es, "device-es-1"},
		{"RS256 key", rs, "device-rs-1"},
	} {
		status, w := getWhoami(t, gw.URL()+"/whoami", http.Header{"Approov-Token": {tc.token}})
		if status != 200 || w.DeviceID == nil || *w.DeviceID != tc.device || !w.Verified {
			t.Errorf("%s: %d %+v", tc.name, status, w)
		}
	}
	if got := get(t, gw.URL()+"/whoami", http.Header{"Approov-Token": {stranger}}); got.Status != 401 || got.Body != "{}" {
		t.Errorf("a key outside the set: %d %q", got.Status, got.Body)
	}
	gw.WaitOutput(t, `"index":2,"kid":"rs-no-alg","reason":"no alg, and RSA keys admit more than one algorithm"`, 5*time.Second)
}
