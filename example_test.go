package approov_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

// The secret an API backend gets from Approov, base64-encoded as in
// APPROOV_BASE64_SECRET. A real one comes from `approov secret -get base64`.
var exampleSecret = base64.StdEncoding.EncodeToString([]byte("example secret: 64 bytes long, as Approov account secrets are..."))

// exampleNow is the fixed time the examples run at, so their output is
// stable.
var exampleNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func exampleToken(claims map[string]any) string {
	secret, _ := approov.DecodeSecret(exampleSecret)
	token, err := approovtest.MustSigner(approov.HS256, secret, "").Sign(claims)
	if err != nil {
		panic(err)
	}
	return token
}

func Example() {
	v, err := approov.NewVerifier(
		approov.WithBase64Secret(exampleSecret),
		approov.WithClock(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}

	token := exampleToken(map[string]any{"exp": exampleNow.Add(time.Minute), "did": "ExampleApproovTokenDID=="})
	claims, err := v.Verify(token)
	fmt.Println(approov.Reason(err), claims.DeviceID, claims.Expiry.UTC().Format(time.RFC3339))

	expired := exampleToken(map[string]any{"exp": exampleNow.Add(-time.Minute)})
	_, err = v.Verify(expired)
	fmt.Println(approov.Reason(err), errors.Is(err, approov.ErrExpired))
	// Output:
	// ok ExampleApproovTokenDID== 2026-11-29T12:01:00Z
	// token_expired true
}

func ExampleVerifier_VerifyRequest() {
	binding, err := approov.NewBinding([]string{"Authorization"})
	if err != nil {
		panic(err)
	}
	v, err := approov.NewVerifier(
		approov.WithBase64Secret(exampleSecret),
		approov.WithBinding(binding),
		approov.WithClock(func() time.Time { return exampleNow }),
	)
	if err != nil {
		panic(err)
	}
	token := exampleToken(map[string]any{
		"exp": exampleNow.Add(time.Minute),
		"pay": approov.PayloadHash("Bearer user-1-session"),
	})

	for _, auth := range []string{"Bearer user-1-session", "Bearer user-2-session"} {
		h := http.Header{"Approov-Token": {token}, "Authorization": {auth}}
		_, err := v.VerifyRequest(h)
		fmt.Printf("%s: %s\n", auth, approov.Reason(err))
	}
	_, err = v.VerifyRequest(http.Header{"Authorization": {"Bearer user-1-session"}})
	fmt.Println("no token:", approov.Reason(err))
	// Output:
	// Bearer user-1-session: ok
	// Bearer user-2-session: binding_mismatch
	// no token: token_missing
}

func ExamplePayloadHash() {
	// The pay claim an app bound to this Authorization header sends.
	fmt.Println(approov.PayloadHash("Bearer abc"))
	// Output:
	// w1Xc6WwWEogNEZQP/dkBTThsJT4MNlKmzQanIm970rY=
}

func ExampleReason() {
	v, _ := approov.NewVerifier(approov.WithBase64Secret(exampleSecret))
	for _, token := range []string{"", "NO_NETWORK", "garbage", "eyJhbGciOiJub25lIn0.e30.c2ln"} {
		_, err := v.Verify(token)
		fmt.Printf("%q: %s\n", token, approov.Reason(err))
	}
	// Output:
	// "": token_missing
	// "NO_NETWORK": token_status
	// "garbage": token_malformed
	// "eyJhbGciOiJub25lIn0.e30.c2ln": token_algorithm
}

func ExampleParsePublicKey() {
	// An account that signs with ES256 hands over a PEM public key.
	pemKey := []byte(`-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgcfJ6BRw/2YyEt8tT6MKOW/AFtP9
ftbLiNNfKvFR6wAYUxj0CgZg7iQF+RYlZ360dOTzE4WLAtuPB2hrwv650w==
-----END PUBLIC KEY-----
`)
	key, err := approov.ParsePublicKey("key-2026", pemKey)
	if err != nil {
		panic(err)
	}
	fmt.Println(key, key.Algorithm())
	// Output:
	// ES256 key "key-2026" ES256
}

func ExampleKeySet() {
	// A key set holds the keys an account publishes (a JWK set); whatever
	// fetches them replaces the set's keys as the account rotates them.
	set := approov.NewKeySet(func(kid string) bool {
		// A token names a key the set does not have yet: a fetcher would
		// refresh here, rate-limited, and report whether it did.
		fmt.Println("unknown kid", kid)
		return false
	})
	pemKey := []byte(`-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgcfJ6BRw/2YyEt8tT6MKOW/AFtP9
ftbLiNNfKvFR6wAYUxj0CgZg7iQF+RYlZ360dOTzE4WLAtuPB2hrwv650w==
-----END PUBLIC KEY-----
`)
	key, err := approov.ParsePublicKey("key-2026", pemKey)
	if err != nil {
		panic(err)
	}
	if err := set.Replace([]*approov.Key{key}); err != nil {
		panic(err)
	}
	v, err := approov.NewVerifier(approov.WithKeySet(set))
	if err != nil {
		panic(err)
	}
	// A token signed with a key the set lacks.
	_, err = v.Verify("eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0yMDI3In0.e30." + strings.Repeat("A", 86))
	fmt.Println(approov.Reason(err))
	// Output:
	// unknown kid key-2027
	// token_unknown_key
}
