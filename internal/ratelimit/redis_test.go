package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

func TestRedis(t *testing.T) {
	m := miniredis.RunT(t)
	now := time.Unix(1_900_000_000, 0)
	m.SetTime(now)
	r, err := NewRedis("redis://"+m.Addr()+"/0", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	check(t, r, func(d time.Duration) { now = now.Add(d); m.SetTime(now) })
}

func TestRedisDown(t *testing.T) {
	m := miniredis.RunT(t)
	r, err := NewRedis("redis://"+m.Addr(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m.Close()
	start := time.Now()
	if _, err := r.Allow(context.Background(), "d", Limit{Count: 1, Per: time.Second, Burst: 1}); err == nil {
		t.Fatal("no error with Redis down")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
	if _, err := NewRedis("http://x", time.Second); err == nil {
		t.Fatal("an http URL was accepted")
	}
}
