package assertion

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Constants of the contract in docs/ASSERTION.md.
const (
	// DefaultHeader is the header the gateway sends the assertion in: its
	// forward_header_prefix, by default "Approov-", followed by "Assertion".
	DefaultHeader = "Approov-Assertion"
	// Type is the typ of the JOSE header.
	Type = "approov-assertion+jwt"
	// Issuer is the iss of every assertion.
	Issuer = "approov-gateway"
	// DefaultAudience is the aud of assertions unless configured otherwise.
	DefaultAudience = "approov-backend"
	// MaxSize is the longest assertion signed or verified, in bytes. The
	// request-target and Host it carries make up most of it, base64url
	// adding a third; gunicorn refuses header fields over 8190 bytes unless
	// its limit_request_field_size is raised.
	MaxSize = 16 << 10
)

// The results an assertion can carry besides the reason codes of monitor
// mode.
const (
	// ResultOK: the token, and its binding if the route requires one, were
	// valid.
	ResultOK = "ok"
	// ResultPublic: the route is public; no token was checked.
	ResultPublic = "public"
)

// Claims are the facts an assertion carries. Sign reads them; Verify
// returns them. A string field is empty, and a time zero, when the claim is
// absent.
type Claims struct {
	// Issuer is iss, always [Issuer]; Audience is aud. Sign fills both.
	Issuer, Audience string
	// IssuedAt and Expiry are iat and exp, whole seconds. Sign fills both.
	IssuedAt, Expiry time.Time
	// ID is jti, unique per request: [NewID] makes one. Required.
	ID string

	// Result is [ResultOK], [ResultPublic], or in monitor mode the reason
	// code the token failed with, such as "token_expired". Required.
	Result string
	// DeviceID is did, the token's device id, set only when the token was
	// valid and had one.
	DeviceID string
	// TokenExpiry is tex, the token's exp in whole seconds, set only when
	// the token was valid.
	TokenExpiry time.Time
	// Forwarded is clm: the further token claims the gateway forwards.
	Forwarded Forwarded

	// Method is htm, the request method as sent upstream. Required.
	Method string
	// Host is hth, the Host header as sent upstream.
	Host string
	// Target is htu, the request-target as sent upstream: origin-form, raw,
	// with the query. Required unless HostOnly.
	Target string
	// HostOnly leaves htu out, for routes whose proxy rewrites the path
	// after the gateway (assertion_bind: host); verifiers then compare no
	// target. It is false, binding the target, unless set.
	HostOnly bool

	// BoundHeaders is bnh, the names of the headers the assertion is bound
	// to, in order. Sign writes them in lower case; Verify returns them as
	// sent, which is lower case.
	BoundHeaders []string
	// BindingHash is bnd, [BindingHash] over BoundHeaders. Required when
	// BoundHeaders is not empty.
	BindingHash string
}

// Verified reports whether the gateway found the token (and its binding)
// valid: Result is [ResultOK].
func (c *Claims) Verified() bool { return c.Result == ResultOK }

// Forwarded holds the token claims an assertion may forward in its clm
// object, each a string, empty when absent. It is a struct rather than a
// map so that signing allocates nothing for it and readers get names
// instead of claim codes.
type Forwarded struct {
	IP                    string // ip: the client address the Approov cloud saw
	AttestationResponse   string // arc: the encoded attestation response code
	InstallationPublicKey string // ipk: the installation's public key
	MessageSigningKeyID   string // mskid: the message signing key id
	PayloadHash           string // pay: the token binding hash
	Issuer                string // iss: the token's issuer
	Subject               string // sub: the token's subject
}

// forwardedNames are the clm member names, in the order of [Forwarded.fields].
var forwardedNames = [...]string{"ip", "arc", "ipk", "mskid", "pay", "iss", "sub"}

// fields returns the fields of f in the order of forwardedNames: the one
// place the claim names meet the field names.
func (f *Forwarded) fields() [len(forwardedNames)]*string {
	return [...]*string{&f.IP, &f.AttestationResponse, &f.InstallationPublicKey,
		&f.MessageSigningKeyID, &f.PayloadHash, &f.Issuer, &f.Subject}
}

// empty reports whether f forwards nothing.
func (f *Forwarded) empty() bool { return *f == Forwarded{} }

// Numeric dates must lie in years 1970 to 9999: assertions are recent by
// construction, and the bound keeps conversions far from overflow.
const maxNumericDate = 253402300799

// The claim set is written by hand, not by encoding/json: names are
// constants, members come in the order of docs/ASSERTION.md, and strings
// are escaped as RFC 8259 requires. A string that is not valid UTF-8 is
// refused, since JSON cannot carry it and any repair would change what is
// signed.

// appendMember appends `,"name":` and the string v, and reports whether v
// was valid UTF-8.
func appendMember(dst []byte, name, v string) ([]byte, bool) {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, v)
}

// appendDate appends `,"name":` and the integer t, and reports whether t is
// a date verifiers accept.
func appendDate(dst []byte, name string, t int64) ([]byte, bool) {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, t, 10), 0 <= t && t <= maxNumericDate
}

// hex is for \u escapes of control characters.
const hex = "0123456789abcdef"

