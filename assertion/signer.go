package assertion

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"
	"unsafe"
)

// Signer makes assertions: the gateway holds one per configuration. Build
// it with [NewSigner]; it is safe for concurrent use.
type Signer struct {
	key      *Key
	audience string
	lifetime int64 // seconds
	now      func() time.Time
}

// NewSigner returns a Signer that signs with the first of keys; the others,
// which only verifiers use, are ignored. The list is the one verifiers are
// given, so that one setting configures both ends.
func NewSigner(keys []*Key, opts ...SignerOption) (*Signer, error) {
	if len(keys) == 0 || keys[0] == nil {
		return nil, errors.New("assertion: no signing key")
	}
	s := &Signer{
		key:      keys[0],
		audience: DefaultAudience,
		lifetime: int64(DefaultLifetime / time.Second),
		now:      time.Now,
	}
	for _, opt := range opts {
		if err := opt.applySigner(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// KeyID returns the id of the key the Signer signs with, for logs.
func (s *Signer) KeyID() string { return s.key.id }

// scratchSize is the stack buffer the claim set is written into; larger
// claim sets, from very long request-targets, take an allocation more.
const scratchSize = 1024

// Sign returns an assertion of c. It fills iss, aud, iat and exp itself:
// c's Issuer, Audience, IssuedAt and Expiry are ignored. The errors wrap
// [ErrUnsignable]: a required claim empty, a string that is not valid
// UTF-8, a bound header name that is not one, or a result longer than
// [MaxSize].
//
// Sign is on the gateway's path for every request: it writes the claims
// without reflection, HMACs them with a pooled keyed state, and allocates
// only the returned string.
func (s *Signer) Sign(c *Claims) (string, error) {
	iat := s.now().Unix()
	var scratch [scratchSize]byte
	claims, err := appendClaims(scratch[:0], c, s.audience, iat, iat+s.lifetime)
	if err != nil {
		return "", err
	}
	k := s.key
	payLen := base64.RawURLEncoding.EncodedLen(len(claims))
	n := len(k.header) + 1 + payLen + 1 + sigSegmentLen
	if n > MaxSize {
		return "", errSignTooLarge
	}
	out := make([]byte, n)
	i := copy(out, k.header)
	out[i] = '.'
	i++
	base64.RawURLEncoding.Encode(out[i:], claims)
	i += payLen
	var sum [32]byte
	k.mac(sum[:0], out[:i])
	out[i] = '.'
	base64.RawURLEncoding.Encode(out[i+1:], sum[:])
	// out is never written again, so it can be the string's memory: a copy
	// would double the allocations of every proxied request.
	return unsafe.String(&out[0], len(out)), nil
}

// sigSegmentLen is the length of an HS256 signature segment.
const sigSegmentLen = 43

// NewID returns a jti: 16 random bytes, base64url without padding.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
