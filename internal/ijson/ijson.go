// Package ijson is a strict, allocation-free scanner for the JSON objects
// found in JWS headers and JWT claim sets.
//
// It accepts exactly I-JSON (RFC 7493) objects: RFC 8259 syntax, UTF-8 only,
// no duplicate member names at the top level (compared after unescaping), no
// lone UTF-16 surrogates in \u escapes, and no number beyond the range of an
// IEEE 754 double. It also bounds nesting at [MaxDepth]. Anything else is an
// error; nothing is repaired or guessed.
//
// The scanner works on string and []byte alike and never copies its input:
// each [Member] holds sub-slices of the text it was given. Only names that
// contain escapes, and objects with more than a few dozen members, cost an
// allocation.
package ijson

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays accepted, counting
// the top-level object as 1.
const MaxDepth = 64

// Errors returned by [Object]. They are static so that rejecting input never
// allocates.
var (
	ErrSyntax    = errors.New("ijson: invalid JSON")
	ErrNotObject = errors.New("ijson: not a JSON object")
	ErrDuplicate = errors.New("ijson: duplicate member name")
	ErrUTF8      = errors.New("ijson: invalid UTF-8")
	ErrSurrogate = errors.New("ijson: lone surrogate in \\u escape")
	ErrDepth     = errors.New("ijson: nesting too deep")
	ErrNumber    = errors.New("ijson: number out of the range of a double")
)

// Kind is the type of a JSON value.
type Kind uint8

// The kinds of JSON value.
const (
	KindInvalid Kind = iota
	KindString
	KindNumber
	KindObject
	KindArray
	KindTrue
	KindFalse
	KindNull
)

var kindNames = [...]string{"invalid", "string", "number", "object", "array", "true", "false", "null"}

// String returns the JSON name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Text is the input the scanner accepts.
type Text interface{ ~string | ~[]byte }

// Member is one top-level member of an object.
type Member[T Text] struct {
	// Name is the raw name, without its quotes and with escapes unresolved.
	Name T
	// Value is the raw value text. For a string it is the content between
	// the quotes, escapes unresolved; for other kinds the whole value.
	Value T
	// Kind is the type of Value.
	Kind Kind
	// NameEscaped and ValueEscaped report whether Name or a string Value
	// contains a backslash escape, and so needs [Unescape] to be read.
	NameEscaped, ValueEscaped bool
}

// NameIs reports whether the member's name, after unescaping, is name.
func (m *Member[T]) NameIs(name string) bool {
	return nameIs(m.Name, span{0, len(m.Name), m.NameEscaped}, name)
}

// inlineNames is how many member names an [Iter] checks for duplicates
// without allocating; objects with more members use a map.
const inlineNames = 16

// Iter reads the top-level members of an object in order, validating the
// whole text as it goes. Use it as
//
//	it := ijson.Members(data)
//	for it.Next() {
//		if it.NameIs("alg") { ... it.Value() ... }
//	}
//	if err := it.Err(); err != nil { ... }
//
// A duplicate name, or a syntax error late in the text, is reported after
// Next has returned the members before it, so callers must not act on what
// they collected unless Err returns nil.
//
// An Iter is a value meant to live on the caller's stack. It records
// positions rather than sub-slices, so that the compiler can see the input
// never escapes through it; it allocates only for objects of more than a few
// dozen members.
type Iter[T Text] struct {
	s       scanner[T]
	cur     member
	names   [inlineNames]span
	n       int
	spilled map[string]struct{}
	started bool
	done    bool
	err     error
}

// span is the position of a string's content, or of a value, in the text.
type span struct {
	start, end int
	escaped    bool
}

type member struct {
	name, value span
	kind        Kind
}

// Members returns an [Iter] over the top-level members of the object data,
// which must be a single I-JSON object surrounded by optional whitespace.
func Members[T Text](data T) Iter[T] {
	return Iter[T]{s: scanner[T]{s: data}}
}

// Name returns the current member's raw name, escapes unresolved.
func (it *Iter[T]) Name() T { return it.s.s[it.cur.name.start:it.cur.name.end] }

// NameEscaped reports whether the raw name contains escapes.
func (it *Iter[T]) NameEscaped() bool { return it.cur.name.escaped }

// Value returns the current member's raw value: for a string its content
// between the quotes, escapes unresolved; otherwise the whole value text.
func (it *Iter[T]) Value() T { return it.s.s[it.cur.value.start:it.cur.value.end] }

// ValueOffset returns the position of Value in the text.
func (it *Iter[T]) ValueOffset() int { return it.cur.value.start }

