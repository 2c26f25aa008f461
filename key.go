package approov

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"unsafe"
)

// The JWS algorithms this package verifies. Each [Key] is pinned to one.
const (
	HS256 = "HS256" // HMAC with SHA-256: the Approov default.
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 bits or more.
	ES256 = "ES256" // ECDSA on P-256 with SHA-256.
)

// MinSecretSize is the shortest HMAC secret accepted, in bytes. Approov
// account secrets are 64 bytes.
const MinSecretSize = 32

// minSecretValues is the fewest distinct byte values an HMAC secret may
// have. A random secret of [MinSecretSize] bytes has about 30 and one of 64
// about 57; the chance that a random one has fewer than 8 is below 2^-100.
// So fewer means the secret is not random at all: all zeros, "ffff...", a
// placeholder left in a test or a template.
const minSecretValues = 8

// ErrWeakSecret is returned, wrapped, by [NewSecretKey] (and so by
// [WithSecret] and [WithBase64Secret]) for a secret that cannot be random: one
// with fewer than 8 distinct byte values. Test for it with [errors.Is].
var ErrWeakSecret = errors.New("approov: secret is too weak")

// minRSABits and maxRSABits bound the RSA moduli accepted; Verify refuses
// longer signatures before decoding them.
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// Key is one key that verifies token signatures, pinned to the single
// algorithm its type implies: an HMAC secret verifies HS256 only, an RSA
// public key RS256 only, a P-256 public key ES256 only. A Key may carry a key
// id, matched against the token's kid header.
//
// A Key never prints its secret: its String, GoString and LogValue methods
// show the algorithm and id only.
type Key struct {
	id  string
	alg string

	// HS256: the secret, and a pool of keyed HMAC states so that verifying
	// allocates nothing once warm.
	secret []byte
	macs   *sync.Pool

	rsa *rsa.PublicKey
	ec  *ecdsa.PublicKey
}

// macState is a keyed HMAC and room for its sum, pooled together so that
// neither escapes per call.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// NewSecretKey returns an HS256 key for an HMAC secret, with key id id ("" for
// none). The secret is copied. It must be at least [MinSecretSize] bytes and
// have at least 8 distinct byte values: a secret such as 64 zero bytes or
// "ffff..." is refused with [ErrWeakSecret], since anyone could guess it and
// forge tokens. Random secrets, such as Approov's, always pass. Errors never
// contain the secret.
func NewSecretKey(id string, secret []byte) (*Key, error) {
	if len(secret) < MinSecretSize {
		return nil, fmt.Errorf("approov: secret is %d bytes; at least %d are required (Approov secrets are 64)", len(secret), MinSecretSize)
	}
	if n := distinctValues(secret); n < minSecretValues {
		return nil, fmt.Errorf("%w: it has %d distinct byte values, fewer than %d (use the account's secret, from `approov secret -get base64`, or random bytes)", ErrWeakSecret, n, minSecretValues)
	}
	k := &Key{id: id, alg: HS256, secret: append([]byte(nil), secret...)}
	k.macs = &sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, k.secret)} }}
	return k, nil
}

// distinctValues returns how many distinct byte values b holds.
func distinctValues(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}

// DecodeSecret decodes an Approov secret as handed over to API backends: base64
// (APPROOV_BASE64_SECRET, standard alphabet) or base64url
// (APPROOV_BASE64URL_SECRET), with or without padding. Surrounding whitespace,
// such as a file's final newline, is ignored. The decoded secret must be at
// least [MinSecretSize] bytes; [NewSecretKey] further refuses a weak one.
// Errors never contain the secret.
func DecodeSecret(encoded string) ([]byte, error) {
	s := strings.TrimSpace(encoded)
	if s == "" {
		return nil, errors.New("approov: secret is empty")
	}
	var secret []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			secret = b
			break
		}
	}
	if secret == nil {
		return nil, errors.New("approov: secret is neither base64 nor base64url")
	}
	if len(secret) < MinSecretSize {
		return nil, fmt.Errorf("approov: secret decodes to %d bytes; at least %d are required (Approov secrets are 64)", len(secret), MinSecretSize)
	}
	return secret, nil
}

