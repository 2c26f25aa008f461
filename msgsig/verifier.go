package msgsig

import (
	"crypto/ecdsa"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
)

// Verifier checks the message signatures of requests whose Approov token
// has been verified. Build it with [NewVerifier]; it is safe for
// concurrent use and meant to live as long as its configuration.
type Verifier struct {
	policy      Policy
	account     *accountKey
	accountID   string
	tolerance   time.Duration
	maxAge      time.Duration
	now         func() time.Time
	tokenHeader string // lower case
}

// NewVerifier returns a Verifier configured by opts. With no option it
// applies the [Auto] policy, verifies install signatures only (account
// signatures need [WithAccountKey]), and allows [DefaultTolerance].
func NewVerifier(opts ...VerifierOption) (*Verifier, error) {
	v := &Verifier{
		tolerance:   DefaultTolerance,
		now:         time.Now,
		tokenHeader: defaultTokenHeader,
	}
	for _, opt := range opts {
		if err := opt.applyVerifier(v); err != nil {
			return nil, err
		}
	}
	if v.accountID != "" && v.account == nil {
		return nil, errors.New("msgsig: an account key id is configured but no account key")
	}
	return v, nil
}

// Policy returns the configured policy.
func (v *Verifier) Policy() Policy { return v.policy }

// Request is what [Verifier.Verify] needs of a request. The caller fills it
// from the *http.Request and its own configuration.
type Request struct {
	// Method is the request method, as received.
	Method string
	// TargetURI is the absolute URI the app requested, which the signature
	// covers as @target-uri: see [TargetURI] for how to rebuild it.
	TargetURI string
	// Header holds the request's header fields, keys canonical as net/http
	// makes them: Signature-Input, Signature, the token header and every
	// covered field are read from it.
	Header http.Header
	// BoundHeaders names the headers the route binds the token to, such as
	// Authorization, in any case. Each one present in Header must be
	// covered by every signature.
	BoundHeaders []string
}

// Result is what [Verifier.Verify] found.
type Result struct {
	// Install and Account report which signatures verified. Both are false
	// when nothing was required: the policy is Off, or Auto and the token
	// has neither ipk nor mskid.
	Install, Account bool
	// Digest is non-nil when a verified signature covers content-digest:
	// the body must then be checked against it, by writing the body, as
	// received (content-encoded), into it and calling its Verify, before
	// anything acts on the body. Verify has already checked that the
	// Content-Digest field is well formed and has a usable digest.
	Digest *DigestVerifier
}

// Checks reports whether Verify checks anything for a token with claims.
// When it does not, Verify returns an empty Result and no error whatever
// the request, so a caller may skip rebuilding the request for it.
func (v *Verifier) Checks(claims *approov.Claims) bool {
	if v.policy == Off {
		return false
	}
	return claims.InstallationPublicKey != "" || claims.MessageSigningKeyID != "" || v.policy == Required
}

