package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/approov-gateway/approov/internal/h1"
)

// Request bodies are the one part of a request a client can send as slowly
// as it likes after the gateway has decided to forward it. Two connections
// trickling a body a byte at a time were seen to hold both of a gunicorn's
// sync workers, each waiting for a body that never came. So bodies are
// read with a deadline per read and a minimum average rate, and bodies up
// to request_buffering bytes are read whole before the upstream is called,
// as nginx does: a sync worker then only ever sees a complete request.

// bodyError is why reading a client's request body failed.
type bodyError struct {
	cause  string
	status int
	msg    string
}

func (e *bodyError) Error() string { return "gateway: request body: " + e.msg }

var (
	errBodyTimeout  = &bodyError{"body_timeout", http.StatusRequestTimeout, "request body too slow"}
	errBodyTooLarge = &bodyError{"body_too_large", http.StatusRequestEntityTooLarge, "request body too large"}
	errBodyBroken   = &bodyError{"body_broken", http.StatusBadRequest, "request body incomplete"}
)

// bodyLimits reads request bodies within body_read_timeout and
// body_min_rate, refuses those over max_request_body, and buffers those up
// to request_buffering. WebSocket upgrades pass untouched: after the
// handshake the connection is the client's and the backend's.
func (g *Gateway) bodyLimits(st *state, next http.Handler) http.Handler {
	cfg := st.cfg
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || isUpgrade(r) || r.Context().Value(bodyReadKey{}) != nil {
			next.ServeHTTP(w, r)
			return
		}
		if cfg.MaxRequestBody > 0 && r.ContentLength > cfg.MaxRequestBody {
			g.refuseBody(w, errBodyTooLarge)
			return
		}
		body := &timedBody{
			body: r.Body, rc: http.NewResponseController(w), windowStart: time.Now(),
			timeout: cfg.BodyReadTimeout, minRate: cfg.BodyMinRate, max: cfg.MaxRequestBody,
		}
		r2 := *r
		r2.Body = body
		if n := cfg.RequestBuffering; n > 0 && r.ContentLength <= n {
			data, complete, err := readUpTo(body, n)
			if err != nil {
				g.refuseBody(w, body.failure(err))
				return
			}
			if complete {
				r2.Body = h1.NewBufferedBody(data)
				r2.ContentLength = int64(len(data))
				r2.TransferEncoding = nil
			} else {
				r2.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(data), body), body: body}
			}
		}
		next.ServeHTTP(w, &r2)
	})
}

type bodyReadKey struct{}

