package msgsig_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/msgsig"
)

// The known-answer vectors of the issue, public, from the vendor's
// ASP.NET quickstart test scripts: not secrets.
const (
	// vectorSecret is the HMAC secret of the token, and the account key.
	vectorSecret = "TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA=="
	// vectorECKey is the installation's P-256 private key, SEC 1 DER.
	vectorECKey = "MHcCAQEEIHWZ2Ueq6odQNG+aaYmEbp7C6nujYNGr7nYKK2jqQ2asoAoGCCqGSM49AwEHoUQDQgAEJSm4DMcivAwvhM+KNce2C/X26cj3oGyUwWVUPuNuZHtd2qyVsM+0g7qX73Qh0Of6fn10AApLnl8vRQsvx94fZQ=="
	// vectorIPK is its public key, the token's ipk.
	vectorIPK = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJSm4DMcivAwvhM+KNce2C/X26cj3oGyUwWVUPuNuZHtd2qyVsM+0g7qX73Qh0Of6fn10AApLnl8vRQsvx94fZQ=="
	// vectorToken carries vectorIPK, HS256 with vectorSecret.
	vectorToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiZXhwIjoxOTk5OTk5OTk5LCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IkFwcHJvb3ZBY2NvdW50SUQuYXBwcm9vdi5pbyIsInN1YiI6ImFwcHJvb3Z8RXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwiaXAiOiIxLjIuMy40IiwiaXBrIjoiTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFSlNtNERNY2l2QXd2aE0rS05jZTJDL1gyNmNqM29HeVV3V1ZVUHVOdVpIdGQycXlWc00rMGc3cVg3M1FoME9mNmZuMTBBQXBMbmw4dlJRc3Z4OTRmWlE9PSIsImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.hV6xTkGsp9uWwrD-yKkIGTBJawbofJEsuRLw9Qa5YXY"
	// The signed request.
	vectorMethod    = "GET"
	vectorTarget    = "http://0.0.0.0:8111/token?param1=value1&param2=value2"
	vectorInput     = `install=("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256";created=1744292750;expires=1999999999`
	vectorSignature = `install=:eqCroJn6E04gnRx5vftlLHY0qLeaTpEYv+U0VJkdzJUDvxekODhb+L/2z89Lrk0L42p/0jQzhAhMHxFYVWWs7g==:`
	// vectorBaseDigest is the SHA-256 of the signature base, base64.
	vectorBaseDigest = "6K4F6LGF+NhHQy7YLLiIgNcBFthYfn4xbqoLoLW1GY4="
	// vectorCreated is the signature's created.
	vectorCreated = 1744292750
)

var (
	// now is the clock of the tests: ten seconds after the vector's
	// signature was made.
	now   = time.Unix(vectorCreated+10, 0)
	clock = func() time.Time { return now }

	accountSecret = mustDecode(vectorSecret)
	installKey    = mustECKey(vectorECKey)
	// otherKey is a second installation key, for forgeries.
	otherKey = mustECKey("MHcCAQEEINxAkNX4B8kmbxmQGYZ9ZG0p9QJGfTVZu3zAvDFV4yh/oAoGCCqGSM49AwEHoUQDQgAEX/FTUFHLyB7atfi4K27Lj/dn3TGudZVcSrYytOn1NLo1KkQgBX5TVKhBF0qVLlGA3biszbOIjzIGTvZfpSERfA==")
)

const (
	// accountKeyID is the mskid of the tests' tokens.
	accountKeyID = "account-key-1"
	// authorization is a user's credentials, bound by some routes.
	authorization = "Bearer alice"
)

func mustDecode(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func mustECKey(s string) *ecdsa.PrivateKey {
	k, err := x509.ParseECPrivateKey(mustDecode(s))
	if err != nil {
		panic(err)
	}
	return k
}

// ipkOf returns the ipk claim of key's public half.
func ipkOf(key *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// tokenFor returns a token with the claims given beside exp and aud, and
// its claims as approov.Verifier verifies them: the claims msgsig is
// given in production.
func tokenFor(tb testing.TB, extra map[string]any) (string, *approov.Claims) {
	tb.Helper()
	claims := map[string]any{"exp": now.Add(time.Hour), "aud": "approov.io", "did": "ExampleApproovTokenDID=="}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := approovtest.MustSigner(approov.HS256, accountSecret, "").Sign(claims)
	if err != nil {
		tb.Fatal(err)
	}
	return tok, verifyToken(tb, tok)
}

// verifyToken verifies tok as the gateway does before msgsig runs.
func verifyToken(tb testing.TB, tok string) *approov.Claims {
	tb.Helper()
	v, err := approov.NewVerifier(approov.WithBase64Secret(vectorSecret), approov.WithAudience("approov.io"), approov.WithClock(clock))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := v.Verify(tok)
	if err != nil {
		tb.Fatal(err)
	}
	return &c
}

func newVerifier(tb testing.TB, opts ...msgsig.VerifierOption) *msgsig.Verifier {
	tb.Helper()
	base := []msgsig.VerifierOption{msgsig.WithClock(clock), msgsig.WithAccountKey(accountSecret), msgsig.WithAccountKeyID(accountKeyID)}
	v, err := msgsig.NewVerifier(append(base, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func installSigner(tb testing.TB, opts ...msgsig.SignerOption) *msgsig.Signer {
	tb.Helper()
	s, err := msgsig.NewInstallSigner(installKey, append([]msgsig.SignerOption{msgsig.WithClock(clock)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func accountSigner(tb testing.TB, opts ...msgsig.SignerOption) *msgsig.Signer {
	tb.Helper()
	s, err := msgsig.NewAccountSigner(accountSecret, append([]msgsig.SignerOption{msgsig.WithClock(clock)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// newRequest returns a request for method and target with the token and
// header pairs given.
func newRequest(method, target, token string, pairs ...string) *msgsig.Request {
	h := http.Header{"Approov-Token": {token}}
	for i := 0; i < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return &msgsig.Request{Method: method, TargetURI: target, Header: h}
}

// sign signs r with s over components (nil: the default set) and adds the
// signature to r.
func sign(tb testing.TB, s *msgsig.Signer, r *msgsig.Request, components []string) *msgsig.Signature {
	tb.Helper()
	sig, err := s.Sign(r, components)
	if err != nil {
		tb.Fatal(err)
	}
	sig.AddTo(r.Header)
	return sig
}

// vectorRequest is the signed request.
func vectorRequest() *msgsig.Request {
	return newRequest(vectorMethod, vectorTarget, vectorToken, "Signature-Input", vectorInput, "Signature", vectorSignature)
}

var errTest = errors.New("not from msgsig")

func asError(err error, target **msgsig.Error) bool { return errors.As(err, target) }

func wrap(err error) error { return fmt.Errorf("wrapped: %w", err) }
