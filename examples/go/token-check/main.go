// Command token-check is the hello API with an Approov token check: every
// request needs a valid token in the Approov-Token header, or gets 401 {}.
// The secret comes from APPROOV_BASE64_SECRET; without a usable one the
// server refuses to start.
package main

import (
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
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"message": "Hello, World!"}`))
	})
	// The check runs before anything else; rejected requests never reach mux.
	return approovhttp.New(v, approovhttp.WithLogger(logger))(mux)
}

func main() {
	v, err := approov.NewVerifier(approov.WithBase64Secret(os.Getenv("APPROOV_BASE64_SECRET")))
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
