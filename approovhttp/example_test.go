package approovhttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/assertion"
)

func ExampleNew() {
	secret := []byte("example secret: 64 bytes long, as Approov account secrets are...")
	v, err := approov.NewVerifier(approov.WithSecret(secret))
	if err != nil {
		panic(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := approovhttp.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, `{"message": "Hello, %s!"}`, claims.DeviceID)
	})
	handler := approovhttp.New(v)(hello)

	token, _ := approovtest.MustSigner(approov.HS256, secret, "").Sign(map[string]any{
		"exp": time.Now().Add(time.Minute), "did": "device-1",
	})
	for _, tok := range []string{token, "forged"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Approov-Token", tok)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 {"message": "Hello, device-1!"}
	// 401 {}
}

func ExampleWithBinding() {
	secret := []byte("example secret: 64 bytes long, as Approov account secrets are...")
	v, _ := approov.NewVerifier(approov.WithSecret(secret))
	binding, _ := approov.NewBinding([]string{"Authorization"})
	// Only this handler requires tokens bound to the Authorization header.
	handler := approovhttp.New(v, approovhttp.WithBinding(binding))(http.NotFoundHandler())

	token, _ := approovtest.MustSigner(approov.HS256, secret, "").Sign(map[string]any{
		"exp": time.Now().Add(time.Minute), "pay": approov.PayloadHash("Bearer alice"),
	})
	for _, auth := range []string{"Bearer alice", "Bearer mallory"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Approov-Token", token)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(auth, rec.Code)
	}
	// Output:
	// Bearer alice 404
	// Bearer mallory 401
}

func ExampleBehindGateway() {
	// The same APPROOV_ASSERTION_SECRET as the gateway's assertion_secret.
	// This key is base64 of "example only: not a real assertion key".
	keys, err := assertion.ParseKeys("ZXhhbXBsZSBvbmx5OiBub3QgYSByZWFsIGFzc2VydGlvbiBrZXk=")
	if err != nil {
		panic(err)
	}
	v, _ := assertion.NewVerifier(keys)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The same accessor as behind approovhttp.New.
		claims, _ := approovhttp.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, `{"message": "Hello, %s!"}`, claims.DeviceID)
	})
	handler := approovhttp.BehindGateway(v)(hello)

	// What the gateway sends for GET /hello, after checking the token.
	signer, _ := assertion.NewSigner(keys)
	fromGateway, _ := signer.Sign(&assertion.Claims{ID: assertion.NewID(), Result: assertion.ResultOK,
		DeviceID: "device-1", Method: "GET", Host: "api.internal", Target: "/hello"})

	for _, target := range []string{"/hello", "/admin"} {
		req := httptest.NewRequest("GET", target, nil)
		req.Host = "api.internal"
		req.Header.Set("Approov-Assertion", fromGateway)
		req.Header.Set("Approov-Device-Id", "forged, and never read")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(target, rec.Code, rec.Body.String())
	}
	// Output:
	// /hello 200 {"message": "Hello, device-1!"}
	// /admin 401 {}
}
