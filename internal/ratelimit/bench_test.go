package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// BenchmarkLocal is one decision in process, over 10,000 devices.
func BenchmarkLocal(b *testing.B) {
	lo := NewLocal()
	l := Limit{Count: 1000, Per: time.Second, Burst: 1000}
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = "device-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		lo.Allow(context.Background(), keys[i%len(keys)], l)
		i++
	}
}

// BenchmarkRedis is one decision through Debian's redis-server on
// loopback: the round trip a shared limit adds to a request.
func BenchmarkRedis(b *testing.B) {
	r := benchRedis(b)
	l := Limit{Count: 1000, Per: time.Second, Burst: 1000}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Allow(context.Background(), "device-"+strconv.Itoa(i%10000), l); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRedisParallel is decisions from many goroutines at once, as
// several gateways would send them: what one Redis serves.
func BenchmarkRedisParallel(b *testing.B) {
	r := benchRedis(b)
	l := Limit{Count: 1000, Per: time.Second, Burst: 1000}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := r.Allow(context.Background(), "device-"+strconv.Itoa(i%10000), l); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// benchRedis is a limiter on a redis-server of its own, for the benchmark.
func benchRedis(b *testing.B) *Redis {
	_, url := e2e.StartRedis(b)
	r, err := NewRedis(url, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}