// ParsePublicKey returns a key for a PEM-encoded public key, with key id id
// ("" for none): a "PUBLIC KEY" (PKIX) block holding an RSA key of at least
// 2048 bits, which then verifies RS256 only, or a P-256 ECDSA key, which
// then verifies ES256 only; or an "RSA PUBLIC KEY" (PKCS #1) block.
func ParsePublicKey(id string, pemData []byte) (*Key, error) {
	block, rest := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("approov: no PEM block in public key")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("approov: more than one PEM block in public key")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("approov: PEM block is %q; want \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("approov: parsing public key: %w", err)
	}
	return NewPublicKey(id, pub)
}

// NewPublicKey returns a key for a public key, with key id id ("" for
// none): an *rsa.PublicKey of 2048 to 4096 bits, which then verifies RS256
// only, or an *ecdsa.PublicKey on P-256, which then verifies ES256 only.
// Any other key is refused. The key is used as given, not copied.
func NewPublicKey(id string, pub crypto.PublicKey) (*Key, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if pub == nil || pub.N == nil {
			return nil, errors.New("approov: nil RSA key")
		}
		if pub.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("approov: RSA key is %d bits; at least %d are required", pub.N.BitLen(), minRSABits)
		}
		if pub.N.BitLen() > maxRSABits {
			return nil, fmt.Errorf("approov: RSA key is %d bits; at most %d are supported", pub.N.BitLen(), maxRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return nil, fmt.Errorf("approov: RSA public exponent %d is not an odd number of at least 3", pub.E)
		}
		return &Key{id: id, alg: RS256, rsa: pub}, nil
	case *ecdsa.PublicKey:
		if pub == nil {
			return nil, errors.New("approov: nil ECDSA key")
		}
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("approov: ECDSA key is on %s; only P-256 (ES256) is supported", pub.Curve.Params().Name)
		}
		return &Key{id: id, alg: ES256, ec: pub}, nil
	default:
		return nil, fmt.Errorf("approov: %T keys are not supported; use RSA (RS256) or P-256 (ES256)", pub)
	}
}

// ID returns the key id, or "" if the key has none.
func (k *Key) ID() string { return k.id }

// Algorithm returns the one algorithm the key verifies: [HS256], [RS256] or [ES256].
func (k *Key) Algorithm() string { return k.alg }

// String describes the key without its material.
func (k *Key) String() string {
	if k.id == "" {
		return k.alg + " key"
	}
	return k.alg + " key " + fmt.Sprintf("%q", k.id)
}

// GoString describes the key without its material, for %#v.
func (k *Key) GoString() string { return "approov.Key(" + k.String() + ")" }

// LogValue describes the key without its material, for log/slog.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// sigSize returns the length a signature must have for this key.
func (k *Key) sigSize() int {
	switch k.alg {
	case HS256:
		return sha256.Size
	case ES256:
		return 64
	default:
		return k.rsa.Size()
	}
}

// verify reports whether sig is a valid signature of signingInput.
func (k *Key) verify(signingInput string, sig []byte) bool {
	if len(sig) != k.sigSize() {
		return false
	}
	switch k.alg {
	case HS256:
		m := k.macs.Get().(*macState)
		m.h.Reset()
		m.h.Write(bytesOf(signingInput))
		ok := hmac.Equal(m.h.Sum(m.sum[:0]), sig)
		k.macs.Put(m)
		return ok
	case RS256:
		digest := sha256.Sum256(bytesOf(signingInput))
		return rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, digest[:], sig) == nil
	case ES256:
		digest := sha256.Sum256(bytesOf(signingInput))
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(k.ec, digest[:], r, s)
	}
	return false
}

// bytesOf returns the bytes of s without copying them. The result must only
// ever be read: it is passed to hash functions, which neither modify nor
// retain their input. Copying instead would cost an allocation per token,
// because a slice passed to a hash.Hash escapes.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