// readBody reads r's whole body, within the body limits and max bytes,
// while writing it to sink: up to request_buffering in memory, the rest
// spooled to a temporary file. It returns the request to forward, whose
// body replays what was read (closing it removes the file). The body's
// size is then known, as it must be for a body checked before the
// upstream sees any of it.
func (g *Gateway) readBody(st *state, w http.ResponseWriter, r *http.Request, max int64, sink io.Writer) (*http.Request, *bodyError) {
	if r.ContentLength > max {
		return nil, errBodyTooLarge
	}
	var src io.ReadCloser = http.NoBody
	if r.Body != nil {
		src = &timedBody{
			body: r.Body, rc: http.NewResponseController(w), windowStart: time.Now(),
			timeout: st.cfg.BodyReadTimeout, minRate: st.cfg.BodyMinRate, max: max,
		}
	}
	in := io.TeeReader(src, sink)
	mem, complete, err := readUpTo(in, st.cfg.RequestBuffering)
	if err != nil {
		return nil, bodyFailure(err)
	}
	r2 := r.WithContext(context.WithValue(r.Context(), bodyReadKey{}, true))
	r2.TransferEncoding = nil
	if complete {
		r2.Body, r2.ContentLength = h1.NewBufferedBody(mem), int64(len(mem))
		return r2, nil
	}
	spool, err := os.CreateTemp("", "approov-gateway-body-")
	if err != nil {
		g.log.Error("spooling a request body", "error", err.Error())
		return nil, errBodyBroken
	}
	os.Remove(spool.Name()) // gone when closed, whatever happens
	if _, err := spool.Write(mem); err != nil {
		spool.Close()
		return nil, errBodyBroken
	}
	rest, err := io.Copy(spool, in)
	if err != nil {
		spool.Close()
		return nil, bodyFailure(err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		spool.Close()
		return nil, errBodyBroken
	}
	r2.Body, r2.ContentLength = spool, int64(len(mem))+rest
	return r2, nil
}

// bodyFailure classifies an error from reading a limited body.
func bodyFailure(err error) *bodyError {
	var be *bodyError
	if errors.As(err, &be) {
		return be
	}
	return errBodyBroken
}

func (g *Gateway) refuseBody(w http.ResponseWriter, e *bodyError) {
	g.metrics.refused.WithLabelValues(e.cause).Inc()
	w.Header().Set("Connection", "close")
	writeJSONError(w, e.status, e.msg)
}

// readUpTo reads r to its end if it ends within n bytes (complete), or
// returns the first n+1 bytes it read.
func readUpTo(r io.Reader, n int64) (data []byte, complete bool, err error) {
	var buf bytes.Buffer
	m, err := buf.ReadFrom(io.LimitReader(r, n+1))
	if err != nil {
		return nil, false, err
	}
	return buf.Bytes(), m <= n, nil
}

// timedBody reads a request body with a deadline per read, a minimum
// rate over each window of the read timeout, and a size limit.
type timedBody struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	minRate int64
	max     int64

	read        int64
	windowStart time.Time // when the current rate window began
	windowRead  int64     // read when it began
	failed      *bodyError
	once        sync.Once
}

func (b *timedBody) Read(p []byte) (int, error) {
	if b.failed != nil {
		return 0, b.failed
	}
	// Not every ResponseWriter has a connection to set a deadline on;
	// the rate check still applies there.
	_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	n, err := b.body.Read(p)
	b.read += int64(n)
	switch {
	case b.max > 0 && b.read > b.max:
		b.clearDeadline()
		b.failed = errBodyTooLarge
		return n, b.failed
	case err == io.EOF:
		b.clearDeadline()
		return n, err
	case err != nil:
		b.clearDeadline()
		b.failed = b.failure(err)
		return n, b.failed
	}
	// The rate is held window by window, each as long as the read
	// timeout, so that a burst at the start buys no time for a trickle
	// after it.
	if b.minRate > 0 {
		now := time.Now()
		if w := now.Sub(b.windowStart); w >= b.timeout {
			if float64(b.read-b.windowRead) < float64(b.minRate)*w.Seconds() {
				b.failed = errBodyTimeout
				return n, b.failed
			}
			b.windowStart, b.windowRead = now, b.read
		}
	}
	return n, nil
}

// failure classifies an error reading the body.
func (b *timedBody) failure(err error) *bodyError {
	var be *bodyError
	var ne net.Error
	switch {
	case errors.As(err, &be):
		return be
	case errors.As(err, &ne) && ne.Timeout():
		return errBodyTimeout
	case b.failed != nil:
		return b.failed
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	return errBodyBroken
}

// clearDeadline lifts the read deadline once the body is done with: the
// server then reads the connection in the background to notice a client
// going away, and a deadline left behind would end that read, and the
// request with it.
func (b *timedBody) clearDeadline() {
	b.once.Do(func() { _ = b.rc.SetReadDeadline(time.Time{}) })
}

func (b *timedBody) Close() error {
	b.clearDeadline()
	return b.body.Close()
}

// prefixedBody is a body whose first bytes were read ahead.
type prefixedBody struct {
	io.Reader
	body *timedBody
}

func (p *prefixedBody) Close() error { return p.body.Close() }

// isUpgrade reports whether r asks to switch protocols (a WebSocket
// handshake): its body limits would outlive the handshake.
func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && headerHasToken(r.Header["Connection"], "upgrade")
}

