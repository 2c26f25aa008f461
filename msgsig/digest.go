package msgsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"io"

	"github.com/dunglas/httpsfv"
)

// DigestVerifier checks a body against a Content-Digest field (RFC 9530)
// as it streams past: write the body into it, as received (still
// content-encoded), then call Verify. Every sha-256 and sha-512 member of
// the field must match; members of other algorithms are ignored. Build it
// with [NewDigestVerifier], or take the one [Result.Digest] holds.
type DigestVerifier struct {
	sha256, sha512   hash.Hash
	want256, want512 []byte
}

var _ io.Writer = (*DigestVerifier)(nil)

// NewDigestVerifier returns a DigestVerifier for the Content-Digest field
// value contentDigest. Each sha-256 or sha-512 member may be a byte
// sequence (sha-256=:base64:, as RFC 9530 specifies) or a string of
// standard base64 (sha-256="base64"), as some clients send. The errors
// wrap [ErrDigestMalformed] or, when no member is sha-256 or sha-512,
// [ErrDigestMissing].
func NewDigestVerifier(contentDigest string) (*DigestVerifier, error) {
	return newDigestVerifier([]string{contentDigest})
}

var (
	errDigest256 = newError(ErrDigestMalformed, "Content-Digest sha-256 is not 32 bytes of base64")
	errDigest512 = newError(ErrDigestMalformed, "Content-Digest sha-512 is not 64 bytes of base64")
)

// newDigestVerifier parses the instances of a Content-Digest field.
func newDigestVerifier(values []string) (*DigestVerifier, error) {
	if fieldSize(values) > MaxFieldSize {
		return nil, errDigestTooLarge
	}
	if len(values) == 0 {
		return nil, errDigestNone
	}
	dict, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return nil, errDigestSyntax
	}
	d := &DigestVerifier{}
	if m, ok := dict.Get("sha-256"); ok {
		if d.want256, ok = digestBytes(m, sha256.Size); !ok {
			return nil, errDigest256
		}
		d.sha256 = sha256.New()
	}
	if m, ok := dict.Get("sha-512"); ok {
		if d.want512, ok = digestBytes(m, sha512.Size); !ok {
			return nil, errDigest512
		}
		d.sha512 = sha512.New()
	}
	if d.sha256 == nil && d.sha512 == nil {
		return nil, errDigestNone
	}
	return d, nil
}

// digestBytes returns the digest a Content-Digest member holds, as a byte
// sequence or a base64 string, if it has the size expected.
func digestBytes(m httpsfv.Member, size int) ([]byte, bool) {
	item, ok := m.(httpsfv.Item)
	if !ok {
		return nil, false
	}
	var b []byte
	switch v := item.Value.(type) {
	case []byte:
		b = v
	case string:
		enc := base64.StdEncoding
		if len(v)%4 != 0 {
			enc = base64.RawStdEncoding
		}
		var err error
		if b, err = enc.DecodeString(v); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	return b, len(b) == size
}

// Write hashes p, which is the next part of the body. It never fails.
func (d *DigestVerifier) Write(p []byte) (int, error) {
	if d.sha256 != nil {
		d.sha256.Write(p)
	}
	if d.sha512 != nil {
		d.sha512.Write(p)
	}
	return len(p), nil
}

// Verify reports whether the body written so far matches every sha-256
// and sha-512 member of the Content-Digest: nil, or an error wrapping
// [ErrDigestMismatch].
func (d *DigestVerifier) Verify() error {
	var sum [sha512.Size]byte
	if d.sha256 != nil && subtle.ConstantTimeCompare(d.sha256.Sum(sum[:0]), d.want256) != 1 {
		return errDigestMismatch
	}
	if d.sha512 != nil && subtle.ConstantTimeCompare(d.sha512.Sum(sum[:0]), d.want512) != 1 {
		return errDigestMismatch
	}
	return nil
}

// VerifyContentDigest reads body to its end and checks it against the
// Content-Digest field value contentDigest, as a [DigestVerifier] does.
// An error reading body is returned as it is.
func VerifyContentDigest(contentDigest string, body io.Reader) error {
	d, err := NewDigestVerifier(contentDigest)
	if err != nil {
		return err
	}
	if _, err := io.Copy(d, body); err != nil {
		return err
	}
	return d.Verify()
}

// ContentDigest returns the Content-Digest field value of body for
// sha-256, as a byte sequence: "sha-256=:base64:", as the SDK sends it.
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}
