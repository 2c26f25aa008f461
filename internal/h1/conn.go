package h1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"syscall"
	"time"
)

// unlimited is a countingReader limit that never runs out.
const unlimited = math.MaxInt64

// conn is one connection to the upstream, with its buffers.
type conn struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	w      *netWriter
	limit  *countingReader
	idleAt time.Time
	raw    syscall.RawConn // for alive; nil without descriptor access
}

// countingReader counts what it reads since the exchange began, so that
// a failure with nothing read can be told from one mid-response, and
// stops at a limit, so that a response header cannot be endless.
type countingReader struct {
	r    io.Reader
	n    int64 // bytes still allowed
	read int64
}

var errHeaderTooLarge = errors.New("h1: response header too large")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	if c.n != unlimited {
		c.n -= int64(n)
	}
	c.read += int64(n)
	return n, err
}

// netWriter is the connection as its buffered writer sees it. It keeps
// the first error writing to the network, which Request.Write reports
// disguised as an error reading the body when the body was being sent.
type netWriter struct {
	nc  net.Conn
	err error
}

func (w *netWriter) Write(p []byte) (int, error) {
	n, err := w.nc.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// ReadFrom keeps the connection's own ReadFrom in use. Fast path bodies
// are in memory and never fail to read, so its errors are the network's.
func (w *netWriter) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := w.nc.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.nc}, r)
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func newConn(nc net.Conn) *conn {
	limit := &countingReader{r: nc, n: unlimited}
	w := &netWriter{nc: nc}
	return &conn{nc: nc, br: bufio.NewReaderSize(limit, 4<<10), bw: bufio.NewWriterSize(w, 4<<10), w: w, limit: limit, raw: rawConn(nc)}
}

func (c *conn) close() { c.nc.Close() }

// setReadDeadline sets c's read deadline, unless ctx is done: the deadline
// in the past that interrupts an exchange whose client went away must not
// be replaced, whether the cancellation came before this call or comes
// during it (context.AfterFunc sets it after ctx is done, so a
// cancellation this check misses comes after the new deadline is set).
func (c *conn) setReadDeadline(ctx context.Context, d time.Time) {
	c.nc.SetReadDeadline(d)
	if ctx.Err() != nil {
		c.nc.SetDeadline(aLongTimeAgo)
	}
}

// get returns an idle connection that is still open, or a new one, and
// whether it was pooled.
func (t *Transport) get(ctx context.Context) (*conn, bool, error) {
	now := time.Now()
	for {
		t.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		if (t.IdleTimeout > 0 && now.Sub(c.idleAt) > t.IdleTimeout) || !alive(c.raw) {
			c.close()
			continue
		}
		c.limit.read = 0
		return c, true, nil
	}
	nc, err := t.Dial(ctx)
	if err != nil {
		return nil, false, err
	}
	return newConn(nc), false, nil
}

// put returns c to the pool, or closes it when the pool is full, closed,
// or off, or when the upstream sent more than its response.
func (t *Transport) put(c *conn) {
	if c.br.Buffered() > 0 || t.noKeepAlive.Load() {
		c.close()
		return
	}
	c.idleAt = time.Now()
	t.mu.Lock()
	if t.closed || len(t.idle) >= t.MaxIdle {
		t.mu.Unlock()
		c.close()
		return
	}
	t.idle = append(t.idle, c)
	if t.IdleTimeout > 0 && t.sweep == nil {
		// Without further traffic nothing else would close them.
		t.sweep = time.AfterFunc(t.IdleTimeout, t.sweepIdle)
	}
	// The oldest lie first: close those idle too long.
	var stale []*conn
	if t.IdleTimeout > 0 {
		i := 0
		for i < len(t.idle) && c.idleAt.Sub(t.idle[i].idleAt) > t.IdleTimeout {
			i++
		}
		stale = append(stale, t.idle[:i]...)
		t.idle = append(t.idle[:0], t.idle[i:]...)
	}
	t.mu.Unlock()
	for _, s := range stale {
		s.close()
	}
}

// sweepIdle closes the connections idle longer than IdleTimeout, and
// comes back while any are left.
func (t *Transport) sweepIdle() {
	now := time.Now()
	t.mu.Lock()
	i := 0
	for i < len(t.idle) && now.Sub(t.idle[i].idleAt) >= t.IdleTimeout {
		i++
	}
	stale := append([]*conn(nil), t.idle[:i]...)
	t.idle = append(t.idle[:0], t.idle[i:]...)
	t.sweep = nil
	if len(t.idle) > 0 && !t.closed {
		t.sweep = time.AfterFunc(t.idle[0].idleAt.Add(t.IdleTimeout).Sub(now), t.sweepIdle)
	}
	t.mu.Unlock()
	for _, s := range stale {
		s.close()
	}
}

// closeIdle closes the idle connections.
func (t *Transport) closeIdle() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// CloseIdleConnections closes the idle connections, the fallback's too,
// and stops pooling: for a transport that is being retired, whose
// requests in flight then close their connections when done.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.closeIdle()
	if f, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}
