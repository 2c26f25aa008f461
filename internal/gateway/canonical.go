package gateway

import (
	"net"
	"net/url"
	"strings"
)

// Every layer between a client and the backend — this gateway, a proxy in
// front of it, the backend's HTTP server and its framework — reads the
// method, path and host of a request a little differently. A request the
// gateway routes as public but the backend resolves to a protected resource
// walks around the check. So the gateway refuses what layers could read
// differently, and routes on what is left, which every layer reads alike.
// docs/THREAT_MODEL.md lists the classes and the tests that hold them.

// refusal is why a request is refused before routing: its metric cause and
// the answer's status and message. A nil *refusal lets the request through.
type refusal struct {
	cause  string
	status int
	msg    string
}

var (
	refuseMethodCase  = &refusal{"method_case", 400, "method must be upper case"}
	refuseMethod      = &refusal{"method_not_routed", 405, "method not allowed"}
	refuseTarget      = &refusal{"bad_target", 400, "request target must be an absolute path"}
	refuseEncodedSep  = &refusal{"ambiguous_path", 400, "encoded slash, backslash or NUL in path"}
	refuseDotSegment  = &refusal{"dot_segment", 400, "dot segment or empty segment in path"}
	refuseRouteMix    = &refusal{"ambiguous_route", 400, "path decodes to another route"}
	refuseConnection  = &refusal{"connection_nominates_guarded", 400, "Connection header names a protected header"}
	refuseHeaderCount = &refusal{"too_many_headers", 431, "too many header fields"}
	refuseOriginal    = &refusal{"bad_original_request", 400, "bad original request"}
	refuseAuthCaller  = &refusal{"forward_auth_caller", 403, "forbidden"}
	refuseNotFound    = &refusal{"not_found", 404, "not found"}
)

// refusalCauses lists every cause, so that metrics start at zero.
var refusalCauses = []*refusal{
	refuseMethodCase, refuseMethod, refuseTarget, refuseEncodedSep, refuseDotSegment, refuseRouteMix,
	refuseConnection, refuseHeaderCount, refuseOriginal, refuseAuthCaller,
}

// checkMethod refuses a method with a lower-case letter: gunicorn and other
// servers upper-case methods, so "post" would be routed as an unknown
// method here and run as POST there. Extension methods (M-SEARCH) pass.
// CONNECT and TRACE are refused unless a route names them: the router does
// not clean CONNECT paths, and neither belongs on an API.
func (st *state) checkMethod(method string) *refusal {
	for i := 0; i < len(method); i++ {
		if c := method[i]; 'a' <= c && c <= 'z' {
			return refuseMethodCase
		}
	}
	// A method is a token (RFC 9110). net/http's server refuses others
	// itself; a gRPC CheckRequest carries any string.
	if method == "" {
		return refuseMethod
	}
	for i := 0; i < len(method); i++ {
		if !isTchar(method[i]) {
			return refuseMethod
		}
	}
	if (method == "CONNECT" || method == "TRACE") && !st.routedMethods[method] {
		return refuseMethod
	}
	return nil
}

// canonicalHost returns the host the gateway routes on: lower case, without
// a trailing dot, port kept. Hosts are case-insensitive and
// "api.example.com." names the same host, but ServeMux compares host
// patterns byte for byte.
func canonicalHost(host string) string {
	if isCanonicalHost(host) {
		return host // the common case, without allocating
	}
	name, port := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	}
	name = strings.TrimRight(strings.ToLower(name), ".")
	if port == "" {
		return name
	}
	return net.JoinHostPort(name, port)
}

// isCanonicalHost reports whether host has no upper-case letter and no
// dot before its port or end.
func isCanonicalHost(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' || c == '.' && (i == len(host)-1 || host[i+1] == ':') {
			return false
		}
	}
	return true
}

// checkPath refuses a request path that a backend could resolve to another
// resource than the one the gateway routes on.
//
// The path must be an absolute path. Encoded slashes, backslashes and NULs
// are refused: servers disagree on whether %2F separates segments. Then the
// path is normalised as RFC 3986 says every URI consumer may (§6.2.2):
// percent-encoded unreserved characters are decoded (so %2e is a dot), and
// dot segments are removed (§5.2.4), where a segment is also a dot segment
// when only ";parameters" follow the dots, as servlet containers read
// "..;". If that changes the path — a dot segment in any spelling, or an
// empty segment, which ServeMux would collapse and some backends would
// not — the request is refused: a genuine app never sends one. Other
// encodings, such as /caf%C3%A9 or %20, pass unchanged.
func checkPath(escaped string) *refusal {
	if escaped == "" || escaped[0] != '/' {
		return refuseTarget
	}
	if strings.IndexByte(escaped, '\\') >= 0 {
		return refuseEncodedSep
	}
	for i := 0; i < len(escaped); i++ {
		if escaped[i] != '%' {
			continue
		}
		if i+2 >= len(escaped) {
			return refuseTarget
		}
		switch hexPair(escaped[i+1], escaped[i+2]) {
		case '/', '\\', 0:
			return refuseEncodedSep
		case -1:
			return refuseTarget
		}
	}
	// Segment by segment, after the leading slash, without allocating:
	// this runs on every request.
	for rest := escaped[1:]; ; {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "" && more {
			return refuseDotSegment // an empty segment: "//"
		}
		if isDotSegment(seg) {
			return refuseDotSegment
		}
		if !more {
			return nil // the last segment; "" is a trailing slash
		}
		rest = after
	}
}

