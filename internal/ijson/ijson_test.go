package ijson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var objectTests = []struct {
	name string
	in   string
	want error
}{
	{"empty object", `{}`, nil},
	{"whitespace around", " \t\r\n{ } \n", nil},
	{"jws header", `{"alg":"HS256","typ":"JWT"}`, nil},
	{"approov claims", `{"exp":4708683205.891912,"ip":"1.2.3.4","did":"ExampleApproovTokenDID==","pay":"f3U2fniBJVE04Tdecj0d6orV9qT9t52TjfHxdUqDBgY="}`, nil},
	{"nested values", `{"a":{"b":[1,2,{"c":null}],"d":[]},"e":[true,false,-0.5e+10]}`, nil},
	{"escapes", `{"a\u00e9":"\"\\\/\b\f\n\r\t\u0041"}`, nil},
	{"surrogate pair", `{"x":"\ud83d\ude00"}`, nil},
	{"utf8 text", "{\"x\":\"caf\u00e9 \U0001F600\"}", nil},

	{"empty input", ``, ErrSyntax},
	{"array", `[1]`, ErrNotObject},
	{"string", `"x"`, ErrNotObject},
	{"number", `12`, ErrNotObject},
	{"null", `null`, ErrNotObject},
	{"garbage", `not json`, ErrSyntax},
	{"trailing comma", `{"a":1,}`, ErrSyntax},
	{"trailing data", `{"a":1}x`, ErrSyntax},
	{"two objects", `{}{}`, ErrSyntax},
	{"unterminated", `{"a":1`, ErrSyntax},
	{"single quotes", `{'a':1}`, ErrSyntax},
	{"unquoted name", `{a:1}`, ErrSyntax},
	{"missing colon", `{"a" 1}`, ErrSyntax},
	{"leading zero", `{"a":01}`, ErrSyntax},
	{"plus sign", `{"a":+1}`, ErrSyntax},
	{"bare dot", `{"a":1.}`, ErrSyntax},
	{"empty exponent", `{"a":1e}`, ErrSyntax},
	{"NaN", `{"a":NaN}`, ErrSyntax},
	{"Infinity", `{"a":Infinity}`, ErrSyntax},
	{"truncated literal", `{"a":tru}`, ErrSyntax},
	{"bad escape", `{"a":"\x41"}`, ErrSyntax},
	{"short unicode escape", `{"a":"\u41"}`, ErrSyntax},
	{"control character", "{\"a\":\"\x01\"}", ErrSyntax},
	{"raw newline in string", "{\"a\":\"\n\"}", ErrSyntax},
	{"byte order mark", "\ufeff{}", ErrSyntax},
	{"NUL padding", "{}\x00", ErrSyntax},
	{"comment", `{"a":1 /* c */}`, ErrSyntax},
	{"mismatched close", `{"a":[1}}`, ErrSyntax},

	{"duplicate", `{"exp":1,"exp":2}`, ErrDuplicate},
	{"duplicate after escape", `{"exp":1,"\u0065xp":2}`, ErrDuplicate},
	{"duplicate both escaped", `{"\u0065xp":1,"e\u0078p":2}`, ErrDuplicate},
	{"nested duplicates allowed", `{"a":{"b":1,"b":2}}`, nil},

	{"invalid utf8", "{\"a\":\"\xff\"}", ErrUTF8},
	{"overlong utf8", "{\"a\":\"\xc0\xaf\"}", ErrUTF8},
	{"utf8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", ErrUTF8},
	{"above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", ErrUTF8},
	{"truncated utf8", "{\"a\":\"\xe2\x82\"}", ErrUTF8},
	{"lone high surrogate", `{"a":"\ud800"}`, ErrSurrogate},
	{"lone low surrogate", `{"a":"\udc00"}`, ErrSurrogate},
	{"high then non-surrogate", `{"a":"\ud800\u0041"}`, ErrSurrogate},
	{"surrogate in name", `{"\ud800":1}`, ErrSurrogate},

	{"big number", `{"a":1e308,"b":-1.7976931348623157e308,"c":1e-400}`, nil},
	{"number overflows a double", `{"a":1e309}`, ErrNumber},
	{"negative overflow", `{"a":-2e308}`, ErrNumber},
	{"long integer overflows", `{"a":` + strings.Repeat("9", 400) + `}`, ErrNumber},
	{"long integer in range", `{"a":` + strings.Repeat("9", 300) + `}`, nil},
	{"depth at limit", `{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, nil},
	{"depth over limit", `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, ErrDepth},
}

func TestObject(t *testing.T) {
	for _, tt := range objectTests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range []error{
				Object(tt.in, func(Member[string]) error { return nil }),
				Object([]byte(tt.in), func(Member[[]byte]) error { return nil }),
			} {
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Errorf("Object(%q) = %v, want %v", tt.in, err, tt.want)
				}
			}
		})
	}
}

