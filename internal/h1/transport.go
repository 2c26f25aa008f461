// Package h1 is a synchronous HTTP/1.1 client transport for one upstream:
// the request is written and the response read on the caller's goroutine,
// over pooled connections, with no read and write loop goroutines per
// connection as net/http's Transport has. It covers the plain requests a
// reverse proxy forwards — no body, or a body already read into memory —
// and hands everything else to a fallback transport: upgrades, Expect:
// 100-continue, request trailers, streamed bodies, anything not plain
// http. The framing is net/http's own: Request.Write writes the request,
// ReadResponse reads the response, so both transports put the same bytes
// on the wire and read the same responses the same way (the differential
// tests hold them to it). [Proxy] is the reverse proxy handler for the
// same plain requests, in front of the httputil.ReverseProxy that serves
// the rest.
package h1

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"
)

// MaxResponseHeaderBytes bounds a response's header block, 1xx responses
// included. Give a fallback http.Transport the same limit.
const MaxResponseHeaderBytes = 1 << 20

// BufferedBody is a request body already read into memory. A body that
// implements it, with a ContentLength equal to len(Bytes()), can be sent
// by the fast path, and sent again on a fresh connection when a pooled
// one turns out to be closed.
type BufferedBody interface {
	io.ReadCloser
	Bytes() []byte
}

// NewBufferedBody returns a BufferedBody that reads data.
func NewBufferedBody(data []byte) BufferedBody {
	return &bufferedBody{Reader: bytes.NewReader(data), data: data}
}

type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func (b *bufferedBody) Bytes() []byte { return b.data }
func (b *bufferedBody) Close() error  { return nil }

// ForProxy lets a body in buffered in memory reach the transport as a
// [BufferedBody] again after httputil.ReverseProxy has wrapped it (it
// wraps every outbound body, to keep Close from reaching the inbound
// one). Call it from the ReverseProxy's Rewrite hook with pr.Out and
// pr.In: out then reads the same bytes from the start.
func ForProxy(out, in *http.Request) {
	if b, ok := in.Body.(BufferedBody); ok && out.Body != nil && out.ContentLength == int64(len(b.Bytes())) {
		out.Body = NewBufferedBody(b.Bytes())
	}
}

// Transport sends requests to one upstream. Its zero value is not usable:
// set Dial.
type Transport struct {
	// Dial opens a connection to the upstream.
	Dial func(ctx context.Context) (net.Conn, error)
	// ResponseHeaderTimeout bounds the wait for the response's header once
	// the request is written; 0 for none.
	ResponseHeaderTimeout time.Duration
	// MaxIdle is the most idle connections kept; 0 keeps none.
	MaxIdle int
	// IdleTimeout closes connections idle for longer.
	IdleTimeout time.Duration
	// Fallback sends what the fast path does not cover.
	Fallback http.RoundTripper

	// noKeepAlive, when set, closes each connection after its response
	// and asks the upstream to do the same.
	noKeepAlive atomic.Bool

	mu     sync.Mutex
	idle   []*conn // most recently used last
	closed bool    // CloseIdleConnections was called: pool no more
	// sweep closes idle connections when no request comes to do it.
	sweep *time.Timer
}

var _ http.RoundTripper = (*Transport)(nil)

// SetKeepAlive turns connection reuse on or off. Off, every request goes
// out with Connection: close and idle connections are dropped.
func (t *Transport) SetKeepAlive(on bool) {
	t.noKeepAlive.Store(!on)
	if !on {
		t.closeIdle()
	}
}

// MaxFastBody is the largest body the fast path sends. It writes the whole
// request before reading the answer, so a body the socket buffers of both
// ends cannot hold would block the write of an upstream that answers
// early without reading it (a 401 on the header alone); net/http's
// Transport, which reads while it writes, sends larger ones.
const MaxFastBody = 32 << 10

// Eligible reports whether the fast path sends r: plain http, no upgrade,
// no Expect, no trailers, and a body that is empty or a [BufferedBody] of
// its ContentLength, at most [MaxFastBody].
func Eligible(r *http.Request) bool {
	if r.URL == nil || r.URL.Scheme != "http" || len(r.Trailer) > 0 {
		return false
	}
	h := r.Header
	if _, ok := h["Upgrade"]; ok {
		return false
	}
	if _, ok := h["Expect"]; ok {
		return false
	}
	if len(r.TransferEncoding) > 0 {
		return false
	}
	switch b := r.Body.(type) {
	case nil:
		return true
	case BufferedBody:
		n := len(b.Bytes())
		return int64(n) == r.ContentLength && n <= MaxFastBody
	}
	return r.Body == http.NoBody
}

// RoundTrip sends r and returns the response, on the fast path when r is
// [Eligible], else on Fallback. The response body must be read to its end
// and closed for the connection to be reused.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !Eligible(r) {
		if t.Fallback == nil {
			return nil, errors.New("h1: request needs the fallback transport, and there is none")
		}
		return t.Fallback.RoundTrip(r)
	}
	ctx := r.Context()
	var data []byte
	if b, ok := r.Body.(BufferedBody); ok {
		data = b.Bytes()
	}
	for attempt := 0; ; attempt++ {
		c, reused, err := t.get(ctx)
		if err != nil {
			return nil, err
		}
		req := r
		if data != nil && attempt > 0 {
			r2 := *r
			r2.Body = NewBufferedBody(data)
			req = &r2
		}
		resp, err := t.exchange(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		// A pooled connection the upstream closed while it lay idle:
		// send the request again, once, on a new one, when that cannot
		// run it twice.
		if reused && attempt == 0 && errors.Is(err, errStale) && replayable(r) && ctx.Err() == nil {
			continue
		}
		return nil, err
	}
}

