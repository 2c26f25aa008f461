// Package approov verifies Approov tokens: the JWTs that the Approov SDK adds
// to each request of a genuine, untampered app, in the Approov-Token header.
// An API that accepts only requests with a valid token is locked to its app;
// bots and scripts get 401.
//
//	secret := os.Getenv("APPROOV_BASE64_SECRET")
//	v, err := approov.NewVerifier(approov.WithBase64Secret(secret))
//	if err != nil {
//		log.Fatal(err) // no usable secret: refuse to start
//	}
//	...
//	claims, err := v.VerifyRequest(r.Header)
//	if err != nil {
//		log.Printf("approov: %s", approov.Reason(err)) // e.g. token_expired
//		w.WriteHeader(http.StatusUnauthorized)
//		return
//	}
//	_ = claims.DeviceID
//
// For net/http servers, the middleware in package approovhttp does this
// for every request; package approovtest makes tokens for tests.
//
// # Keys
//
// Most Approov accounts sign with HS256 and a 64-byte secret, which API
// backends get base64-encoded: [WithBase64Secret] (or [DecodeSecret] and
// [WithSecret]) takes it. Accounts that sign with RS256 or ES256 hand over a
// PEM public key instead: [ParsePublicKey] and [WithKeys]. Several keys, with
// or without key ids, allow rotation.
//
// A secret must be at least [MinSecretSize] bytes and must not be weak: one
// with fewer than 8 distinct byte values, such as 64 zero bytes or "ffff...",
// is refused with [ErrWeakSecret], because it is a placeholder rather than a
// secret, and anyone could forge tokens with it. A random secret never has
// so few. No error ever contains the secret.
//
// # What is checked
//
// [Verifier.Verify] accepts a token only when all of this holds:
//
//   - It is a compact JWS of three canonical, unpadded base64url segments,
//     no longer than [DefaultMaxTokenSize] (configurable), checked before
//     any decoding.
//   - Its header and claims are I-JSON objects (RFC 7493): valid UTF-8, no
//     duplicate member names, no lone surrogates, nesting at most 64 deep.
//   - Its alg is verified by a configured [Key], and each key verifies one
//     algorithm only: an HMAC secret [HS256], an RSA key [RS256], a P-256
//     key [ES256]. "none", other algorithms, crit and b64 headers are
//     rejected.
//   - The signature verifies with a key chosen by kid, as [Verifier.Verify]
//     describes. The signature is checked before the claims are decoded.
//   - exp is present, a number, and in the future; nbf and iat, when present,
//     are not in the future; [WithLeeway] allows for clock skew.
//   - With [WithMaxLifetime], exp is no further ahead than the maximum.
//     Approov tokens live minutes, so one valid for years is a test token or
//     a leaked one; the check is off by default only because the vendor's
//     example tokens expire in 2119.
//   - iss and aud match [WithIssuer] and [WithAudience]; a token naming an
//     audience is rejected when none is configured.
//   - With [WithBinding], the pay claim matches the bound headers: see
//     [Binding].
//
// # Token binding
//
// The app can bind its token to another header, usually Authorization: the
// pay claim then holds the base64 SHA-256 of that header's value, so a token
// stolen with one user's request cannot be replayed with another's
// credentials. [NewBinding] describes which headers, [Binding.Check] checks
// them, and [PayloadHash] computes the claim for a value.
//
// # Errors
//
// Every failure wraps one of the sentinel errors ([ErrTokenMissing],
// [ErrBadSignature], [ErrExpired], [ErrBindingMismatch], ...), for
// [errors.Is], in an [*Error] whose detail says exactly what was wrong.
// [Reason] gives each a stable code such as "token_expired" for logs and
// metrics. Neither the message nor the detail ever contains the token or
// a key, but clients should be told nothing: answer 401 with an empty JSON
// object, as the approovhttp middleware does.
//
// # Where this differs from general JWT libraries
//
// The verifier is deliberately narrower and stricter than golang-jwt or
// PyJWT, and is tested against both (see docs/DIFFERENTIAL.md): exp is
// required; NumericDates must be JSON numbers, not strings, within years 1
// to 9999; base64 must be canonical and unpadded; duplicate member names,
// invalid UTF-8, lone surrogates, NaN and Infinity are rejected; and the
// algorithm comes from the key, never from the token alone.
//
// # Speed
//
// Rejecting malformed input and bad signatures allocates nothing; a valid
// token costs one allocation, for its claims. docs/BENCHMARKS.md has the
// figures against golang-jwt.
package approov