// Verify verifies the message signatures of r that claims, the verified
// claims of its Approov token, call for.
//
// The caller must have verified the token first (with approov.Verifier):
// Verify trusts claims, and the token check costs about a microsecond
// against an ECDSA verification's hundred, so garbage never reaches the
// expensive step. The token must come from r.Header, in the header
// [WithTokenHeader] names.
//
// Which signatures are needed: under [Auto], an install signature when the
// token has an ipk claim and an account signature when it has an mskid
// claim (mskid must equal [WithAccountKeyID] when one is configured);
// [Required] also needs an account signature from a token with neither;
// [Off] needs none. Other labels, and labels not needed, are ignored.
//
// Each needed signature must:
//
//   - be in both Signature-Input and Signature, each field at most
//     [MaxFieldSize] bytes and a structured-field dictionary;
//   - cover at least @method, @target-uri, the token header, and each of
//     r.BoundHeaders present in r.Header; every covered header must be
//     present; covered components must be distinct strings without
//     parameters, header names in lower case;
//   - have an integer created no later than now plus the tolerance, an
//     expires, when present, no earlier than now minus the tolerance, and
//     with [WithMaxAge] a created no older than the maximum age plus the
//     tolerance; an alg, when present, that is the label's;
//   - be a byte sequence or a base64 string of 64 bytes (install) or 32
//     (account) that verifies over the signature base rebuilt from r.
//
// Verify checks the shape, coverage, times and keys of every needed
// signature before any cryptography, then builds each base just before
// verifying it, the HMAC before the ECDSA. On success, [Result.Digest]
// says whether the body remains to be checked.
func (v *Verifier) Verify(claims *approov.Claims, r *Request) (Result, error) {
	var res Result
	if !v.Checks(claims) {
		return res, nil
	}
	needInstall := claims.InstallationPublicKey != ""
	needAccount := claims.MessageSigningKeyID != ""
	if needAccount {
		switch {
		case v.account == nil:
			return res, errNoAccountKey
		case v.accountID != "" && claims.MessageSigningKeyID != v.accountID:
			return res, errAccountKeyID
		}
	}
	if !needInstall && !needAccount {
		// Checks said yes: the policy is required.
		if v.account == nil {
			return res, errNothingToCheck
		}
		needAccount = true
	}

	if r.TargetURI == "" {
		return res, errors.New("msgsig: Request.TargetURI is empty: the caller must rebuild it (see TargetURI)")
	}
	input, sig, perr := parseDictionaries(r.Header)
	if perr != nil {
		return res, perr
	}
	var sigs [2]signature
	n := 0
	if needAccount {
		if err := parseSignature(input, sig, accountLabel, &sigs[n]); err != nil {
			return res, err
		}
		n++
	}
	if needInstall {
		if err := parseSignature(input, sig, installLabel, &sigs[n]); err != nil {
			return res, err
		}
		n++
	}
	now := v.now()
	digestCovered := false
	for i := range sigs[:n] {
		s := &sigs[i]
		if err := v.checkCoverage(s, r); err != nil {
			return res, err
		}
		if err := v.checkTimes(s, now); err != nil {
			return res, err
		}
		digestCovered = digestCovered || s.covers("content-digest")
	}
	if digestCovered {
		d, err := newDigestVerifier(r.Header[headerContentDigest])
		if err != nil {
			return res, err
		}
		res.Digest = d
	}
	var pub *ecdsa.PublicKey
	if needInstall {
		var err error
		if pub, err = parseIPK(claims.InstallationPublicKey); err != nil {
			return res, err
		}
	}

	// Cryptography last, cheapest first: the account signature (an HMAC)
	// comes before the install one (an ECDSA verification).
	bp := getBuffer()
	defer putBuffer(bp)
	for i := range sigs[:n] {
		s := &sigs[i]
		base, err := appendBase((*bp)[:0], r, s)
		*bp = base[:0]
		if err != nil {
			res.Digest = nil
			return Result{}, err
		}
		if s.label == accountLabel {
			if !v.account.verify(base, s.value()) {
				return Result{}, s.label.errs.invalid
			}
			res.Account = true
		} else {
			if !verifyP256(pub, base, s.value()) {
				return Result{}, s.label.errs.invalid
			}
			res.Install = true
		}
	}
	return res, nil
}

// checkCoverage requires s to cover the minimum: without it, a signature
// over the token alone would let anyone change the method, the URI or the
// credentials of a request.
func (v *Verifier) checkCoverage(s *signature, r *Request) error {
	errs := s.label.errs
	switch {
	case !s.covers("@method"):
		return errs.coverMethod
	case !s.covers("@target-uri"):
		return errs.coverTarget
	case !s.covers(v.tokenHeader):
		return errs.coverToken
	}
	for _, name := range r.BoundHeaders {
		if headerValues(r.Header, name) == nil {
			continue
		}
		covered := false
		for _, c := range s.covered() {
			if strings.EqualFold(c, name) {
				covered = true
				break
			}
		}
		if !covered {
			return newError(ErrComponentMissing, s.label.name+": bound header "+canonicalName(name)+" is not covered")
		}
	}
	return nil
}

// checkTimes checks created and expires against now, allowing the
// tolerance.
func (v *Verifier) checkTimes(s *signature, now time.Time) error {
	errs := s.label.errs
	created := time.Unix(s.created, 0)
	if created.After(now.Add(v.tolerance)) {
		return errs.notYet
	}
	if s.hasExpires && time.Unix(s.expires, 0).Before(now.Add(-v.tolerance)) {
		return errs.expired
	}
	if v.maxAge > 0 && created.Before(now.Add(-v.tolerance-v.maxAge)) {
		return errs.tooOld
	}
	return nil
}
