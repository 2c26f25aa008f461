package gateway

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/config"
	"github.com/prometheus/client_golang/prometheus"
)

// connCounter tracks a test server's open connections.
type connCounter struct {
	mu   sync.Mutex
	open map[net.Conn]bool
}

func (c *connCounter) hook(conn net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s {
	case http.StateNew:
		c.open[conn] = true
	case http.StateClosed, http.StateHijacked:
		delete(c.open, conn)
	}
}

func (c *connCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

func server(t *testing.T, closeEach bool) (*httptest.Server, *connCounter) {
	cc := &connCounter{open: map[net.Conn]bool{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if closeEach {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = cc.hook
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc
}

func roundTrips(t *testing.T, u *upstreamTransport, url string, n int) {
	t.Helper()
	for range n {
		req, _ := http.NewRequest("GET", url, nil)
		resp, err := u.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// newTestUpstream returns the transport of the upstream at rawURL, with
// upstream_keepalive mode, and where it reports whether it pools.
func newTestUpstream(t *testing.T, mode, rawURL string, fast bool) (*upstreamTransport, *bool) {
	t.Helper()
	cfg := config.Defaults()
	cfg.UpstreamKeepAlive = mode
	cfg.UpstreamFastPath = fast
	up, err := config.ParseUpstream(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u := newUpstreamTransport(cfg, up, newMetrics(prometheus.NewRegistry()))
	state := new(bool)
	*state = !u.off.Load()
	u.keepAlive = func(on bool) { *state = on }
	if (u.fast != nil) != fast {
		t.Fatalf("fast client: %v, want %v", u.fast != nil, fast)
	}
	return u, state
}

// bothClients runs test with the fast client on and off.
func bothClients(t *testing.T, test func(t *testing.T, fast bool)) {
	for _, fast := range []bool{true, false} {
		t.Run(map[bool]string{true: "fast", false: "net/http"}[fast], func(t *testing.T) { test(t, fast) })
	}
}

func TestUpstreamKeepAliveAuto(t *testing.T) { bothClients(t, testUpstreamKeepAliveAuto) }

func testUpstreamKeepAliveAuto(t *testing.T, fast bool) {
	closing, _ := server(t, true)
	u, pooled := newTestUpstream(t, "auto", closing.URL, fast)
	roundTrips(t, u, closing.URL, closeStreak-1)
	if !*pooled || u.off.Load() {
		t.Fatal("stopped pooling before the streak was complete")
	}
	roundTrips(t, u, closing.URL, 1)
	if *pooled || !u.off.Load() {
		t.Fatalf("still pooling after %d responses asking to close", closeStreak)
	}

	// An upstream that keeps connections alive stays pooled, and one
	// keep-alive answer resets the streak.
	alive, cc := server(t, false)
	v, pooled := newTestUpstream(t, "auto", alive.URL, fast)
	roundTrips(t, v, alive.URL, 3*closeStreak)
	if !*pooled || cc.count() != 1 {
		t.Fatalf("keep-alive upstream: pooled %v, %d open connections, want true and 1", *pooled, cc.count())
	}
	v.streak.Store(closeStreak - 1)
	roundTrips(t, v, alive.URL, 1)
	if v.streak.Load() != 0 {
		t.Fatal("a keep-alive answer did not reset the streak")
	}
}

// TestUpstreamSwitchDropsIdle: connections the pool holds when the upstream
// turns out to close every connection are closed, so none is left for a
// sync worker to block on.
func TestUpstreamSwitchDropsIdle(t *testing.T) { bothClients(t, testUpstreamSwitchDropsIdle) }

func testUpstreamSwitchDropsIdle(t *testing.T, fast bool) {
	// A server that keeps the first connections alive, then closes all.
	var closeNow bool
	var mu sync.Mutex
	cc := &connCounter{open: map[net.Conn]bool{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		c := closeNow
		mu.Unlock()
		if c {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = cc.hook
	srv.Start()
	defer srv.Close()

	u, _ := newTestUpstream(t, "auto", srv.URL, fast)
	// Park several idle connections, as concurrent requests do.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); roundTrips(t, u, srv.URL, 1) }()
	}
	wg.Wait()
	if cc.count() == 0 {
		t.Fatal("no pooled connection to start from")
	}
	mu.Lock()
	closeNow = true
	mu.Unlock()
	roundTrips(t, u, srv.URL, closeStreak)
	deadline := time.Now().Add(5 * time.Second)
	for cc.count() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections left open after the switch", cc.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUpstreamKeepAliveForced(t *testing.T) { bothClients(t, testUpstreamKeepAliveForced) }

func testUpstreamKeepAliveForced(t *testing.T, fast bool) {
	closing, _ := server(t, true)
	on, pooled := newTestUpstream(t, "true", closing.URL, fast)
	roundTrips(t, on, closing.URL, 2*closeStreak)
	if !*pooled || on.off.Load() {
		t.Fatal("upstream_keepalive true stopped pooling")
	}
	alive, cc := server(t, false)
	off, pooled := newTestUpstream(t, "false", alive.URL, fast)
	roundTrips(t, off, alive.URL, 3)
	if *pooled {
		t.Fatal("upstream_keepalive false reports pooling")
	}
	deadline := time.Now().Add(2 * time.Second)
	for cc.count() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if cc.count() != 0 {
		t.Fatalf("upstream_keepalive false left %d connections open", cc.count())
	}
}
