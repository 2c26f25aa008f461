package assertion

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/textproto"
)

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
func BindingHash(h http.Header, names []string) string {
	d := sha256.New()
	var line []byte
	for _, name := range names {
		for _, v := range h[textproto.CanonicalMIMEHeaderKey(name)] {
			line = appendLower(line[:0], name)
			line = append(line, ':')
			line = append(line, v...)
			line = append(line, '\n')
			d.Write(line)
		}
	}
	var sum [sha256.Size]byte
	return base64.StdEncoding.EncodeToString(d.Sum(sum[:0]))
}