// appendString appends s as a JSON string and reports whether s was valid
// UTF-8. Runs of bytes that need no escape are copied at once.
func appendString(dst []byte, s string) ([]byte, bool) {
	dst = append(dst, '"')
	ok := true
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				ok = false
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), ok
}

// appendClaims appends the claim set of c, with the given aud, iat and exp,
// as a JSON object, members in the order of docs/ASSERTION.md.
//
// It threads the buffer through functions that return it rather than
// keeping it in a struct, so that the compiler can keep the caller's
// stack buffer on the stack.
func appendClaims(dst []byte, c *Claims, aud string, iat, exp int64) ([]byte, error) {
	switch {
	case c.ID == "":
		return dst, errNoID
	case c.Result == "":
		return dst, errNoResult
	case c.Method == "":
		return dst, errNoMethod
	case c.Target == "" && !c.HostOnly:
		return dst, errNoTarget
	case len(c.BoundHeaders) > 0 && c.BindingHash == "":
		return dst, errNoBindingHash
	case len(c.BoundHeaders) == 0 && c.BindingHash != "":
		return dst, errNoBoundHeaders
	}
	// utf8OK and datesOK stay true while every string is valid UTF-8 and
	// every date in range; checked once at the end.
	b := append(dst, `{"iss":"`+Issuer+`"`...)
	b, utf8OK := appendMember(b, "aud", aud)
	b, datesOK := appendDate(b, "iat", iat)
	var ok bool
	b, ok = appendDate(b, "exp", exp)
	datesOK = datesOK && ok
	b, ok = appendMember(b, "jti", c.ID)
	utf8OK = utf8OK && ok
	b, ok = appendMember(b, "result", c.Result)
	utf8OK = utf8OK && ok
	if c.DeviceID != "" {
		b, ok = appendMember(b, "did", c.DeviceID)
		utf8OK = utf8OK && ok
	}
	if !c.TokenExpiry.IsZero() {
		b, ok = appendDate(b, "tex", c.TokenExpiry.Unix())
		datesOK = datesOK && ok
	}
	if !c.Forwarded.empty() {
		b = append(b, `,"clm":`...)
		open := byte('{')
		for i, f := range c.Forwarded.fields() {
			if *f == "" {
				continue
			}
			b = append(b, open, '"')
			b = append(b, forwardedNames[i]...)
			b = append(b, '"', ':')
			b, ok = appendString(b, *f)
			utf8OK = utf8OK && ok
			open = ','
		}
		b = append(b, '}')
	}
	b, ok = appendMember(b, "htm", c.Method)
	utf8OK = utf8OK && ok
	b, ok = appendMember(b, "hth", c.Host)
	utf8OK = utf8OK && ok
	if !c.HostOnly {
		b, ok = appendMember(b, "htu", c.Target)
		utf8OK = utf8OK && ok
	}
	if len(c.BoundHeaders) > 0 {
		sep := byte('[')
		b = append(b, `,"bnh":`...)
		for _, n := range c.BoundHeaders {
			if !validBoundName(n, true) {
				return b, errBoundName
			}
			b = append(b, sep, '"')
			b = appendLower(b, n)
			b = append(b, '"')
			sep = ','
		}
		b = append(b, ']')
		b, ok = appendMember(b, "bnd", c.BindingHash)
		utf8OK = utf8OK && ok
	}
	switch {
	case !utf8OK:
		return b, errNotUTF8
	case !datesOK:
		return b, errDateRange
	}
	return append(b, '}'), nil
}

// Errors of appendClaims that need no detail beyond the claim.
var (
	errNoID           = newError(ErrUnsignable, "jti (Claims.ID) is empty")
	errNoResult       = newError(ErrUnsignable, "result is empty")
	errNoMethod       = newError(ErrUnsignable, "htm (Claims.Method) is empty")
	errNoTarget       = newError(ErrUnsignable, "htu (Claims.Target) is empty and HostOnly is not set")
	errNoBindingHash  = newError(ErrUnsignable, "bound headers without a binding hash")
	errNoBoundHeaders = newError(ErrUnsignable, "binding hash without bound headers")
	errBoundName      = newError(ErrUnsignable, "a bound header name is not a valid header name, or is Host")
	errSignTooLarge   = newError(ErrUnsignable, "the assertion would be longer than MaxSize")
	errNotUTF8        = newError(ErrUnsignable, "a claim is not valid UTF-8")
	errDateRange      = newError(ErrUnsignable, "a date is not between 1970 and 9999")
)

// validBoundName reports whether name may be bound: an HTTP field name
// other than Host, which the assertion carries as hth and which Go servers
// keep out of the header map; verifiers also require lower case, which is
// how Sign writes names.
func validBoundName(name string, anyCase bool) bool {
	if !validToken(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !anyCase && 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return !(len(name) == 4 && (name[0]|0x20) == 'h' && (name[1]|0x20) == 'o' && (name[2]|0x20) == 's' && (name[3]|0x20) == 't')
}

// validToken reports whether name is an RFC 9110 token, as field names are.
func validToken(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !tchar[name[i]] {
			return false
		}
	}
	return true
}

// tchar marks the bytes of an RFC 9110 token.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// appendLower appends name in ASCII lower case.
func appendLower(dst []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
