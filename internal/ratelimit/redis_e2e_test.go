package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestRealRedisIsExact: many clients of a real Redis, as many gateways
// would be, share one device's burst exactly — the script is atomic.
func TestRealRedisIsExact(t *testing.T) {
	_, url := e2e.StartRedis(t)
	l := Limit{Count: 1, Per: time.Hour, Burst: 100}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		r, err := NewRedis(url, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				res, err := r.Allow(context.Background(), "device-shared", l)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Fatalf("%d of 400 requests allowed, want exactly the burst of 100", n)
	}
}
