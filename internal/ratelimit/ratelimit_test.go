package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		burst int
		want  Limit
		bad   bool
	}{
		{"100/m", 0, Limit{100, time.Minute, 100}, false},
		{" 10/s ", 3, Limit{10, time.Second, 3}, false},
		{"5000/h", 0, Limit{5000, time.Hour, 5000}, false},
		{"0/m", 0, Limit{}, true},
		{"10/d", 0, Limit{}, true},
		{"ten/m", 0, Limit{}, true},
		{"10", 0, Limit{}, true},
		{"10/m", -1, Limit{}, true},
	} {
		got, err := ParseLimit(tc.in, tc.burst)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseLimit(%q, %d) = %v, %v", tc.in, tc.burst, got, err)
		}
	}
}

// check runs the shared contract of a Limiter on l, with advance moving
// its clock: a full burst passes, the next request is refused with the
// time to wait, and after one interval one more passes.
func check(t *testing.T, lim Limiter, advance func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	l := Limit{Count: 60, Per: time.Minute, Burst: 3}
	for i := range 3 {
		r, err := lim.Allow(ctx, "device-1", l)
		if err != nil || !r.Allowed || r.Remaining != 2-i {
			t.Fatalf("request %d: %+v, %v", i+1, r, err)
		}
	}
	r, err := lim.Allow(ctx, "device-1", l)
	if err != nil || r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > time.Second || r.ResetAfter < 2*time.Second || r.ResetAfter > 3*time.Second {
		t.Fatalf("over the burst: %+v, %v", r, err)
	}
	if r, err := lim.Allow(ctx, "device-2", l); err != nil || !r.Allowed {
		t.Fatalf("another device: %+v, %v", r, err)
	}
	advance(time.Second + 10*time.Millisecond)
	if r, err := lim.Allow(ctx, "device-1", l); err != nil || !r.Allowed || r.Remaining != 0 {
		t.Fatalf("after one interval: %+v, %v", r, err)
	}
	if r, err := lim.Allow(ctx, "device-1", l); err != nil || r.Allowed {
		t.Fatalf("and then: %+v, %v", r, err)
	}
	// Another limit on the same key has its own state.
	if r, err := lim.Allow(ctx, "device-1", Limit{Count: 1, Per: time.Hour, Burst: 1}); err != nil || !r.Allowed {
		t.Fatalf("another limit: %+v, %v", r, err)
	}
}

func TestLocal(t *testing.T) {
	lo := NewLocal()
	now := time.Unix(1_900_000_000, 0)
	lo.now = func() time.Time { return now }
	check(t, lo, func(d time.Duration) { now = now.Add(d) })
}

// Full buckets are forgotten, without changing a decision: the map holds
// at most about twice the keys active within a refill time.
func TestLocalForgetsFullBuckets(t *testing.T) {
	lo := NewLocal()
	now := time.Unix(1_900_000_000, 0)
	lo.now = func() time.Time { return now }
	l := Limit{Count: 10, Per: time.Second, Burst: 2}
	wave := func(name string) {
		for i := range 5000 {
			if r, _ := lo.Allow(context.Background(), fmt.Sprintf("%s-%d", name, i), l); !r.Allowed {
				t.Fatalf("a new key was refused")
			}
		}
	}
	wave("first")
	now = now.Add(time.Second) // every bucket of the first wave is full again
	wave("second")
	if n := lo.Len(); n > 6000 {
		t.Fatalf("%d keys held for 5000 active", n)
	}
}

func TestSetHeaders(t *testing.T) {
	h := http.Header{}
	SetHeaders(h, "device", Limit{Count: 100, Per: time.Minute, Burst: 20}, Result{RetryAfter: 1500 * time.Millisecond, ResetAfter: 11 * time.Second})
	for name, want := range map[string]string{"Retry-After": "2", "RateLimit-Policy": `"device";q=20;w=60`, "RateLimit": `"device";r=0;t=11`} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
