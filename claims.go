package approov

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/approov-gateway/approov/internal/ijson"
)

// Claims are the contents of a verified Approov token. The string fields
// are empty when the token does not carry the claim; the times are zero.
type Claims struct {
	// Expiry is the exp claim. Every verified token has one.
	Expiry time.Time
	// NotBefore and IssuedAt are the nbf and iat claims.
	NotBefore, IssuedAt time.Time

	// DeviceID is the did claim: a stable id of the app installation's device.
	DeviceID string
	// IP is the ip claim: the client address the Approov cloud saw.
	IP string
	// PayloadHash is the pay claim: base64 of the SHA-256 of the value the
	// token is bound to, checked by [Binding.Check].
	PayloadHash string
	// AttestationResponse is the arc claim, an encoded attestation
	// response code, present when the account enables it.
	AttestationResponse string
	// InstallationPublicKey is the ipk claim: base64 of the DER
	// SubjectPublicKeyInfo of the installation's P-256 key.
	InstallationPublicKey string
	// MessageSigningKeyID is the mskid claim.
	MessageSigningKeyID string
	// Issuer, Subject and Audience are the iss, sub and aud claims.
	Issuer, Subject string
	Audience        []string

	// KeyID is the kid header, and Algorithm the alg of the key that
	// verified the signature.
	KeyID, Algorithm string

	hasPay bool
	raw    string
}

// HasPayloadHash reports whether the token has a pay claim, even an empty one.
func (c *Claims) HasPayloadHash() bool { return c.hasPay }

// RawJSON returns the claim set as the token carried it: every claim,
// including those this package does not interpret.
func (c *Claims) RawJSON() string { return c.raw }

// Decode unmarshals the claim set into v with encoding/json, to read claims
// this package does not interpret.
func (c *Claims) Decode(v any) error { return json.Unmarshal([]byte(c.raw), v) }

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
