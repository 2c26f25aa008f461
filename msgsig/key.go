package msgsig

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// MinAccountKeySize is the shortest account key accepted, in bytes: the
// output size of SHA-256, below which HMAC-SHA256 is weaker than it need
// be.
const MinAccountKeySize = 32

// minKeyValues is the fewest distinct byte values an account key may
// have: a random key of 32 bytes has about 30, so fewer means a
// placeholder such as 32 zero bytes.
const minKeyValues = 8

// accountKey is the account message signing key, with a pool of keyed
// HMAC states so that verifying allocates nothing for the MAC once warm.
type accountKey struct {
	secret []byte
	macs   sync.Pool
}

type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func newAccountKey(secret []byte) (*accountKey, error) {
	if len(secret) < MinAccountKeySize {
		return nil, fmt.Errorf("msgsig: account key is %d bytes; at least %d are required", len(secret), MinAccountKeySize)
	}
	var seen [256]bool
	n := 0
	for _, b := range secret {
		if !seen[b] {
			seen[b] = true
			n++
		}
	}
	if n < minKeyValues {
		return nil, fmt.Errorf("msgsig: account key has %d distinct byte values, fewer than %d: a placeholder, not a key", n, minKeyValues)
	}
	k := &accountKey{secret: bytes.Clone(secret)}
	k.macs.New = func() any { return &macState{h: hmac.New(sha256.New, k.secret)} }
	return k, nil
}

// verify reports whether sig is the HMAC-SHA256 of base.
func (k *accountKey) verify(base, sig []byte) bool {
	m := k.macs.Get().(*macState)
	m.h.Reset()
	m.h.Write(base)
	ok := hmac.Equal(m.h.Sum(m.sum[:0]), sig)
	k.macs.Put(m)
	return ok
}

// DecodeAccountKey decodes an account message signing key in any of the
// four base64 forms (padded or not, base64 or base64url), surrounding
// whitespace ignored, as `approov secret -messageSigningKey` prints it.
// Errors never contain the key.
func DecodeAccountKey(encoded string) ([]byte, error) {
	s := strings.TrimSpace(encoded)
	if s == "" {
		return nil, errors.New("msgsig: account key is empty")
	}
	// encoding/base64 skips line breaks even when strict.
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("msgsig: line break inside the account key")
	}
	for _, enc := range [...]*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("msgsig: account key is neither base64 nor base64url")
}

// p256Prefix is the DER of a SubjectPublicKeyInfo for a P-256 key up to
// the uncompressed point: what every ipk the SDK sends starts with.
var p256Prefix = []byte{
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
}

// maxIPKSize bounds the ipk claim decoded: a P-256 SubjectPublicKeyInfo is
// 91 bytes; anything much longer is not one.
const maxIPKSize = 256

var (
	errIPKBase64 = newError(ErrKeyInvalid, "install: ipk is not base64")
	errIPKDER    = newError(ErrKeyInvalid, "install: ipk is not a DER SubjectPublicKeyInfo")
	errIPKCurve  = newError(ErrKeyInvalid, "install: ipk is not a P-256 key")
)

// parseIPK parses the ipk claim: base64 (padded or not) of the DER
// SubjectPublicKeyInfo of a P-256 key. The common encoding is parsed
// without crypto/x509, which costs several times more.
func parseIPK(ipk string) (*ecdsa.PublicKey, error) {
	// Both buffers on the stack: []byte(ipk) would allocate.
	var src [maxIPKSize * 4 / 3]byte
	var buf [maxIPKSize]byte
	if len(ipk) > len(src) {
		return nil, errIPKDER
	}
	enc := base64.StdEncoding
	if len(ipk)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	n, err := enc.Decode(buf[:], src[:copy(src[:], ipk)])
	if err != nil {
		return nil, errIPKBase64
	}
	der := buf[:n]
	if len(der) == len(p256Prefix)+65 && bytes.HasPrefix(der, p256Prefix) {
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), der[len(p256Prefix):])
		if err != nil {
			return nil, errIPKCurve
		}
		return pub, nil
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errIPKDER
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errIPKCurve
	}
	return pub, nil
}

// InstallationPublicKey returns the ipk claim for pub, the public half of
// an installation key: base64 of its DER SubjectPublicKeyInfo, as the SDK
// registers it and tokens carry it. pub must be a P-256 key. It is for
// tools that make tokens for a key of their own, such as a test device.
func InstallationPublicKey(pub *ecdsa.PublicKey) (string, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", errors.New("msgsig: an installation key must be a P-256 key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// verifyP256 reports whether sig, r||s as 32 bytes each (IEEE P1363),
// signs the SHA-256 of base under pub.
func verifyP256(pub *ecdsa.PublicKey, base, sig []byte) bool {
	digest := sha256.Sum256(base)
	var der [72]byte
	return ecdsa.VerifyASN1(pub, digest[:], appendASN1Signature(der[:0], sig))
}

// appendASN1Signature appends the DER encoding of the ECDSA signature
// r||s, as ecdsa.VerifyASN1 takes it: converting through big.Int would
// cost allocations.
func appendASN1Signature(dst, rs []byte) []byte {
	half := len(rs) / 2
	r, s := minimal(rs[:half]), minimal(rs[half:])
	dst = append(dst, 0x30, byte(asn1IntegerSize(r)+asn1IntegerSize(s)))
	return appendASN1Integer(appendASN1Integer(dst, r), s)
}

// minimal drops the leading zero bytes of the big-endian b, keeping one.
func minimal(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// asn1IntegerSize is the size of the DER INTEGER of the unsigned minimal
// big-endian b: tag, length, a zero when the high bit is set, b.
func asn1IntegerSize(b []byte) int {
	if b[0]&0x80 != 0 {
		return 3 + len(b)
	}
	return 2 + len(b)
}

// appendASN1Integer appends the DER INTEGER of the unsigned minimal
// big-endian b, at most 126 bytes long.
func appendASN1Integer(dst, b []byte) []byte {
	dst = append(dst, 0x02, byte(asn1IntegerSize(b)-2))
	if b[0]&0x80 != 0 {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}
