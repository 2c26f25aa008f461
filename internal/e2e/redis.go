package e2e

import (
	"net"
	"testing"
	"time"
)

// StartRedis runs Debian's redis-server on a free loopback port, without
// persistence, stopped when the test ends, and returns its process and its
// redis:// URL.
func StartRedis(t testing.TB) (*Proc, string) {
	t.Helper()
	Require(t, "redis-server")
	addr := FreeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	p := Start(t, t.TempDir(), nil, "redis-server", "--bind", host, "--port", port, "--save", "", "--appendonly", "no")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return p, "redis://" + addr + "/0"
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v\n%s", err, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
