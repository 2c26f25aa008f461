package approov

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
)

// Binding describes token binding: the app puts the base64 SHA-256 of the
// value of one or more request headers, usually Authorization, in the
// token's pay claim, so the token cannot be replayed with other credentials.
//
// With one header the bound value is that header's value as received,
// scheme included ("Bearer abc"). With several, it is their values, trimmed,
// concatenated in the configured order without separator. Each header must
// be present exactly once and non-empty.
type Binding struct {
	headers     []string
	stripScheme bool
	optional    bool
}

// BindingOption configures a [Binding].
type BindingOption func(*Binding)

// StripScheme binds the credential alone: the first word of each header
// value and the spaces after it ("Bearer ") are removed before hashing, for
// deployments whose apps bind only the credential.
func StripScheme() BindingOption { return func(b *Binding) { b.stripScheme = true } }

// AllowUnbound accepts tokens without a pay claim, and checks binding only
// when a token has one. This suits the Approov failover system, whose tokens
// carry no pay claim. By default a token without pay is rejected.
func AllowUnbound() BindingOption { return func(b *Binding) { b.optional = true } }

// NewBinding returns a Binding to the named headers, in order.
func NewBinding(headers []string, opts ...BindingOption) (*Binding, error) {
	if len(headers) == 0 {
		return nil, errors.New("approov: token binding needs at least one header")
	}
	b := &Binding{}
	seen := map[string]bool{}
	for _, name := range headers {
		name = strings.TrimSpace(name)
		if !validHeaderName(name) {
			return nil, fmt.Errorf("approov: binding header %q is not a valid header name", name)
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		if seen[name] {
			return nil, fmt.Errorf("approov: binding header %q named twice", name)
		}
		seen[name] = true
		b.headers = append(b.headers, name)
	}
	for _, opt := range opts {
		opt(b)
	}
	return b, nil
}

// Headers returns the canonical names of the bound headers, in order.
func (b *Binding) Headers() []string { return append([]string(nil), b.headers...) }

// Optional reports whether tokens without a pay claim are accepted.
func (b *Binding) Optional() bool { return b.optional }

// SchemeStripped reports whether the scheme is removed before hashing.
func (b *Binding) SchemeStripped() bool { return b.stripScheme }

var (
	errBindingClaim   = newError(ErrBindingClaimMissing, "token has no pay claim")
	errBindingMatch   = newError(ErrBindingMismatch, "pay claim does not match the bound headers")
	errBindingPayForm = newError(ErrBindingMismatch, "pay claim is not a base64 SHA-256 hash")
)

// Check verifies the binding of verified claims c to the request headers h.
// The hashes are compared in constant time. A pay claim may be spelled in
// base64 or base64url, padded or not.
func (b *Binding) Check(c *Claims, h http.Header) error {
	if !c.hasPay {
		if b.optional {
			return nil
		}
		return errBindingClaim
	}
	var want [sha256.Size]byte
	if !decodePayloadHash(c.PayloadHash, &want) {
		return errBindingPayForm
	}
	got, err := b.hash(h)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return errBindingMatch
	}
	return nil
}

// Value returns the value the token must be bound to, for diagnostics such
// as the CLI's bind command. [Binding.Check] hashes it without building it.
func (b *Binding) Value(h http.Header) (string, error) {
	var sb strings.Builder
	for _, name := range b.headers {
		v, err := b.headerValue(h, name)
		if err != nil {
			return "", err
		}
		sb.WriteString(v)
	}
	return sb.String(), nil
}

// headerValue returns the part of header name that is hashed.
func (b *Binding) headerValue(h http.Header, name string) (string, error) {
	values := h[name]
	if len(values) > 1 {
		return "", newError(ErrBindingHeaderDuplicated, name)
	}
	v := ""
	if len(values) == 1 {
		v = values[0]
	}
	if len(b.headers) > 1 {
		v = strings.TrimSpace(v)
	}
	if b.stripScheme {
		v = stripScheme(v)
	}
	if strings.TrimSpace(v) == "" {
		return "", newError(ErrBindingHeaderMissing, name)
	}
	return v, nil
}

// stripScheme removes the first word of v and the spaces after it, if v
// has more than one word.
func stripScheme(v string) string {
	v = strings.TrimLeft(v, " \t")
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return v
	}
	return strings.TrimLeft(v[i:], " \t")
}

type sumState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

var sumStates = sync.Pool{New: func() any { return &sumState{h: sha256.New()} }}

func (b *Binding) hash(h http.Header) ([sha256.Size]byte, error) {
	if len(b.headers) == 1 {
		v, err := b.headerValue(h, b.headers[0])
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		return sha256.Sum256(bytesOf(v)), nil
	}
	s := sumStates.Get().(*sumState)
	defer sumStates.Put(s)
	s.h.Reset()
	for _, name := range b.headers {
		v, err := b.headerValue(h, name)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		s.h.Write(bytesOf(v))
	}
	s.h.Sum(s.sum[:0])
	return s.sum, nil
}

// The spellings of a pay claim: base64 and base64url, padded (44 characters)
// or not (43), canonical only.
var (
	payPadded   = [2]*base64.Encoding{base64.StdEncoding.Strict(), base64.URLEncoding.Strict()}
	payUnpadded = [2]*base64.Encoding{base64.RawStdEncoding.Strict(), base64.RawURLEncoding.Strict()}
)

// decodePayloadHash decodes a pay claim into dst: base64 or base64url,
// padded or not, of exactly 32 bytes.
func decodePayloadHash(pay string, dst *[sha256.Size]byte) bool {
	var encs *[2]*base64.Encoding
	switch len(pay) {
	case 44:
		encs = &payPadded
	case 43:
		encs = &payUnpadded
	default:
		return false
	}
	var buf [33]byte
	for _, enc := range encs {
		if n, err := enc.Decode(buf[:], []byte(pay)); err == nil && n == sha256.Size {
			copy(dst[:], buf[:n])
			return true
		}
	}
	return false
}

// PayloadHash returns the pay claim value that binds a token to value:
// standard base64, padded, of its SHA-256. For several headers, pass their
// trimmed values concatenated in order.
func PayloadHash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return base64.StdEncoding.EncodeToString(sum[:])
}
