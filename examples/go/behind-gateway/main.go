// Command behind-gateway is the hello API behind approov-gateway: it checks
// no token itself, but the gateway's signed Approov-Assertion, so that it
// answers only requests the gateway checked, and reads the caller's device
// id from it. The assertion keys come from APPROOV_ASSERTION_SECRET, the
// gateway's assertion_secret; without usable ones the server refuses to
// start.
package main

import (
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/approov-gateway/approov/approovhttp"
	"github.com/approov-gateway/approov/assertion"
)

func newHandler(v *assertion.Verifier, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := approovhttp.ClaimsFromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"message": "Hello, World!", "device_id": claims.DeviceID})
	})
	// Requests without a valid assertion for themselves never reach mux.
	return approovhttp.BehindGateway(v, approovhttp.WithLogger(logger))(mux)
}

func main() {
	keys, err := assertion.ParseKeys(os.Getenv("APPROOV_ASSERTION_SECRET"))
	if err != nil {
		log.Fatalf("APPROOV_ASSERTION_SECRET: %v", err)
	}
	v, err := assertion.NewVerifier(keys)
	if err != nil {
		log.Fatal(err)
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
