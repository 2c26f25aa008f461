// Package assertion signs and verifies the facts approov-gateway forwards
// to its backends, so that a backend trusts them because they are signed,
// not because of the network path they took.
//
// The gateway verifies each request's Approov token, then sends upstream,
// in the Approov-Assertion header, a short-lived JWS (HS256) stating what
// it found (the result, the token's device id and expiry, further token
// claims) and which request it found it on (method, Host, request-target,
// and optionally a hash of bound headers such as Authorization). The
// backend verifies the signature and that the request it received is that
// one.
//
//	keys, err := assertion.ParseKeys(os.Getenv("APPROOV_ASSERTION_SECRET"))
//	if err != nil {
//		log.Fatal(err) // refuse to start
//	}
//	v, err := assertion.NewVerifier(keys, assertion.WithAudience("orders-api"))
//	...
//	claims, err := v.VerifyRequest(r)
//	if err != nil {
//		log.Printf("approov: %s", assertion.Reason(err)) // e.g. assertion_expired
//		w.WriteHeader(http.StatusUnauthorized)
//		return
//	}
//	_ = claims.Verified() // result "ok": the token was valid
//
// For net/http servers, approovhttp.BehindGateway does this for every
// request and puts the facts where approovhttp.ClaimsFromContext finds
// them.
//
// # The contract
//
// docs/ASSERTION.md is the specification: header, JOSE header, claims, the
// binding hash, the order of checks, and the reason codes. The Django
// middleware in examples/django implements the same document, and a test
// holds it to this package's verdict on every case.
//
// # Keys and rotation
//
// A [Key] is an HMAC-SHA256 secret of at least [MinKeySize] bytes. Its id
// is derived from it ([Key.ID]), so nobody configures ids. [ParseKeys]
// reads the assertion_secret setting, a comma-separated list: the first
// key signs, every key verifies. To rotate, put the new key first on every
// backend, then on the gateway, then remove the old one.
//
// # Signing
//
// [Signer.Sign] is on the gateway's path for every request: it writes the
// claims without reflection into a stack buffer, HMACs them with a pooled
// keyed state, and allocates only the returned string. It refuses, with
// [ErrUnsignable], a string claim that is not valid UTF-8: JSON cannot carry
// it, and any repair would sign something other than what is forwarded.
//
// # Verifying
//
// [Verifier.Verify] checks the signature before reading any claim, then
// types, times (with leeway), issuer, audience and lifetime.
// [Verifier.VerifyRequest] also compares the method, Host, request-target
// and bound headers with the request received. Every check is exact: the
// base64 must be canonical, the JSON I-JSON with no duplicate names, the
// dates integers.
//
// # Errors
//
// Every verification failure wraps one of the sentinel errors
// ([ErrMissing], [ErrSignature], [ErrExpired], [ErrRequestMismatch], ...),
// for [errors.Is], in an [*Error] whose detail says what was wrong; [Reason]
// gives its stable code, such as "assertion_expired". Neither ever contains
// the assertion, a key or a header value. Answer every failure with 401 and
// the body {}.
package assertion
