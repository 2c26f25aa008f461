package main

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/approov-gateway/approov/assertion"
)

func Example() {
	secret := base64.StdEncoding.EncodeToString([]byte("example assertion key: 40 bytes long...."))
	keys, _ := assertion.ParseKeys(secret)
	v, _ := assertion.NewVerifier(keys)
	h := newHandler(v, slog.New(slog.DiscardHandler))

	// What the gateway adds to a request it checked and forwards.
	signer, _ := assertion.NewSigner(keys)
	signed, _ := signer.Sign(&assertion.Claims{ID: assertion.NewID(), Result: assertion.ResultOK,
		DeviceID: "phone-1", TokenExpiry: time.Now().Add(time.Minute), Method: "GET", Host: "api.example.com", Target: "/"})

	for _, a := range []string{signed, ""} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = "api.example.com"
		req.Header.Set("Approov-Assertion", a)
		req.Header.Set("Approov-Device-Id", "forged") // unsigned facts are never read
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 {"device_id":"phone-1","message":"Hello, World!"}
	// 401 {}
}
