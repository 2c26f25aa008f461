package h1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keepAliveServer answers every request with body, keeping connections
// open unless closeAfter says to close after that many responses on a
// connection, and counts connections.
type keepAliveServer struct {
	ln         net.Listener
	conns      atomic.Int32
	closeAfter int
	extra      string // bytes sent after each response, unasked
	body       string
}

func newKeepAliveServer(t *testing.T, body string) *keepAliveServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &keepAliveServer{ln: ln, body: body}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 1; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					resp := "HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(s.body)) + "\r\n"
					if req.Close {
						resp += "Connection: close\r\n"
					}
					io.WriteString(c, resp+"\r\n"+s.body+s.extra)
					if req.Close || (s.closeAfter > 0 && n == s.closeAfter) {
						return
					}
				}
			}()
		}
	}()
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func (s *keepAliveServer) transport() *Transport {
	return &Transport{
		Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", s.ln.Addr().String())
		},
		MaxIdle: 4, IdleTimeout: time.Minute, ResponseHeaderTimeout: 5 * time.Second,
	}
}

func request(t *testing.T, method string, body BufferedBody) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://upstream.test/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		r.Body, r.ContentLength = body, int64(len(body.Bytes()))
	}
	return r
}

// do sends r and reads the whole answer.
func do(t *testing.T, tr http.RoundTripper, r *http.Request) (string, error) {
	t.Helper()
	resp, err := tr.RoundTrip(r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestReuse: a connection is reused after a response read to its end,
// and only then.
func TestReuse(t *testing.T) {
	s := newKeepAliveServer(t, "hello")
	tr := s.transport()
	for range 5 {
		if b, err := do(t, tr, request(t, "GET", nil)); err != nil || b != "hello" {
			t.Fatalf("%q %v", b, err)
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("%d connections for 5 requests in a row, want 1", n)
	}

	// A body closed before its end costs its connection.
	resp, err := tr.RoundTrip(request(t, "GET", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := do(t, tr, request(t, "GET", nil)); err != nil {
		t.Fatal(err)
	}
	if n := s.conns.Load(); n != 2 {
		t.Fatalf("%d connections after a body closed early, want 2", n)
	}
}

// TestNoReuse: connections are not pooled after a response that asks to
// close, after unsolicited bytes, or with keep-alive off, which also asks
// the upstream to close.
func TestNoReuse(t *testing.T) {
	t.Run("unsolicited bytes", func(t *testing.T) {
		s := newKeepAliveServer(t, "hello")
		s.extra = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforge"
		tr := s.transport()
		for range 3 {
			if b, err := do(t, tr, request(t, "GET", nil)); err != nil || b != "hello" {
				t.Fatalf("%q %v", b, err)
			}
		}
		if n := s.conns.Load(); n != 3 {
			t.Fatalf("%d connections, want 3: a connection with bytes nobody asked for is never reused", n)
		}
	})
	t.Run("keep-alive off", func(t *testing.T) {
		s := newKeepAliveServer(t, "hello")
		tr := s.transport()
		tr.SetKeepAlive(false)
		for range 3 {
			if _, err := do(t, tr, request(t, "GET", nil)); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.conns.Load(); n != 3 {
			t.Fatalf("%d connections, want 3", n)
		}
		tr.SetKeepAlive(true)
		for range 3 {
			do(t, tr, request(t, "GET", nil))
		}
		if n := s.conns.Load(); n != 4 {
			t.Fatalf("%d connections after keep-alive came back, want 4", n)
		}
	})
	t.Run("retired", func(t *testing.T) {
		s := newKeepAliveServer(t, "hello")
		tr := s.transport()
		do(t, tr, request(t, "GET", nil))
		tr.CloseIdleConnections()
		do(t, tr, request(t, "GET", nil))
		do(t, tr, request(t, "GET", nil))
		if n := s.conns.Load(); n != 3 {
			t.Fatalf("%d connections, want 3: a retired transport pools nothing", n)
		}
	})
}

// TestStaleIdleConnection: an idle connection the upstream closed is not
// used: the peek finds it closed, and the request goes out on a new one.
func TestStaleIdleConnection(t *testing.T) {
	s := newKeepAliveServer(t, "hello")
	s.closeAfter = 1 // like gunicorn's gthread keep-alive timing out
	tr := s.transport()
	for range 3 {
		if b, err := do(t, tr, request(t, "POST", NewBufferedBody([]byte("x")))); err != nil || b != "hello" {
			t.Fatalf("%q %v", b, err)
		}
		time.Sleep(20 * time.Millisecond) // the close reaches this side
	}
	if n := s.conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}

// pipeUpstream is an upstream over net.Pipe, which cannot be peeked: a
// connection it closed is found only when used.
type pipeUpstream struct {
	mu      sync.Mutex
	dials   int
	answers []func(net.Conn)
}

func (p *pipeUpstream) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	p.mu.Lock()
	p.dials++
	answer := p.answers[0]
	if len(p.answers) > 1 {
		p.answers = p.answers[1:]
	}
	p.mu.Unlock()
	go answer(server)
	return client, nil
}

// answerOnceThenClose reads one request, answers it keeping the
// connection apparently alive, then closes it.
func answerOnceThenClose(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		c.Close()
		return
	}
	io.Copy(io.Discard, req.Body)
	io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	c.Close()
}

// TestStaleRetry: when a closed idle connection is found only by using it,
// an idempotent request is sent again on a new connection, and one that
// could change something twice is not.
func TestStaleRetry(t *testing.T) {
	for _, tt := range []struct {
		method  string
		header  string
		retried bool
	}{
		{"GET", "", true},
		{"HEAD", "", true},
		{"POST", "", false},
		{"POST", "Idempotency-Key", true},
		{"DELETE", "", false},
	} {
		t.Run(tt.method+" "+tt.header, func(t *testing.T) {
			up := &pipeUpstream{answers: []func(net.Conn){answerOnceThenClose}}
			tr := &Transport{Dial: up.dial, MaxIdle: 4, IdleTimeout: time.Minute}
			if _, err := do(t, tr, request(t, "GET", nil)); err != nil {
				t.Fatal(err)
			}
			r := request(t, tt.method, NewBufferedBody([]byte("body")))
			if tt.header != "" {
				r.Header.Set(tt.header, "k1")
			}
			_, err := do(t, tr, r)
			switch {
			case tt.retried && (err != nil || up.dials != 2):
				t.Fatalf("err %v, %d dials; want a retry on a second connection", err, up.dials)
			case !tt.retried && (!errors.Is(err, errStale) || up.dials != 1):
				t.Fatalf("err %v, %d dials; want the stale error and no retry", err, up.dials)
			}
		})
	}
}

// TestClientGoesAway: a cancelled request stops waiting for the header
// and for the body at once, and the connection is not pooled.
func TestClientGoesAway(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	answers := []func(net.Conn){
		func(c net.Conn) { // never answers
			http.ReadRequest(bufio.NewReader(c))
			<-gate
			c.Close()
		},
		func(c net.Conn) { // answers half a body
			http.ReadRequest(bufio.NewReader(c))
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf")
			<-gate
			c.Close()
		},
	}
	up := &pipeUpstream{answers: answers}
	tr := &Transport{Dial: up.dial, MaxIdle: 4}

	ctx, cancel := context.WithCancel(context.Background())
	r := request(t, "GET", nil).WithContext(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := tr.RoundTrip(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting for the header: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	resp, err := tr.RoundTrip(request(t, "GET", nil).WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
		t.Fatalf("reading the body: %v", err)
	}
	resp.Body.Close()
	if len(tr.idle) != 0 {
		t.Fatal("an interrupted connection was pooled")
	}
}

// TestClientGoneWhileHeaderRead: a client that goes away after the
// response header arrived but before the exchange lifted the header's
// deadline still interrupts the body: lifting it must not undo the
// deadline in the past that the cancellation set. (It did: the body read
// then waited on the upstream, with no deadline at all.) The cancellation
// is made to land in that window from the 1xx hook, once it has set its
// deadline.
func TestClientGoneWhileHeaderRead(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	up := &pipeUpstream{answers: []func(net.Conn){func(c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf")
		<-gate
		c.Close()
	}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var dc *deadlineConn
	tr := &Transport{MaxIdle: 4, ResponseHeaderTimeout: time.Minute, Dial: func(dctx context.Context) (net.Conn, error) {
		c, err := up.dial(dctx)
		dc = &deadlineConn{Conn: c, past: make(chan struct{}), done: ctx.Done()}
		return dc, err
	}}
	trace := &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error {
		cancel()
		<-dc.past // the cancellation's deadline is set; the 200 is read next
		return nil
	}}
	resp, err := tr.RoundTrip(request(t, "GET", nil).WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
		t.Errorf("reading the body: %v", err)
	}
	resp.Body.Close()
	if dc.waited.Load() {
		t.Error("the body was read from the upstream without the deadline that interrupts it")
	}
}

// deadlineConn notes whether its read deadline lies in the past. Read
// after done is closed, without such a deadline, it notes that it would
// have waited, and fails at once instead.
type deadlineConn struct {
	net.Conn
	done   <-chan struct{}
	past   chan struct{} // closed when a deadline in the past is first set
	once   sync.Once
	inPast atomic.Bool
	waited atomic.Bool
}

func (d *deadlineConn) note(t time.Time) {
	in := !t.IsZero() && t.Before(time.Now())
	d.inPast.Store(in)
	if in {
		d.once.Do(func() { close(d.past) })
	}
}

func (d *deadlineConn) SetDeadline(t time.Time) error {
	d.note(t)
	return d.Conn.SetDeadline(t)
}

func (d *deadlineConn) SetReadDeadline(t time.Time) error {
	d.note(t)
	return d.Conn.SetReadDeadline(t)
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	select {
	case <-d.done:
		if !d.inPast.Load() {
			d.waited.Store(true)
			return 0, errors.New("would wait")
		}
	default:
	}
	return d.Conn.Read(p)
}

// TestIdleLimits: at most MaxIdle connections wait, and none longer than
// IdleTimeout.
func TestIdleLimits(t *testing.T) {
	s := newKeepAliveServer(t, "x")
	tr := s.transport()
	tr.MaxIdle = 2
	var resps []*http.Response
	for range 4 {
		resp, err := tr.RoundTrip(request(t, "GET", nil))
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, resp)
	}
	for _, resp := range resps {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if n := len(tr.idle); n != 2 {
		t.Fatalf("%d idle, want 2", n)
	}
	tr.IdleTimeout = time.Nanosecond
	time.Sleep(time.Millisecond)
	do(t, tr, request(t, "GET", nil))
	if n := s.conns.Load(); n != 5 {
		t.Fatalf("%d connections, want 5: idle ones past the timeout are not used", n)
	}
}

func TestEligible(t *testing.T) {
	mk := func(mod func(r *http.Request)) *http.Request {
		r := &http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: "u"}, Header: http.Header{}}
		mod(r)
		return r
	}
	for _, tt := range []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"plain GET", mk(func(*http.Request) {}), true},
		{"NoBody", mk(func(r *http.Request) { r.Body = http.NoBody }), true},
		{"buffered body", mk(func(r *http.Request) { r.Body, r.ContentLength = NewBufferedBody([]byte("abc")), 3 }), true},
		{"buffered body, other length", mk(func(r *http.Request) { r.Body, r.ContentLength = NewBufferedBody([]byte("abc")), 4 }), false},
		{"streamed body", mk(func(r *http.Request) { r.Body, r.ContentLength = io.NopCloser(strings.NewReader("abc")), 3 }), false},
		{"https", mk(func(r *http.Request) { r.URL.Scheme = "https" }), false},
		{"upgrade", mk(func(r *http.Request) { r.Header.Set("Upgrade", "websocket") }), false},
		{"expect", mk(func(r *http.Request) { r.Header.Set("Expect", "100-continue") }), false},
		{"trailer", mk(func(r *http.Request) { r.Trailer = http.Header{"X": nil} }), false},
		{"chunked", mk(func(r *http.Request) { r.TransferEncoding = []string{"chunked"} }), false},
	} {
		if got := Eligible(tt.r); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFallback: what the fast path does not cover goes to Fallback, and
// without one fails.
func TestFallback(t *testing.T) {
	var used atomic.Bool
	fb := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Store(true)
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	tr := &Transport{Dial: func(context.Context) (net.Conn, error) { return nil, errors.New("no dial") }, Fallback: fb}
	r := request(t, "GET", nil)
	r.Header.Set("Upgrade", "websocket")
	if _, err := tr.RoundTrip(r); err != nil || !used.Load() {
		t.Fatalf("fallback: %v %v", err, used.Load())
	}
	tr.Fallback = nil
	if _, err := tr.RoundTrip(r); err == nil {
		t.Fatal("no fallback, no error")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNoReuseAfterBodilessAnswer: after an answer that has no body by
// definition but announces one (HEAD, or a 204/304 with a length), an
// upstream that sends body bytes late anyway would have them read as the
// next request's answer — another client's, perhaps. Such connections
// are closed, not pooled.
func TestNoReuseAfterBodilessAnswer(t *testing.T) {
	for _, tc := range []struct {
		method, head string
	}{
		{"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 38\r\n\r\n"},
		{"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 38\r\n\r\n"},
		{"GET", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"},
	} {
		t.Run(tc.method+" "+tc.head[9:12], func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						br := bufio.NewReader(c)
						answered := false // a bodiless answer on this connection
						for {
							req, err := http.ReadRequest(br)
							if err != nil {
								return
							}
							switch {
							case answered:
								// Reused: this is where a late body
								// would be read as the answer.
								io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
							case req.URL.Path == "/first":
								io.WriteString(c, tc.head)
								answered = true
							default:
								io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood")
							}
						}
					}()
				}
			}()
			var d net.Dialer
			// net/http's Transport, in its place, sends the second
			// request on the same connection.
			tr := &Transport{Dial: func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", ln.Addr().String()) }, MaxIdle: 4}
			first, _ := http.NewRequest(tc.method, "http://u/first", nil)
			if _, err := do(t, tr, first); err != nil {
				t.Fatal(err)
			}
			second, _ := http.NewRequest("GET", "http://u/second", nil)
			if b, err := do(t, tr, second); err != nil || b != "good" {
				t.Fatalf("the next request got %q, %v", b, err)
			}
		})
	}
}

// A body above MaxFastBody goes to the fallback, which reads the answer
// while it writes: the fast path writes first, and an upstream that
// answers early without reading would block a write the socket buffers
// cannot hold.
func TestLargeBodiesFallBack(t *testing.T) {
	for _, n := range []int{MaxFastBody, MaxFastBody + 1} {
		req, _ := http.NewRequest("POST", "http://u/x", nil)
		req.Body, req.ContentLength = NewBufferedBody(make([]byte, n)), int64(n)
		if got, want := Eligible(req), n <= MaxFastBody; got != want {
			t.Errorf("%d bytes: eligible %v", n, got)
		}
	}
}

// Idle connections are closed after IdleTimeout even when no request
// comes to notice them.
func TestIdleConnectionsClosedWithoutTraffic(t *testing.T) {
	tr := newKeepAliveServer(t, "ok").transport()
	tr.MaxIdle, tr.IdleTimeout = 8, 50*time.Millisecond
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", "http://u/", nil)
			if _, err := do(t, tr, req); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr.mu.Lock()
		n := len(tr.idle)
		tr.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections still open 5 s after their 50 ms idle timeout", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
