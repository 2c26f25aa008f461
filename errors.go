package approov

import (
	"errors"

	"github.com/approov-gateway/approov/internal/ijson"
)

// Sentinel errors returned, wrapped in an [*Error], by verification. Test
// for them with [errors.Is]; [Reason] maps each to a stable reason code.
var (
	// ErrTokenMissing: no token header, or an empty one.
	ErrTokenMissing = newSentinel("token_missing", "token missing")
	// ErrTokenStatus: the app sent an SDK status (such as NO_NETWORK) in
	// place of a token, or an empty token with an Approov-Status header.
	ErrTokenStatus = newSentinel("token_status", "SDK status instead of a token")
	// ErrTokenDuplicated: more than one token header.
	ErrTokenDuplicated = newSentinel("token_duplicated", "token header sent more than once")
	// ErrTokenTooLarge: the token is longer than the configured maximum.
	ErrTokenTooLarge = newSentinel("token_too_large", "token too large")
	// ErrMalformed: the token is not a well-formed compact JWS with I-JSON
	// header and claims.
	ErrMalformed = newSentinel("token_malformed", "token malformed")
	// ErrUnsupportedAlgorithm: the header names an algorithm no configured
	// key verifies, "none", or an extension (crit, b64) this package does not
	// implement.
	ErrUnsupportedAlgorithm = newSentinel("token_algorithm", "unsupported token algorithm")
	// ErrUnknownKey: the token's key id matches no configured key.
	ErrUnknownKey = newSentinel("token_unknown_key", "unknown token key id")
	// ErrBadSignature: no configured key verifies the signature. This is how
	// tokens from failed attestations are rejected.
	ErrBadSignature = newSentinel("token_signature", "token signature invalid")
	// ErrExpired: the exp claim is in the past, leeway allowed for.
	ErrExpired = newSentinel("token_expired", "token expired")
	// ErrNotYetValid: the nbf or iat claim is in the future, leeway allowed for.
	ErrNotYetValid = newSentinel("token_not_yet_valid", "token not yet valid")
	// ErrLifetime: the exp claim is further ahead than [WithMaxLifetime]
	// allows, leeway added.
	ErrLifetime = newSentinel("token_lifetime", "token lifetime too long")
	// ErrClaimsInvalid: a claim is missing (exp), has the wrong type, or
	// fails the configured issuer or audience check.
	ErrClaimsInvalid = newSentinel("token_claims_invalid", "token claims invalid")
	// ErrBindingClaimMissing: binding is required and the token has no pay claim.
	ErrBindingClaimMissing = newSentinel("binding_claim_missing", "token binding claim missing")
	// ErrBindingHeaderMissing: a header the token is bound to is absent or empty.
	ErrBindingHeaderMissing = newSentinel("binding_header_missing", "token binding header missing")
	// ErrBindingHeaderDuplicated: a header the token is bound to was sent
	// more than once, so the bound value is ambiguous.
	ErrBindingHeaderDuplicated = newSentinel("binding_header_duplicated", "token binding header sent more than once")
	// ErrBindingMismatch: the pay claim does not match the bound headers.
	ErrBindingMismatch = newSentinel("binding_mismatch", "token binding mismatch")
)

// sentinels lists every sentinel in a stable order, for [Reasons].
var sentinels = []*sentinel{
	ErrTokenMissing.(*sentinel), ErrTokenStatus.(*sentinel), ErrTokenDuplicated.(*sentinel),
	ErrTokenTooLarge.(*sentinel), ErrMalformed.(*sentinel), ErrUnsupportedAlgorithm.(*sentinel),
	ErrUnknownKey.(*sentinel), ErrBadSignature.(*sentinel), ErrExpired.(*sentinel),
	ErrNotYetValid.(*sentinel), ErrClaimsInvalid.(*sentinel), ErrBindingClaimMissing.(*sentinel),
	ErrBindingHeaderMissing.(*sentinel), ErrBindingHeaderDuplicated.(*sentinel), ErrBindingMismatch.(*sentinel),
	ErrLifetime.(*sentinel),
}

// ReasonOK is the reason code [Reason] gives for a nil error.
const ReasonOK = "ok"

// ReasonOther is the reason code [Reason] gives for an error that did not
// come from verification.
const ReasonOther = "error"

// sentinel is the type of the exported sentinel errors: a message and the
// reason code that names it in logs and metrics.
type sentinel struct {
	reason string
	msg    string
}

func newSentinel(reason, msg string) error { return &sentinel{reason: reason, msg: "approov: " + msg} }

func (s *sentinel) Error() string { return s.msg }

// Error is a verification failure: one of the sentinel errors, which it
// wraps, and a detail saying exactly what was wrong. The detail is meant for
// logs; it never contains the token or a key. Responses to clients should
// say nothing of either.
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

