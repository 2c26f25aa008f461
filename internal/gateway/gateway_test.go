package gateway

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/approov-gateway/approov/internal/config"
)

func TestStripReserved(t *testing.T) {
	st := &state{cfg: config.Defaults(), reservedPrefix: "approov-", tokenHeader: "Approov-Token"}
	h := http.Header{
		"Approov-Device-Id":   {"forged"},
		"Approov_device_id":   {"forged"},
		"APPROOV_RESULT":      {"forged"},
		"Approov-Token":       {"t"},
		"Approovx-Other":      {"kept"},
		"Authorization":       {"kept"},
		"X-Approov-Device-Id": {"kept"},
	}
	st.stripReserved(h)
	want := []string{"Approovx-Other", "Authorization", "X-Approov-Device-Id"}
	var got []string
	for k := range h {
		got = append(got, k)
	}
	if len(got) != len(want) {
		t.Fatalf("left %v, want %v", got, want)
	}
	for _, k := range want {
		if _, ok := h[k]; !ok {
			t.Errorf("removed %s", k)
		}
	}
}

func TestIsTrusted(t *testing.T) {
	st := &state{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for addr, want := range map[string]bool{"10.1.2.3:5000": true, "[::1]:80": true, "11.0.0.1:1": false, "[::ffff:10.0.0.1]:1": true, "garbage": false} {
		if got := st.isTrusted(addr); got != want {
			t.Errorf("isTrusted(%q) = %v", addr, got)
		}
	}
}

func TestValidHeaderValue(t *testing.T) {
	for v, want := range map[string]bool{"device-1": true, "a\tb": true, "a\r\nb": false, "a\x00": false, "a\x7f": false, "é": true} {
		if got := validHeaderValue(v); got != want {
			t.Errorf("validHeaderValue(%q) = %v", v, got)
		}
	}
}