func TestObjectMembers(t *testing.T) {
	in := `{ "alg" : "HS256", "n":-1.5e3, "\u006bid":"a\u00e9b", "o":{"x":[1]}, "t":true, "f":false, "z":null }`
	type got struct {
		name, value string
		kind        Kind
	}
	var members []got
	err := Object(in, func(m Member[string]) error {
		members = append(members, got{
			Unescape(m.Name, m.NameEscaped),
			func() string {
				if m.Kind == KindString {
					return Unescape(m.Value, m.ValueEscaped)
				}
				return m.Value
			}(),
			m.Kind,
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{"alg", "HS256", KindString},
		{"n", "-1.5e3", KindNumber},
		{"kid", "a\u00e9b", KindString},
		{"o", `{"x":[1]}`, KindObject},
		{"t", "true", KindTrue},
		{"f", "false", KindFalse},
		{"z", "null", KindNull},
	}
	if len(members) != len(want) {
		t.Fatalf("got %d members, want %d: %v", len(members), len(want), members)
	}
	for i := range want {
		if members[i] != want[i] {
			t.Errorf("member %d = %+v, want %+v", i, members[i], want[i])
		}
	}
}

func TestObjectManyMembers(t *testing.T) {
	// Past inlineNames the duplicate check moves to a map; both paths must
	// find a duplicate wherever it stands.
	var b strings.Builder
	b.WriteString("{")
	for i := range 3 * inlineNames {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`":0`)
	}
	distinct := b.String() + "}"
	if err := Object(distinct, func(Member[string]) error { return nil }); err != nil {
		t.Fatalf("distinct names: %v", err)
	}
	for _, dup := range []string{`"k":1`, `"kxxxxx":1`, `"k\u0078":1`, `"k` + strings.Repeat("x", 2*inlineNames) + `":1`} {
		if err := Object(b.String()+","+dup+"}", func(Member[string]) error { return nil }); err != ErrDuplicate {
			t.Errorf("duplicate %s: got %v, want ErrDuplicate", dup, err)
		}
	}
}

func TestNameIs(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		name string
		want bool
	}{
		{`exp`, "exp", true},
		{`\u0065xp`, "exp", true},
		{`\u0065\u0078\u0070`, "exp", true},
		{`ex`, "exp", false},
		{`\u0065xpp`, "exp", false},
	} {
		m := Member[string]{Name: tt.raw, NameEscaped: strings.Contains(tt.raw, `\`)}
		if got := m.NameIs(tt.name); got != tt.want {
			t.Errorf("NameIs(%q, %q) = %v, want %v", tt.raw, tt.name, got, tt.want)
		}
	}
}

func TestObjectDoesNotAllocate(t *testing.T) {
	in := []byte(`{"alg":"HS256","typ":"JWT","kid":"k1","x":{"y":[1,2,3]}}`)
	var n int
	allocs := testing.AllocsPerRun(100, func() {
		_ = Object(in, func(m Member[[]byte]) error {
			if m.NameIs("alg") {
				n++
			}
			return nil
		})
	})
	if allocs != 0 {
		t.Errorf("Object allocated %.1f times per run, want 0", allocs)
	}
}

// checkAgainstEncodingJSON compares Object with what encoding/json and
// unicode/utf8 can tell independently. Duplicates and surrogates, which
// encoding/json quietly merges or replaces, are checked fully by the
// jsontext oracle (oracle_jsonv2_test.go).
func checkAgainstEncodingJSON(t *testing.T, data []byte) {
	var members int
	err := Object(data, func(Member[[]byte]) error { members++; return nil })
	errStr := Object(string(data), func(Member[string]) error { return nil })
	if (err == nil) != (errStr == nil) || (err != nil && err != errStr) {
		t.Fatalf("string and []byte scans disagree on %q: %v vs %v", data, err, errStr)
	}
	valid := json.Valid(data) && utf8.Valid(data)
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if err == nil {
		if !valid {
			t.Fatalf("accepted %q, which encoding/json or utf8 rejects", data)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil {
			t.Fatalf("accepted %q, which is no JSON object to encoding/json", data)
		}
		if len(m) != members && !bytes.Contains(data, []byte(`\u`)) {
			t.Fatalf("accepted %q with %d members, encoding/json sees %d distinct names", data, members, len(m))
		}
		return
	}
	if !valid {
		return // any error will do for text that is not even JSON
	}
	switch err {
	case ErrNotObject:
		if trimmed[0] == '{' {
			t.Fatalf("ErrNotObject for the object %q", data)
		}
	case ErrDuplicate:
		if !hasTopLevelDuplicate(data) {
			t.Fatalf("ErrDuplicate for %q, whose top-level names encoding/json finds distinct", data)
		}
	case ErrSurrogate, ErrDepth:
		// encoding/json accepts both; the jsontext oracle checks them.
	case ErrNumber:
		var v any
		if json.Unmarshal(data, &v) == nil {
			t.Fatalf("ErrNumber for %q, which encoding/json decodes", data)
		}
	default:
		t.Fatalf("%v for %q, which is valid JSON in valid UTF-8", err, data)
	}
}

// hasTopLevelDuplicate walks the valid JSON object data with encoding/json's
// tokenizer and reports whether a top-level name repeats.
func hasTopLevelDuplicate(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	seen := map[string]bool{}
	depth := 0
	expectName := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
			expectName = depth == 1
			continue
		case string:
			if depth == 1 && expectName {
				if seen[v] {
					return true
				}
				seen[v] = true
				expectName = false
				continue
			}
		}
		if depth == 1 {
			expectName = true
		}
	}
}

func FuzzObject(f *testing.F) {
	for _, tt := range objectTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstEncodingJSON(t, data)
		if err := Object(data, func(Member[[]byte]) error { return nil }); err == nil {
			// What Object accepts, Valid accepts too.
			if err := Valid(data); err != nil {
				t.Fatalf("Object accepts %q but Valid says %v", data, err)
			}
		}
	})
}

func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`plain`, `\u00e9`, `\ud83d\ude00`, `\"\\\/\b\f\n\r\t`, `a\u0000b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		doc := `{"k":"` + raw + `"}`
		var got string
		var n int
		if Object(doc, func(m Member[string]) error {
			got = Unescape(m.Value, m.ValueEscaped)
			n++
			return nil
		}) != nil || n != 1 {
			return // raw was no string content, or closed the string early
		}
		var want map[string]string
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatalf("encoding/json rejects %q: %v", doc, err)
		}
		if got != want["k"] {
			t.Fatalf("Unescape(%q) = %q, encoding/json says %q", raw, got, want["k"])
		}
	})
}
