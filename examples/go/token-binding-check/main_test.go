package main

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
)

func Example() {
	secret := []byte("example secret: 64 bytes long, as Approov account secrets are...")
	binding, _ := approov.NewBinding([]string{"Authorization"})
	v, _ := approov.NewVerifier(approov.WithSecret(secret), approov.WithBinding(binding))
	h := newHandler(v, slog.New(slog.DiscardHandler))
	token, _ := approovtest.MustSigner(approov.HS256, secret, "").Sign(map[string]any{
		"exp": time.Now().Add(time.Minute), "did": "device-1", "pay": approov.PayloadHash("Bearer alice"),
	})
	for _, auth := range []string{"Bearer alice", "Bearer mallory"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Approov-Token", token)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(auth, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// Bearer alice 200 {"device_id":"device-1","message":"Hello, World!"}
	// Bearer mallory 401 {}
}