// connLimiter caps the connections a listener keeps open, idle keep-alive
// connections included. When the cap is reached and a new client is
// waiting, it closes the longest-idle keep-alive connection to make room,
// and otherwise holds the new client until a connection closes, so that a
// flood of idle connections can neither exhaust file descriptors nor keep
// new clients out for long. The one client held is the only connection
// ever open beyond the cap.
type connLimiter struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once

	// open are the connections accepted and not yet closed, changed per
	// connection; each notes when it went idle itself, changed per request
	// without a lock.
	mu   sync.Mutex
	open map[*limitedConn]struct{}
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, slots: make(chan struct{}, max), closed: make(chan struct{}), open: map[*limitedConn]struct{}{}}
}

// evictAfter is how long a connection must have been idle before it is
// closed to make room: a request may be on its way on one that just went
// idle.
const evictAfter = time.Second

// Accept accepts a connection, then waits for a slot for it, making room
// by closing an idle connection when there is one.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	limited := func() net.Conn {
		lc := &limitedConn{Conn: c}
		lc.release = func() {
			l.mu.Lock()
			delete(l.open, lc)
			l.mu.Unlock()
			<-l.slots
		}
		l.mu.Lock()
		l.open[lc] = struct{}{}
		l.mu.Unlock()
		return lc
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return limited(), nil
		case <-l.closed:
			c.Close()
			return nil, net.ErrClosed
		default:
		}
		if l.evictIdle() {
			continue
		}
		select {
		case l.slots <- struct{}{}:
			return limited(), nil
		case <-l.closed:
			c.Close()
			return nil, net.ErrClosed
		case <-time.After(evictAfter / 4):
			// An idle connection may have become old enough to close.
		}
	}
}

// evictIdle closes the longest-idle connection that has been idle long
// enough, and reports whether there was one.
func (l *connLimiter) evictIdle() bool {
	for {
		l.mu.Lock()
		var oldest *limitedConn
		var since int64
		for c := range l.open {
			if t := c.idleSince.Load(); t != 0 && (oldest == nil || t < since) {
				oldest, since = c, t
			}
		}
		l.mu.Unlock()
		if oldest == nil || time.Duration(monoNow()-since) < evictAfter {
			return false
		}
		// Only if it is still idle since then: a request that began
		// meanwhile (track swapped the time out) keeps its connection,
		// and the next oldest is looked for.
		if oldest.idleSince.CompareAndSwap(since, 0) {
			oldest.Close()
			return true
		}
	}
}

// monoStart anchors monoNow.
var monoStart = time.Now()

// monoNow is the monotonic clock in nanoseconds since the process began,
// never 0: idle times must not move when the wall clock is set.
func monoNow() int64 { return int64(time.Since(monoStart)) + 1 }

// track is the server's ConnState hook: a connection notes when it went
// idle, and that it is not idle any more. It runs twice per request, so it
// takes no lock.
func (l *connLimiter) track(c net.Conn, s http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	if s == http.StateIdle {
		lc.idleSince.Store(monoNow())
	} else {
		lc.idleSince.Store(0)
	}
}

// Close stops accepting.
func (l *connLimiter) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
	// idleSince is when the connection went idle between requests, as
	// monoNow says; 0 while it is not idle.
	idleSince atomic.Int64
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// maxConnectionsCap bounds the derived max_connections: each idle
// connection costs about 17 KB, so 10,000 is about 170 MB.
const maxConnectionsCap = 10000

// maxConnections returns max_connections: the configured number, or half
// the file-descriptor limit (each proxied connection may need one to the
// upstream too), at most maxConnectionsCap.
func maxConnections(configured int) int {
	if configured > 0 {
		return configured
	}
	return min(max((fileLimit()-64)/2, 64), maxConnectionsCap)
}
