package gateway

import (
	"testing"
)

// TestCheckPath pins what each spelling of a path becomes before routing,
// as Envoy's path normalisation tests do: refused, or passed unchanged.
func TestCheckPath(t *testing.T) {
	for _, tt := range []struct {
		path string
		want *refusal
	}{
		{"/", nil},
		{"/public/", nil},
		{"/api/v1/items", nil},
		{"/caf%C3%A9", nil},
		{"/a%20b", nil},
		{"/%61dmin/", nil}, // an encoded unreserved letter routes as the letter
		{"/a/b.txt", nil},
		{"/a/...", nil}, // three dots are a name, not a dot segment
		{"/a/.b", nil},
		{"/a;b=c/d", nil},
		{"/file%7E", nil},

		{"", refuseTarget},
		{"*", refuseTarget},
		{"public", refuseTarget},
		{"/a%", refuseTarget},
		{"/a%2", refuseTarget},
		{"/a%zz", refuseTarget},

		{"/a%2Fb", refuseEncodedSep},
		{"/a%2fb", refuseEncodedSep},
		{"/a%5Cb", refuseEncodedSep},
		{"/a%5cb", refuseEncodedSep},
		{"/a%00", refuseEncodedSep},
		{"/public/..\\private", refuseEncodedSep},

		{"/public/../private/secret.txt", refuseDotSegment},
		{"/public/%2e%2e/private/secret.txt", refuseDotSegment},
		{"/public/%2E%2E/private/secret.txt", refuseDotSegment},
		{"/public/.%2e/private/secret.txt", refuseDotSegment},
		{"/public/%2e./private/secret.txt", refuseDotSegment},
		{"/public/..;/private/secret.txt", refuseDotSegment},
		{"/public/..%3b/private/secret.txt", refuseDotSegment},
		{"/public/..%3Bx/private/secret.txt", refuseDotSegment},
		{"/public/%2e%2e;x=1/private", refuseDotSegment},
		{"/public/./x", refuseDotSegment},
		{"/public/%2e/x", refuseDotSegment},
		{"/public/..", refuseDotSegment},
		{"/public/.", refuseDotSegment},
		{"//private/secret.txt", refuseDotSegment},
		{"/public//x", refuseDotSegment},
	} {
		if got := checkPath(tt.path); got != tt.want {
			t.Errorf("checkPath(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	for target, ok := range map[string]bool{
		"/a?b=c":               true,
		"/caf%C3%A9?q=%20":     true,
		"/public/#/../admin":   false,
		"/x?a=1#frag":          false,
		"/caf\xc3\xa9":         false,
		"/a\x7f":               false,
		"http://h/a?q=1;x=2":   true,
		"/a|b{c}":              true, // not pchars, but read alike everywhere
		"/tab\there":           false,
		"/public/%2e%2e/x?y=1": true, // checkPath refuses the dots
	} {
		if got := checkTarget(target) == nil; got != ok {
			t.Errorf("checkTarget(%q) passes = %v, want %v", target, got, ok)
		}
	}
}

func TestTargetPath(t *testing.T) {
	for target, want := range map[string]string{
		"/a/b?c=d":                     "/a/b",
		"/":                            "/",
		"http://host/a/%2e%2e/b?x":     "/a/%2e%2e/b",
		"https://host:8443/x":          "/x",
		"http://host":                  "",
		"host:443":                     "",
		"*":                            "",
		"http://h/x?redirect=http://y": "/x",
		"http://h?x/public/":           "",
		"http://h#x/public/":           "",
	} {
		if got := targetPath(target); got != want {
			t.Errorf("targetPath(%q) = %q, want %q", target, got, want)
		}
	}
}

func TestCheckMethod(t *testing.T) {
	st := &state{routedMethods: map[string]bool{"TRACE": true}}
	for method, want := range map[string]*refusal{
		"GET":       nil,
		"POST":      nil,
		"M-SEARCH":  nil,
		"PROPFIND":  nil,
		"TRACE":     nil, // a route names it
		"post":      refuseMethodCase,
		"POST ":     refuseMethod,
		"P\u00d6ST": refuseMethod,
		"GE\tT":     refuseMethod,
		"Post":      refuseMethodCase,
		"gEt":       refuseMethodCase,
		"CONNECT":   refuseMethod,
	} {
		if got := st.checkMethod(method); got != want {
			t.Errorf("checkMethod(%q) = %v, want %v", method, got, want)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	for host, want := range map[string]string{
		"api.example.com":         "api.example.com",
		"API.EXAMPLE.COM":         "api.example.com",
		"api.example.com.":        "api.example.com",
		"Api.Example.Com.:8080":   "api.example.com:8080",
		"[::1]:80":                "[::1]:80",
		"127.0.0.1:8002":          "127.0.0.1:8002",
		"":                        "",
		"api.example.com..":       "api.example.com",
		"API.example.com:http":    "api.example.com:http",
		"[2001:DB8::1]":           "[2001:db8::1]",
		"xn--caf-dma.example.COM": "xn--caf-dma.example.com",
	} {
		if got := canonicalHost(host); got != want {
			t.Errorf("canonicalHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestRemoveDotSegments(t *testing.T) {
	// RFC 3986 §5.2.4 and §5.4 examples, on absolute paths.
	for in, want := range map[string]string{
		"/a/b/c/./../../g":    "/a/g",
		"/mid/content=5/../6": "/mid/6",
		"/public/../private":  "/private",
		"/../x":               "/x",
		"/a/.":                "/a/",
		"/a/..":               "/",
		"/a/b/":               "/a/b/",
	} {
		if got := removeDotSegments(in); got != want {
			t.Errorf("removeDotSegments(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckConnection(t *testing.T) {
	st := &state{reservedPrefix: "approov-", guardedHeaders: []string{"Approov-Token", "Authorization"}}
	for value, ok := range map[string]bool{
		"close":                   true,
		"keep-alive":              true,
		"Upgrade":                 true,
		"keep-alive, Upgrade":     true,
		"te, close":               true,
		"X-Custom-Hop":            true,
		"Authorization":           false,
		"authorization, close":    false,
		"Approov-Token":           false,
		"Approov-Result":          false,
		"approov_device_id":       false,
		"Approov-Assertion":       false,
		"X-Forwarded-For":         false,
		"x-forwarded-host":        false,
		"Forwarded":               false,
		"close,   Approov-Result": false,
	} {
		if got := st.checkConnection([]string{value}) == nil; got != ok {
			t.Errorf("Connection: %s passes = %v, want %v", value, got, ok)
		}
	}
}

// TestCheckRequestAllocatesNothing pins the cost of the canonical checks on
// the common request: they run before every route.
func TestCheckRequestAllocatesNothing(t *testing.T) {
	st := &state{reservedPrefix: "approov-", guardedHeaders: []string{"Approov-Token"}, routedMethods: map[string]bool{}}
	h := map[string][]string{"Connection": {"keep-alive"}}
	if n := testing.AllocsPerRun(100, func() {
		if st.checkRequest("GET", "/api/v1/items/caf%C3%A9?page=2", h) != nil {
			t.Fatal("refused")
		}
	}); n != 0 {
		t.Fatalf("the canonical checks allocate %v times per request", n)
	}
}

func BenchmarkCheckRequest(b *testing.B) {
	st := &state{reservedPrefix: "approov-", guardedHeaders: []string{"Approov-Token"}, routedMethods: map[string]bool{}}
	for b.Loop() {
		st.checkRequest("GET", "/api/v1/items/caf%C3%A9?page=2", nil)
	}
}