// ValueEscaped reports whether a string value contains escapes.
func (it *Iter[T]) ValueEscaped() bool { return it.cur.value.escaped }

// Kind returns the type of the current member's value.
func (it *Iter[T]) Kind() Kind { return it.cur.kind }

// NameIs reports whether the current member's name, unescaped, is name.
func (it *Iter[T]) NameIs(name string) bool {
	return nameIs(it.s.s, it.cur.name, name)
}

// Member returns a copy of the current member.
func (it *Iter[T]) Member() Member[T] {
	return Member[T]{Name: it.Name(), Value: it.Value(), Kind: it.cur.kind,
		NameEscaped: it.cur.name.escaped, ValueEscaped: it.cur.value.escaped}
}

// Err returns the first error met, or nil if the whole text was read and is
// a valid I-JSON object.
func (it *Iter[T]) Err() error { return it.err }

func (it *Iter[T]) fail(err error) bool {
	it.err, it.done = err, true
	return false
}

// Next moves to the next member. It returns false at the end of the object
// or at the first error; Err tells which.
func (it *Iter[T]) Next() bool {
	if it.done {
		return false
	}
	s := &it.s
	if !it.started {
		it.started = true
		s.skipSpace()
		if s.i >= len(s.s) || s.s[s.i] != '{' {
			if err := Valid(s.s); err != nil {
				return it.fail(err)
			}
			return it.fail(ErrNotObject)
		}
		s.i++
		s.skipSpace()
		if s.i < len(s.s) && s.s[s.i] == '}' {
			s.i++
			it.done = true
			it.err = s.end()
			return false
		}
	} else {
		// After a member: a comma and another member, or the end.
		s.skipSpace()
		if s.i >= len(s.s) {
			return it.fail(ErrSyntax)
		}
		switch s.s[s.i] {
		case ',':
			s.i++
			s.skipSpace()
		case '}':
			s.i++
			it.done = true
			it.err = s.end()
			return false
		default:
			return it.fail(ErrSyntax)
		}
	}

	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return it.fail(ErrSyntax)
	}
	start, end, escaped, err := s.str()
	if err != nil {
		return it.fail(err)
	}
	it.cur.name = span{start, end, escaped}
	s.skipSpace()
	if s.i >= len(s.s) || s.s[s.i] != ':' {
		return it.fail(ErrSyntax)
	}
	s.i++
	s.skipSpace()
	vstart := s.i
	kind, escaped, err := s.value(1)
	if err != nil {
		return it.fail(err)
	}
	it.cur.kind = kind
	if kind == KindString {
		it.cur.value = span{vstart + 1, s.i - 1, escaped}
	} else {
		it.cur.value = span{vstart, s.i, false}
	}
	if it.duplicate() {
		return it.fail(ErrDuplicate)
	}
	return true
}

// duplicate records the current member's name and reports whether an
// earlier member had the same one. Names are compared pairwise while few,
// then through a map of unescaped names.
func (it *Iter[T]) duplicate() bool {
	name := it.cur.name
	if it.spilled == nil {
		for j := 0; j < it.n; j++ {
			if sameName(it.s.s, it.names[j], name) {
				return true
			}
		}
		if it.n < inlineNames {
			it.names[it.n] = name
			it.n++
			return false
		}
		it.spilled = make(map[string]struct{}, 2*inlineNames)
		for j := 0; j < it.n; j++ {
			it.spilled[nameKey(it.s.s, it.names[j])] = struct{}{}
		}
	}
	key := nameKey(it.s.s, name)
	if _, dup := it.spilled[key]; dup {
		return true
	}
	it.spilled[key] = struct{}{}
	return false
}

// Object validates data as a single I-JSON object and calls visit for each
// top-level member in order, stopping at the first error from the text or
// from visit. It is [Members] for callers that prefer a callback, at the
// price of data escaping to the heap.
func Object[T Text](data T, visit func(Member[T]) error) error {
	it := Members(data)
	for it.Next() {
		if err := visit(it.Member()); err != nil {
			return err
		}
	}
	return it.Err()
}

// Valid reports whether data is a single I-JSON value of any kind.
func Valid[T Text](data T) error {
	s := scanner[T]{s: data}
	s.skipSpace()
	if _, _, err := s.value(0); err != nil {
		return err
	}
	return s.end()
}

func sameName[T Text](data T, a, b span) bool {
	if !a.escaped && !b.escaped {
		return string(data[a.start:a.end]) == string(data[b.start:b.end])
	}
	return nameKey(data, a) == nameKey(data, b)
}

