package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRejectBadToken is the cost of turning away a request with a bad
// signature, the common answer to a flood, through the whole handler.
func BenchmarkRejectBadToken(b *testing.B) {
	tg := newTestGateway(b, "")
	bad := token(b, nil)
	bad = bad[:len(bad)-2] + "AA"
	req := httptest.NewRequest("GET", "/api/items?page=2", nil)
	req.Header.Set("Approov-Token", bad)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		tg.ServeHTTP(rec, req)
		if rec.Code != 401 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkProxyValid is the cost of a valid request proxied to a trivial
// backend over loopback, through the whole handler and the fast upstream
// client (the backend, in this process, is counted too).
func BenchmarkProxyValid(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"message": "Hello, World!"}`)
	}))
	defer up.Close()
	tg := newTestGateway(b, "upstream: "+up.URL+"\n")
	// A context that can end, as every request net/http's server serves
	// has: the fast proxy leaves requests without one to ReverseProxy.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/items?page=2", nil)
	req.Header.Set("Approov-Token", token(b, nil))
	req.RemoteAddr = "192.0.2.1:1234"
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		tg.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