// errStale marks an exchange that failed before any byte of a response
// came back, the way a connection the upstream closed fails.
var errStale = errors.New("h1: connection closed by the upstream before it answered")

// replayable reports whether r may be sent twice: a method that changes
// nothing, or a request that says it is idempotent, as net/http's
// Transport judges. The body is in memory, so it can be sent again.
func replayable(r *http.Request) bool {
	switch r.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	_, a := r.Header["Idempotency-Key"]
	_, b := r.Header["X-Idempotency-Key"]
	return a || b
}

// exchange writes req on c and reads the response's header. On success
// the response's body owns c; on failure c is closed.
func (t *Transport) exchange(ctx context.Context, c *conn, req *http.Request) (*http.Response, error) {
	// A client that goes away interrupts whatever c is blocked on.
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		c.close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("h1: %w", ctx.Err())
		}
		return nil, err
	}

	keepAlive := !t.noKeepAlive.Load()
	if !keepAlive && !req.Close {
		r2 := *req
		r2.Close = true
		req = &r2
	}
	werr := req.Write(c.bw)
	if werr == nil {
		werr = c.bw.Flush()
	}
	if werr != nil {
		if c.w.err == nil {
			return fail(werr) // nothing to do with the network
		}
		werr = c.w.err
		if !isReset(werr) {
			return fail(writeError(werr))
		}
	}
	// An upstream may answer and close before it has read the whole
	// request (a 413 for a body too large): the write then fails with a
	// reset, and the answer it sent first is still to be read.
	resp, err := t.readResponse(ctx, c, req)
	if err != nil {
		if werr != nil {
			return fail(writeError(werr))
		}
		return fail(err)
	}
	c.limit.n = unlimited
	c.setReadDeadline(ctx, time.Time{})

	reuse := werr == nil && keepAlive && !resp.Close && !req.Close && !announcesMissingBody(req, resp)
	if resp.Body == http.NoBody {
		// Nothing more to read: the connection is free now.
		t.release(c, reuse, stop)
		return resp, nil
	}
	resp.Body = &body{rc: resp.Body, t: t, c: c, reuse: reuse, stop: stop, ctx: ctx}
	return resp, nil
}

// readResponse reads the final response to req from c, handling
// informational ones as net/http's Transport does.
func (t *Transport) readResponse(ctx context.Context, c *conn, req *http.Request) (*http.Response, error) {
	if t.ResponseHeaderTimeout > 0 {
		c.setReadDeadline(ctx, time.Now().Add(t.ResponseHeaderTimeout))
	}
	c.limit.n = MaxResponseHeaderBytes
	for {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			if c.limit.n <= 0 {
				return nil, errors.New("h1: response header too large")
			}
			if c.limit.read == 0 && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)) {
				return nil, fmt.Errorf("%w: %v", errStale, err)
			}
			return nil, err
		}
		code := resp.StatusCode
		if code < 100 || code >= 200 {
			return resp, nil // final; a proxy refuses a code below 100 itself
		}
		if code == http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("h1: unexpected %d response", code)
		}
		// As net/http's Transport: informational responses handed to
		// the caller each get a fresh header limit (the caller bounds
		// how many it takes; the header timeout bounds them all);
		// others count against the final response's.
		if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(code, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, err
			}
			c.limit.n = MaxResponseHeaderBytes
		}
	}
}

// announcesMissingBody reports whether resp has no body by definition yet
// might be followed by one: any answer to HEAD, or a 204 or 304 that
// announces a length or a chunked body. An upstream that sent those bytes
// late anyway would have them read as the answer to the next request on
// the connection — another client's, perhaps — so such a connection is
// not reused. (net/http's Transport reuses it.)
func announcesMissingBody(req *http.Request, resp *http.Response) bool {
	if req.Method == http.MethodHead {
		return true
	}
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified {
		return false
	}
	cl := resp.Header.Get("Content-Length")
	return (cl != "" && cl != "0") || len(resp.TransferEncoding) > 0 || resp.Header.Get("Transfer-Encoding") != ""
}

// writeError marks an error writing the request as stale: nothing of a
// response came back, and the upstream may have closed the connection.
func writeError(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) || isReset(err) {
		return fmt.Errorf("%w: %v", errStale, err)
	}
	return err
}

// release ends an exchange on c: it goes back to the pool if reuse allows
// and the client did not interrupt it, else it is closed.
func (t *Transport) release(c *conn, reuse bool, stop func() bool) {
	if !stop() {
		reuse = false // the deadline was set to interrupt it
	}
	if reuse {
		t.put(c)
		return
	}
	c.close()
}

// body is a response body on the fast path. Read to its end, it gives its
// connection back to the pool; closed early or failing, it closes it.
type body struct {
	rc    io.ReadCloser
	t     *Transport
	c     *conn
	reuse bool
	stop  func() bool
	ctx   context.Context
	done  bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.done = true
		b.t.release(b.c, b.reuse, b.stop)
	case err != nil:
		b.done = true
		b.t.release(b.c, false, b.stop)
		if b.ctx.Err() != nil {
			// The error itself, as net/http's Transport returns it:
			// ReverseProxy logs no body copy error that is the client
			// going away.
			err = b.ctx.Err()
		}
	}
	return n, err
}

func (b *body) Close() error {
	if !b.done {
		b.done = true
		b.t.release(b.c, false, b.stop)
	}
	return nil
}

// aLongTimeAgo is a deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)