// nameKey returns the unescaped name as a new string, never sharing memory
// with the input, so that keeping it in a map does not pin the text.
func nameKey[T Text](data T, name span) string {
	return string(AppendUnescaped(nil, data[name.start:name.end]))
}

func nameIs[T Text](data T, sp span, name string) bool {
	raw := data[sp.start:sp.end]
	if !sp.escaped {
		return string(raw) == name
	}
	// An escape stands for at most 6 input bytes per output byte in the
	// short ASCII names callers look for, so longer raw names cannot match.
	if len(raw) > 6*len(name) {
		return false
	}
	var buf [96]byte
	return string(AppendUnescaped(buf[:0], raw)) == name
}

type scanner[T Text] struct {
	s T
	i int
}

func (s *scanner[T]) skipSpace() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end accepts trailing whitespace and nothing else.
func (s *scanner[T]) end() error {
	s.skipSpace()
	if s.i != len(s.s) {
		return ErrSyntax
	}
	return nil
}

// value consumes one value of any kind starting at s.i, nested values
// included, without recursion; base is the depth of the enclosing container.
// escaped reports escapes in a string value.
func (s *scanner[T]) value(base int) (kind Kind, escaped bool, err error) {
	// stack holds one bit per open container: 1 for an object, 0 for an
	// array. MaxDepth < 64, so it never overflows.
	var stack uint64
	depth := 0
	first := KindInvalid
	for {
		// A value is expected at s.i.
		if s.i >= len(s.s) {
			return KindInvalid, false, ErrSyntax
		}
		k := KindInvalid
		switch c := s.s[s.i]; c {
		case '{', '[':
			if base+depth+1 > MaxDepth {
				return KindInvalid, false, ErrDepth
			}
			stack <<= 1
			if c == '{' {
				stack |= 1
				k = KindObject
			} else {
				k = KindArray
			}
			depth++
			s.i++
			s.skipSpace()
			if first == KindInvalid {
				first = k
			}
			if s.i < len(s.s) && s.s[s.i] == byte(c+2) { // '}' or ']'
				s.i++
				stack >>= 1
				depth--
				break
			}
			if c == '{' {
				if err := s.memberName(); err != nil {
					return KindInvalid, false, err
				}
			}
			continue
		case '"':
			_, _, esc, err := s.str()
			if err != nil {
				return KindInvalid, false, err
			}
			if first == KindInvalid {
				escaped = esc
			}
			k = KindString
		case 't':
			k = KindTrue
			err = s.literal("true")
		case 'f':
			k = KindFalse
			err = s.literal("false")
		case 'n':
			k = KindNull
			err = s.literal("null")
		default:
			k = KindNumber
			err = s.number()
		}
		if err != nil {
			return KindInvalid, false, err
		}
		if first == KindInvalid {
			first = k
		}

		// A value has ended: close containers or move to the next element.
		for {
			if depth == 0 {
				return first, escaped, nil
			}
			s.skipSpace()
			if s.i >= len(s.s) {
				return KindInvalid, false, ErrSyntax
			}
			c := s.s[s.i]
			inObject := stack&1 == 1
			if c == ',' {
				s.i++
				s.skipSpace()
				if inObject {
					if err := s.memberName(); err != nil {
						return KindInvalid, false, err
					}
				}
				break
			}
			if (inObject && c == '}') || (!inObject && c == ']') {
				s.i++
				stack >>= 1
				depth--
				continue
			}
			return KindInvalid, false, ErrSyntax
		}
	}
}

// memberName consumes `"name" :` and the whitespace after it, inside nested
// objects, whose names are not reported (duplicates there are the caller's
// application data, not ambiguity in what this package interprets).
func (s *scanner[T]) memberName() error {
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return ErrSyntax
	}
	if _, _, _, err := s.str(); err != nil {
		return err
	}
	s.skipSpace()
	if s.i >= len(s.s) || s.s[s.i] != ':' {
		return ErrSyntax
	}
	s.i++
	s.skipSpace()
	return nil
}

func (s *scanner[T]) literal(word string) error {
	if len(s.s)-s.i < len(word) || string(s.s[s.i:s.i+len(word)]) != word {
		return ErrSyntax
	}
	s.i += len(word)
	return nil
}

