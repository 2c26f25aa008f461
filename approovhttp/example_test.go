package approovhttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/approovtest"
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
