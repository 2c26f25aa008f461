package msgsig_test

import (
	"errors"
	"testing"

	"github.com/approov-gateway/approov/msgsig"
)

// TestTargetURI pins how the target URI is rebuilt from what a gateway
// knows: the scheme and host the app connected to, and the raw
// request-target.
func TestTargetURI(t *testing.T) {
	tests := []struct {
		scheme, host, target string
		want                 string
	}{
		{"https", "api.example.com", "/v1/orders?id=7", "https://api.example.com/v1/orders?id=7"},
		{"http", "0.0.0.0:8111", "/token?param1=value1&param2=value2", "http://0.0.0.0:8111/token?param1=value1&param2=value2"},
		// Default ports are dropped, others kept.
		{"https", "api.example.com:443", "/", "https://api.example.com/"},
		{"http", "api.example.com:80", "/", "http://api.example.com/"},
		{"https", "api.example.com:80", "/", "https://api.example.com:80/"},
		{"http", "api.example.com:443", "/", "http://api.example.com:443/"},
		{"https", "api.example.com:8443", "/", "https://api.example.com:8443/"},
		{"https", "api.example.com:0443", "/", "https://api.example.com/"},
		{"https", "api.example.com:08443", "/", "https://api.example.com:8443/"},
		{"https", "api.example.com:0", "/", "https://api.example.com:0/"},
		{"https", "api.example.com:", "/", "https://api.example.com/"},
		// Scheme and host in lower case.
		{"HTTPS", "API.Example.COM", "/Path", "https://api.example.com/Path"},
		// IP literals.
		{"https", "[2001:db8::1]", "/", "https://[2001:db8::1]/"},
		{"https", "[2001:DB8::1]:443", "/", "https://[2001:db8::1]/"},
		{"https", "[::1]:8443", "/", "https://[::1]:8443/"},
		{"http", "192.0.2.1:80", "/", "http://192.0.2.1/"},
		// The request-target is kept byte for byte.
		{"https", "h", "/a%2Fb/../c/./d//e?x=%41&y=a+b&z", "https://h/a%2Fb/../c/./d//e?x=%41&y=a+b&z"},
		{"https", "h", "/?", "https://h/?"},
		{"https", "h", "/a?b?c=d", "https://h/a?b?c=d"},
		// Other schemes keep every port.
		{"wss", "h:443", "/", "wss://h:443/"},
	}
	for _, tc := range tests {
		got, err := msgsig.TargetURI(tc.scheme, tc.host, tc.target)
		if err != nil || got != tc.want {
			t.Errorf("TargetURI(%q, %q, %q) = %q, %v; want %q", tc.scheme, tc.host, tc.target, got, err, tc.want)
		}
	}

	bad := []struct{ scheme, host, target string }{
		{"", "h", "/"},
		{"1http", "h", "/"},
		{"ht tp", "h", "/"},
		{"https", "", "/"},
		{"https", ":443", "/"},
		{"https", "h:https", "/"},
		{"https", "h:65536", "/"},
		{"https", "h:123456", "/"},
		{"https", "h:1:2", "/"},
		{"https", "user@h", "/"},
		{"https", "h/x", "/"},
		{"https", "h x", "/"},
		{"https", "h\r\nx", "/"},
		{"https", "h\xc3\xa9", "/"},
		{"https", "[::1", "/"},
		{"https", "[::1]x", "/"},
		{"https", "[::g]", "/"},
		{"https", "h", ""},
		{"https", "h", "*"},
		{"https", "h", "x/y"},
		{"https", "h", "http://other/x"},
		{"https", "h", "/a b"},
		{"https", "h", "/a#frag"},
		{"https", "h", "/a\x7f"},
		{"https", "h", "/caf\xc3\xa9"},
	}
	for _, tc := range bad {
		got, err := msgsig.TargetURI(tc.scheme, tc.host, tc.target)
		if err == nil || !errors.Is(err, msgsig.ErrInvalid) {
			t.Errorf("TargetURI(%q, %q, %q) = %q, %v; want signature_invalid", tc.scheme, tc.host, tc.target, got, err)
		}
	}
}
