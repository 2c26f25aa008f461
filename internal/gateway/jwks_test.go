package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

// account is an Approov account's JWK set server: one P-256 key, which
// the test can rotate, and a switch that makes it fail.
type account struct {
	*httptest.Server
	mu       sync.Mutex
	signer   *approovtest.Signer
	doc      []byte
	failing  bool
	requests int
	// hold, when not nil, holds requests until it is closed.
	hold chan struct{}
}

func newAccount(t *testing.T) *account {
	a := &account{}
	a.rotate(t, "key-1")
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		a.requests++
		hold := a.hold
		a.mu.Unlock()
		if hold != nil {
			<-hold
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.failing {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write(a.doc)
	}))
	t.Cleanup(a.Close)
	return a
}

// rotate replaces the account's key with a new one, id kid.
func (a *account) rotate(t *testing.T, kid string) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	doc, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
		"x": b64.EncodeToString(priv.X.FillBytes(make([]byte, 32))), "y": b64.EncodeToString(priv.Y.FillBytes(make([]byte, 32)))}}})
	a.mu.Lock()
	defer a.mu.Unlock()
	a.signer, a.doc = approovtest.MustSigner(approov.ES256, priv, kid), doc
}

func (a *account) token(t *testing.T) string {
	a.mu.Lock()
	s := a.signer
	a.mu.Unlock()
	tok, err := s.Sign(map[string]any{"exp": time.Now().Add(time.Hour).Unix(), "did": "device-1"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (a *account) set(failing bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failing = failing
}

func (a *account) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// TestJWKS runs a gateway with a static secret and an account's JWK set:
// not ready until the set is loaded, tokens of both kinds verified, a
// token of a key the set lacks loading it at once, the last good set kept
// through the account's outage, a reload keeping the set, and metrics
// saying all of it. The background refresh comes every 15 minutes, so
// only the test's own steps fetch.
func TestJWKS(t *testing.T) {
	acct := newAccount(t)
	hold := make(chan struct{})
	acct.hold = hold
	up := newBackend(t)
	rg := runGateway(t, "upstream: "+up.URL+"\nlisten: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\n", map[string]string{
		"APPROOV_BASE64_SECRET": testSecretB64,
		"APPROOV_JWKS_URL":      acct.URL + "/.well-known/jwks.json",
	})
	a := rg.Addrs()
	api, admin := "http://"+a.Listen, "http://"+a.Admin

	// The start's fetch is under way: not ready; the static key verifies.
	waitFor(t, func() bool { return acct.count() >= 1 })
	if code, body := get(t, admin+"/readyz", nil); code != 503 || !strings.Contains(body, "jwks not loaded") {
		t.Fatalf("readyz before the set: %d %s", code, body)
	}
	if code, _ := get(t, api+"/", http.Header{"Approov-Token": {token(t, nil)}}); code != 200 {
		t.Fatalf("static key: %d", code)
	}
	acct.mu.Lock()
	acct.hold = nil
	acct.mu.Unlock()
	close(hold)
	waitFor(t, func() bool { return rg.jwks.Status().Loaded })
	if code, body := get(t, admin+"/readyz", nil); code != 200 {
		t.Fatalf("readyz with the set: %d %s", code, body)
	}
	if code, _ := get(t, api+"/", http.Header{"Approov-Token": {acct.token(t)}}); code != 200 {
		t.Fatalf("JWK set key: %d", code)
	}

	// The account rotates; a token of the new key loads the set at once.
	acct.rotate(t, "key-2")
	if code, _ := get(t, api+"/", http.Header{"Approov-Token": {acct.token(t)}}); code != 200 {
		t.Fatalf("rotated key: %d", code)
	}

	// The account is down: the last good set stays in use.
	acct.set(true)
	if err := rg.jwks.Refresh(context.Background()); err == nil {
		t.Fatal("refresh from a failing account succeeded")
	}
	if code, _ := get(t, api+"/", http.Header{"Approov-Token": {acct.token(t)}}); code != 200 {
		t.Fatalf("last good set: %d", code)
	}
	if code, _ := get(t, admin+"/readyz", nil); code != 200 {
		t.Fatalf("readyz through the outage: %d", code)
	}

	_, metrics := get(t, admin+"/metrics", nil)
	for _, want := range []string{
		`approov_gateway_jwks_refreshes_total{outcome="ok",trigger="scheduled"} 1`,
		`approov_gateway_jwks_refreshes_total{outcome="error",trigger="scheduled"} 1`,
		`approov_gateway_jwks_refreshes_total{outcome="ok",trigger="unknown_kid"} 1`,
		`approov_gateway_jwks_refreshes_total{outcome="error",trigger="unknown_kid"} 0`,
		`approov_gateway_jwks_keys{state="in_use"} 1`,
		`approov_gateway_jwks_keys{state="skipped"} 0`,
		`approov_gateway_jwks_consecutive_failures 1`,
		`approov_gateway_jwks_loaded 1`,
		`approov_gateway_jwks_age_seconds `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A reload keeps the source and its keys, without a fetch.
	acct.set(false)
	before := acct.count()
	os.WriteFile(rg.file, []byte("upstream: "+up.URL+"\nlisten: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\nleeway: 5s\n"), 0o600)
	if _, err := rg.Gateway.reload(); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, api+"/", http.Header{"Approov-Token": {acct.token(t)}}); code != 200 || acct.count() != before {
		t.Fatalf("after reload: %d, %d fetches", code, acct.count()-before)
	}
}

// TestJWKSCheck: --check-config builds a JWK set configuration without
// fetching, and refuses a plain-http URL with its setting's name.
func TestJWKSCheck(t *testing.T) {
	acct := newAccount(t)
	cfg := loadTestConfig(t, "upstream: http://127.0.0.1:9\n", map[string]string{"APPROOV_JWKS_URL": acct.URL})
	if _, err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	if n := acct.count(); n != 0 {
		t.Fatalf("the check fetched %d times", n)
	}
}
