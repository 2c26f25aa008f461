package jwks

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

// The JWKs of these tests are written with encoding/json and big.Int, not
// with the library under test, so that parsing is checked against an
// independent encoding.

var b64 = base64.RawURLEncoding

// ecJWK returns a P-256 signing key, with id kid, and its JWK with the
// extra members given.
func ecJWK(t testing.TB, kid string, extra map[string]any) (*approovtest.Signer, map[string]any) {
	t.Helper()
	return ecJWKOn(t, elliptic.P256(), "P-256", kid, extra)
}

func ecJWKOn(t testing.TB, curve elliptic.Curve, crv, kid string, extra map[string]any) (*approovtest.Signer, map[string]any) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	size := (curve.Params().BitSize + 7) / 8
	jwk := map[string]any{"kty": "EC", "crv": crv, "x": b64.EncodeToString(priv.X.FillBytes(make([]byte, size))),
		"y": b64.EncodeToString(priv.Y.FillBytes(make([]byte, size)))}
	if kid != "" {
		jwk["kid"] = kid
	}
	for k, v := range extra {
		jwk[k] = v
	}
	var signer *approovtest.Signer
	if crv == "P-256" {
		signer = approovtest.MustSigner(approov.ES256, priv, kid)
	}
	return signer, jwk
}

// rsaJWK returns an RSA signing key of bits bits, with id kid, and its JWK.
func rsaJWK(t testing.TB, bits int, kid string, extra map[string]any) (*approovtest.Signer, map[string]any) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	jwk := map[string]any{"kty": "RSA", "kid": kid, "n": b64.EncodeToString(priv.N.Bytes()),
		"e": b64.EncodeToString(big.NewInt(int64(priv.E)).Bytes())}
	for k, v := range extra {
		jwk[k] = v
	}
	var signer *approovtest.Signer
	if bits >= 2048 {
		signer = approovtest.MustSigner(approov.RS256, priv, kid)
	}
	return signer, jwk
}

// octJWK returns an HMAC signing key with id kid and its JWK.
func octJWK(t testing.TB, kid string, extra map[string]any) (*approovtest.Signer, map[string]any) {
	t.Helper()
	secret := approovtest.NewSecret()
	jwk := map[string]any{"kty": "oct", "kid": kid, "k": b64.EncodeToString(secret)}
	for k, v := range extra {
		jwk[k] = v
	}
	return approovtest.MustSigner(approov.HS256, secret, kid), jwk
}

func document(t testing.TB, keys ...any) []byte {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func token(t testing.TB, s *approovtest.Signer) string {
	t.Helper()
	tok, err := s.Sign(map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jwksServer serves a JWK set document that the test can change, and
// counts the requests.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	doc      []byte
	status   int
	requests int
	// gate, when not nil, holds each request until it is closed; started
	// receives a value as a held request arrives, when it has room.
	gate    chan struct{}
	started chan struct{}
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	s := &jwksServer{doc: doc, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		doc, status, gate, started := s.doc, s.status, s.gate, s.started
		s.mu.Unlock()
		if gate != nil {
			select {
			case started <- struct{}{}:
			default: // nobody is waiting for this one
			}
			<-gate
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		w.Write(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(status int, doc []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.doc = status, doc
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// newSource returns a source for srv with long intervals: tests drive
// refreshes themselves.
func newSource(t *testing.T, url string, mod func(*Options)) *Source {
	t.Helper()
	opts := Options{URL: url, RefreshInterval: time.Hour, UnknownKidInterval: time.Minute, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verifier(t testing.TB, s *Source) *approov.Verifier {
	t.Helper()
	v, err := approov.NewVerifier(approov.WithKeySet(s.Set()))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
