// Command token-binding-check is the hello API with an Approov token check
// and token binding: the token's pay claim must be the base64 SHA-256 of the
// request's Authorization header, so a token cannot be replayed with other
// credentials.
package main

import (
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovhttp"
)

func newHandler(v *approov.Verifier, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := approovhttp.ClaimsFromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"message": "Hello, World!", "device_id": claims.DeviceID})
	})
	return approovhttp.New(v, approovhttp.WithLogger(logger))(mux)
}

func main() {
	binding, err := approov.NewBinding([]string{"Authorization"})
	if err != nil {
		log.Fatal(err)
	}
	v, err := approov.NewVerifier(
		approov.WithBase64Secret(os.Getenv("APPROOV_BASE64_SECRET")),
		approov.WithBinding(binding),
	)
	if err != nil {
		log.Fatalf("APPROOV_BASE64_SECRET: %v", err)
	}
	addr := os.Getenv("HTTP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := &http.Server{Addr: addr, Handler: newHandler(v, logger), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on %s", addr)
	log.Fatal(srv.ListenAndServe())
}
