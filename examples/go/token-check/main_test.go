package main

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

func Example() {
	secret := []byte("example secret: 64 bytes long, as Approov account secrets are...")
	v, _ := approov.NewVerifier(approov.WithSecret(secret))
	h := newHandler(v, slog.New(slog.DiscardHandler))
	token, _ := approovtest.MustSigner(approov.HS256, secret, "").Sign(map[string]any{"exp": time.Now().Add(time.Minute)})
	for _, tok := range []string{token, ""} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Approov-Token", tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 {"message": "Hello, World!"}
	// 401 {}
}
