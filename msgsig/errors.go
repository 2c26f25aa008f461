package msgsig

import "errors"

// Sentinel errors. Verification failures wrap one of them in an [*Error];
// test for them with [errors.Is], and use [Reason] for the stable code that
// names them in logs and metrics.
var (
	// ErrMissing: the token calls for a signature (or the policy requires
	// one) and the request carries no Signature-Input and Signature, or
	// none with the label needed.
	ErrMissing = newSentinel("signature_missing", "signature missing")
	// ErrMalformed: Signature-Input or Signature is not a structured-field
	// dictionary, is longer than [MaxFieldSize], or a needed member is not
	// what RFC 9421 and this package require: an inner list of distinct,
	// lower-case strings with an integer created, a byte sequence or string
	// of the right length, an alg that is the label's.
	ErrMalformed = newSentinel("signature_malformed", "signature malformed")
	// ErrInvalid: the signature does not verify over the signature base
	// rebuilt from the request, or a covered value cannot be put in a
	// signature base (a line break or a non-ASCII byte).
	ErrInvalid = newSentinel("signature_invalid", "signature invalid")
	// ErrExpired: expires is earlier than now minus the tolerance, or
	// created is older than [WithMaxAge] allows.
	ErrExpired = newSentinel("signature_expired", "signature expired")
	// ErrNotYetValid: created is later than now plus the tolerance.
	ErrNotYetValid = newSentinel("signature_not_yet_valid", "signature not yet valid")
	// ErrKeyInvalid: the token's ipk claim is not base64 of a DER
	// SubjectPublicKeyInfo of a P-256 key, so no install signature can be
	// verified.
	ErrKeyInvalid = newSentinel("signature_key_invalid", "installation public key invalid")
	// ErrKeyUnknown: the token's mskid names an account key other than the
	// configured one, or no account key is configured.
	ErrKeyUnknown = newSentinel("signature_key_unknown", "account message signing key unknown")
	// ErrComponentMissing: the signature does not cover what every
	// signature must (@method, @target-uri, the token header, the bound
	// headers present), or it covers a header the request lacks.
	ErrComponentMissing = newSentinel("component_missing", "signature component missing")
	// ErrComponentUnsupported: the signature covers a derived component
	// this package does not compute (@query-param, @status, unknown ones)
	// or a component with parameters (;sf, ;key, ;bs, ;req, ;tr).
	ErrComponentUnsupported = newSentinel("component_unsupported", "signature component unsupported")
	// ErrDigestMissing: the signature covers content-digest but the field
	// has no sha-256 or sha-512 member.
	ErrDigestMissing = newSentinel("content_digest_missing", "content digest missing")
	// ErrDigestMalformed: Content-Digest is not a structured-field
	// dictionary, or its sha-256 or sha-512 member is not a byte sequence
	// or base64 string of the digest's length.
	ErrDigestMalformed = newSentinel("content_digest_malformed", "content digest malformed")
	// ErrDigestMismatch: the body does not hash to the Content-Digest.
	ErrDigestMismatch = newSentinel("content_digest_mismatch", "content digest mismatch")
)

// sentinels lists every sentinel in a stable order, for [Reasons].
var sentinels = []*sentinel{
	ErrMissing.(*sentinel), ErrMalformed.(*sentinel), ErrInvalid.(*sentinel),
	ErrExpired.(*sentinel), ErrNotYetValid.(*sentinel), ErrKeyInvalid.(*sentinel),
	ErrKeyUnknown.(*sentinel), ErrComponentMissing.(*sentinel), ErrComponentUnsupported.(*sentinel),
	ErrDigestMissing.(*sentinel), ErrDigestMalformed.(*sentinel), ErrDigestMismatch.(*sentinel),
}

// ReasonOK is the reason code [Reason] gives for a nil error.
const ReasonOK = "ok"

// ReasonOther is the reason code [Reason] gives for an error that did not
// come from verification.
const ReasonOther = "error"

// sentinel is the type of the exported sentinel errors: a message and the
// reason code that names it.
type sentinel struct {
	reason string
	msg    string
}

func newSentinel(reason, msg string) error {
	return &sentinel{reason: reason, msg: "msgsig: " + msg}
}

func (s *sentinel) Error() string { return s.msg }

// Error is a verification failure: one of the sentinel errors, which it
// wraps, and a detail saying exactly what was wrong, naming the label.
// The detail is meant for logs: it never contains the token, a key, a
// signature or a header value.
type Error struct {
	err    *sentinel
	detail string
}

var _ error = (*Error)(nil)

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
// "signature_expired".
func (e *Error) Reason() string { return e.err.reason }

// Detail returns what exactly was wrong, for logs.
func (e *Error) Detail() string { return e.detail }

// Reason returns the stable, machine-readable reason code for err:
// [ReasonOK] for nil, the code of the sentinel err wraps (for example
// "signature_invalid" or "content_digest_mismatch"), or [ReasonOther] for
// any other error. [Reasons] lists them all.
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

