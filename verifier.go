package approov

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/approov-gateway/approov/internal/ijson"
)

// DefaultTokenHeader is the header the Approov SDK sends the token in.
const DefaultTokenHeader = "Approov-Token"

// StatusHeader is the header in which recent Approov SDKs report why they
// could not fetch a token, sending an empty token header beside it.
const StatusHeader = "Approov-Status"

// DefaultMaxTokenSize is the default limit on a token's length, in bytes,
// checked before any decoding. Approov tokens are a few hundred bytes.
const DefaultMaxTokenSize = 8 << 10

// Verifier checks Approov tokens: signature, algorithm, expiry and the
// configured claims, and optionally token binding. Build one with
// [NewVerifier]; it is safe for concurrent use and meant to live as long as
// its configuration.
type Verifier struct {
	keys        []*Key
	leeway      time.Duration
	maxLifetime time.Duration
	issuer      string
	audience    string
	now         func() time.Time
	header      string
	prefix      string
	maxSize     int
	binding     *Binding

	// known is the last header seen on a verified token.
	known atomic.Pointer[knownHeader]
}

// Option configures a [Verifier].
type Option func(*Verifier) error

// WithSecret adds an HS256 key for the raw (decoded) HMAC secret, with no
// key id. The secret must be at least [MinSecretSize] bytes and not weak, as
// [NewSecretKey] describes.
func WithSecret(secret []byte) Option {
	return func(v *Verifier) error {
		k, err := NewSecretKey("", secret)
		if err != nil {
			return err
		}
		v.keys = append(v.keys, k)
		return nil
	}
}

// WithBase64Secret adds an HS256 key for a secret encoded as base64 or
// base64url, as in APPROOV_BASE64_SECRET; see [DecodeSecret].
func WithBase64Secret(encoded string) Option {
	return func(v *Verifier) error {
		secret, err := DecodeSecret(encoded)
		if err != nil {
			return err
		}
		return WithSecret(secret)(v)
	}
}

// WithKeys adds keys made by [NewSecretKey] or [ParsePublicKey]. Keys are
// tried in the order they were added; see [Verifier.Verify] for how a token's
// kid selects among them.
func WithKeys(keys ...*Key) Option {
	return func(v *Verifier) error {
		for _, k := range keys {
			if k == nil {
				return errors.New("approov: nil key")
			}
		}
		v.keys = append(v.keys, keys...)
		return nil
	}
}

// WithLeeway allows for clock skew between the Approov cloud and this
// server when checking exp, nbf and iat. The default is no leeway.
func WithLeeway(d time.Duration) Option {
	return func(v *Verifier) error {
		if d < 0 {
			return errors.New("approov: leeway must not be negative")
		}
		v.leeway = d
		return nil
	}
}

// WithMaxLifetime rejects, with [ErrLifetime], a token whose exp is more
// than d ahead of now, leeway added. Zero, the default, sets no maximum.
//
// Approov tokens live minutes, so a token valid for years is a test token or
// a leaked one, never a fresh attestation. The maximum is off by default
// because the vendor's example tokens, which quickstarts use, expire in 2119.
func WithMaxLifetime(d time.Duration) Option {
	return func(v *Verifier) error {
		if d < 0 {
			return errors.New("approov: maximum lifetime must not be negative")
		}
		v.maxLifetime = d
		return nil
	}
}

// WithIssuer requires the iss claim to equal iss.
func WithIssuer(iss string) Option {
	return func(v *Verifier) error { v.issuer = iss; return nil }
}

// WithAudience requires the aud claim to be aud or a list containing it.
// Without it, a token that names any audience is rejected.
func WithAudience(aud string) Option {
	return func(v *Verifier) error { v.audience = aud; return nil }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) error {
		if now == nil {
			return errors.New("approov: nil clock")
		}
		v.now = now
		return nil
	}
}

// WithTokenHeader sets the header [Verifier.VerifyRequest] reads the token
// from. The default is [DefaultTokenHeader].
func WithTokenHeader(name string) Option {
	return func(v *Verifier) error {
		if !validHeaderName(name) {
			return fmt.Errorf("approov: %q is not a valid header name", name)
		}
		v.header = textproto.CanonicalMIMEHeaderKey(name)
		return nil
	}
}

// WithTokenPrefix sets a prefix, such as "Bearer ", that
// [Verifier.VerifyRequest] strips from the token header when present,
// ignoring case. The default is none.
func WithTokenPrefix(prefix string) Option {
	return func(v *Verifier) error { v.prefix = prefix; return nil }
}

// WithMaxTokenSize sets the longest token accepted, in bytes, checked before
// any decoding. The default is [DefaultMaxTokenSize].
func WithMaxTokenSize(n int) Option {
	return func(v *Verifier) error {
		if n < 64 {
			return errors.New("approov: maximum token size must be at least 64 bytes")
		}
		v.maxSize = n
		return nil
	}
}

// WithBinding makes [Verifier.VerifyRequest] check token binding as b
// describes. Without it, VerifyRequest checks no binding.
func WithBinding(b *Binding) Option {
	return func(v *Verifier) error { v.binding = b; return nil }
}

// NewVerifier returns a Verifier configured by opts. At least one key is
// required: [WithSecret], [WithBase64Secret] or [WithKeys].
func NewVerifier(opts ...Option) (*Verifier, error) {
	v := &Verifier{
		now:     time.Now,
		header:  DefaultTokenHeader,
		maxSize: DefaultMaxTokenSize,
	}
	for _, opt := range opts {
		if err := opt(v); err != nil {
			return nil, err
		}
	}
	if len(v.keys) == 0 {
		return nil, errors.New("approov: no key configured: set a secret (APPROOV_BASE64_SECRET) or a public key")
	}
	return v, nil
}

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

// b64url decodes token segments: unpadded base64url, and only its canonical
// spelling (unused trailing bits must be zero), so that no two spellings of
// a segment verify.
var b64url = base64.RawURLEncoding.Strict()

// decodeScratch is the stack buffer a token's header and claims are decoded
// into; larger tokens take one allocation more.
const decodeScratch = 512

// Verify verifies a compact JWS token and returns its claims.
//
// The token must be three base64url segments, canonical and unpadded; the
// header and claims must be I-JSON objects. The header's alg must be one a
// configured key verifies; a header with crit, or with b64 other than true,
// is rejected. Keys are chosen by kid: a token with a kid is checked against
// the keys with that id, or failing those the keys without an id; a token
// without a kid against every key for its alg, in order. The signature is
// checked before the claims are decoded. Then exp must be present, a number,
// and in the future, and no further ahead than [WithMaxLifetime] allows;
// nbf and iat, when present, must not be in the future; the configured
// leeway applies to all of these. iss and aud are checked as
// configured; an aud is rejected when no audience is configured.
//
// Rejecting malformed input and bad signatures allocates nothing.
func (v *Verifier) Verify(token string) (Claims, error) {
	if token == "" {
		return Claims{}, errEmpty
	}
	if len(token) > v.maxSize {
		return Claims{}, errTooLarge
	}
	// encoding/base64 skips CR and LF inside its input; refuse them so
	// that no token has two spellings.
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		return Claims{}, errLineBreak
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		if isStatusWord(token) {
			return Claims{}, errStatusWord
		}
		return Claims{}, errSegments
	}
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	if dot2 == dot1 || strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return Claims{}, errSegments
	}
	hdrSeg, paySeg, sigSeg := token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	if hdrSeg == "" || paySeg == "" || sigSeg == "" {
		return Claims{}, errEmptySegment
	}

	// Header and claims are decoded side by side into one buffer, so that
	// after the signature is verified a single string conversion makes
	// every claim a substring with no further copies.
	var stack [decodeScratch]byte
	buf := stack[:]
	if need := base64.RawURLEncoding.DecodedLen(len(hdrSeg)) + base64.RawURLEncoding.DecodedLen(len(paySeg)); need > len(buf) {
		buf = make([]byte, need)
	}

	// The header: the one most recently seen on a verified token is known
	// already; any other is decoded and parsed.
	var (
		alg    string
		kid    []byte
		hasKid bool
		hdrLen int
		kidAt  span
		kidBuf [128]byte
	)
	known := v.known.Load()
	if known != nil && known.segment == hdrSeg {
		alg, kid, hasKid = known.alg, known.kid, known.hasKid
	} else {
		known = nil
		var err error
		if hdrLen, err = b64url.Decode(buf, []byte(hdrSeg)); err != nil {
			return Claims{}, errHeaderBase64
		}
		hdr, err := parseHeader(buf[:hdrLen])
		if err != nil {
			return Claims{}, err
		}
		alg, kidAt, hasKid = hdr.algorithm(buf[:hdrLen]), hdr.kid, hdr.kid.present
		if hasKid {
			kid = kidAt.bytes(buf)
			if kidAt.escaped {
				kid = ijson.AppendUnescaped(kidBuf[:0], kid)
			}
		}
	}

	// HS256 and ES256 signatures fit on the stack; RSA ones are rare
	// enough to allocate.
	var sigStack [64]byte
	sig := sigStack[:]
	if n := base64.RawURLEncoding.DecodedLen(len(sigSeg)); n > len(sig) {
		if n > 512 { // longer than RSA-4096
			return Claims{}, errSigLength
		}
		sig = make([]byte, n)
	}
	sigLen, err := b64url.Decode(sig, []byte(sigSeg))
	if err != nil {
		return Claims{}, errSigBase64
	}
	key, err := v.verifySignature(alg, kid, hasKid, token[:dot2], sig[:sigLen])
	if err != nil {
		return Claims{}, err
	}
	if known == nil && len(hdrSeg) <= maxKnownHeader {
		// The header is authentic now: remember it for the next token.
		known = &knownHeader{segment: strings.Clone(hdrSeg), alg: alg, kid: bytes.Clone(kid), hasKid: hasKid}
		if hasKid {
			known.kidText = string(kid)
		}
		v.known.Store(known)
	}

	payLen, err := b64url.Decode(buf[hdrLen:], []byte(paySeg))
	if err != nil {
		return Claims{}, errPayloadBase64
	}
	decoded := string(buf[:hdrLen+payLen])
	claims := Claims{Algorithm: key.alg, raw: decoded[hdrLen:]}
	switch {
	case known != nil:
		claims.KeyID = known.kidText
	case hasKid:
		claims.KeyID = kidAt.text(decoded)
	}
	if err := v.parseClaims(&claims); err != nil {
		return Claims{}, err
	}
	return claims, nil
}

