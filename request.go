package approov

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// DefaultTokenHeader is the header the Approov SDK sends the token in.
const DefaultTokenHeader = "Approov-Token"

// StatusHeader is the header in which recent Approov SDKs report why they
// could not fetch a token, sending an empty token header beside it.
const StatusHeader = "Approov-Status"

// TokenHeader returns the canonical name of the header tokens are read from.
func (v *Verifier) TokenHeader() string { return v.header }

// Binding returns the binding set with [WithBinding], or nil.
func (v *Verifier) Binding() *Binding { return v.binding }

// VerifyRequest verifies the token in the request headers h and, if the
// Verifier was built [WithBinding], the token binding.
//
// It reads exactly one instance of the token header: none, or an empty one,
// is [ErrTokenMissing] (or [ErrTokenStatus] when an [StatusHeader] explains
// why), two or more are [ErrTokenDuplicated]. The size limit is checked
// before anything is decoded.
func (v *Verifier) VerifyRequest(h http.Header) (Claims, error) {
	token, err := v.TokenFromHeader(h)
	if err != nil {
		return Claims{}, err
	}
	claims, err := v.Verify(token)
	if err != nil {
		return claims, err
	}
	if v.binding != nil {
		err = v.binding.Check(&claims, h)
	}
	return claims, err
}

// TokenFromHeader returns the token in the request headers h, without
// verifying it, following the rules of [Verifier.VerifyRequest].
func (v *Verifier) TokenFromHeader(h http.Header) (string, error) {
	values := h[v.header]
	switch len(values) {
	case 0:
		return "", missingToken(h)
	case 1:
	default:
		return "", newError(ErrTokenDuplicated, "")
	}
	token := values[0]
	if len(token) > v.maxSize {
		return "", errTooLarge
	}
	if v.prefix != "" && len(token) >= len(v.prefix) && strings.EqualFold(token[:len(v.prefix)], v.prefix) {
		token = token[len(v.prefix):]
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", missingToken(h)
	}
	return token, nil
}

// missingToken classifies a missing token: an SDK status header says why.
func missingToken(h http.Header) error {
	status := h[StatusHeader]
	if len(status) == 0 || strings.TrimSpace(status[0]) == "" {
		return newError(ErrTokenMissing, "")
	}
	if s := strings.TrimSpace(status[0]); isStatusWord(s) {
		return newError(ErrTokenStatus, StatusHeader+" "+s)
	}
	return newError(ErrTokenStatus, StatusHeader+" (unrecognised value)")
}

// isStatusWord reports whether s looks like an SDK status such as
// NO_NETWORK or MITM_DETECTED: short, upper case, digits and underscores. Such
// words are safe to log.
func isStatusWord(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// validHeaderName reports whether name is a valid HTTP header field name.
func validHeaderName(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
