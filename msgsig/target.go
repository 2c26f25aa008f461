package msgsig

import (
	"strconv"
	"strings"
)

// Errors of [TargetURI], for a request whose target URI cannot be rebuilt:
// no signature can verify over it.
var (
	errScheme = newError(ErrInvalid, "target URI: the scheme is not valid")
	errHost   = newError(ErrInvalid, "target URI: the host is empty or holds a character an authority cannot")
	errPort   = newError(ErrInvalid, "target URI: the port is not a number from 0 to 65535")
	errTarget = newError(ErrInvalid, "target URI: the request-target is not origin-form (a path starting with /, then an optional query)")
	errNotAbs = newError(ErrInvalid, "target URI: not an absolute URI (scheme://authority/path)")
)

// TargetURI returns the absolute target URI the app signed as @target-uri,
// rebuilt from the scheme and host the app connected to and the raw
// request-target it sent, as the SDK's URL library writes it:
//
//   - the scheme in lower case;
//   - the host in lower case, with its port only when it is not the
//     scheme's default (80 for http, 443 for https), written without
//     leading zeros; a trailing ":" with no port is dropped;
//   - the request-target byte for byte: path and query as sent, never
//     decoded or normalised.
//
// host is a Host header value: host, host:port, [IPv6] or [IPv6]:port.
// requestTarget must be origin-form (r.RequestURI for a request that did
// not come through a forward proxy). Behind a load balancer, scheme and
// host are those the app used: from trusted X-Forwarded-Proto and
// X-Forwarded-Host, or from a configured public URL, never from the
// connection the gateway sees.
//
// The errors wrap [ErrInvalid], since no signature verifies over a target
// URI that cannot be built.
func TargetURI(scheme, host, requestTarget string) (string, error) {
	if !validScheme(scheme) {
		return "", errScheme
	}
	scheme = lowerASCII(scheme)
	authority, err := normalizeAuthority(scheme, host)
	if err != nil {
		return "", err
	}
	if requestTarget == "" || requestTarget[0] != '/' {
		return "", errTarget
	}
	for i := 0; i < len(requestTarget); i++ {
		if c := requestTarget[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return "", errTarget
		}
	}
	return scheme + "://" + authority + requestTarget, nil
}

func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'A' <= c&^0x20 && c&^0x20 <= 'Z' }

// defaultPort returns the default port of scheme, or "" for schemes this
// package knows none for.
func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// normalizeAuthority returns host in lower case without the scheme's
// default port, as RFC 9110 §4.2.3 normalises an authority. It allocates
// only when it changes something.
func normalizeAuthority(scheme, host string) (string, error) {
	if host == "" {
		return "", errHost
	}
	name, port := host, ""
	hasPort := false
	if host[0] == '[' {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", errHost
		}
		name = host[:end+1]
		rest := host[end+1:]
		switch {
		case rest == "":
		case rest[0] == ':':
			port, hasPort = rest[1:], true
		default:
			return "", errHost
		}
		for i := 1; i < end; i++ {
			if c := host[i]; !isHexDigit(c) && c != ':' && c != '.' {
				return "", errHost
			}
		}
	} else {
		if i := strings.IndexByte(host, ':'); i >= 0 {
			name, port, hasPort = host[:i], host[i+1:], true
		}
		if name == "" {
			return "", errHost
		}
		for i := 0; i < len(name); i++ {
			if !isRegNameChar(name[i]) {
				return "", errHost
			}
		}
	}
	if !hasPort {
		return lowerASCII(host), nil
	}
	if port == "" {
		return lowerASCII(name), nil
	}
	if len(port) > 5 {
		return "", errPort
	}
	n := 0
	for i := 0; i < len(port); i++ {
		c := port[i]
		if c < '0' || c > '9' {
			return "", errPort
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return "", errPort
	}
	canonical := len(port) == 1 || port[0] != '0'
	if !canonical {
		port = strconv.Itoa(n)
	}
	switch {
	case port == defaultPort(scheme):
		return lowerASCII(name), nil
	case !canonical:
		return lowerASCII(name) + ":" + port, nil
	}
	return lowerASCII(host), nil
}

// isRegNameChar reports whether c may appear in a reg-name or IPv4
// address (RFC 3986): unreserved, sub-delims, or % of a percent-encoding.
func isRegNameChar(c byte) bool {
	switch {
	case isAlpha(c), '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=%", c) >= 0
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// lowerASCII returns s with ASCII letters in lower case, allocating only
// when one is upper case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// uriParts are the parts of an absolute target URI that the derived
// components other than @target-uri are made of.
type uriParts struct {
	scheme, authority, path, query string
	hasQuery                       bool
}

// splitTargetURI splits an absolute URI scheme://authority[path][?query]
// without decoding anything; a fragment is not allowed.
func splitTargetURI(uri string) (uriParts, bool) {
	var p uriParts
	i := strings.Index(uri, "://")
	if i <= 0 || !validScheme(uri[:i]) {
		return p, false
	}
	p.scheme = uri[:i]
	rest := uri[i+3:]
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	p.authority, rest = rest[:end], rest[end:]
	if p.authority == "" || strings.IndexByte(uri, '#') >= 0 {
		return p, false
	}
	p.path = rest
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		p.path, p.query, p.hasQuery = rest[:q], rest[q+1:], true
	}
	return p, true
}
