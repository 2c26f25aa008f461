package approovtest_test

import (
	"fmt"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

func ExampleSigner_Sign() {
	secret := []byte("example secret: 64 bytes long, as Approov account secrets are...")
	s := approovtest.MustSigner(approov.HS256, secret, "")
	token, err := s.Sign(map[string]any{
		"exp": time.Unix(4708683205, 891912000),
		"did": "ExampleApproovTokenDID==",
		"pay": approov.PayloadHash("Bearer abc"),
	})
	if err != nil {
		panic(err)
	}
	v, _ := approov.NewVerifier(approov.WithSecret(secret))
	claims, err := v.Verify(token)
	fmt.Println(err, claims.DeviceID, claims.RawJSON())
	// Output:
	// <nil> ExampleApproovTokenDID== {"did":"ExampleApproovTokenDID==","exp":4708683205.891912,"pay":"w1Xc6WwWEogNEZQP/dkBTThsJT4MNlKmzQanIm970rY="}
}

func ExampleNumericDate() {
	fmt.Println(approovtest.NumericDate(time.Unix(1700000000, 0)))
	fmt.Println(approovtest.NumericDate(time.Unix(4708683205, 891912000)))
	fmt.Println(approovtest.NumericDate(time.Unix(0, -500_000_000)))
	// Output:
	// 1700000000
	// 4708683205.891912
	// -0.5
}