// ErrorFor returns the sentinel error whose reason code is reason, or nil
// when no sentinel has it.
func ErrorFor(reason string) error {
	for _, s := range sentinels {
		if s.reason == reason {
			return s
		}
	}
	return nil
}

// Prebuilt errors for the paths attacker input reaches before any
// signature is verified, so that rejecting garbage costs no allocation
// beyond what parsing the fields takes.
var (
	errNoHeaders      = newError(ErrMissing, "no Signature-Input and Signature fields")
	errNoInput        = newError(ErrMalformed, "Signature without Signature-Input")
	errNoSignature    = newError(ErrMalformed, "Signature-Input without Signature")
	errInputTooLarge  = newError(ErrMalformed, "Signature-Input longer than the maximum field size")
	errSigTooLarge    = newError(ErrMalformed, "Signature longer than the maximum field size")
	errInputSyntax    = newError(ErrMalformed, "Signature-Input is not a structured-field dictionary")
	errSigSyntax      = newError(ErrMalformed, "Signature is not a structured-field dictionary")
	errDigestTooLarge = newError(ErrDigestMalformed, "Content-Digest longer than the maximum field size")
	errDigestSyntax   = newError(ErrDigestMalformed, "Content-Digest is not a structured-field dictionary")
	errDigestNone     = newError(ErrDigestMissing, "Content-Digest has no sha-256 or sha-512 member")
	errDigestMismatch = newError(ErrDigestMismatch, "the body does not hash to the Content-Digest")
	errNoAccountKey   = newError(ErrKeyUnknown, "account: the token has mskid but no account key is configured")
	errAccountKeyID   = newError(ErrKeyUnknown, "account: the token's mskid is not the configured key id")
	errNothingToCheck = newError(ErrMissing, "policy requires a signature, but the token has no ipk and no account key is configured")
)

// labelErrors are the prebuilt errors of one label, so that logs say which
// signature failed.
type labelErrors struct {
	missing, onlyInput, onlySignature, notInnerList, component, componentParams,
	lowerCase, duplicate, signatureParams, tooMany, created, createdType, expiresType,
	expiresBeforeCreated, alg, algType, value, base64, length, expired, tooOld,
	notYet, coverMethod, coverTarget, coverToken, unsupported, invalid, encode, nonASCII *Error
}

func newLabelErrors(label, alg string, size int) *labelErrors {
	p := label + ": "
	return &labelErrors{
		missing:              newError(ErrMissing, p+"no signature with this label"),
		onlyInput:            newError(ErrMalformed, p+"in Signature-Input but not in Signature"),
		onlySignature:        newError(ErrMalformed, p+"in Signature but not in Signature-Input"),
		notInnerList:         newError(ErrMalformed, p+"Signature-Input member is not an inner list"),
		component:            newError(ErrMalformed, p+"a covered component is not a string naming a header or a derived component"),
		componentParams:      newError(ErrComponentUnsupported, p+"a covered component has parameters"),
		lowerCase:            newError(ErrMalformed, p+"a covered header name is not in lower case"),
		duplicate:            newError(ErrMalformed, p+"a component is covered twice"),
		signatureParams:      newError(ErrMalformed, p+"@signature-params is listed as a covered component"),
		tooMany:              newError(ErrMalformed, p+"more covered components than the maximum"),
		created:              newError(ErrMalformed, p+"no created parameter"),
		createdType:          newError(ErrMalformed, p+"created is not an integer"),
		expiresType:          newError(ErrMalformed, p+"expires is not an integer"),
		expiresBeforeCreated: newError(ErrMalformed, p+"expires is before created"),
		alg:                  newError(ErrMalformed, p+"alg is not "+alg),
		algType:              newError(ErrMalformed, p+"alg is not a string"),
		value:                newError(ErrMalformed, p+"Signature member is neither a byte sequence nor a string"),
		base64:               newError(ErrMalformed, p+"Signature string is not base64"),
		length:               newError(ErrMalformed, p+"signature is not "+itoa(size)+" bytes"),
		expired:              newError(ErrExpired, p+"expires is earlier than now minus the tolerance"),
		tooOld:               newError(ErrExpired, p+"created is older than the maximum age"),
		notYet:               newError(ErrNotYetValid, p+"created is later than now plus the tolerance"),
		coverMethod:          newError(ErrComponentMissing, p+"@method is not covered"),
		coverTarget:          newError(ErrComponentMissing, p+"@target-uri is not covered"),
		coverToken:           newError(ErrComponentMissing, p+"the token header is not covered"),
		unsupported:          newError(ErrComponentUnsupported, p+"a covered derived component is not one this package computes"),
		invalid:              newError(ErrInvalid, p+"the signature does not verify over the signature base"),
		encode:               newError(ErrMalformed, p+"the signature parameters cannot be serialised"),
		nonASCII:             newError(ErrInvalid, p+"a covered value holds a line break or a non-ASCII byte"),
	}
}

// itoa formats small non-negative numbers, for messages built at init.
func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
