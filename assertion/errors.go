package assertion

import "errors"

// Sentinel errors. Verification failures wrap one of them in an [*Error];
// test for them with [errors.Is], and use [Reason] for the stable code that
// names them in logs and metrics. The codes are part of the contract in
// docs/ASSERTION.md: the Python verifier reports the same ones.
var (
	// ErrMissing: no assertion header, or an empty one.
	ErrMissing = newSentinel("assertion_missing", "assertion missing")
	// ErrDuplicated: the assertion header was sent more than once, or its
	// value holds a comma, which is how WSGI servers join repeated headers.
	ErrDuplicated = newSentinel("assertion_duplicated", "assertion header sent more than once")
	// ErrMalformed: not a compact JWS of three canonical unpadded base64url
	// segments, longer than [MaxSize], a JOSE header other than exactly
	// alg HS256, typ approov-assertion+jwt and kid, or a header or claim
	// set that is not an I-JSON object.
	ErrMalformed = newSentinel("assertion_malformed", "assertion malformed")
	// ErrUnknownKey: the kid header names no configured key.
	ErrUnknownKey = newSentinel("assertion_unknown_key", "assertion key id unknown")
	// ErrSignature: the HMAC does not verify with the key kid names.
	ErrSignature = newSentinel("assertion_signature", "assertion signature invalid")
	// ErrExpired: exp is not after now, leeway allowed for.
	ErrExpired = newSentinel("assertion_expired", "assertion expired")
	// ErrNotYetValid: iat is after now, leeway allowed for.
	ErrNotYetValid = newSentinel("assertion_not_yet_valid", "assertion not yet valid")
	// ErrClaimsInvalid: a claim is missing or of the wrong type, iss or aud
	// is not the expected one, or exp − iat exceeds the maximum lifetime.
	ErrClaimsInvalid = newSentinel("assertion_claims_invalid", "assertion claims invalid")
	// ErrRequestMismatch: the method, Host or request-target the assertion
	// was made for is not the request's.
	ErrRequestMismatch = newSentinel("assertion_request_mismatch", "assertion made for another request")
	// ErrBindingMismatch: the bound headers the backend received do not hash
	// to the assertion's bnd claim.
	ErrBindingMismatch = newSentinel("assertion_binding_mismatch", "assertion binding mismatch")

	// ErrUnsignable is returned by [Signer.Sign], never by verification,
	// when the claims cannot be put in an assertion: a required one is
	// empty, a string is not valid UTF-8, a bound header name is invalid,
	// or the result would exceed [MaxSize]. Each of these comes from the
	// request being forwarded, so a gateway answers it with 400.
	ErrUnsignable = newSentinel("assertion_unsignable", "cannot sign assertion")
)

// sentinels lists the verification sentinels in a stable order, for [Reasons].
var sentinels = []*sentinel{
	ErrMissing.(*sentinel), ErrDuplicated.(*sentinel), ErrMalformed.(*sentinel),
	ErrUnknownKey.(*sentinel), ErrSignature.(*sentinel), ErrExpired.(*sentinel),
	ErrNotYetValid.(*sentinel), ErrClaimsInvalid.(*sentinel), ErrRequestMismatch.(*sentinel),
	ErrBindingMismatch.(*sentinel),
}

// ReasonOK is the reason code [Reason] gives for a nil error.
const ReasonOK = "ok"

// ReasonOther is the reason code [Reason] gives for an error that did not
// come from this package.
const ReasonOther = "error"

// sentinel is the type of the exported sentinel errors: a message and the
// reason code that names it.
type sentinel struct {
	reason string
	msg    string
}

func newSentinel(reason, msg string) error {
	return &sentinel{reason: reason, msg: "assertion: " + msg}
}

func (s *sentinel) Error() string { return s.msg }

// Error is a failure to verify or sign: one of the sentinel errors, which
// it wraps, and a detail saying exactly what was wrong. The detail is meant
// for logs: it never contains the assertion, a key or a header value.
type Error struct {
	err    *sentinel
	detail string
}

func newError(kind error, detail string) *Error {
	return &Error{err: kind.(*sentinel), detail: detail}
}

// Error returns the sentinel's message and the detail.
func (e *Error) Error() string {
	if e.detail == "" {
		return e.err.msg
	}
	return e.err.msg + ": " + e.detail
}

// Unwrap returns the sentinel, so that errors.Is(err, ErrExpired) works.
func (e *Error) Unwrap() error { return e.err }

// Reason returns the stable reason code of the failure, such as
// "assertion_expired".
func (e *Error) Reason() string { return e.err.reason }

// Detail returns what exactly was wrong, for logs.
func (e *Error) Detail() string { return e.detail }

// Reason returns the stable, machine-readable reason code for err:
// [ReasonOK] for nil, the code of the sentinel err wraps (for example
// "assertion_expired"), or [ReasonOther] for any other error.
func Reason(err error) string {
	switch e := err.(type) {
	case nil:
		return ReasonOK
	case *Error:
		return e.err.reason
	case *sentinel:
		return e.reason
	}
	var s *sentinel
	if errors.As(err, &s) {
		return s.reason
	}
	return ReasonOther
}

// Reasons returns every reason code verification can fail with, in a
// stable order, so that metrics can be initialised up front.
func Reasons() []string {
	codes := make([]string, len(sentinels))
	for i, s := range sentinels {
		codes[i] = s.reason
	}
	return codes
}

// Prebuilt errors for the paths input reaches before its signature is
// verified, so that rejecting forgeries costs no allocation.
var (
	errEmpty        = newError(ErrMissing, "")
	errComma        = newError(ErrDuplicated, "comma in the header value")
	errTooLarge     = newError(ErrMalformed, "longer than the maximum size")
	errSegments     = newError(ErrMalformed, "not three dot-separated segments")
	errBase64       = newError(ErrMalformed, "segment is not canonical unpadded base64url")
	errHeaderJSON   = newError(ErrMalformed, "header is not an I-JSON object")
	errHeaderShape  = newError(ErrMalformed, "header is not exactly alg, typ and kid, all strings")
	errAlg          = newError(ErrMalformed, "alg is not HS256")
	errTyp          = newError(ErrMalformed, "typ is not "+Type)
	errKid          = newError(ErrUnknownKey, "kid matches no configured key")
	errSignature    = newError(ErrSignature, "")
	errClaimsJSON   = newError(ErrMalformed, "claims are not an I-JSON object")
	errForwardedDup = newError(ErrMalformed, "clm has a duplicate member name")
)