// number consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and checks
// that it does not overflow a double, as RFC 7493 section 2.2 asks. Only an
// exponent or a very long integer part can overflow, so only those pay for a
// full parse.
func (s *scanner[T]) number() error {
	i := s.i
	if i < len(s.s) && s.s[i] == '-' {
		i++
	}
	switch {
	case i < len(s.s) && s.s[i] == '0':
		i++
	case i < len(s.s) && '1' <= s.s[i] && s.s[i] <= '9':
		i = s.digits(i)
	default:
		return ErrSyntax
	}
	long := i-s.i > 300
	if i < len(s.s) && s.s[i] == '.' {
		j := s.digits(i + 1)
		if j == i+1 {
			return ErrSyntax
		}
		i = j
	}
	exponent := false
	if i < len(s.s) && (s.s[i] == 'e' || s.s[i] == 'E') {
		exponent = true
		i++
		if i < len(s.s) && (s.s[i] == '+' || s.s[i] == '-') {
			i++
		}
		j := s.digits(i)
		if j == i {
			return ErrSyntax
		}
		i = j
	}
	if long || exponent {
		if _, err := strconv.ParseFloat(string(s.s[s.i:i]), 64); err != nil {
			// The syntax is valid, so the only error is ErrRange. Underflow
			// to zero is not an error, as in encoding/json.
			return ErrNumber
		}
	}
	s.i = i
	return nil
}

func (s *scanner[T]) digits(i int) int {
	for i < len(s.s) && '0' <= s.s[i] && s.s[i] <= '9' {
		i++
	}
	return i
}

// str consumes a string starting at the quote at s.i and returns the bounds
// of its content.
func (s *scanner[T]) str() (start, end int, escaped bool, err error) {
	start = s.i + 1
	i := start
	for i < len(s.s) {
		c := s.s[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return start, i, escaped, nil
		case c == '\\':
			escaped = true
			n, err := escapeLen(s.s, i)
			if err != nil {
				return 0, 0, false, err
			}
			i += n
		case c < 0x20:
			return 0, 0, false, ErrSyntax
		default:
			n := runeLen(s.s, i)
			if n == 0 {
				return 0, 0, false, ErrUTF8
			}
			i += n
		}
	}
	return 0, 0, false, ErrSyntax
}

// plain marks the bytes that stand for themselves inside a string: printable
// ASCII other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escapeLen validates the escape at s[i] == '\\' and returns its length,
// including a following low surrogate escape when it starts a pair.
func escapeLen[T Text](s T, i int) (int, error) {
	if i+1 >= len(s) {
		return 0, ErrSyntax
	}
	switch s[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, ErrSyntax
	}
	r, ok := hex4(s, i+2)
	if !ok {
		return 0, ErrSyntax
	}
	switch {
	case r < 0xD800 || r > 0xDFFF:
		return 6, nil
	case r >= 0xDC00:
		return 0, ErrSurrogate
	}
	if i+12 > len(s) || s[i+6] != '\\' || s[i+7] != 'u' {
		return 0, ErrSurrogate
	}
	lo, ok := hex4(s, i+8)
	if !ok {
		return 0, ErrSyntax
	}
	if lo < 0xDC00 || lo > 0xDFFF {
		return 0, ErrSurrogate
	}
	return 12, nil
}

func hex4[T Text](s T, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for j := i; j < i+4; j++ {
		c := s[j]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// runeLen returns the length of the valid UTF-8 sequence of two or more
// bytes at s[i], or 0 if there is none. It follows the Unicode table of
// well-formed byte sequences, so overlong forms, surrogates and code points
// above U+10FFFF are invalid.
func runeLen[T Text](s T, i int) int {
	c := s[i]
	n, lo, hi := 0, byte(0x80), byte(0xBF)
	switch {
	case c < 0xC2:
		return 0
	case c < 0xE0:
		n = 2
	case c < 0xF0:
		n = 3
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case c < 0xF5:
		n = 4
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return 0
	}
	if i+n > len(s) {
		return 0
	}
	if b := s[i+1]; b < lo || b > hi {
		return 0
	}
	for j := 2; j < n; j++ {
		if b := s[i+j]; b < 0x80 || b > 0xBF {
			return 0
		}
	}
	return n
}

// AppendUnescaped appends the unescaped form of raw, the content of a string
// that [Object] accepted, to dst.
func AppendUnescaped[T Text](dst []byte, raw T) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw, i+2)
			if 0xD800 <= r && r < 0xDC00 {
				lo, _ := hex4(raw, i+8)
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// Unescape returns the string value of raw, the content of a string that
// [Object] accepted; it allocates only when raw contains escapes.
func Unescape(raw string, escaped bool) string {
	if !escaped {
		return raw
	}
	return string(AppendUnescaped(make([]byte, 0, len(raw)), raw))
}
