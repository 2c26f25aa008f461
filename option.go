package approov

import (
	"errors"
	"fmt"
	"net/textproto"
	"time"
)

// Option configures a [Verifier].
type Option func(*Verifier) error

// WithSecret adds an HS256 key for the raw (decoded) HMAC secret, with no
// key id. The secret must be at least [MinSecretSize] bytes and not weak, as
// [NewSecretKey] describes.
func WithSecret(secret []byte) Option {
	return func(v *Verifier) error {
		k, err := NewSecretKey("", secret)
		if err != nil {
			return err
		}
		v.keys = append(v.keys, k)
		return nil
	}
}

// WithBase64Secret adds an HS256 key for a secret encoded as base64 or
// base64url, as in APPROOV_BASE64_SECRET; see [DecodeSecret].
func WithBase64Secret(encoded string) Option {
	return func(v *Verifier) error {
		secret, err := DecodeSecret(encoded)
		if err != nil {
			return err
		}
		return WithSecret(secret)(v)
	}
}

// WithKeys adds keys made by [NewSecretKey] or [ParsePublicKey]. Keys are
// tried in the order they were added; see [Verifier.Verify] for how a token's
// kid selects among them.
func WithKeys(keys ...*Key) Option {
	return func(v *Verifier) error {
		for _, k := range keys {
			if k == nil {
				return errors.New("approov: nil key")
			}
		}
		v.keys = append(v.keys, keys...)
		return nil
	}
}

// WithLeeway allows for clock skew between the Approov cloud and this
// server when checking exp, nbf and iat. The default is no leeway.
func WithLeeway(d time.Duration) Option {
	return func(v *Verifier) error {
		if d < 0 {
			return errors.New("approov: leeway must not be negative")
		}
		v.leeway = d
		return nil
	}
}

// WithMaxLifetime rejects, with [ErrLifetime], a token whose exp is more
// than d ahead of now, leeway added. Zero, the default, sets no maximum.
//
// Approov tokens live minutes, so a token valid for years is a test token or
// a leaked one, never a fresh attestation. The maximum is off by default
// because the vendor's example tokens, which quickstarts use, expire in 2119.
func WithMaxLifetime(d time.Duration) Option {
	return func(v *Verifier) error {
		if d < 0 {
			return errors.New("approov: maximum lifetime must not be negative")
		}
		v.maxLifetime = d
		return nil
	}
}

// WithIssuer requires the iss claim to equal iss.
func WithIssuer(iss string) Option {
	return func(v *Verifier) error { v.issuer = iss; return nil }
}

// WithAudience requires the aud claim to be aud or a list containing it.
// Without it, a token that names any audience is rejected.
func WithAudience(aud string) Option {
	return func(v *Verifier) error { v.audience = aud; return nil }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) error {
		if now == nil {
			return errors.New("approov: nil clock")
		}
		v.now = now
		return nil
	}
}

// WithTokenHeader sets the header [Verifier.VerifyRequest] reads the token
// from. The default is [DefaultTokenHeader].
func WithTokenHeader(name string) Option {
	return func(v *Verifier) error {
		if !validHeaderName(name) {
			return fmt.Errorf("approov: %q is not a valid header name", name)
		}
		v.header = textproto.CanonicalMIMEHeaderKey(name)
		return nil
	}
}

// WithTokenPrefix sets a prefix, such as "Bearer ", that
// [Verifier.VerifyRequest] strips from the token header when present,
// ignoring case. The default is none.
func WithTokenPrefix(prefix string) Option {
	return func(v *Verifier) error { v.prefix = prefix; return nil }
}

// WithMaxTokenSize sets the longest token accepted, in bytes, checked before
// any decoding. The default is [DefaultMaxTokenSize].
func WithMaxTokenSize(n int) Option {
	return func(v *Verifier) error {
		if n < 64 {
			return errors.New("approov: maximum token size must be at least 64 bytes")
		}
		v.maxSize = n
		return nil
	}
}

// WithBinding makes [Verifier.VerifyRequest] check token binding as b
// describes. Without it, VerifyRequest checks no binding.
func WithBinding(b *Binding) Option {
	return func(v *Verifier) error { v.binding = b; return nil }
}

// NewVerifier returns a Verifier configured by opts. At least one key is
// required — [WithSecret], [WithBase64Secret] or [WithKeys] — or a key set
// ([WithKeySet]).
func NewVerifier(opts ...Option) (*Verifier, error) {
	v := &Verifier{
		now:     time.Now,
		header:  DefaultTokenHeader,
		maxSize: DefaultMaxTokenSize,
	}
	for _, opt := range opts {
		if err := opt(v); err != nil {
			return nil, err
		}
	}
	if len(v.keys) == 0 && v.set == nil {
		return nil, errors.New("approov: no key configured: set a secret (APPROOV_BASE64_SECRET) or a public key")
	}
	return v, nil
}
