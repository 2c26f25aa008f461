package assertion

import (
	"errors"
	"net/textproto"
	"time"
)

// Defaults of the options.
const (
	// DefaultLifetime is how long an assertion is valid after it is
	// signed: long enough to outlast queueing in a busy gunicorn.
	DefaultLifetime = 60 * time.Second
	// DefaultLeeway allows for clock skew between gateway and backend.
	DefaultLeeway = 5 * time.Second
	// DefaultMaxLifetime is the longest exp − iat a verifier accepts, so
	// that a misconfigured gateway cannot mint long-lived assertions.
	DefaultMaxLifetime = 5 * time.Minute
)

// SignerOption configures a [Signer].
type SignerOption interface {
	applySigner(*Signer) error
}

// VerifierOption configures a [Verifier].
type VerifierOption interface {
	applyVerifier(*Verifier) error
}

// Option configures a [Signer] and a [Verifier] alike, so that both ends
// can be built from the same settings.
type Option interface {
	SignerOption
	VerifierOption
}

type signerOption func(*Signer) error

func (o signerOption) applySigner(s *Signer) error { return o(s) }

type verifierOption func(*Verifier) error

func (o verifierOption) applyVerifier(v *Verifier) error { return o(v) }

type sharedOption struct {
	signer   signerOption
	verifier verifierOption
}

func (o sharedOption) applySigner(s *Signer) error     { return o.signer(s) }
func (o sharedOption) applyVerifier(v *Verifier) error { return o.verifier(v) }

// WithAudience sets the aud a Signer writes and a Verifier requires. The
// default is [DefaultAudience]. Backends that share a key but not an
// audience cannot accept each other's assertions.
func WithAudience(aud string) Option {
	check := func() error {
		if aud == "" {
			return errors.New("assertion: empty audience")
		}
		return nil
	}
	return sharedOption{
		signer:   func(s *Signer) error { s.audience = aud; return check() },
		verifier: func(v *Verifier) error { v.audience = aud; return check() },
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	check := func() error {
		if now == nil {
			return errors.New("assertion: nil clock")
		}
		return nil
	}
	return sharedOption{
		signer:   func(s *Signer) error { s.now = now; return check() },
		verifier: func(v *Verifier) error { v.now = now; return check() },
	}
}

// WithLifetime sets how long assertions are valid, exp − iat: a whole
// number of seconds, at least one. The default is [DefaultLifetime]. It
// should stay within what verifiers accept ([DefaultMaxLifetime] unless
// they set [WithMaxLifetime]).
func WithLifetime(d time.Duration) SignerOption {
	return signerOption(func(s *Signer) error {
		if d < time.Second || d%time.Second != 0 {
			return errors.New("assertion: lifetime must be a whole number of seconds, at least 1")
		}
		s.lifetime = int64(d / time.Second)
		return nil
	})
}

// WithLeeway allows for clock skew between gateway and backend when
// checking exp and iat. The default is [DefaultLeeway].
func WithLeeway(d time.Duration) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if d < 0 {
			return errors.New("assertion: leeway must not be negative")
		}
		v.leeway = d
		return nil
	})
}

// WithMaxLifetime sets the longest exp − iat accepted. The default is
// [DefaultMaxLifetime].
func WithMaxLifetime(d time.Duration) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if d < time.Second {
			return errors.New("assertion: maximum lifetime must be at least a second")
		}
		v.maxLifetime = d
		return nil
	})
}

// WithHeaderPrefix sets the gateway's forward_header_prefix, so that
// [Verifier.VerifyRequest] reads the assertion from prefix + "Assertion".
// The default prefix is "Approov-": see [DefaultHeader].
func WithHeaderPrefix(prefix string) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		name := prefix + "Assertion"
		if !validToken(name) {
			return errors.New("assertion: header prefix does not make a valid header name")
		}
		v.header = textproto.CanonicalMIMEHeaderKey(name)
		return nil
	})
}
