package assertion

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"
	"unsafe"

	"github.com/approov-gateway/approov/internal/ijson"
)

// Verifier checks assertions on the backend. Build it with [NewVerifier];
// it is safe for concurrent use.
type Verifier struct {
	keys        []*Key
	audience    string
	leeway      time.Duration
	maxLifetime time.Duration
	now         func() time.Time
	header      string
}

// NewVerifier returns a Verifier that accepts assertions signed by any of
// keys: during a rotation, the new key and the old one.
func NewVerifier(keys []*Key, opts ...VerifierOption) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("assertion: no key to verify with")
	}
	for _, k := range keys {
		if k == nil {
			return nil, errors.New("assertion: nil key")
		}
	}
	v := &Verifier{
		keys:        append([]*Key(nil), keys...),
		audience:    DefaultAudience,
		leeway:      DefaultLeeway,
		maxLifetime: DefaultMaxLifetime,
		now:         time.Now,
		header:      DefaultHeader,
	}
	for _, opt := range opts {
		if err := opt.applyVerifier(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Header returns the canonical name of the header [Verifier.VerifyRequest]
// reads.
func (v *Verifier) Header() string { return v.header }

// VerifyRequest verifies the assertion of r and that it was made for r.
//
// It reads exactly one instance of the assertion header ([DefaultHeader]
// unless [WithHeaderPrefix] says otherwise): none, or an empty one, is
// [ErrMissing]; two, or a value with a comma, [ErrDuplicated]. It then runs
// [Verifier.Verify] and compares the claims with the request: htm with
// r.Method, hth with r.Host, htu when present with r.RequestURI, all byte
// for byte ([ErrRequestMismatch]), and bnd with [BindingHash] over r.Header
// ([ErrBindingMismatch]).
//
// On a mismatch it returns the verified claims with the error, for logs.
func (v *Verifier) VerifyRequest(r *http.Request) (Claims, error) {
	values := r.Header[v.header]
	switch {
	case len(values) == 0:
		return Claims{}, errEmpty
	case len(values) > 1:
		return Claims{}, errTwice
	case values[0] == "":
		return Claims{}, errEmpty
	case strings.IndexByte(values[0], ',') >= 0:
		return Claims{}, errComma
	}
	c, err := v.Verify(values[0])
	if err != nil {
		return Claims{}, err
	}
	return c, c.checkRequest(r.Method, r.Host, r.RequestURI, r.Header)
}

var errTwice = newError(ErrDuplicated, "")

// checkRequest compares the claims with the request the backend received.
func (c *Claims) checkRequest(method, host, target string, h http.Header) error {
	switch {
	case c.Method != method:
		return newError(ErrRequestMismatch, "htm is not the request method")
	case c.Host != host:
		return newError(ErrRequestMismatch, "hth is not the Host header")
	case !c.HostOnly && c.Target != target:
		return newError(ErrRequestMismatch, "htu is not the request-target")
	}
	if c.BindingHash != "" || c.BoundHeaders != nil {
		got := BindingHash(h, c.BoundHeaders)
		if subtle.ConstantTimeCompare([]byte(got), []byte(c.BindingHash)) != 1 {
			return newError(ErrBindingMismatch, "bound headers do not hash to bnd")
		}
	}
	return nil
}

// decodeScratch is the stack buffer a token's header and claims are
// decoded into; larger ones take an allocation more.
const decodeScratch = 1024

// Verify verifies an assertion on its own, without a request, in the order
// of docs/ASSERTION.md:
//
//  1. Three segments of canonical unpadded base64url, at most [MaxSize]
//     bytes in all ([ErrMalformed]).
//  2. A JOSE header that is an I-JSON object of exactly alg "HS256", typ
//     [Type] and kid ([ErrMalformed]); kid names a configured key
//     ([ErrUnknownKey]).
//  3. The HMAC-SHA256 signature, in constant time ([ErrSignature]).
//  4. Claims that are an I-JSON object, with no duplicate in clm
//     ([ErrMalformed]), each claim of its type and the required ones
//     present ([ErrClaimsInvalid]).
//  5. iat not after now + leeway ([ErrNotYetValid]); exp after now −
//     leeway ([ErrExpired]), now in whole seconds.
//  6. iss is [Issuer], aud the configured audience, and exp − iat at most
//     the maximum lifetime ([ErrClaimsInvalid]).
//
// Claims the contract does not define are ignored, as are unknown members
// of clm. Rejecting input whose signature does not verify allocates
// nothing, unless its JOSE header alone is over 1 KiB.
func (v *Verifier) Verify(token string) (Claims, error) {
	if token == "" {
		return Claims{}, errEmpty
	}
	if len(token) > MaxSize {
		return Claims{}, errTooLarge
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return Claims{}, errSegments
	}
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	if dot2 == dot1 || strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return Claims{}, errSegments
	}
	hdrSeg, paySeg, sigSeg := token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	if !canonical(hdrSeg) || !canonical(paySeg) || !canonical(sigSeg) {
		return Claims{}, errBase64
	}

	// The header is decoded first, the claims only once the signature
	// verifies, each into a stack buffer when it fits: a forgery costs no
	// allocation unless its header is absurdly long.
	var stack [decodeScratch]byte
	buf := stack[:]
	if need := base64.RawURLEncoding.DecodedLen(len(hdrSeg)); need > len(buf) {
		buf = make([]byte, need)
	}
	hdrLen, _ := base64.RawURLEncoding.Decode(buf, bytesOf(hdrSeg))
	key, err := v.keyFor(buf[:hdrLen])
	if err != nil {
		return Claims{}, err
	}
	var sig [32]byte
	if base64.RawURLEncoding.DecodedLen(len(sigSeg)) != len(sig) {
		return Claims{}, errSignature
	}
	base64.RawURLEncoding.Decode(sig[:], bytesOf(sigSeg))
	var want [32]byte
	if !hmac.Equal(key.mac(want[:0], bytesOf(token[:dot2])), sig[:]) {
		return Claims{}, errSignature
	}

	buf = stack[:]
	if need := base64.RawURLEncoding.DecodedLen(len(paySeg)); need > len(buf) {
		buf = make([]byte, need)
	}
	payLen, _ := base64.RawURLEncoding.Decode(buf, bytesOf(paySeg))
	c, err := parseClaims(string(buf[:payLen]))
	if err != nil {
		return Claims{}, err
	}
	if err := v.checkClaims(&c); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// keyFor checks the JOSE header and returns the key its kid names.
func (v *Verifier) keyFor(hdr []byte) (*Key, error) {
	var (
		n                  int
		alg, typ, kid      []byte
		algEsc, typEsc     bool
		kidEsc, shapeValid = false, true
	)
	it := ijson.Members(hdr)
	for it.Next() {
		n++
		if it.Kind() != ijson.KindString {
			shapeValid = false
			continue
		}
		switch {
		case it.NameIs("alg"):
			alg, algEsc = it.Value(), it.ValueEscaped()
		case it.NameIs("typ"):
			typ, typEsc = it.Value(), it.ValueEscaped()
		case it.NameIs("kid"):
			kid, kidEsc = it.Value(), it.ValueEscaped()
		default:
			shapeValid = false
		}
	}
	switch {
	case it.Err() != nil:
		return nil, errHeaderJSON
	case !shapeValid || n != 3 || alg == nil || typ == nil || kid == nil:
		// ijson refused duplicates, so three known names are all three.
		return nil, errHeaderShape
	case !rawIs(alg, algEsc, "HS256"):
		return nil, errAlg
	case !rawIs(typ, typEsc, Type):
		return nil, errTyp
	}
	for _, k := range v.keys {
		if rawIs(kid, kidEsc, k.id) {
			return k, nil
		}
	}
	return nil, errKid
}

// rawIs reports whether a raw JSON string value, escapes unresolved, is want.
func rawIs(raw []byte, escaped bool, want string) bool {
	if !escaped {
		return string(raw) == want
	}
	// An escape is at most 6 bytes for one byte of output.
	if len(raw) > 6*len(want) {
		return false
	}
	var buf [128]byte
	return string(ijson.AppendUnescaped(buf[:0], raw)) == want
}

// checkClaims checks times, issuer, audience and lifetime, in the order
// PyJWT checks the first four, so that both verifiers give the same reason
// when several are wrong.
func (v *Verifier) checkClaims(c *Claims) error {
	now := float64(v.now().Unix())
	leeway := v.leeway.Seconds()
	iat, exp := c.IssuedAt.Unix(), c.Expiry.Unix()
	switch {
	case float64(iat) > now+leeway:
		return newError(ErrNotYetValid, "iat is in the future")
	case float64(exp) <= now-leeway:
		return newError(ErrExpired, "")
	case c.Issuer != Issuer:
		return newError(ErrClaimsInvalid, "iss is not "+Issuer)
	case c.Audience != v.audience:
		return newError(ErrClaimsInvalid, "aud is not the configured audience")
	case float64(exp-iat) > v.maxLifetime.Seconds():
		return newError(ErrClaimsInvalid, "exp − iat exceeds the maximum lifetime")
	}
	return nil
}

// canonical reports whether s is a non-empty segment of canonical
// unpadded base64url: only alphabet characters (encoding/base64 would skip
// line breaks), a length that is not 1 modulo 4, and zero unused bits in the
// last character, so that no segment has two spellings.
func canonical(s string) bool {
	if s == "" || len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b64val[s[i]] == invalid64 {
			return false
		}
	}
	switch last := b64val[s[len(s)-1]]; len(s) % 4 {
	case 2:
		return last&0x0F == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

const invalid64 = 0xFF

// b64val maps each byte to its base64url value, or invalid64.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = invalid64
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// bytesOf returns the bytes of s without copying them, for functions that
// only read their input: base64 decoding and HMAC, which would otherwise
// make every rejected forgery cost an allocation.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
