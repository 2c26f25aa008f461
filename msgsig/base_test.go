package msgsig_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/msgsig"
)

// explainOne returns the one explanation of a request for target whose
// Signature-Input covers components.
func explainOne(t *testing.T, method, target string, h http.Header, input string) msgsig.Explanation {
	t.Helper()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Signature-Input", input)
	ex, err := msgsig.Explain(&msgsig.Request{Method: method, TargetURI: target, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 1 {
		t.Fatalf("%d explanations", len(ex))
	}
	return ex[0]
}

// TestDerivedComponents pins the value of each derived component (RFC
// 9421 §2.2) for target URIs of every shape.
func TestDerivedComponents(t *testing.T) {
	const input = `sig=("@method" "@target-uri" "@authority" "@scheme" "@path" "@query" "@request-target");created=1`
	tests := []struct {
		target                                  string
		authority, scheme, path, query, reqTarg string
	}{
		{"https://api.example.com/v1/orders?id=7", "api.example.com", "https", "/v1/orders", "?id=7", "/v1/orders?id=7"},
		{"https://api.example.com/", "api.example.com", "https", "/", "?", "/"},
		{"https://api.example.com", "api.example.com", "https", "/", "?", "/"},
		{"https://api.example.com?a", "api.example.com", "https", "/", "?a", "/?a"},
		{"https://api.example.com/p?", "api.example.com", "https", "/p", "?", "/p?"},
		{"http://0.0.0.0:8111/token?param1=value1&param2=value2", "0.0.0.0:8111", "http", "/token", "?param1=value1&param2=value2", "/token?param1=value1&param2=value2"},
		// @authority and @scheme are normalised, the others are as sent.
		{"HTTPS://API.Example.COM:443/A%2fB/./c?Q=%41", "api.example.com", "https", "/A%2fB/./c", "?Q=%41", "/A%2fB/./c?Q=%41"},
		{"http://[::1]:80/x", "[::1]", "http", "/x", "?", "/x"},
		{"http://[::1]:8080/x", "[::1]:8080", "http", "/x", "?", "/x"},
		{"https://h:0443/", "h", "https", "/", "?", "/"},
		{"https://h:08443/", "h:8443", "https", "/", "?", "/"},
		{"https://h/a?b?c", "h", "https", "/a", "?b?c", "/a?b?c"},
	}
	for _, tc := range tests {
		e := explainOne(t, "PATCH", tc.target, nil, input)
		if e.Err != nil {
			t.Errorf("%s: %v", tc.target, e.Err)
			continue
		}
		want := strings.Join([]string{
			`"@method": PATCH`,
			`"@target-uri": ` + tc.target,
			`"@authority": ` + tc.authority,
			`"@scheme": ` + tc.scheme,
			`"@path": ` + tc.path,
			`"@query": ` + tc.query,
			`"@request-target": ` + tc.reqTarg,
			`"@signature-params": ("@method" "@target-uri" "@authority" "@scheme" "@path" "@query" "@request-target");created=1`,
		}, "\n")
		if e.Base != want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.target, e.Base, want)
		}
	}
	for _, target := range []string{"/relative", "api.example.com/x", "https:///x", "https://h/x#frag", "https://h:99999/x", "https://h:x/"} {
		e := explainOne(t, "GET", target, nil, `sig=("@authority");created=1`)
		if !errors.Is(e.Err, msgsig.ErrInvalid) {
			t.Errorf("%s: %v, want signature_invalid", target, e.Err)
		}
	}
}

// TestFieldValues pins how header fields enter the base (RFC 9421 §2.1):
// several instances trimmed and joined with ", ", an empty value kept,
// the name looked up in any case.
func TestFieldValues(t *testing.T) {
	tests := []struct {
		values []string
		want   string
	}{
		{[]string{"a"}, "a"},
		{[]string{"  a  "}, "a"},
		{[]string{"\ta b\t"}, "a b"},
		{[]string{"a", "b"}, "a, b"},
		{[]string{" a ", "", " b,c "}, "a, , b,c"},
		{[]string{""}, ""},
		{[]string{"a,  b"}, "a,  b"},
	}
	for _, tc := range tests {
		h := http.Header{"X-Long-Header-Name": tc.values}
		e := explainOne(t, "GET", "https://h/", h, `sig=("x-long-header-name");created=1`)
		want := `"x-long-header-name": ` + tc.want + "\n" + `"@signature-params": ("x-long-header-name");created=1`
		if e.Err != nil || e.Base != want {
			t.Errorf("%q: %q (%v), want %q", tc.values, e.Base, e.Err, want)
		}
	}
	// A field that is absent is an error, not an empty value.
	e := explainOne(t, "GET", "https://h/", nil, `sig=("x-absent");created=1`)
	if !errors.Is(e.Err, msgsig.ErrComponentMissing) {
		t.Errorf("absent field: %v", e.Err)
	}
	// Line breaks and non-ASCII bytes cannot be in a base.
	for _, v := range []string{"a\nb", "a\rb", "caf\xc3\xa9", "\x80"} {
		e := explainOne(t, "GET", "https://h/", http.Header{"X-V": {v}}, `sig=("x-v");created=1`)
		if !errors.Is(e.Err, msgsig.ErrInvalid) {
			t.Errorf("%q: %v, want signature_invalid", v, e.Err)
		}
	}
	e = explainOne(t, "GET\n", "https://h/", nil, `sig=("@method");created=1`)
	if !errors.Is(e.Err, msgsig.ErrInvalid) {
		t.Errorf("method with a line break: %v", e.Err)
	}
}

