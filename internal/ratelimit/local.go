package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Local limits within this process: one golang.org/x/time/rate limiter per
// key and limit. Keys whose bucket has refilled are forgotten when the map
// has doubled since the last sweep — a full bucket and no bucket decide the
// same — so memory follows the keys active within a burst's refill time.
type Local struct {
	now       func() time.Time
	mu        sync.Mutex
	buckets   map[localKey]*rate.Limiter
	sweepSize int
}

type localKey struct {
	key   string
	limit Limit
}

// NewLocal returns an empty Local.
func NewLocal() *Local {
	return &Local{now: time.Now, buckets: map[localKey]*rate.Limiter{}, sweepSize: 1024}
}

// Allow takes one request from key's bucket for l.
func (lo *Local) Allow(_ context.Context, key string, l Limit) (Result, error) {
	now := lo.now()
	k := localKey{key, l}
	lo.mu.Lock()
	b, ok := lo.buckets[k]
	if !ok {
		if len(lo.buckets) >= lo.sweepSize {
			lo.sweep(now)
		}
		b = rate.NewLimiter(rate.Every(l.Interval()), l.Burst)
		lo.buckets[k] = b
	}
	lo.mu.Unlock()

	r := b.ReserveN(now, 1)
	interval := l.Interval()
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		tokens := b.TokensAt(now)
		return Result{RetryAfter: delay, ResetAfter: time.Duration((float64(l.Burst) - tokens) * float64(interval))}, nil
	}
	tokens := b.TokensAt(now)
	return Result{Allowed: true, Remaining: int(tokens), ResetAfter: time.Duration((float64(l.Burst) - tokens) * float64(interval))}, nil
}

// sweep forgets the buckets that are full again; lo.mu is held.
func (lo *Local) sweep(now time.Time) {
	for k, b := range lo.buckets {
		if b.TokensAt(now) >= float64(k.limit.Burst) {
			delete(lo.buckets, k)
		}
	}
	lo.sweepSize = max(1024, 2*len(lo.buckets))
}

// Len reports how many keys are held, for tests and metrics.
func (lo *Local) Len() int {
	lo.mu.Lock()
	defer lo.mu.Unlock()
	return len(lo.buckets)
}
