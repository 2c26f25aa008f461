package gateway_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/gateway"
)

func ExampleNew() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.Header.Get("Approov-Device-Id"))
	}))
	defer backend.Close()

	secret := []byte("example secret: 64 bytes long, as Approov account secrets are...")
	cfg := config.Defaults()
	cfg.Base64Secret = base64.StdEncoding.EncodeToString(secret)
	cfg.Upstream = backend.URL
	g, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		panic(err)
	}
	front := httptest.NewServer(g.Handler())
	defer front.Close()

	token, _ := approovtest.MustSigner(approov.HS256, secret, "").Sign(map[string]any{"exp": time.Now().Add(time.Minute), "did": "device-1"})
	for _, tok := range []string{token, ""} {
		req, _ := http.NewRequest("GET", front.URL+"/", nil)
		req.Header.Set("Approov-Token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 200 hello, device-1
	// 401 {}
}
