package h1

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// unsent returns how many bytes c has written that its peer has not yet
// acknowledged (TIOCOUTQ).
func unsent(t *testing.T, c net.Conn) int {
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Error(err)
		return 0
	}
	var n int32
	var errno syscall.Errno
	raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	})
	if errno != 0 {
		t.Error(errno)
	}
	return int(n)
}

// An upstream that refuses a request before reading its body, and closes
// at once, resets the connection while the body is still being written.
// When its answer reached the gateway before the reset, that answer is
// what the client gets — not a 502 — and the connection is not reused.
// (An upstream that closes while its answer is still unsent loses it:
// the reset discards it. Real servers linger to avoid that; this one
// waits until its answer is acknowledged, so the test is deterministic.)
func TestAnswerBeforeReset(t *testing.T) {
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
				defer c.Close() // with the body unread: a reset
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\n\r\ntoo long")
				for unsent(t, c) > 0 {
					time.Sleep(time.Millisecond)
				}
			}()
		}
	}()
	var d net.Dialer
	var dials atomic.Int32
	tr := &Transport{Dial: func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}, MaxIdle: 4}
	// Larger than the socket buffers, so the write cannot complete.
	body := bytes.Repeat([]byte("x"), 16<<20)
	for range 3 {
		req, _ := http.NewRequest("POST", "http://u/upload", nil)
		req.Body, req.ContentLength = NewBufferedBody(body), int64(len(body))
		// Far above MaxFastBody, so exchange is called as RoundTrip would
		// call it for a smaller body that meets the same reset.
		c, _, err := tr.get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.exchange(context.Background(), c, req)
		if err != nil {
			t.Fatalf("the upstream's answer was lost: %v", err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || string(b) != "too long" || err != nil {
			t.Fatalf("got %d %q %v, want the 413 the upstream sent", resp.StatusCode, b, err)
		}
	}
	if n := dials.Load(); n != 3 {
		t.Fatalf("%d dials for 3 requests: a reset connection must not be reused", n)
	}
}
