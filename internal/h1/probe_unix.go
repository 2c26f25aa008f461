//go:build unix

package h1

import (
	"errors"
	"net"
	"syscall"
)

// rawConn returns nc's descriptor access for alive, once per connection,
// or nil when nc has none.
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// alive reports whether an idle connection is still open: no end of
// stream and no unsolicited data waiting. It peeks without blocking, one
// system call. Without descriptor access, it cannot tell: true.
func alive(rc syscall.RawConn) bool {
	if rc == nil {
		return true
	}
	open := false
	err := rc.Read(func(fd uintptr) bool {
		var b [1]byte
		// Nothing to read yet is the one answer of an open, quiet
		// connection: 0 bytes is its end, any byte an unsolicited answer.
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && open
}

// isReset reports whether err is the upstream resetting the connection.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
