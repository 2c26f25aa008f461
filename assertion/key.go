package assertion

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"strings"
	"sync"
)

// MinKeySize is the shortest key accepted, in bytes: the output size of
// SHA-256, below which HMAC-SHA256 is weaker than it need be.
const MinKeySize = 32

// minDistinctBytes is how many different byte values a key must contain,
// to refuse keys such as 32 zero bytes or a repeated short word.
const minDistinctBytes = 8

// kidLabel separates key ids from any other use of SHA-256 over the key.
const kidLabel = "approov-assertion-kid:"

// Key is one HMAC-SHA256 key shared by the gateway and its backends. Its id,
// sent as the kid header, is derived from the key itself, so that nobody
// configures ids and rotation needs no coordination beyond the key list.
//
// A Key never prints its material: String, GoString and LogValue show the
// id only.
type Key struct {
	id     string
	secret []byte
	// header is the first segment of every assertion this key signs: the
	// JOSE header, already base64url-encoded.
	header string
	// macs holds keyed HMAC states, so that signing and verifying
	// allocate nothing for the MAC once warm.
	macs sync.Pool
}

// macState is a keyed HMAC and room for its sum, pooled together so that
// neither escapes per call.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// NewKey returns a key for secret, which it copies. The secret must be at
// least [MinKeySize] bytes and hold at least 8 distinct byte values. Errors
// never contain the secret.
func NewKey(secret []byte) (*Key, error) {
	if err := checkSecret(secret); err != nil {
		return nil, errors.New("assertion: " + err.Error())
	}
	k := &Key{secret: append([]byte(nil), secret...)}
	sum := sha256.Sum256(append([]byte(kidLabel), secret...))
	k.id = base64.RawURLEncoding.EncodeToString(sum[:9])
	k.header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"` + Type + `","kid":"` + k.id + `"}`))
	k.macs.New = func() any { return &macState{h: hmac.New(sha256.New, k.secret)} }
	return k, nil
}

// checkSecret refuses short keys and keys with too few distinct bytes,
// such as 32 zero bytes or a repeated short word.
func checkSecret(secret []byte) error {
	if len(secret) < MinKeySize {
		return fmt.Errorf("key is %d bytes; at least %d are required", len(secret), MinKeySize)
	}
	var seen [256]bool
	distinct := 0
	for _, b := range secret {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct < minDistinctBytes {
		return fmt.Errorf("key has only %d distinct byte values; at least %d are required (generate keys at random)", distinct, minDistinctBytes)
	}
	return nil
}

// ParseKeys parses the assertion_secret setting: a comma-separated list of
// keys, each base64 or base64url, padded or not, surrounding whitespace
// ignored, each decoding to a key [NewKey] accepts. The first key signs;
// every key verifies. Errors name a key by its position, never by its value.
func ParseKeys(list string) ([]*Key, error) {
	if strings.TrimSpace(list) == "" {
		return nil, errors.New("assertion: no key: the list is empty")
	}
	parts := strings.Split(list, ",")
	keys := make([]*Key, 0, len(parts))
	for i, part := range parts {
		fail := func(err error) ([]*Key, error) {
			return nil, fmt.Errorf("assertion: key %d of %d: %w", i+1, len(parts), err)
		}
		secret, err := decodeKey(strings.TrimSpace(part))
		if err != nil {
			return fail(err)
		}
		if err := checkSecret(secret); err != nil {
			return fail(err)
		}
		k, _ := NewKey(secret)
		for j, other := range keys {
			if other.id == k.id {
				return fail(fmt.Errorf("repeats key %d", j+1))
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// decodeKey decodes one key of the list in any of the four base64 forms,
// canonical spellings only.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty (a stray comma?)")
	}
	// encoding/base64 skips line breaks even when strict.
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break inside the key")
	}
	for _, enc := range [...]*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("neither base64 nor base64url")
}

// ID returns the key id: the first 9 bytes of SHA-256("approov-assertion-kid:"
// followed by the key), base64url without padding, 12 characters.
func (k *Key) ID() string { return k.id }

// String describes the key without its material.
func (k *Key) String() string { return "assertion key " + k.id }

// GoString describes the key without its material, for %#v.
func (k *Key) GoString() string { return "assertion.Key(" + k.id + ")" }

// LogValue describes the key without its material, for log/slog.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// mac appends the HMAC-SHA256 of input to dst.
func (k *Key) mac(dst, input []byte) []byte {
	m := k.macs.Get().(*macState)
	m.h.Reset()
	m.h.Write(input)
	dst = append(dst, m.h.Sum(m.sum[:0])...)
	k.macs.Put(m)
	return dst
}
