package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sendSlowBody sends a POST whose body arrives one byte per interval and
// returns the status the gateway answered with, or 0 if it did not answer
// within deadline.
func sendSlowBody(t *testing.T, addr, target, tok string, size int, interval, deadline time.Duration) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nApproov-Token: %s\r\nContent-Length: %d\r\n\r\n", target, addr, tok, size)
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "POST"})
		if err != nil {
			answered <- 0
			return
		}
		answered <- resp.StatusCode
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	stop := time.After(deadline)
	for sent := 0; ; {
		select {
		case s := <-answered:
			return s
		case <-stop:
			return 0
		case <-tick.C:
			if sent < size {
				conn.Write([]byte("x"))
				sent++
			}
		}
	}
}

// sendBurstThenTrickle sends burst bytes of a body at once, then a byte
// per interval, and returns the status the gateway answered with, or 0 if
// none within deadline.
func sendBurstThenTrickle(t *testing.T, addr, target, tok string, burst int, interval, deadline time.Duration) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nApproov-Token: %s\r\nContent-Length: %d\r\n\r\n%s", target, addr, tok, burst+1000, strings.Repeat("b", burst))
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "POST"})
		if err != nil {
			answered <- 0
			return
		}
		answered <- resp.StatusCode
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	stop := time.After(deadline)
	for {
		select {
		case s := <-answered:
			return s
		case <-stop:
			return 0
		case <-tick.C:
			conn.Write([]byte("x"))
		}
	}
}

func TestSlowBodyRefusedBeforeTheUpstream(t *testing.T) {
	tg := newTestGateway(t, "", "APPROOV_BODY_READ_TIMEOUT=300ms", "APPROOV_BODY_MIN_RATE=100")
	addr := tg.front.Listener.Addr().String()
	valid := token(t, nil)

	// Nothing at all after the headers: the read deadline.
	before := tg.backend.hits.Load()
	if s := sendSlowBody(t, addr, "/upload", valid, 1000, time.Hour, 5*time.Second); s != 408 {
		t.Fatalf("a body that never comes: %d, want 408", s)
	}
	// A byte every 100 ms: each read within the deadline, the average far
	// below body_min_rate.
	if s := sendSlowBody(t, addr, "/upload", valid, 1000, 100*time.Millisecond, 5*time.Second); s != 408 {
		t.Fatalf("a trickled body: %d, want 408", s)
	}
	// A burst, then a trickle: the burst buys no time.
	if s := sendBurstThenTrickle(t, addr, "/upload", valid, 2000, 150*time.Millisecond, 5*time.Second); s != 408 {
		t.Fatalf("a burst then a trickle: %d, want 408", s)
	}
	if tg.backend.hits.Load() != before {
		t.Fatal("a slow body reached the upstream: buffering did not hold it back")
	}
	// A body at a normal pace still passes.
	r, err := http.Post(tg.front.URL+"/upload", "text/plain", strings.NewReader(strings.Repeat("y", 10000)))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 401 { // no token: refused, but by the check, not the body limits
		t.Fatalf("a normal body without a token: %d", r.StatusCode)
	}
}

func TestRequestBuffering(t *testing.T) {
	tg := newTestGateway(t, "", "APPROOV_REQUEST_BUFFERING=1KiB", "APPROOV_MAX_REQUEST_BODY=8KiB")
	valid := token(t, nil)
	post := func(body io.Reader, contentLength int64) (int, seen) {
		t.Helper()
		req, _ := http.NewRequest("POST", tg.front.URL+"/upload", body)
		req.ContentLength = contentLength
		req.Header.Set("Approov-Token", valid)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return resp.StatusCode, seen{}
		}
		return resp.StatusCode, decodeSeen(t, string(data))
	}
	// A small chunked body is read whole and sent with its length.
	status, s := post(io.MultiReader(strings.NewReader("small "), strings.NewReader("body")), -1)
	if status != 200 || s.Body != "small body" || s.Header.Get("Content-Length") != "10" {
		t.Fatalf("small chunked body: %d %+v", status, s)
	}
	// A larger one streams, whole.
	big := strings.Repeat("z", 5000)
	if status, s := post(io.MultiReader(strings.NewReader(big[:100]), strings.NewReader(big[100:])), -1); status != 200 || s.Body != big {
		t.Fatalf("5000-byte chunked body: %d, %d bytes", status, len(s.Body))
	}
	// Over max_request_body: 413, announced or not.
	if status, _ := post(strings.NewReader(strings.Repeat("z", 9000)), 9000); status != 413 {
		t.Fatalf("announced 9000 bytes: %d", status)
	}
	before := tg.backend.hits.Load()
	if status, _ := post(io.MultiReader(strings.NewReader(big), strings.NewReader(big)), -1); status != 413 {
		t.Fatalf("chunked 10000 bytes: %d", status)
	}
	_ = before
}

