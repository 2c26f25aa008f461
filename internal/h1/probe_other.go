//go:build !unix

package h1

import "net"

// alive cannot peek on this system: a closed idle connection shows when
// the request fails, and idempotent requests are sent again.
func alive(net.Conn) bool { return true }

func isReset(error) bool { return false }
