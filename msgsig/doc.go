// Package msgsig verifies Approov message signatures: the HTTP Message
// Signatures (RFC 9421) with which Approov SDKs sign each request, so
// that a backend can check that its method, URI, token, credentials and
// body came unchanged from a genuine installation of the app.
//
//	v, err := msgsig.NewVerifier(msgsig.WithAccountKeyBase64(os.Getenv("APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL")))
//	...
//	claims, err := tokens.VerifyRequest(r.Header) // the approov.Verifier, first
//	...
//	uri, err := msgsig.TargetURI(scheme, host, r.RequestURI) // as the app saw them
//	...
//	res, err := v.Verify(&claims, &msgsig.Request{
//		Method: r.Method, TargetURI: uri, Header: r.Header,
//		BoundHeaders: []string{"Authorization"},
//	})
//	if err != nil {
//		log.Printf("approov: %s (%s)", msgsig.Reason(err), uri) // e.g. signature_invalid
//		w.WriteHeader(http.StatusUnauthorized)
//		return
//	}
//	if res.Digest != nil {
//		// Hash the body as it is buffered, then res.Digest.Verify().
//	}
//
// docs/MESSAGE_SIGNING.md describes the protocol as implemented.
//
// # Labels and keys
//
// A request carries signatures under labels in its Signature-Input and
// Signature fields. Approov uses two, each pinned to one algorithm:
//
//   - [LabelInstall], [AlgInstall]: ECDSA P-256 with SHA-256, by a key the
//     installation holds in secure hardware; the token's ipk claim is its
//     public key, so the signature proves the request came from the
//     installation the token was issued to. The signature is r||s, 64
//     bytes, not DER.
//   - [LabelAccount], [AlgAccount]: HMAC-SHA256 with the account's message
//     signing key, which the backend is given ([WithAccountKey]); the
//     token's mskid claim names it ([WithAccountKeyID]).
//
// The [Policy] says which are needed: under [Auto], the vendor's rule, a
// token with ipk needs a valid install signature and a token with mskid a
// valid account one; [Required] needs at least one for every request.
//
// # What is verified
//
// The covered components come from Signature-Input, never from a fixed
// list, and the signature base is rebuilt from the request as RFC 9421
// §2.5 says, for the derived components @method, @target-uri, @authority,
// @scheme, @path, @query and @request-target, and for header fields.
// Besides the signature itself, [Verifier.Verify] requires a minimum
// coverage, @method, @target-uri, the token header and the headers the
// route binds, because a signature over the token alone would let anyone
// change the rest of the request; created and expires within a tolerance
// ([WithTolerance]); and, when content-digest is covered, the caller
// checks the body with [Result.Digest].
//
// The token must have been verified first: Verify trusts the claims it is
// given, and the token check is a hundred times cheaper than an ECDSA
// verification, so requests with garbage tokens never cost one.
//
// # Two forms of the Signature member
//
// RFC 9421 makes the Signature member a byte sequence, install=:base64:,
// which SDKs 3.4.1 to 3.5.1 send. Later SDKs send a string,
// install="base64". Both are accepted, and Content-Digest members may
// take either form too. [WithForm] chooses which a [Signer] writes.
//
// # The target URI
//
// @target-uri is the absolute URI the app used, which the server does not
// see directly behind a load balancer. [TargetURI] rebuilds it from the
// scheme and host the app connected to and the raw request-target, as
// the SDK writes it: lower-case scheme and host, no default port, path
// and query as sent. When a signature does not verify, [Explain] shows
// the rebuilt signature base and its SHA-256, which the SDK's debug field
// Signature-Base-Digest carries too.
//
// # Errors
//
// Every failure wraps one of the sentinel errors ([ErrMissing],
// [ErrInvalid], [ErrExpired], [ErrComponentMissing], [ErrDigestMismatch],
// ...), for [errors.Is], in an [*Error] whose detail names the label and
// what was wrong; [Reason] gives its stable code, such as
// "signature_invalid". Neither contains the token, a key, a signature or
// a header value. Answer every failure with 401.
//
// # Where this differs from RFC 9421
//
// Only what Approov needs is implemented: signatures of requests, under
// the two labels above, covering the derived components listed and plain
// header fields. Components with parameters (;sf, ;key, ;bs, ;req, ;tr),
// @query-param and @status are refused with [ErrComponentUnsupported].
// created is required. The nonce and tag parameters are signed but not
// checked: there is no replay cache, so expires, [WithMaxAge] and the
// token's expiry bound replays. Byte sequences must be padded base64, as
// the structured-field parser (github.com/dunglas/httpsfv) requires; the
// SDKs pad.
package msgsig
