package approov_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
)

// TestPyJWTVectors checks known-answer tokens signed by PyJWT, an
// implementation independent of approovtest (testdata/gen_pyjwt_vectors.py
// made them), against the verdicts they must get.
func TestPyJWTVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/pyjwt_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Name, Token, Authorization, Reason string
	}
	if err := json.Unmarshal(data, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 20 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	secret := []byte("vector secret: 64 bytes, signed by PyJWT, checked by approov.go.")
	now := time.Unix(1_900_000_000, 0)
	binding := mustBinding(t, []string{"Authorization"})
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			opts := []approov.Option{approov.WithSecret(secret), approov.WithClock(func() time.Time { return now })}
			if v.Authorization != "" {
				opts = append(opts, approov.WithBinding(binding))
			}
			verifier, err := approov.NewVerifier(opts...)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"Approov-Token": {v.Token}}
			if v.Authorization != "" {
				h.Set("Authorization", v.Authorization)
			}
			_, err = verifier.VerifyRequest(h)
			if got := approov.Reason(err); got != v.Reason {
				t.Fatalf("reason %q (%v), want %q", got, err, v.Reason)
			}
		})
	}
}
