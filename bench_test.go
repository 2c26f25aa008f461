package approov_test

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/golang-jwt/jwt/v5"
)

// benchInputs are the tokens every benchmark runs on: an Approov-shaped
// token of about 250 characters, bound to an Authorization header.
type benchInputs struct {
	valid, badSig, garbage string
	header                 http.Header
}

const benchAuth = "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.user-session"

func newBenchInputs(tb testing.TB) benchInputs {
	claims := map[string]any{
		"exp": time.Unix(4708683205, 891912000),
		"ip":  "1.2.3.4",
		"did": "ExampleApproovTokenDID==",
		"pay": approov.PayloadHash(benchAuth),
	}
	valid := mustSign(tb, signer, claims)
	return benchInputs{
		valid:   valid,
		badSig:  mustSign(tb, otherSigner, claims),
		garbage: "this is not an approov token, just a string an attacker sends at the API",
		header:  http.Header{"Authorization": {benchAuth}, "Approov-Token": {valid}},
	}
}

func BenchmarkVerify(b *testing.B) {
	in := newBenchInputs(b)
	binding := mustBinding(b, []string{"Authorization"})
	v, err := approov.NewVerifier(approov.WithSecret(testSecret), approov.WithBinding(binding))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(in.valid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("valid+binding", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.VerifyRequest(in.header); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bad_signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(in.badSig); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	b.Run("garbage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(in.garbage); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// BenchmarkGolangJWT is the baseline: the same work with golang-jwt v5,
// configured as strictly as it allows.
func BenchmarkGolangJWT(b *testing.B) {
	in := newBenchInputs(b)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	keyFunc := func(*jwt.Token) (any, error) { return testSecret, nil }
	parse := func(token string) (jwt.MapClaims, error) {
		claims := jwt.MapClaims{}
		_, err := parser.ParseWithClaims(token, claims, keyFunc)
		return claims, err
	}
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parse(in.valid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("valid+binding", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			claims, err := parse(in.header.Get("Approov-Token"))
			if err != nil {
				b.Fatal(err)
			}
			if err := golangJWTBinding(claims, in.header.Get("Authorization")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bad_signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parse(in.badSig); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	b.Run("garbage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parse(in.garbage); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// golangJWTBinding is the binding check as the reference integrations write
// it next to a general-purpose JWT library.
func golangJWTBinding(claims jwt.MapClaims, value string) error {
	pay, ok := claims["pay"].(string)
	if !ok {
		return errors.New("no pay claim")
	}
	sum := sha256.Sum256([]byte(value))
	if subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(sum[:])), []byte(pay)) != 1 {
		return errors.New("binding mismatch")
	}
	return nil
}

// TestAllocations pins the allocation budget of the hot paths. Counts are
// deterministic, unlike times, so they are asserted here; times live in the
// benchmarks above.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; the plain test run checks them")
	}
	in := newBenchInputs(t)
	v, err := approov.NewVerifier(approov.WithSecret(testSecret), approov.WithBinding(mustBinding(t, []string{"Authorization"})))
	if err != nil {
		t.Fatal(err)
	}
	// The bench token expires in 2119, as the vendor's examples do.
	short, err := approov.NewVerifier(approov.WithSecret(testSecret), approov.WithMaxLifetime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		max  float64
		run  func()
	}{
		{"valid", 1, func() { _, _ = v.Verify(in.valid) }},
		{"valid+binding", 1, func() { _, _ = v.VerifyRequest(in.header) }},
		{"bad signature", 0, func() { _, _ = v.Verify(in.badSig) }},
		{"garbage", 0, func() { _, _ = v.Verify(in.garbage) }},
		{"empty", 0, func() { _, _ = v.Verify("") }},
		{"reason of a rejection", 0, func() { _, err := v.Verify(in.badSig); _ = approov.Reason(err) }},
		// Only signed tokens get this far, and their claims are decoded
		// before exp is read: the one allocation a valid token costs too.
		{"lifetime too long", 1, func() { _, _ = short.Verify(in.valid) }},
	} {
		// Warm the HMAC pool first: its first use allocates the state.
		tt.run()
		if got := testing.AllocsPerRun(200, tt.run); got > tt.max {
			t.Errorf("%s: %.1f allocations per run, budget %.0f", tt.name, got, tt.max)
		}
	}
}
