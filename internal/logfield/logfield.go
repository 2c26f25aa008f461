// Package logfield keeps request-derived log fields bounded: a client
// controls the path and method it sends, and a 30 KB path logged in full
// on every rejected request lets it fill disks at little cost.
package logfield

import (
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Max is the longest field kept whole, in bytes.
const Max = 256

// Truncate returns s, or its first Max bytes (cut at a character boundary)
// followed by a marker that says it was cut and how long it was.
func Truncate(s string) string {
	if len(s) <= Max {
		return s
	}
	cut := Max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[truncated, " + strconv.Itoa(len(s)) + " bytes]"
}

// Path returns the request's path as sent (escaped), truncated, without
// the query, which may carry tokens.
func Path(r *http.Request) string {
	return Truncate(r.URL.EscapedPath())
}
