// Package approovtest makes Approov tokens, so that integrations can be
// tested without the vendor's CLI or a real device, as net/http/httptest does
// for servers.
//
// A [Signer] signs claim sets with an HS256 secret or an RS256 or ES256
// private key. [Signer.Sign] builds the header and encodes the claims;
// [Signer.SignJSON] signs exact header and claims bytes, for tests of
// malformed input.
//
// The tokens are real: any verifier holding the secret or the public key
// accepts them. Keep production secrets out of tests.
package approovtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
)

// Signer signs tokens with one key, for one algorithm.
type Signer struct {
	alg    string
	kid    string
	secret []byte
	priv   crypto.Signer
}

// NewSigner returns a Signer for alg: [approov.HS256] with a []byte secret of
// at least [approov.MinSecretSize] bytes, [approov.RS256] with an
// *rsa.PrivateKey, or [approov.ES256] with a P-256 *ecdsa.PrivateKey. A
// non-empty kid is put in every token's header.
//
// A secret is not checked for weakness as [approov.NewSecretKey] checks it:
// a Signer only makes tokens. Use [NewSecret] for the secret of a test, so
// that the verifier under test accepts it.
func NewSigner(alg string, key any, kid string) (*Signer, error) {
	s := &Signer{alg: alg, kid: kid}
	switch alg {
	case approov.HS256:
		secret, ok := key.([]byte)
		if !ok {
			return nil, fmt.Errorf("approovtest: HS256 needs a []byte secret, not %T", key)
		}
		if len(secret) < approov.MinSecretSize {
			return nil, fmt.Errorf("approovtest: secret is %d bytes; at least %d are required", len(secret), approov.MinSecretSize)
		}
		s.secret = append([]byte(nil), secret...)
	case approov.RS256:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("approovtest: RS256 needs an *rsa.PrivateKey, not %T", key)
		}
		s.priv = k
	case approov.ES256:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("approovtest: ES256 needs a P-256 *ecdsa.PrivateKey, not %T", key)
		}
		s.priv = k
	default:
		return nil, fmt.Errorf("approovtest: unsupported algorithm %q; use HS256, RS256 or ES256", alg)
	}
	return s, nil
}

// MustSigner is NewSigner for tests and examples: it panics on error.
func MustSigner(alg string, key any, kid string) *Signer {
	s, err := NewSigner(alg, key, kid)
	if err != nil {
		panic(err)
	}
	return s
}

// Algorithm returns the algorithm the Signer signs with.
func (s *Signer) Algorithm() string { return s.alg }

// Sign returns a token for claims, encoded with encoding/json, with a header
// of alg, typ "JWT" and kid if set. Times given as time.Time are converted
// to NumericDates with their fractional seconds.
func (s *Signer) Sign(claims map[string]any) (string, error) {
	enc := make(map[string]any, len(claims))
	for k, v := range claims {
		if t, ok := v.(time.Time); ok {
			v = json.Number(NumericDate(t))
		}
		enc[k] = v
	}
	payload, err := json.Marshal(enc)
	if err != nil {
		return "", fmt.Errorf("approovtest: encoding claims: %w", err)
	}
	header := map[string]string{"alg": s.alg, "typ": "JWT"}
	if s.kid != "" {
		header["kid"] = s.kid
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("approovtest: encoding header: %w", err)
	}
	return s.SignJSON(hdr, payload)
}

// SignJSON signs header and claims exactly as given, without checking them,
// so that tests can make tokens a strict verifier must reject.
func (s *Signer) SignJSON(header, claims []byte) (string, error) {
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sig, err := s.signature(input)
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (s *Signer) signature(input string) ([]byte, error) {
	if s.alg == approov.HS256 {
		mac := hmac.New(sha256.New, s.secret)
		mac.Write([]byte(input))
		return mac.Sum(nil), nil
	}
	digest := sha256.Sum256([]byte(input))
	switch k := s.priv.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	case *ecdsa.PrivateKey:
		r, sv, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			return nil, err
		}
		// JWS wants r and s as two fixed-width big-endian integers, not DER.
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		sv.FillBytes(sig[32:])
		return sig, nil
	}
	return nil, errors.New("approovtest: signer has no key")
}

// NumericDate formats t as a JWT NumericDate: seconds since the epoch, with
// a fraction when t has one.
func NumericDate(t time.Time) string {
	sec, nsec := t.Unix(), t.Nanosecond()
	if nsec == 0 {
		return fmt.Sprint(sec)
	}
	if sec < 0 {
		// t.Unix() rounds down; write -0.5 rather than -1 + 0.5.
		return fmt.Sprintf("-%d.%s", -sec-1, strings.TrimRight(fmt.Sprintf("%09d", 1e9-int64(nsec)), "0"))
	}
	return fmt.Sprintf("%d.%s", sec, strings.TrimRight(fmt.Sprintf("%09d", nsec), "0"))
}

// NewSecret returns a new random 64-byte secret, the size Approov uses.
func NewSecret() []byte {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// ParsePrivateKey parses a PEM-encoded RSA or P-256 ECDSA private key in
// PKCS #8, PKCS #1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY") form.
func ParsePrivateKey(pemData []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("approovtest: no PEM block in private key")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("approovtest: PEM block is %q; want a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("approovtest: parsing private key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("approovtest: %T keys are not supported; use RSA or P-256", key)
}
