package gateway

import (
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
