package main

import (
	"strings"
	"testing"
)

func TestProxyBlock(t *testing.T) {
	// Both nginx rows pool upstream connections: without all three lines,
	// nginx dials the backend per request and the floor is not one.
	pooled := []string{"keepalive 64;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`, "listen 127.0.0.1:2;", "server 127.0.0.1:1;"}
	plain := proxyBlock("127.0.0.1:1", "127.0.0.1:2", "")
	njs := proxyBlock("127.0.0.1:1", "127.0.0.1:2", "/tmp/js")
	for _, line := range pooled {
		if !strings.Contains(plain, line) || !strings.Contains(njs, line) {
			t.Errorf("%q missing:\n%s\n%s", line, plain, njs)
		}
	}
	if strings.Contains(plain, "js_") || strings.Contains(plain, "approov") {
		t.Errorf("the floor checks tokens:\n%s", plain)
	}
	// The check comes before the request goes upstream.
	check, pass := strings.Index(njs, "if ($approov_ok != 1)"), strings.Index(njs, "proxy_pass")
	if check < 0 || pass < check || !strings.Contains(njs, "js_path /tmp/js;") {
		t.Errorf("njs block does not check first:\n%s", njs)
	}
	if !strings.HasPrefix(njsMain, "load_module "+njsModule+";") {
		t.Errorf("njs main lines: %q", njsMain)
	}
}
