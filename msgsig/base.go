package msgsig

import (
	"net/http"
	"sync"
)

// appendBase appends to dst the signature base (RFC 9421 §2.5) of the
// covered components of s over r: one line per component,
//
//	"<name>": <value>
//
// and last the @signature-params line, with no newline after it.
func appendBase(dst []byte, r *Request, s *signature) ([]byte, error) {
	errs := s.label.errs
	var parts uriParts
	split := false
	for _, name := range s.covered() {
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `": `...)
		start := len(dst)
		if name[0] == '@' {
			if name != "@method" && name != "@target-uri" && !split {
				var ok bool
				if parts, ok = splitTargetURI(r.TargetURI); !ok {
					return dst, errNotAbs
				}
				split = true
			}
			var err error
			if dst, err = appendDerived(dst, name, r, &parts); err != nil {
				return dst, err
			}
		} else {
			values := headerValues(r.Header, name)
			if values == nil {
				return dst, newError(ErrComponentMissing, s.label.name+": covered header "+name+" is not in the request")
			}
			dst = appendField(dst, values)
		}
		for _, c := range dst[start:] {
			if c == '\r' || c == '\n' || c >= 0x80 {
				return dst, errs.nonASCII
			}
		}
		dst = append(dst, '\n')
	}
	dst = append(dst, `"@signature-params": `...)
	return append(dst, s.params...), nil
}

// appendDerived appends the value of a derived component (RFC 9421 §2.2).
// Every one but @method comes from the target URI, split into parts.
func appendDerived(dst []byte, name string, r *Request, parts *uriParts) ([]byte, error) {
	switch name {
	case "@method":
		return append(dst, r.Method...), nil
	case "@target-uri":
		return append(dst, r.TargetURI...), nil
	case "@authority":
		a, err := normalizeAuthority(lowerASCII(parts.scheme), parts.authority)
		if err != nil {
			return dst, err
		}
		return append(dst, a...), nil
	case "@scheme":
		return append(dst, lowerASCII(parts.scheme)...), nil
	case "@path":
		return appendPath(dst, parts.path), nil
	case "@query":
		return append(append(dst, '?'), parts.query...), nil
	case "@request-target":
		dst = appendPath(dst, parts.path)
		if parts.hasQuery {
			dst = append(append(dst, '?'), parts.query...)
		}
		return dst, nil
	}
	// parseInput lets no other name through.
	panic("msgsig: unknown derived component " + name)
}

// appendPath appends an absolute path, "/" for an empty one (RFC 9110
// §4.2.3).
func appendPath(dst []byte, path string) []byte {
	if path == "" {
		return append(dst, '/')
	}
	return append(dst, path...)
}

// appendField appends the value of an HTTP field (RFC 9421 §2.1): each
// instance with leading and trailing whitespace removed, joined by ", ".
func appendField(dst []byte, values []string) []byte {
	for i, v := range values {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, trimOWS(v)...)
	}
	return dst
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// headerValues returns the instances of the header name, in any case,
// from h, whose keys are canonical as net/http makes them. The key
// is canonicalised on the stack: a map index by string(bytes) does not
// allocate.
func headerValues(h http.Header, name string) []string {
	if len(name) > maxNameSize {
		return h[canonicalName(name)]
	}
	var buf [maxNameSize]byte
	b := buf[:copy(buf[:], name)]
	upper := true
	for i, c := range b {
		switch {
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - ('a' - 'A')
		case !upper && 'A' <= c && c <= 'Z':
			b[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
	return h[string(b)]
}

// bases pools the buffers signature bases are built in: a base holds the
// token and the target URI, so it is rarely under 1 KiB.
var bases = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBase is the largest buffer put back in the pool, so that one
// request with huge headers does not keep its buffer alive.
const maxPooledBase = 64 << 10

func getBuffer() *[]byte { return bases.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBase {
		bases.Put(b)
	}
}