// isDotSegment reports whether an escaped segment is "." or "..", spelled
// with %2e or followed by ";parameters".
func isDotSegment(seg string) bool {
	// A path parameter, as ";" or encoded, is cut as servers that read
	// parameters cut it: "..;x" and "..%3bx" are dot segments too.
	if i := strings.IndexByte(seg, ';'); i >= 0 {
		seg = seg[:i]
	}
	for i := 0; i+2 < len(seg); i++ {
		if seg[i] == '%' && hexPair(seg[i+1], seg[i+2]) == ';' {
			seg = seg[:i]
			break
		}
	}
	dots := 0
	for i := 0; i < len(seg); {
		switch {
		case seg[i] == '.':
			i++
		case seg[i] == '%' && i+2 < len(seg) && hexPair(seg[i+1], seg[i+2]) == '.':
			i += 3
		default:
			return false
		}
		dots++
	}
	return dots == 1 || dots == 2
}

// hexPair decodes two hex digits, or returns -1.
func hexPair(a, b byte) int {
	hi, lo := unhex(a), unhex(b)
	if hi < 0 || lo < 0 {
		return -1
	}
	return hi<<4 | lo
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// checkTarget refuses a request target with bytes that are not printable
// ASCII, or a "#": a genuine client percent-encodes them, and servers that
// read "#" as the start of a fragment (gunicorn) drop what follows it.
func checkTarget(requestURI string) *refusal {
	for i := 0; i < len(requestURI); i++ {
		if c := requestURI[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return refuseTarget
		}
	}
	return nil
}

// targetPath returns the path of a raw request target, as the client sent
// it: origin-form up to the query, or the path of an absolute-form target.
// It is "" for any other form (authority-form, asterisk-form).
func targetPath(requestURI string) string {
	if !strings.HasPrefix(requestURI, "/") {
		scheme, rest, ok := strings.Cut(requestURI, "://")
		if !ok || scheme == "" || strings.ContainsAny(scheme, "/?") {
			return ""
		}
		// The authority ends at the first of "/?#"; only a "/" starts a
		// path, as net/url reads it.
		i := strings.IndexAny(rest, "/?#")
		if i < 0 || rest[i] != '/' {
			return ""
		}
		requestURI = rest[i:]
	}
	if i := strings.IndexByte(requestURI, '?'); i >= 0 {
		requestURI = requestURI[:i]
	}
	return requestURI
}

// decodedPath returns the path as a backend that decodes everything before
// resolving it would see it: fully percent-decoded, then with dot segments
// removed. It is the reference [state.match] holds routing to.
func decodedPath(escaped string) (string, error) {
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return "", err
	}
	return removeDotSegments(p), nil
}

// removeDotSegments is RFC 3986 §5.2.4 on an absolute path.
func removeDotSegments(p string) string {
	var out []string
	segments := strings.Split(p, "/")
	for i, seg := range segments {
		last := i == len(segments)-1
		switch seg {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	s := strings.Join(out, "/")
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	return s
}

// checkConnection refuses a Connection header that nominates a header the
// check depends on, and so a Trailer header: trailers arrive after the
// check, and a proxy may merge them into the headers. A proxy removes the headers a Connection header names
// before forwarding — net/http's ReverseProxy does it before the gateway
// can rewrite the request — so "Connection: Authorization" on a bound route
// would have the binding checked and then the credential dropped, and
// "Connection: Approov-Result" behind some proxies drops the facts. Names
// such as close, keep-alive, upgrade and te pass.
func (st *state) checkConnection(values []string) *refusal {
	for _, v := range values {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			if st.isGuardedHeader(strings.TrimSpace(name)) {
				return refuseConnection
			}
		}
	}
	return nil
}

// isGuardedHeader reports whether the header name, in any case and any
// spelling of dashes and underscores, is the token header, a bound header,
// a forwarding header or in the gateway's namespace.
func (st *state) isGuardedHeader(name string) bool {
	if name == "" {
		return false
	}
	if hasHeaderPrefix(name, st.reservedPrefix) || hasHeaderPrefix(name, "x-forwarded-") || sameHeaderName(name, "forwarded") {
		return true
	}
	for _, g := range st.guardedHeaders {
		if sameHeaderName(name, g) {
			return true
		}
	}
	return false
}

// sameHeaderName reports whether a and b name the same header for a
// backend: ASCII case ignored, and '_' the same as '-', as WSGI servers
// read them. It does not allocate.
func sameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldHeaderByte(a[i]) != foldHeaderByte(b[i]) {
			return false
		}
	}
	return true
}

func hasHeaderPrefix(name, prefix string) bool {
	return len(name) >= len(prefix) && sameHeaderName(name[:len(prefix)], prefix)
}

func foldHeaderByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case c == '_':
		return '-'
	}
	return c
}

// isTchar reports whether c may appear in an HTTP token (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