// TestSignatureParamsLine pins the @signature-params line: the received
// inner list serialised again (RFC 9421 §2.3), parameters in the order
// received, whatever whitespace the field had.
func TestSignatureParamsLine(t *testing.T) {
	tests := []struct{ input, want string }{
		{`sig=("@method");created=1;alg="x";expires=2`, `("@method");created=1;alg="x";expires=2`},
		{`sig=("@method");expires=2;created=1`, `("@method");expires=2;created=1`},
		{`sig=(  "@method"   "@path" );created=1`, `("@method" "@path");created=1`},
		{`sig=("@method");created=1;nonce="a\"b\\c";tag="t";keyid="k"`, `("@method");created=1;nonce="a\"b\\c";tag="t";keyid="k"`},
		{`sig=("@method");created=1;flag;other=?1;off=?0`, `("@method");created=1;flag;other;off=?0`},
		{`sig=("@method");created=1;d=1.50;t=tok;b=:AQID:`, `("@method");created=1;d=1.5;t=tok;b=:AQID:`},
		{`sig=();created=1`, `();created=1`},
		// A repeated parameter keeps its first place and its last value,
		// as RFC 8941 §4.2.3.2 says.
		{`sig=("@method");created=1;alg="a";created=2`, `("@method");created=2;alg="a"`},
	}
	for _, tc := range tests {
		e := explainOne(t, "GET", "https://h/", nil, tc.input)
		if e.Err != nil {
			t.Errorf("%s: %v", tc.input, e.Err)
			continue
		}
		lines := strings.Split(e.Base, "\n")
		if got := strings.TrimPrefix(lines[len(lines)-1], `"@signature-params": `); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.input, got, tc.want)
		}
	}
}

func TestExplain(t *testing.T) {
	r := vectorRequest()
	r.Header.Set("Signature-Base-Digest", "sha-256=:"+vectorBaseDigest+":")
	r.Header.Add("Signature-Input", `account=("@method" "x-absent");created=1, bad="x"`)
	ex, err := msgsig.Explain(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 3 || ex[0].Label != "install" || ex[1].Label != "account" || ex[2].Label != "bad" {
		t.Fatalf("%+v", ex)
	}
	if ex[0].Err != nil || ex[0].Digest != vectorBaseDigest || ex[0].ClientDigest != vectorBaseDigest {
		t.Errorf("install: %+v", ex[0])
	}
	if !errors.Is(ex[1].Err, msgsig.ErrComponentMissing) || ex[1].Base != "" || ex[1].Digest != "" {
		t.Errorf("account: %+v", ex[1])
	}
	if !errors.Is(ex[2].Err, msgsig.ErrMalformed) || !strings.Contains(ex[2].Err.Error(), "bad:") {
		t.Errorf("bad: %+v", ex[2])
	}

	// The client's digest in string form counts too; anything else is
	// ignored.
	for value, want := range map[string]string{
		`sha-256="` + vectorBaseDigest + `"`: vectorBaseDigest,
		`sha-512=:AAAA:`:                     "",
		`sha-256=:AAAA:`:                     "",
		`not a dictionary`:                   "",
	} {
		r.Header.Set("Signature-Base-Digest", value)
		if ex, _ := msgsig.Explain(r); ex[0].ClientDigest != want {
			t.Errorf("%s: client digest %q, want %q", value, ex[0].ClientDigest, want)
		}
	}

	for name, h := range map[string]http.Header{
		"no Signature-Input":  {},
		"not a dictionary":    {"Signature-Input": {"(("}},
		"longer than allowed": {"Signature-Input": {strings.Repeat("a=1, ", msgsig.MaxFieldSize)}},
	} {
		if _, err := msgsig.Explain(&msgsig.Request{Header: h}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
