package assertion_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/approov-gateway/approov/assertion"
)

func Example() {
	// One setting, APPROOV_ASSERTION_SECRET, on the gateway and the backend.
	// This key is base64 of "example only: not a real assertion key".
	keys, err := assertion.ParseKeys("ZXhhbXBsZSBvbmx5OiBub3QgYSByZWFsIGFzc2VydGlvbiBrZXk=")
	if err != nil {
		panic(err)
	}
	signer, _ := assertion.NewSigner(keys, assertion.WithAudience("orders-api"))
	verifier, _ := assertion.NewVerifier(keys, assertion.WithAudience("orders-api"))

	// The gateway has verified the token of GET /orders?page=2, bound to
	// Authorization, and forwards the request with an assertion.
	r := httptest.NewRequest("GET", "/orders?page=2", nil)
	r.Host = "orders.internal"
	r.Header.Set("Authorization", "Bearer alice")
	bound := []string{"Authorization"}
	token, err := signer.Sign(&assertion.Claims{
		ID:           assertion.NewID(),
		Result:       assertion.ResultOK,
		DeviceID:     "device-1",
		Method:       r.Method,
		Host:         r.Host,
		Target:       r.RequestURI,
		BoundHeaders: bound,
		BindingHash:  assertion.BindingHash(r.Header, bound),
	})
	if err != nil {
		panic(err)
	}
	r.Header.Set(assertion.DefaultHeader, token)

	// The backend checks it against the request it received.
	claims, err := verifier.VerifyRequest(r)
	fmt.Println(claims.Verified(), claims.DeviceID, assertion.Reason(err))

	// The same assertion on another request, or with another credential,
	// is refused.
	replay := httptest.NewRequest("DELETE", "/orders?page=2", nil)
	replay.Host = "orders.internal"
	replay.Header.Set(assertion.DefaultHeader, token)
	_, err = verifier.VerifyRequest(replay)
	fmt.Println(assertion.Reason(err))

	r.Header.Set("Authorization", "Bearer mallory")
	_, err = verifier.VerifyRequest(r)
	fmt.Println(assertion.Reason(err))
	// Output:
	// true device-1 ok
	// assertion_request_mismatch
	// assertion_binding_mismatch
}

func ExampleParseKeys() {
	// Rotation: the new key first, the old one after it. The first signs;
	// both verify.
	keys, err := assertion.ParseKeys("dGhlIG5ldyBrZXksIGZvciB0aGlzIGV4YW1wbGUgb25seQ==, dGhlIG9sZCBrZXksIGZvciB0aGlzIGV4YW1wbGUgb25seQ==")
	fmt.Println(len(keys), keys[0], err)

	// Errors name keys by position, never by value.
	_, err = assertion.ParseKeys("dGhlIG5ldyBrZXksIGZvciB0aGlzIGV4YW1wbGUgb25seQ==,c2hvcnQ=")
	fmt.Println(err)
	// Output:
	// 2 assertion key GNMBNxOnS24G <nil>
	// assertion: key 2 of 2: key is 5 bytes; at least 32 are required
}