func TestConnLimiter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := newConnLimiter(ln, 2)
	srv := &http.Server{
		Handler:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		ConnState:   lim.track,
		IdleTimeout: time.Minute,
	}
	go srv.Serve(lim)
	defer srv.Close()
	addr := ln.Addr().String()

	// Two idle keep-alive connections fill the listener.
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("filling: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		idle = append(idle, c)
	}
	var served atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			served.Store(resp.StatusCode == 200)
		}
	}()
	// A third client is served once an idle connection has been idle long
	// enough to be closed for it.
	select {
	case <-done:
	case <-time.After(8 * time.Second):
		t.Fatal("a new client waited behind idle connections")
	}
	if !served.Load() {
		t.Fatal("the third client was not served")
	}
	// One of the idle connections was closed to make room.
	closed := 0
	for _, c := range idle {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d idle connections closed, want 1", closed)
	}

	// Busy connections are never closed: with both slots busy, a new
	// client waits.
	lim2 := newConnLimiter(mustListen(t), 1)
	release, holding := make(chan struct{}), make(chan struct{})
	srv2 := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			close(holding)
			<-release
		}
		io.WriteString(w, "ok")
	}), ConnState: lim2.track}
	go srv2.Serve(lim2)
	defer srv2.Close()
	addr2 := lim2.Addr().String()
	go http.Get("http://" + addr2 + "/hold")
	<-holding
	quick := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 1500 * time.Millisecond}).Get("http://" + addr2 + "/")
		if err == nil {
			resp.Body.Close()
		}
		quick <- err
	}()
	if err := <-quick; err == nil {
		t.Fatal("a second connection was served while the only slot was busy")
	}
	close(release)
}

func mustListen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestMaxConnections(t *testing.T) {
	if got := maxConnections(7); got != 7 {
		t.Fatalf("configured: %d", got)
	}
	got := maxConnections(0)
	if got < 64 || got > maxConnectionsCap || got > fileLimit() {
		t.Fatalf("derived max_connections %d (file limit %d)", got, fileLimit())
	}
}

// TestEvictOnlyIdle: to make room, the limiter closes the connection idle
// longest, and only one idle for evictAfter or more; one a request has
// taken back is left alone however long it was idle before.
func TestEvictOnlyIdle(t *testing.T) {
	l := newConnLimiter(mustListen(t), 4)
	defer l.Close()
	conns := make([]*limitedConn, 3)
	for i := range conns {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		lc := &limitedConn{Conn: a}
		lc.release = func() {
			l.mu.Lock()
			delete(l.open, lc)
			l.mu.Unlock()
		}
		l.open[lc] = struct{}{}
		conns[i] = lc
	}
	open := func(lc *limitedConn) bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		_, ok := l.open[lc]
		return ok
	}
	now := monoNow()
	conns[0].idleSince.Store(now - int64(3*time.Second))
	l.track(conns[0], http.StateActive) // a request came
	conns[1].idleSince.Store(now - int64(2*time.Second))
	conns[2].idleSince.Store(now - int64(evictAfter/2))
	if !l.evictIdle() {
		t.Fatal("nothing evicted")
	}
	if open(conns[1]) || !open(conns[0]) || !open(conns[2]) {
		t.Fatalf("evicted the wrong one: open %v %v %v", open(conns[0]), open(conns[1]), open(conns[2]))
	}
	if l.evictIdle() {
		t.Fatal("evicted an active connection, or one idle for less than evictAfter")
	}
}
