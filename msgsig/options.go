package msgsig

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
)

// DefaultTolerance allows for clock skew between the app's device and the
// server: created may be this far ahead of now, expires this far behind.
const DefaultTolerance = 60 * time.Second

// Policy says when a request must carry a valid signature.
type Policy uint8

// The policies. The zero value is [Auto].
const (
	// Auto applies the vendor's rule: a token with an ipk claim calls for
	// a valid install signature, a token with an mskid claim for a valid
	// account signature, and a token with neither for none.
	Auto Policy = iota
	// Required is Auto, and besides every request must carry at least one
	// valid signature: a token with neither claim needs an account
	// signature, verified with the configured account key.
	Required
	// Off verifies nothing.
	Off
)

// String returns the policy's setting name: "auto", "required" or "off".
func (p Policy) String() string {
	switch p {
	case Auto:
		return "auto"
	case Required:
		return "required"
	case Off:
		return "off"
	}
	return "Policy(" + itoa(int(p)) + ")"
}

// ParsePolicy parses a setting: "auto", "required" or "off".
func ParsePolicy(s string) (Policy, error) {
	for _, p := range [...]Policy{Auto, Required, Off} {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("msgsig: message signing policy %q is not auto, required or off", s)
}

// VerifierOption configures a [Verifier].
type VerifierOption interface {
	applyVerifier(*Verifier) error
}

// SignerOption configures a [Signer].
type SignerOption interface {
	applySigner(*Signer) error
}

// Option configures a [Signer] and a [Verifier] alike, so that both can be
// built from the same settings.
type Option interface {
	VerifierOption
	SignerOption
}

type verifierOption func(*Verifier) error

func (o verifierOption) applyVerifier(v *Verifier) error { return o(v) }

type signerOption func(*Signer) error

func (o signerOption) applySigner(s *Signer) error { return o(s) }

type sharedOption struct {
	verifier verifierOption
	signer   signerOption
}

func (o sharedOption) applyVerifier(v *Verifier) error { return o.verifier(v) }
func (o sharedOption) applySigner(s *Signer) error     { return o.signer(s) }

// WithPolicy sets when a signature is required. The default is [Auto].
func WithPolicy(p Policy) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if p > Off {
			return fmt.Errorf("msgsig: unknown policy %d", p)
		}
		v.policy = p
		return nil
	})
}

// WithAccountKey sets the account message signing key, raw, which
// verifies account signatures. It must be at least [MinAccountKeySize]
// bytes with at least 8 distinct byte values. Errors never contain it.
func WithAccountKey(secret []byte) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		k, err := newAccountKey(secret)
		if err != nil {
			return err
		}
		v.account = k
		return nil
	})
}

// WithAccountKeyBase64 sets the account message signing key from its
// base64 or base64url encoding, padded or not, as `approov secret
// -messageSigningKey get-base64url` prints it; see [WithAccountKey].
func WithAccountKeyBase64(encoded string) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		secret, err := DecodeAccountKey(encoded)
		if err != nil {
			return err
		}
		return WithAccountKey(secret).applyVerifier(v)
	})
}

// WithAccountKeyID sets the id of the configured account key. A token
// whose mskid differs is rejected with [ErrKeyUnknown] before any HMAC is
// computed. Without it, any mskid is accepted and the HMAC decides.
func WithAccountKeyID(id string) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if id == "" {
			return errors.New("msgsig: empty account key id")
		}
		v.accountID = id
		return nil
	})
}

// WithTolerance allows for clock skew between device and server: created
// may be up to d ahead of now and expires up to d behind. The default is
// [DefaultTolerance].
func WithTolerance(d time.Duration) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if d < 0 {
			return errors.New("msgsig: tolerance must not be negative")
		}
		v.tolerance = d
		return nil
	})
}

// WithMaxAge rejects, with [ErrExpired], a signature whose created is more
// than d, plus the tolerance, before now, whatever its expires says. Zero,
// the default, sets no maximum: expires and the token's own expiry bound
// replays.
func WithMaxAge(d time.Duration) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if d < 0 {
			return errors.New("msgsig: maximum age must not be negative")
		}
		v.maxAge = d
		return nil
	})
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	check := func() error {
		if now == nil {
			return errors.New("msgsig: nil clock")
		}
		return nil
	}
	return sharedOption{
		verifier: func(v *Verifier) error { v.now = now; return check() },
		signer:   func(s *Signer) error { s.now = now; return check() },
	}
}

// WithTokenHeader names the header the Approov token comes in, which
// every signature must cover; the Signer covers it by default. The default
// is approov.DefaultTokenHeader, Approov-Token.
func WithTokenHeader(name string) Option {
	set := func(dst *string) error {
		if !isToken(name) {
			return fmt.Errorf("msgsig: %q is not a valid header name", name)
		}
		*dst = strings.ToLower(name)
		return nil
	}
	return sharedOption{
		verifier: func(v *Verifier) error { return set(&v.tokenHeader) },
		signer:   func(s *Signer) error { return set(&s.tokenHeader) },
	}
}

// defaultTokenHeader is approov.DefaultTokenHeader as a component name.
var defaultTokenHeader = strings.ToLower(approov.DefaultTokenHeader)

// Form is how a Signer writes the Signature member.
type Form uint8

// The forms of the Signature member. Verifiers accept both.
const (
	// FormByteSequence writes install=:base64:, as RFC 9421 §4.2 specifies
	// and SDKs 3.4.1 to 3.5.1 send.
	FormByteSequence Form = iota
	// FormString writes install="base64", as later SDKs send.
	FormString
)

// WithForm sets the form of the Signature member. The default is
// [FormByteSequence].
func WithForm(f Form) SignerOption {
	return signerOption(func(s *Signer) error {
		if f > FormString {
			return fmt.Errorf("msgsig: unknown form %d", f)
		}
		s.form = f
		return nil
	})
}

// DefaultLifetime is expires − created in the signatures a Signer makes,
// as in the SDK's default signer.
const DefaultLifetime = 15 * time.Second

// WithLifetime sets expires − created, a whole number of seconds. Zero
// leaves expires out. The default is [DefaultLifetime].
func WithLifetime(d time.Duration) SignerOption {
	return signerOption(func(s *Signer) error {
		if d < 0 || d%time.Second != 0 {
			return errors.New("msgsig: lifetime must be a whole number of seconds, not negative")
		}
		s.lifetime = int64(d / time.Second)
		return nil
	})
}

// isToken reports whether name is a valid header field name (an RFC 9110
// token) short enough to be one.
func isToken(name string) bool {
	if name == "" || len(name) > maxNameSize {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// canonicalName returns the key net/http files the header name under.
func canonicalName(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }
