package approov

import (
	"bytes"
	"encoding/base64"
	"strings"
	"sync/atomic"
	"time"

	"github.com/approov-gateway/approov/internal/ijson"
)

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
	// set is the key set of WithKeySet, or nil.
	set *KeySet

	// known is the header of the last verified token: see knownHeader.
	known atomic.Pointer[knownHeader]
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
// is rejected. Keys are chosen by kid, among the verifier's own keys and
// then its key set's ([WithKeySet]): a token with a kid is checked against
// the keys with that id, or failing those the keys without an id; a token
// without a kid against every key for its alg, in order. A kid no key has
// is reported to the key set first, which may refresh. The signature is
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

	// The header: the one of the last verified token is known already;
	// any other is decoded and parsed.
	var (
		alg    string
		kid    []byte
		hasKid bool
		hdrLen int
		kidAt  span
		kidBuf [128]byte
	)
	known := v.lookupHeader(hdrSeg)
	if known != nil {
		alg, kid, hasKid = known.alg, known.kid, known.hasKid
	} else {
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
		if n > maxRSABits/8 { // longer than the longest key's
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
	if known == nil {
		// The header is authentic now: remember it for the next token.
		known = v.rememberHeader(hdrSeg, alg, kid, hasKid)
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

// knownHeader is the known-header cache: the header segment of the last
// token whose signature verified, with what parsing it gave. Tokens of one
// account share their header, so most tokens skip decoding and parsing it.
//
// The cache is safe because only authentic headers are remembered:
// Verify calls rememberHeader only once a signature over the header has
// verified with a configured key. So an attacker can neither put a
// forged header in, nor make rejected tokens allocate by sending new
// headers: those are parsed in full, on the stack, every time. A hit changes
// nothing but speed: it gives the alg and kid parsing the same bytes gives,
// and the signature of every token is still checked. The cache holds one
// entry, swapped atomically, so concurrent use needs no lock; valid tokens
// that alternate between headers, as during key rotation, each cost a parse
// and a new entry.
type knownHeader struct {
	segment string
	alg     string
	kid     []byte
	hasKid  bool
	kidText string
}

// maxKnownHeader is the longest header segment remembered as known.
const maxKnownHeader = 512

// lookupHeader returns the known header if segment is it, or nil.
func (v *Verifier) lookupHeader(segment string) *knownHeader {
	if known := v.known.Load(); known != nil && known.segment == segment {
		return known
	}
	return nil
}

// rememberHeader makes an authentic header segment, with its alg and kid,
// the known header, and returns it; or returns nil if the segment is too
// long to remember. It must only be called once a signature over the
// segment has verified.
func (v *Verifier) rememberHeader(segment, alg string, kid []byte, hasKid bool) *knownHeader {
	if len(segment) > maxKnownHeader {
		return nil
	}
	known := &knownHeader{segment: strings.Clone(segment), alg: alg, kid: bytes.Clone(kid), hasKid: hasKid}
	if hasKid {
		known.kidText = string(kid)
	}
	v.known.Store(known)
	return known
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
// header's alg and kid select, the verifier's own and then its key set's,
// and returns the key that verified it. A token with a kid is checked
// against the keys with that id; failing those (none has it), against the
// keys without an id; and if those do not verify it either, the kid is
// reported to the key set, which may refresh, and the keys with the kid
// are looked for once more. A token without a kid is checked against
// every key.
func (v *Verifier) verifySignature(alg string, kid []byte, hasKid bool, signingInput string, sig []byte) (*Key, error) {
	lists := [2][]*Key{v.keys}
	if v.set != nil {
		lists[1] = v.set.Keys()
	}
	if !hasKid {
		key, tried, algKnown := tryKeys(&lists, alg, anyKey, kid, signingInput, sig)
		return signatureResult(key, tried, algKnown, false)
	}
	key, tried, algKnown := tryKeys(&lists, alg, withKid, kid, signingInput, sig)
	if key != nil || tried {
		return signatureResult(key, tried, algKnown, true)
	}
	key, triedBare, _ := tryKeys(&lists, alg, withoutID, kid, signingInput, sig)
	if key != nil {
		return key, nil
	}
	// No key has the kid. A set that may have caught up is asked — for
	// an algorithm this package verifies, since a key could help no
	// other — and looked at again.
	if alg != "" && v.set != nil && v.set.unknownKid != nil && v.set.unknownKid(string(kid)) {
		lists[1] = v.set.Keys()
		var known bool
		key, tried, known = tryKeys(&lists, alg, withKid, kid, signingInput, sig)
		algKnown = algKnown || known
		if key != nil || tried {
			return signatureResult(key, tried, algKnown, true)
		}
	}
	return signatureResult(nil, triedBare, algKnown, true)
}

// signatureResult turns what tryKeys found into verifySignature's answer:
// the key; or a bad signature when a key was tried; or, when none was, an
// algorithm no key verifies, or a kid no key has.
func signatureResult(key *Key, tried, algKnown, hasKid bool) (*Key, error) {
	switch {
	case key != nil:
		return key, nil
	case tried:
		return nil, errSignature
	case !algKnown:
		return nil, errAlgUnsupported
	case hasKid:
		return nil, errKidUnknown
	}
	return nil, errSignature
}

// keySelect says which keys of the token's alg tryKeys tries.
type keySelect int

const (
	withKid   keySelect = iota // keys whose id is the token's kid
	withoutID                  // keys without an id
	anyKey                     // every key
)

// tryKeys checks sig with each key of lists, in order, that verifies alg
// and sel admits. It returns the key that verified it, if any; whether any
// key was tried; and whether any key verifies alg at all.
func tryKeys(lists *[2][]*Key, alg string, sel keySelect, kid []byte, signingInput string, sig []byte) (key *Key, tried, algKnown bool) {
	for _, keys := range lists {
		for _, k := range keys {
			if k.alg != alg {
				continue
			}
			algKnown = true
			switch sel {
			case withKid:
				if k.id == "" || k.id != string(kid) {
					continue
				}
			case withoutID:
				if k.id != "" {
					continue
				}
			}
			tried = true
			if k.verify(signingInput, sig) {
				return k, true, true
			}
		}
	}
	return nil, tried, algKnown
}
