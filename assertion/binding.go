package assertion

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// bindingScratch is the stack buffer the bound lines are gathered in;
// longer ones take an allocation more.
const bindingScratch = 512

// BindingHash returns the bnd claim for the headers names of h: standard
// base64, padded, of SHA-256 over `name ":" value "\n"` for each name in
// order and each of its values in order, the name in lower case and the
// value as is. Names are looked up in their canonical form, as net/http
// stores them; a name h lacks contributes nothing.
//
// The encoding is unambiguous because a field name never contains a colon
// and a field value never contains a line break. Every instance of a header
// counts, so a header sent twice hashes differently from the same header
// joined by a WSGI server: the gateway refuses duplicated bound headers.
//
// It runs on the gateway's path for every request to a bound route, so it
// gathers the lines on the stack and allocates only the result.
func BindingHash(h http.Header, names []string) string {
	var stack [bindingScratch]byte
	lines := stack[:0]
	for _, name := range names {
		var values []string
		if validToken(name) {
			// Written so, the conversion of the key allocates nothing.
			var key [64]byte
			values = h[string(appendCanonical(key[:0], name))]
		} else {
			values = h[name] // as textproto leaves it
		}
		for _, v := range values {
			lines = appendLower(lines, name)
			lines = append(lines, ':')
			lines = append(lines, v...)
			lines = append(lines, '\n')
		}
	}
	sum := sha256.Sum256(lines)
	var out [44]byte // base64 of 32 bytes, padded
	base64.StdEncoding.Encode(out[:], sum[:])
	return string(out[:])
}

// appendCanonical appends to dst what textproto.CanonicalMIMEHeaderKey
// returns for name, a valid field name: the first letter and each letter
// after a hyphen in upper case, the others in lower case.
func appendCanonical(dst []byte, name string) []byte {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}