// maxKnownHeader is the longest header segment remembered as known.
const maxKnownHeader = 512

// knownHeader is a header segment seen on a token whose signature
// verified, with what parsing it gave. Tokens of one account share their
// header, so most tokens skip decoding and parsing it. Only authentic
// headers are remembered, so an attacker cannot make rejections allocate or
// push a forged header in.
type knownHeader struct {
	segment string
	alg     string
	kid     []byte
	hasKid  bool
	kidText string
}

// span locates a string inside the decoded header or claims, so it can be
// read from the bytes before verification and from the string after.
type span struct {
	start, end int
	escaped    bool
	present    bool
}

func (s span) text(decoded string) string {
	return ijson.Unescape(decoded[s.start:s.end], s.escaped)
}

func (s span) bytes(decoded []byte) []byte { return decoded[s.start:s.end] }

type header struct {
	alg, kid span
}

// algorithm returns the algorithm the header names, as one of the
// constants HS256, RS256 and ES256, or "" for any other.
func (h *header) algorithm(data []byte) string {
	raw := h.alg.bytes(data)
	for _, alg := range [...]string{HS256, RS256, ES256} {
		if algIs(raw, h.alg.escaped, alg) {
			return alg
		}
	}
	return ""
}

// parseHeader reads the members of the JWS header that matter: alg, kid,
// and the extensions this package refuses.
//
// A malformed header is reported as such even when a member before the
// fault was unacceptable, so that the reason does not depend on order.
func parseHeader(data []byte) (header, error) {
	var h header
	var first *Error
	it := ijson.Members(data)
	for it.Next() {
		var err *Error
		name := it.Name()
		var buf [32]byte
		if it.NameEscaped() && len(name) <= len(buf) {
			name = ijson.AppendUnescaped(buf[:0], name)
		}
		switch string(name) {
		case "alg":
			if it.Kind() != ijson.KindString {
				err = errAlgType
			}
			h.alg = spanOf(&it)
		case "kid":
			if it.Kind() != ijson.KindString {
				err = errKidType
			}
			h.kid = spanOf(&it)
		case "crit":
			err = errCrit
		case "b64":
			if it.Kind() != ijson.KindTrue {
				err = errB64
			}
		}
		if first == nil {
			first = err
		}
	}
	switch {
	case it.Err() != nil:
		return header{}, headerJSONErrors.of(it.Err())
	case first != nil:
		return header{}, first
	case !h.alg.present:
		return header{}, errAlgMissing
	}
	return h, nil
}

// spanOf returns the position of the iterator's current string value.
func spanOf[T ijson.Text](it *ijson.Iter[T]) span {
	start := it.ValueOffset()
	return span{start: start, end: start + len(it.Value()), escaped: it.ValueEscaped(), present: true}
}

// algIs reports whether the raw alg value names alg.
func algIs(raw []byte, escaped bool, alg string) bool {
	if !escaped {
		return string(raw) == alg
	}
	if len(raw) > 6*len(alg) {
		return false
	}
	var buf [64]byte
	return string(ijson.AppendUnescaped(buf[:0], raw)) == alg
}

