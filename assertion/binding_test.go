package assertion

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// FuzzBindingHash holds BindingHash to the definition, written the slow
// and obvious way with net/textproto, for any names and values.
func FuzzBindingHash(f *testing.F) {
	f.Add("Authorization", "Bearer a", "x-api-KEY", "k", "x_under")
	f.Add("content-type", "", "Host", "h", "a b")
	f.Add(strings.Repeat("long-", 20), strings.Repeat("v", 600), "é", "\xff", "")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3 string) {
		h := http.Header{}
		h.Add(n1, v1)
		h.Add(n2, v2)
		h.Add(n1, v2)
		names := []string{n1, n2, n3, strings.ToUpper(n1)}
		d := sha256.New()
		for _, name := range names {
			for _, v := range h[textproto.CanonicalMIMEHeaderKey(name)] {
				lower := []byte(name)
				for i, c := range lower {
					if 'A' <= c && c <= 'Z' {
						lower[i] = c + 'a' - 'A'
					}
				}
				d.Write([]byte(string(lower) + ":" + v + "\n"))
			}
		}
		if want, got := base64.StdEncoding.EncodeToString(d.Sum(nil)), BindingHash(h, names); got != want {
			t.Fatalf("BindingHash = %s, want %s", got, want)
		}
	})
}
