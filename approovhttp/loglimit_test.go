package approovhttp

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
)

// A flood of rejections is logged up to the limit each second; the lines
// left out are counted in one line before the next one let through.
func TestLogLimiter(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	now := time.Unix(1_900_000_000, 0)
	limit := NewLogLimiter(3)
	limit.now = func() time.Time { return now }
	v, err := approov.NewVerifier(approov.WithSecret([]byte("log limiter test secret: 32 bytes or more of key")))
	if err != nil {
		t.Fatal(err)
	}
	h := New(v, WithLogger(log), WithLogLimiter(limit))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	send := func(n int) {
		for range n {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}
	}
	lines := func() []string {
		out := strings.Split(strings.TrimSpace(buf.String()), "\n")
		buf.Reset()
		return out
	}
	send(10)
	if got := lines(); len(got) != 3 || !strings.Contains(got[2], `"reason":"token_missing"`) {
		t.Fatalf("first second: %d lines: %q", len(got), got)
	}
	now = now.Add(time.Second)
	send(1)
	got := lines()
	if len(got) != 2 || !strings.Contains(got[0], `"msg":"rejections not logged (log_rejections_per_second)","count":7`) || !strings.Contains(got[1], "token_missing") {
		t.Fatalf("next second: %q", got)
	}
	if NewLogLimiter(0) != nil {
		t.Fatal("a limit of 0 must be no limiter")
	}
	var unlimited *LogLimiter
	for range 5 {
		if ok, _ := unlimited.Allow(); !ok {
			t.Fatal("a nil limiter refused a line")
		}
	}
}