// verifySignature checks sig over signingInput against the keys the
// header's alg and kid select, and returns the key that verified it.
func (v *Verifier) verifySignature(alg string, kid []byte, hasKid bool, signingInput string, sig []byte) (*Key, error) {
	// Pass 1 looks for keys whose id is the token's kid; pass 2, used when
	// the token has no kid or pass 1 found no key with that id, for the
	// keys it may use: without an id when the token has a kid, all of them
	// otherwise.
	algKnown := false
	for pass := 1; pass <= 2; pass++ {
		if pass == 1 && !hasKid {
			continue
		}
		tried := false
		for _, k := range v.keys {
			if k.alg != alg {
				continue
			}
			algKnown = true
			switch {
			case pass == 1 && (k.id == "" || k.id != string(kid)):
				continue
			case pass == 2 && hasKid && k.id != "":
				continue
			}
			tried = true
			if k.verify(signingInput, sig) {
				return k, nil
			}
		}
		if tried {
			return nil, errSignature
		}
	}
	if !algKnown {
		return nil, errAlgUnsupported
	}
	return nil, errKidUnknown
}

// Numeric dates must lie in years 1 to 9999: what time.Time formats, and far
// beyond any token's lifetime. Larger values are more likely an attack on
// integer conversion than a date.
const (
	minNumericDate = -62135596800
	maxNumericDate = 253402300799
)

// parseClaims fills c from its raw claims and checks them.
func (v *Verifier) parseClaims(c *Claims) error {
	raw := c.raw
	var (
		exp, nbf, iat string
		hasExp        bool
		hasNbf        bool
		hasIat        bool
		audRaw        string
		audKind       ijson.Kind
		hasIss        bool
	)
	var first error
	it := ijson.Members(raw)
	for it.Next() {
		var err error
		switch ijson.Unescape(it.Name(), it.NameEscaped()) {
		case "exp":
			exp, hasExp, err = it.Value(), true, wantKind(&it, ijson.KindNumber, "exp")
		case "nbf":
			nbf, hasNbf, err = it.Value(), true, wantKind(&it, ijson.KindNumber, "nbf")
		case "iat":
			iat, hasIat, err = it.Value(), true, wantKind(&it, ijson.KindNumber, "iat")
		case "did":
			c.DeviceID, err = stringClaim(&it, "did")
		case "ip":
			c.IP, err = stringClaim(&it, "ip")
		case "pay":
			c.hasPay = true
			c.PayloadHash, err = stringClaim(&it, "pay")
		case "arc":
			c.AttestationResponse, err = stringClaim(&it, "arc")
		case "ipk":
			c.InstallationPublicKey, err = stringClaim(&it, "ipk")
		case "mskid":
			c.MessageSigningKeyID, err = stringClaim(&it, "mskid")
		case "iss":
			hasIss = true
			c.Issuer, err = stringClaim(&it, "iss")
		case "sub":
			c.Subject, err = stringClaim(&it, "sub")
		case "aud":
			audRaw, audKind = it.Value(), it.Kind()
			if audKind == ijson.KindString {
				audRaw = ijson.Unescape(audRaw, it.ValueEscaped())
			}
		}
		if first == nil {
			first = err
		}
	}
	if it.Err() != nil {
		return claimsJSONErrors.of(it.Err())
	}
	if first != nil {
		return first
	}

	if !hasExp {
		return newError(ErrClaimsInvalid, "exp claim missing")
	}
	var ok bool
	if c.Expiry, ok = numericDate(exp); !ok {
		return newError(ErrClaimsInvalid, "exp claim out of range")
	}
	if hasNbf {
		if c.NotBefore, ok = numericDate(nbf); !ok {
			return newError(ErrClaimsInvalid, "nbf claim out of range")
		}
	}
	if hasIat {
		if c.IssuedAt, ok = numericDate(iat); !ok {
			return newError(ErrClaimsInvalid, "iat claim out of range")
		}
	}
	if err := c.setAudience(audRaw, audKind); err != nil {
		return err
	}

	now := v.now()
	if !now.Before(c.Expiry.Add(v.leeway)) {
		return newError(ErrExpired, "expired "+now.Sub(c.Expiry).Round(time.Millisecond).String()+" ago")
	}
	if v.maxLifetime > 0 && c.Expiry.After(now.Add(v.leeway).Add(v.maxLifetime)) {
		return errLifetime
	}
	if hasNbf && now.Add(v.leeway).Before(c.NotBefore) {
		return newError(ErrNotYetValid, "nbf is "+c.NotBefore.Sub(now).Round(time.Millisecond).String()+" ahead")
	}
	if hasIat && now.Add(v.leeway).Before(c.IssuedAt) {
		return newError(ErrNotYetValid, "iat is "+c.IssuedAt.Sub(now).Round(time.Millisecond).String()+" ahead")
	}
	if v.issuer != "" {
		if !hasIss {
			return newError(ErrClaimsInvalid, "iss claim missing")
		}
		if c.Issuer != v.issuer {
			return newError(ErrClaimsInvalid, "iss claim is not the configured issuer")
		}
	}
	if v.audience == "" {
		if len(c.Audience) > 0 {
			return newError(ErrClaimsInvalid, "aud claim present but no audience is configured")
		}
	} else if !contains(c.Audience, v.audience) {
		return newError(ErrClaimsInvalid, "aud claim does not include the configured audience")
	}
	return nil
}

