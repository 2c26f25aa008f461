package h1_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/approov-gateway/approov/internal/h1"
)

func ExampleTransport() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %q", r.Method, r.URL.Path, body)
	}))
	defer backend.Close()

	var d net.Dialer
	t := &h1.Transport{
		Dial: func(ctx context.Context) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", backend.Listener.Addr().String())
		},
		ResponseHeaderTimeout: 5 * time.Second,
		MaxIdle:               16,
		IdleTimeout:           time.Minute,
		Fallback:              http.DefaultTransport, // for what the fast path does not cover
	}
	defer t.CloseIdleConnections()

	// A body already in memory takes the fast path, as no body does.
	req, _ := http.NewRequest("POST", backend.URL+"/orders", nil)
	req.Body, req.ContentLength = h1.NewBufferedBody([]byte("one")), 3
	fmt.Println(h1.Eligible(req))
	resp, err := t.RoundTrip(req)
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close() // read to its end and closed: the connection is pooled again
	fmt.Println(resp.StatusCode, string(b))
	// Output:
	// true
	// 200 POST /orders "one"
}

func ExampleProxy() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s via %s", r.Method, r.URL.Path, r.Header.Get("X-Forwarded-Proto"))
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)

	var d net.Dialer
	transport := &h1.Transport{
		Dial: func(ctx context.Context) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", target.Host)
		},
		MaxIdle:     16,
		IdleTimeout: time.Minute,
		Fallback:    http.DefaultTransport,
	}
	defer transport.CloseIdleConnections()
	rewrite := func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
	}
	badGateway := func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	// The Proxy takes the ReverseProxy's fields, and leaves it what it
	// does not cover.
	reverseProxy := &httputil.ReverseProxy{Transport: transport, Rewrite: rewrite, ErrorHandler: badGateway}
	front := httptest.NewServer(h1.ProxyFor(reverseProxy))
	defer front.Close()

	resp, err := http.Get(front.URL + "/items")
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))
	// Output:
	// 200 GET /items via http
}
