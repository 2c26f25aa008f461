package config

import (
	"errors"
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// Upstream is a backend address as the gateway dials it.
type Upstream struct {
	// Network and Address are what to dial: "tcp" and host:port, or
	// "unix" and a socket path.
	Network, Address string
	// URL is the base URL requests are sent to: as configured for http
	// and https, http://localhost for a Unix socket, whose requests carry
	// Host: localhost unless preserve_host is set.
	URL *url.URL
}

// UnixPrefix starts an upstream that is a Unix domain socket, such as
// unix:/run/gunicorn.sock.
const UnixPrefix = "unix:"

// ParseUpstream reads an upstream setting: an http:// or https:// base
// URL, or unix: and the absolute path of a socket.
func ParseUpstream(raw string) (Upstream, error) {
	if path, ok := strings.CutPrefix(raw, UnixPrefix); ok {
		if !filepath.IsAbs(path) || filepath.Clean(path) != path {
			return Upstream{}, errors.New("want unix: and the absolute path of a socket, such as unix:/run/gunicorn.sock")
		}
		return Upstream{Network: "unix", Address: path, URL: &url.URL{Scheme: "http", Host: "localhost"}}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return Upstream{}, errors.New("want an http:// or https:// URL, such as http://127.0.0.1:8000, or unix:/path/to.sock")
	}
	if u.Host == "" {
		return Upstream{}, errors.New("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Upstream{}, errors.New("want a base URL without query, fragment or credentials")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return Upstream{Network: "tcp", Address: net.JoinHostPort(u.Hostname(), port), URL: u}, nil
}

// String is the upstream as configured, without credentials, for logs and
// metric labels.
func (u Upstream) String() string {
	if u.Network == "unix" {
		return UnixPrefix + u.Address
	}
	return u.URL.Redacted()
}
