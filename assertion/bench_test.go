package assertion_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov/assertion"
)

// benchClaims are what the gateway signs for a typical bound API call.
func benchClaims() *assertion.Claims {
	h := http.Header{"Authorization": {"Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.user-session"}}
	bound := []string{"authorization"}
	return &assertion.Claims{
		ID: "3q2-7wAAAAAAAAAAAAAAAA", Result: "ok", DeviceID: "ExampleApproovTokenDID==",
		TokenExpiry: now.Add(5 * time.Minute), Forwarded: assertion.Forwarded{IP: "1.2.3.4"},
		Method: "GET", Host: "api.example.com", Target: "/v1/orders/1234?expand=items&page=2",
		BoundHeaders: bound, BindingHash: assertion.BindingHash(h, bound),
	}
}

func BenchmarkSign(b *testing.B) {
	s := newSigner(b, []*assertion.Key{key1})
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := newSigner(b, []*assertion.Key{key1})
	v := newVerifier(b, []*assertion.Key{key1})
	valid := sign(b, s, benchClaims())
	forged := sign(b, newSigner(b, []*assertion.Key{mustKey(secret2), key1}), benchClaims())
	forged = forged[:len(forged)-4] + "AAAA"
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(valid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("forged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(forged); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

func BenchmarkBindingHash(b *testing.B) {
	h := http.Header{"Authorization": {"Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.user-session"}}
	names := []string{"authorization"}
	b.ReportAllocs()
	for b.Loop() {
		assertion.BindingHash(h, names)
	}
}

// TestAllocations pins the allocation counts the benchmarks report, so
// that a change that adds one to the gateway's path fails a test.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Log("the race detector changes allocation counts; checking behaviour only")
	}
	s := newSigner(t, []*assertion.Key{key1})
	v := newVerifier(t, []*assertion.Key{key1})
	c := benchClaims()
	valid := sign(t, s, c)
	h, bound := http.Header{"Authorization": {"Bearer a"}}, []string{"authorization"}
	forged := forge(secret2, header(key1.ID()), baseClaims)
	largeForged := forge(secret2, header(key1.ID()), withClaim(`"htu":"/v1/orders?id=7"`, `"htu":"/`+strings.Repeat("a", 10000)+`"`))
	tests := []struct {
		name string
		max  float64
		run  func()
	}{
		{"Sign", 1, func() { _, _ = s.Sign(c) }},
		{"BindingHash", 1, func() { assertion.BindingHash(h, bound) }},
		{"Verify, valid", 2, func() { _, _ = v.Verify(valid) }},
		{"Verify, forged", 0, func() { _, _ = v.Verify(forged) }},
		{"Verify, garbage", 0, func() { _, _ = v.Verify("not.an.assertion-at-all") }},
		{"Verify, forged, large claims", 0, func() { _, _ = v.Verify(largeForged) }},
	}
	for _, tc := range tests {
		got := testing.AllocsPerRun(100, tc.run)
		if !raceEnabled && got > tc.max {
			t.Errorf("%s: %v allocations, want at most %v", tc.name, got, tc.max)
		}
	}
}
