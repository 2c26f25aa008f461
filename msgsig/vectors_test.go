package msgsig_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/approov-gateway/approov/msgsig"
)

// TestVector verifies the known-answer request: its token, with
// the real token verifier, then its install signature, with the clock set
// just after the signature's created.
func TestVector(t *testing.T) {
	claims := verifyToken(t, vectorToken)
	if claims.InstallationPublicKey != vectorIPK {
		t.Fatalf("ipk %q, want %q", claims.InstallationPublicKey, vectorIPK)
	}
	if got := ipkOf(installKey); got != vectorIPK {
		t.Fatalf("the vector key's public half is %q, the token's ipk %q", got, vectorIPK)
	}
	r := vectorRequest()

	ex, err := msgsig.Explain(r)
	if err != nil || len(ex) != 1 || ex[0].Err != nil {
		t.Fatalf("Explain: %v %+v", err, ex)
	}
	const wantBase = `"@method": GET
"@target-uri": http://0.0.0.0:8111/token?param1=value1&param2=value2
"approov-token": ` + vectorToken + `
"@signature-params": ("@method" "@target-uri" "approov-token");alg="ecdsa-p256-sha256";created=1744292750;expires=1999999999`
	if ex[0].Base != wantBase {
		t.Errorf("base:\n%s\nwant:\n%s", ex[0].Base, wantBase)
	}
	sum := sha256.Sum256([]byte(ex[0].Base))
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != vectorBaseDigest || ex[0].Digest != vectorBaseDigest {
		t.Errorf("base digest %s (Explain says %s), want %s", got, ex[0].Digest, vectorBaseDigest)
	}

	res, err := newVerifier(t).Verify(claims, r)
	if err != nil {
		t.Fatalf("the vector does not verify: %v", err)
	}
	if !res.Install || res.Account || res.Digest != nil {
		t.Errorf("result %+v", res)
	}

	// The same signature in the string form.
	r.Header.Set("Signature", `install="eqCroJn6E04gnRx5vftlLHY0qLeaTpEYv+U0VJkdzJUDvxekODhb+L/2z89Lrk0L42p/0jQzhAhMHxFYVWWs7g=="`)
	if _, err := newVerifier(t).Verify(claims, r); err != nil {
		t.Fatalf("the vector in string form does not verify: %v", err)
	}
}
