package cli

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/msgsig"
)

// request is a request as the app sends it, described on the command
// line, for sign to sign and token check --explain to rebuild.
type request struct {
	method    string
	targetURI string // as msgsig.TargetURI writes it
	// fields are the --header fields in the order given, for curl; header
	// holds the same, keyed as net/http keys them, for msgsig.
	fields      [][2]string
	header      http.Header
	tokenHeader string // canonical
	body        []byte
	hasBody     bool
	bodyFile    string // --data-file, which curl can read itself
}

// newRequest checks and gathers what the flags say of a request.
func newRequest(method, rawURL string, fields []string, body *bodyFlags, tokenHeader string) (*request, error) {
	if !isToken(method) {
		return nil, fmt.Errorf("method %q is not a valid HTTP method", method)
	}
	uri, err := targetURIOf(rawURL)
	if err != nil {
		return nil, err
	}
	r := &request{method: method, targetURI: uri, header: http.Header{}, tokenHeader: tokenHeader}
	for _, f := range fields {
		name, value, err := parseField(f)
		if err != nil {
			return nil, err
		}
		r.fields = append(r.fields, [2]string{name, value})
		r.header.Add(name, value)
	}
	if r.body, r.hasBody, err = body.read(); err != nil {
		return nil, err
	}
	r.bodyFile = body.file
	return r, nil
}

// token returns the value of the token header, or "".
func (r *request) token() string { return r.header.Get(r.tokenHeader) }

// msgsig returns the request as msgsig takes it.
func (r *request) msgsig() *msgsig.Request {
	return &msgsig.Request{Method: r.method, TargetURI: r.targetURI, Header: r.header}
}

// targetURIOf returns the target URI the app signs for an absolute http or
// https URL: msgsig.TargetURI of its scheme, host and request-target, which
// is the path and query exactly as written ("/" when there is no path).
func targetURIOf(raw string) (string, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return "", fmt.Errorf("URL %q: want an absolute http:// or https:// URL", raw)
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host, target := rest[:end], rest[end:]
	switch {
	case strings.Contains(host, "@"):
		return "", fmt.Errorf("URL %q: credentials in the URL are not sent as the app sends them; use --header 'Authorization: ...'", raw)
	case target == "" || target[0] == '?':
		target = "/" + target
	case target[0] == '#':
		return "", fmt.Errorf("URL %q: a fragment is never sent", raw)
	}
	uri, err := msgsig.TargetURI(scheme, host, target)
	if err != nil {
		return "", fmt.Errorf("URL %q: %s", raw, msgsigText(err))
	}
	return uri, nil
}

// parseField parses a --header value, 'Name: value', as curl's -H does:
// the value without surrounding spaces and tabs.
func parseField(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || !isToken(name) {
		return "", "", fmt.Errorf("--header %q: want 'Name: value'", s)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return "", "", fmt.Errorf("--header %s: a line break or NUL cannot be sent in a header", name)
	}
	return http.CanonicalHeaderKey(name), strings.Trim(value, " \t"), nil
}

// isToken reports whether s is an RFC 9110 token: a valid method or
// header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// bodyFlags are --data and --data-file.
type bodyFlags struct {
	data    string
	dataSet bool // --data '' is an empty body, not none
	file    string
}

func (b *bodyFlags) register(fs *flag.FlagSet) {
	fs.Func("data", "", func(s string) error { b.data, b.dataSet = s, true; return nil })
	fs.StringVar(&b.file, "data-file", "", "")
}

func (b *bodyFlags) given() bool { return b.dataSet || b.file != "" }

// read returns the body and whether there is one.
func (b *bodyFlags) read() ([]byte, bool, error) {
	switch {
	case b.dataSet && b.file != "":
		return nil, false, errors.New("use --data or --data-file, not both")
	case b.dataSet:
		return []byte(b.data), true, nil
	case b.file != "":
		data, err := os.ReadFile(b.file)
		if err != nil {
			return nil, false, fmt.Errorf("--data-file %s: %s", b.file, config.ErrorText(err))
		}
		return data, true, nil
	}
	return nil, false, nil
}

// tokenHeaderFrom returns the header the token travels in: the flag, else
// APPROOV_TOKEN_HEADER as serve reads it, else Approov-Token.
func tokenHeaderFrom(flagValue string) (string, error) {
	name, from := flagValue, "--token-header"
	if name == "" {
		v, ok, err := config.OSSource(nil).Lookup("APPROOV_TOKEN_HEADER")
		if err != nil {
			return "", err
		}
		if !ok || v == "" {
			return approov.DefaultTokenHeader, nil
		}
		name, from = v, "APPROOV_TOKEN_HEADER"
	}
	if !isToken(name) {
		return "", fmt.Errorf("%s %q is not a valid header name", from, name)
	}
	return http.CanonicalHeaderKey(name), nil
}

// msgsigText returns the message of an error from msgsig as a command
// prints it: what was wrong, without the package's prefix.
func msgsigText(err error) string {
	var e *msgsig.Error
	if errors.As(err, &e) && e.Detail() != "" {
		return e.Detail()
	}
	msg := config.ErrorText(err)
	if rest, ok := strings.CutPrefix(msg, "msgsig: "); ok {
		return rest
	}
	return msg
}
