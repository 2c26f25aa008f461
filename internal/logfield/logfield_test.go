package logfield

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	short := strings.Repeat("a", Max)
	if got := Truncate(short); got != short {
		t.Fatalf("a field of Max bytes was changed: %q", got)
	}
	long := strings.Repeat("b", 30000)
	got := Truncate(long)
	if !strings.HasPrefix(got, strings.Repeat("b", Max)+"…[truncated, 30000 bytes]") || len(got) > Max+40 {
		t.Fatalf("Truncate(30000 bytes) = %q", got)
	}
	// A multi-byte character straddling the cut is not split.
	accents := strings.Repeat("é", Max)
	if got := Truncate(accents); !utf8.ValidString(got) || !strings.Contains(got, "[truncated, 512 bytes]") {
		t.Fatalf("Truncate split a character: %q", got)
	}
}

func TestPath(t *testing.T) {
	r := httptest.NewRequest("GET", "/caf%C3%A9/"+strings.Repeat("x", 1000)+"?approov_token=secret", nil)
	got := Path(r)
	if strings.Contains(got, "secret") || !strings.HasPrefix(got, "/caf%C3%A9/") || !strings.Contains(got, "truncated") {
		t.Fatalf("Path = %q", got)
	}
}
