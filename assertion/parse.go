package assertion

import (
	"strings"
	"time"

	"github.com/approov-gateway/approov/internal/ijson"
)

// claim bits record which claims were present.
const (
	hasIss = 1 << iota
	hasAud
	hasIat
	hasExp
	hasJti
	hasResult
	hasHtm
	hasHth
	hasHtu
	hasTex
	hasBnh
	hasBnd
	required = hasIss | hasAud | hasIat | hasExp | hasJti | hasResult | hasHtm | hasHth
)

// parseClaims reads the claim set, checking syntax and types.
func parseClaims(raw string) (Claims, error) {
	var (
		c         Claims
		has       int
		iat, exp  int64
		tex       int64
		typeErr   error
		malformed error
	)
	it := ijson.Members(raw)
	for it.Next() {
		name := ijson.Unescape(it.Name(), it.NameEscaped())
		str := func(dst *string, bit int) {
			if it.Kind() != ijson.KindString {
				if typeErr == nil {
					typeErr = newError(ErrClaimsInvalid, name+" is not a string")
				}
				return
			}
			*dst = ijson.Unescape(it.Value(), it.ValueEscaped())
			has |= bit
		}
		date := func(dst *int64, bit int) {
			t, ok := intDate(it.Value(), it.Kind())
			if !ok {
				if typeErr == nil {
					typeErr = newError(ErrClaimsInvalid, name+" is not an integer from 0 to 253402300799")
				}
				return
			}
			*dst = t
			has |= bit
		}
		switch name {
		case "iss":
			str(&c.Issuer, hasIss)
		case "aud":
			str(&c.Audience, hasAud)
		case "iat":
			date(&iat, hasIat)
		case "exp":
			date(&exp, hasExp)
		case "jti":
			str(&c.ID, hasJti)
		case "result":
			str(&c.Result, hasResult)
		case "did":
			str(&c.DeviceID, 0)
		case "tex":
			date(&tex, hasTex)
		case "htm":
			str(&c.Method, hasHtm)
		case "hth":
			str(&c.Host, hasHth)
		case "htu":
			str(&c.Target, hasHtu)
		case "bnd":
			str(&c.BindingHash, hasBnd)
		case "clm":
			if it.Kind() != ijson.KindObject {
				if typeErr == nil {
					typeErr = newError(ErrClaimsInvalid, "clm is not an object")
				}
				break
			}
			if err := parseForwarded(&c.Forwarded, it.Value()); err == errForwardedDup {
				malformed = err
			} else if err != nil && typeErr == nil {
				typeErr = err
			}
		case "bnh":
			names, err := boundNames(it.Value(), it.Kind())
			if err != nil {
				if typeErr == nil {
					typeErr = err
				}
				break
			}
			c.BoundHeaders = names
			has |= hasBnh
		}
	}
	switch {
	case it.Err() != nil:
		return Claims{}, errClaimsJSON
	case malformed != nil:
		return Claims{}, malformed
	case typeErr != nil:
		return Claims{}, typeErr
	case has&required != required:
		return Claims{}, newError(ErrClaimsInvalid, "a required claim is missing (iss, aud, iat, exp, jti, result, htm, hth)")
	case c.ID == "" || c.Result == "" || c.Method == "":
		return Claims{}, newError(ErrClaimsInvalid, "jti, result or htm is empty")
	case (has&hasBnh != 0) != (has&hasBnd != 0):
		return Claims{}, newError(ErrClaimsInvalid, "bnh and bnd must come together")
	}
	c.HostOnly = has&hasHtu == 0
	c.IssuedAt, c.Expiry = time.Unix(iat, 0), time.Unix(exp, 0)
	if has&hasTex != 0 {
		c.TokenExpiry = time.Unix(tex, 0)
	}
	return c, nil
}

// parseForwarded reads clm, an object the scanner has validated as part of
// the claims, rejecting duplicate names.
func parseForwarded(f *Forwarded, raw string) error {
	fields := f.fields()
	it := ijson.Members(raw)
	var typeErr error
	for it.Next() {
		for i, name := range forwardedNames {
			if !it.NameIs(name) {
				continue
			}
			if it.Kind() != ijson.KindString {
				if typeErr == nil {
					typeErr = newError(ErrClaimsInvalid, "clm."+name+" is not a string")
				}
				break
			}
			*fields[i] = ijson.Unescape(it.Value(), it.ValueEscaped())
		}
	}
	if it.Err() != nil {
		// The claims were valid I-JSON, so the only fault is a duplicate.
		return errForwardedDup
	}
	return typeErr
}

// boundNames reads bnh: an array of lower-case field names other than host.
func boundNames(raw string, kind ijson.Kind) ([]string, error) {
	if kind != ijson.KindArray {
		return nil, errBoundNames
	}
	// The scanner has validated the array: elements are separated by
	// commas, and a string ends at the first quote not escaped.
	inner := strings.TrimSpace(raw[1 : len(raw)-1])
	names := []string{}
	for inner != "" {
		if inner[0] != '"' {
			return nil, errBoundNames
		}
		end := 1
		escaped := false
		for inner[end] != '"' {
			if inner[end] == '\\' {
				escaped = true
				end++
			}
			end++
		}
		name := ijson.Unescape(inner[1:end], escaped)
		if !validBoundName(name, false) {
			return nil, errBoundNames
		}
		names = append(names, name)
		inner = strings.TrimSpace(inner[end+1:])
		if inner == "" {
			break
		}
		// A comma, since the array is valid.
		inner = strings.TrimSpace(inner[1:])
	}
	return names, nil
}

var errBoundNames = newError(ErrClaimsInvalid, "bnh is not an array of lower-case header names other than host")

// intDate reads a NumericDate the contract requires to be a JSON integer,
// without fraction or exponent, from 0 to maxNumericDate ("-0" is 0).
func intDate(raw string, kind ijson.Kind) (int64, bool) {
	if kind != ijson.KindNumber {
		return 0, false
	}
	neg := raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	if len(raw) == 0 || len(raw) > 12 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if (neg && n != 0) || n > maxNumericDate {
		return 0, false
	}
	return n, true
}
