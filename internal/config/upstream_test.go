package config

import (
	"strings"
	"testing"
)

func TestParseUpstream(t *testing.T) {
	for _, tt := range []struct {
		raw, network, address, url, str, err string
	}{
		{raw: "http://127.0.0.1:8000", network: "tcp", address: "127.0.0.1:8000", url: "http://127.0.0.1:8000", str: "http://127.0.0.1:8000"},
		{raw: "http://backend/api", network: "tcp", address: "backend:80", url: "http://backend/api", str: "http://backend/api"},
		{raw: "https://[::1]", network: "tcp", address: "[::1]:443", url: "https://[::1]", str: "https://[::1]"},
		{raw: "unix:/run/gunicorn.sock", network: "unix", address: "/run/gunicorn.sock", url: "http://localhost", str: "unix:/run/gunicorn.sock"},
		{raw: "unix:run/gunicorn.sock", err: "absolute path"},
		{raw: "unix:/run/../gunicorn.sock", err: "absolute path"},
		{raw: "unix:", err: "absolute path"},
		{raw: "ftp://x", err: "want an http:// or https:// URL"},
		{raw: "http://", err: "no host"},
		{raw: "http://u:p@x", err: "without query, fragment or credentials"},
	} {
		u, err := ParseUpstream(tt.raw)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, want %q", tt.raw, err, tt.err)
			}
			continue
		}
		if err != nil || u.Network != tt.network || u.Address != tt.address || u.URL.String() != tt.url || u.String() != tt.str {
			t.Errorf("%s: %+v %v", tt.raw, u, err)
		}
	}
}