// wantKind checks the JSON type of a claim.
func wantKind(it *ijson.Iter[string], kind ijson.Kind, name string) error {
	if it.Kind() != kind {
		return newError(ErrClaimsInvalid, name+" claim is not a "+kind.String())
	}
	return nil
}

// stringClaim returns the value of a claim that must be a string.
func stringClaim(it *ijson.Iter[string], name string) (string, error) {
	if err := wantKind(it, ijson.KindString, name); err != nil {
		return "", err
	}
	return ijson.Unescape(it.Value(), it.ValueEscaped()), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// setAudience reads aud: a string, or an array of strings. An empty string
// or array counts as no audience.
func (c *Claims) setAudience(raw string, kind ijson.Kind) error {
	switch kind {
	case ijson.KindInvalid:
		return nil
	case ijson.KindString:
		if raw != "" {
			c.Audience = []string{raw}
		}
		return nil
	case ijson.KindArray:
		list, err := stringArray(raw)
		if err != nil {
			return newError(ErrClaimsInvalid, "aud claim is not a string or an array of strings")
		}
		c.Audience = list
		return nil
	default:
		return newError(ErrClaimsInvalid, "aud claim is not a string or an array of strings")
	}
}

// stringArray splits raw, a JSON array the scanner has already validated,
// into its string elements; any other element is an error.
func stringArray(raw string) ([]string, error) {
	inner := strings.TrimSpace(raw[1 : len(raw)-1])
	var list []string
	for inner != "" {
		if inner[0] != '"' {
			return nil, ErrClaimsInvalid
		}
		// Find the closing quote, skipping escapes.
		i := 1
		escaped := false
		for ; i < len(inner); i++ {
			if inner[i] == '\\' {
				escaped = true
				i++
				continue
			}
			if inner[i] == '"' {
				break
			}
		}
		list = append(list, ijson.Unescape(inner[1:i], escaped))
		inner = strings.TrimSpace(inner[i+1:])
		if inner == "" {
			break
		}
		if inner[0] != ',' {
			return nil, ErrClaimsInvalid
		}
		inner = strings.TrimSpace(inner[1:])
	}
	return list, nil
}

// numericDate converts a JSON number, which may be fractional, to a time.
// The common forms, whole seconds with an optional fraction, are read
// exactly; others (exponents, negative values) go through float64.
func numericDate(raw string) (time.Time, bool) {
	if t, ok := decimalDate(raw); ok {
		return t, true
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f < minNumericDate || f > maxNumericDate {
		return time.Time{}, false
	}
	sec := int64(f)
	nsec := int64((f - float64(sec)) * 1e9)
	return time.Unix(sec, nsec), true
}

// decimalDate reads digits[.digits], as the scanner validated it, without
// floating point: nanoseconds and beyond are truncated.
func decimalDate(raw string) (time.Time, bool) {
	var sec int64
	i := 0
	for ; i < len(raw) && '0' <= raw[i] && raw[i] <= '9'; i++ {
		if i == 12 {
			return time.Time{}, false // beyond maxNumericDate
		}
		sec = sec*10 + int64(raw[i]-'0')
	}
	if i == 0 || sec > maxNumericDate {
		return time.Time{}, false
	}
	var nsec int64
	if i < len(raw) {
		if raw[i] != '.' {
			return time.Time{}, false
		}
		scale := int64(1e8)
		for i++; i < len(raw); i++ {
			c := raw[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			nsec += int64(c-'0') * scale
			scale /= 10
		}
	}
	return time.Unix(sec, nsec), true
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
