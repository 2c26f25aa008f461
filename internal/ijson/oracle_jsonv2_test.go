//go:build goexperiment.jsonv2

package ijson

import (
	"bytes"
	"encoding/json/jsontext"
	"io"
	"strconv"
	"testing"
)

// jsontextAccepts is an independent oracle for Object: encoding/json/jsontext
// enforces RFC 8259 syntax, valid UTF-8 and paired surrogates itself; the
// top-level object, top-level unique names and MaxDepth are checked here on
// its token stream.
func jsontextAccepts(data []byte) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true))
	depth, maxDepth := 0, 0
	seen := map[string]bool{}
	first := true
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return !first && maxDepth <= MaxDepth
		}
		if err != nil {
			return false
		}
		kind := tok.Kind()
		if kind == '0' {
			if _, err := strconv.ParseFloat(tok.String(), 64); err != nil {
				return false // RFC 7493 section 2.2: doubles only
			}
		}
		if first && kind != '{' {
			return false
		}
		first = false
		switch kind {
		case '{', '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case '}', ']':
			depth--
			if depth == 0 {
				// One value only: the rest of the input must be empty.
				_, err := dec.ReadToken()
				return err == io.EOF && maxDepth <= MaxDepth
			}
		}
		if kind == '"' && depth == 1 {
			// Names and values are counted apart: a name leaves the
			// length odd.
			if _, length := dec.StackIndex(1); length%2 == 1 {
				name := tok.String()
				if seen[name] {
					return false
				}
				seen[name] = true
			}
		}
	}
}

func FuzzObjectJSONText(f *testing.F) {
	for _, tt := range objectTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Object(data, func(Member[[]byte]) error { return nil })
		if want := jsontextAccepts(data); (err == nil) != want {
			t.Fatalf("Object(%q) = %v; jsontext oracle accepts: %v", data, err, want)
		}
	})
}