// Reason returns the stable reason code of the failure, such as "token_expired".
func (e *Error) Reason() string { return e.err.reason }

// Detail returns what exactly was wrong, for logs.
func (e *Error) Detail() string { return e.detail }

// Reason returns the stable, machine-readable reason code for err: [ReasonOK]
// for nil, the code of the sentinel err wraps (for example "token_expired" or
// "binding_mismatch"), or [ReasonOther] for any other error. The codes are
// meant for log fields and metric labels; [Reasons] lists them all.
func Reason(err error) string {
	// The common cases without errors.As, whose target escapes: Reason is
	// called for every rejection, by metrics and logs.
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

// Reasons returns every reason code [Reason] can return for a verification
// failure, in a stable order, so that metrics can be initialised up front.
func Reasons() []string {
	codes := make([]string, len(sentinels))
	for i, s := range sentinels {
		codes[i] = s.reason
	}
	return codes
}

// ErrorFor returns the sentinel error whose reason code is reason, or nil
// when no sentinel has it: for front ends that learn of a failure by its
// code, such as a backend reading the verdict of a gateway in monitor
// mode, and want errors.Is to work on it.
func ErrorFor(reason string) error {
	for _, s := range sentinels {
		if s.reason == reason {
			return s
		}
	}
	return nil
}

// Prebuilt errors for the paths attacker input reaches before a signature
// is verified: returning them costs no allocation.
var (
	errEmpty          = newError(ErrTokenMissing, "empty token")
	errTooLarge       = newError(ErrTokenTooLarge, "token longer than the configured maximum")
	errStatusWord     = newError(ErrTokenStatus, "SDK status word in place of a token")
	errSegments       = newError(ErrMalformed, "not three dot-separated segments")
	errLineBreak      = newError(ErrMalformed, "line break inside the token")
	errEmptySegment   = newError(ErrMalformed, "empty segment")
	errHeaderBase64   = newError(ErrMalformed, "header is not canonical unpadded base64url")
	errPayloadBase64  = newError(ErrMalformed, "payload is not canonical unpadded base64url")
	errSigBase64      = newError(ErrMalformed, "signature is not canonical unpadded base64url")
	errAlgMissing     = newError(ErrUnsupportedAlgorithm, "no alg header")
	errAlgType        = newError(ErrMalformed, "alg header is not a string")
	errKidType        = newError(ErrMalformed, "kid header is not a string")
	errAlgUnsupported = newError(ErrUnsupportedAlgorithm, "alg is not one the configured keys verify")
	errCrit           = newError(ErrUnsupportedAlgorithm, "crit header: no extensions are supported")
	errB64            = newError(ErrUnsupportedAlgorithm, "b64 header other than true: unencoded payloads are not supported")
	errKidUnknown     = newError(ErrUnknownKey, "kid matches no configured key for this alg")
	errSigLength      = newError(ErrBadSignature, "signature longer than any key's")
	errSignature      = newError(ErrBadSignature, "no configured key verifies the signature")
)

// errLifetime is prebuilt too, although only tokens with a valid signature
// reach it: a leaked long-lived token can be replayed by anyone, as often
// as they like.
var errLifetime = newError(ErrLifetime, "exp is further ahead than the configured maximum lifetime")

// jsonErrors maps each way a header or claim set can fail to be I-JSON to a
// prebuilt error, so logs say which rule was broken.
type jsonErrors struct {
	syntax, notObject, duplicate, utf8, surrogate, depth, number *Error
}

func newJSONErrors(part string) jsonErrors {
	return jsonErrors{
		syntax:    newError(ErrMalformed, part+" is not valid JSON"),
		notObject: newError(ErrMalformed, part+" is not a JSON object"),
		duplicate: newError(ErrMalformed, part+" has a duplicate member name"),
		utf8:      newError(ErrMalformed, part+" is not valid UTF-8"),
		surrogate: newError(ErrMalformed, part+" has a lone surrogate escape"),
		depth:     newError(ErrMalformed, part+" nests deeper than 64"),
		number:    newError(ErrMalformed, part+" has a number beyond the range of a double"),
	}
}

var (
	headerJSONErrors = newJSONErrors("header")
	claimsJSONErrors = newJSONErrors("claims")
)

func (e *jsonErrors) of(err error) *Error {
	switch err {
	case ijson.ErrNotObject:
		return e.notObject
	case ijson.ErrDuplicate:
		return e.duplicate
	case ijson.ErrUTF8:
		return e.utf8
	case ijson.ErrSurrogate:
		return e.surrogate
	case ijson.ErrDepth:
		return e.depth
	case ijson.ErrNumber:
		return e.number
	}
	return e.syntax
}
