//go:build !unix

package h1

import (
	"net"
	"syscall"
)

func rawConn(net.Conn) syscall.RawConn { return nil }

// alive cannot peek on this system: a closed idle connection shows when
// the request fails, and idempotent requests are sent again.
func alive(syscall.RawConn) bool { return true }

func isReset(error) bool { return false }
