package approov_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/golang-jwt/jwt/v5"
)

// fuzzNow is the fixed clock of the fuzz targets; tokens in the seeds are
// made around it.
var fuzzNow = time.Unix(1_900_000_000, 0)

func fuzzSeeds(tb testing.TB, n int) []genToken {
	g := &tokenGen{r: rand.New(rand.NewSource(1)), now: fuzzNow}
	return g.tokens(tb, n)
}

// FuzzVerify feeds arbitrary strings to Verify. Properties: it never
// panics; whatever it accepts carries an HMAC-SHA256 of its signing input
// under the configured secret, recomputed here with crypto/hmac alone; and
// golang-jwt accepts it too. What golang-jwt accepts and Verify rejects must
// be a documented stricter rule.
func FuzzVerify(f *testing.F) {
	for _, tok := range fuzzSeeds(f, 300) {
		f.Add(tok.token)
	}
	f.Add("")
	f.Add("NO_NETWORK")
	f.Add("a.b.c")
	v, err := approov.NewVerifier(approov.WithSecret(testSecret), approov.WithClock(func() time.Time { return fuzzNow }))
	if err != nil {
		f.Fatal(err)
	}
	oracle := golangJWT(fuzzNow)
	f.Fuzz(func(t *testing.T, token string) {
		_, err := v.Verify(token)
		theirs := oracle(token)
		if err != nil {
			if approov.Reason(err) == approov.ReasonOther {
				t.Fatalf("error without a reason code: %v", err)
			}
			if theirs == nil && documentedStricter(err, decodedParts(token)) == "" {
				t.Fatalf("rejected (%v) what golang-jwt accepts: %q", err, token)
			}
			return
		}
		if theirs != nil {
			t.Fatalf("accepted what golang-jwt rejects (%v): %q", theirs, token)
		}
		dot := strings.LastIndexByte(token, '.')
		sig, decErr := base64.RawURLEncoding.Strict().DecodeString(token[dot+1:])
		mac := hmac.New(sha256.New, testSecret)
		mac.Write([]byte(token[:dot]))
		if decErr != nil || !hmac.Equal(sig, mac.Sum(nil)) {
			t.Fatalf("accepted a token not signed with the configured secret: %q", token)
		}
	})
}

// FuzzVerifySigned signs arbitrary header and claims bytes with the
// configured secret, so that the fuzzer explores the claim rules rather than
// the signature. Properties: never panics; agrees with golang-jwt in both
// directions but for documented stricter rules; and what it accepts, it
// reads as golang-jwt does.
func FuzzVerifySigned(f *testing.F) {
	for _, tok := range fuzzSeeds(f, 300) {
		parts := strings.Split(tok.token, ".")
		if len(parts) < 2 {
			continue
		}
		h, err1 := base64.RawURLEncoding.DecodeString(parts[0])
		c, err2 := base64.RawURLEncoding.DecodeString(parts[1])
		if err1 == nil && err2 == nil {
			f.Add(string(h), string(c))
		}
	}
	v, err := approov.NewVerifier(approov.WithSecret(testSecret), approov.WithClock(func() time.Time { return fuzzNow }))
	if err != nil {
		f.Fatal(err)
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithStrictDecoding(), jwt.WithTimeFunc(func() time.Time { return fuzzNow }))
	f.Fuzz(func(t *testing.T, header, claims string) {
		token := mustSignJSON(t, signer, header, claims)
		ours, err := v.Verify(token)
		theirs := jwt.MapClaims{}
		_, theirErr := parser.ParseWithClaims(token, theirs, func(*jwt.Token) (any, error) { return testSecret, nil })
		switch {
		case err != nil && theirErr == nil:
			if documentedStricter(err, header+" . "+claims) == "" && !subSecond(theirs) {
				t.Fatalf("rejected (%v) what golang-jwt accepts: %s . %s", err, header, claims)
			}
		case err == nil && theirErr != nil:
			if !subSecond(theirs) {
				t.Fatalf("accepted what golang-jwt rejects (%v): %s . %s", theirErr, header, claims)
			}
		case err == nil:
			exp, _ := theirs["exp"].(float64)
			got := float64(ours.Expiry.Unix()) + float64(ours.Expiry.Nanosecond())/1e9
			if math.Abs(got-exp) > 1e-3*math.Max(1, math.Abs(exp)/1e9) {
				t.Fatalf("exp read as %v, golang-jwt reads %v", ours.Expiry, exp)
			}
			for name, got := range map[string]string{"did": ours.DeviceID, "ip": ours.IP, "pay": ours.PayloadHash, "iss": ours.Issuer} {
				if want, _ := theirs[name].(string); got != want {
					t.Fatalf("%s read as %q, golang-jwt reads %q", name, got, want)
				}
			}
		}
	})
}

// subSecond reports whether a time claim lies within a second of the fuzz
// clock, where golang-jwt's rounding to whole seconds decides differently.
func subSecond(claims jwt.MapClaims) bool {
	for _, name := range []string{"exp", "nbf", "iat"} {
		if f, ok := claims[name].(float64); ok && math.Abs(f-float64(fuzzNow.Unix())) < 1 {
			return true
		}
	}
	return false
}

// FuzzBinding checks the binding rules on arbitrary header values: the
// token bound to a value verifies with exactly that value, in any spelling
// of the pay claim, and not with a different one.
func FuzzBinding(f *testing.F) {
	f.Add("Bearer abc", "Bearer abd")
	f.Add("", "x")
	f.Add("Basic dXNlcjpwYXNz", "Basic dXNlcjpwYXNz ")
	binding := mustBinding(f, []string{"Authorization"})
	v, err := approov.NewVerifier(approov.WithSecret(testSecret), approov.WithBinding(binding), approov.WithClock(func() time.Time { return fuzzNow }))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, bound, sent string) {
		sum := sha256.Sum256([]byte(bound))
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			tok := mustSign(t, signer, map[string]any{"exp": fuzzNow.Add(time.Hour), "pay": enc.EncodeToString(sum[:])})
			h := http.Header{"Approov-Token": {tok}, "Authorization": {sent}}
			_, err := v.VerifyRequest(h)
			switch {
			case strings.TrimSpace(sent) == "":
				if approov.Reason(err) != "binding_header_missing" {
					t.Fatalf("empty header %q: %v", sent, err)
				}
			case sent == bound:
				if err != nil {
					t.Fatalf("bound %q, sent the same: %v", bound, err)
				}
			default:
				if approov.Reason(err) != "binding_mismatch" {
					t.Fatalf("bound %q, sent %q: %v", bound, sent, err)
				}
			}
		}
	})
}
