package jwks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/internal/jwks"
)

func ExampleSource() {
	// An account's JWK set: one P-256 key, and one RSA key without alg,
	// which cannot be pinned to one algorithm and is skipped.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"keys":[
			{"kty":"EC","crv":"P-256","kid":"key-2026",
			 "x":"gcfJ6BRw_2YyEt8tT6MKOW_AFtP9ftbLiNNfKvFR6wA","y":"GFMY9AoGYO4kBfkWJWd-tHTk8xOFiwLbjwdoa8L-udM"},
			{"kty":"RSA","kid":"legacy","n":"AQAB","e":"AQAB"}]}`)
	}))
	defer srv.Close()

	src, err := jwks.New(jwks.Options{URL: srv.URL, RefreshInterval: time.Hour, UnknownKidInterval: time.Minute, Timeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	// Verifiers use the set; src.Run(ctx) would keep it current.
	if _, err := approov.NewVerifier(approov.WithKeySet(src.Set())); err != nil {
		panic(err)
	}
	if err := src.Refresh(context.Background()); err != nil {
		panic(err)
	}
	st := src.Status()
	fmt.Println(st.Keys)
	for _, s := range st.Skipped {
		fmt.Println(s)
	}
	// Output:
	// [ES256 key "key-2026"]
	// keys[1] (kid "legacy"): no alg, and RSA keys admit more than one algorithm
}
