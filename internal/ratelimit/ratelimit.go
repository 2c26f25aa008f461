// Package ratelimit limits requests per key — the verified device id of an
// Approov token — with the generic cell rate algorithm (GCRA): a limit of
// Count requests Per period, with bursts of up to Burst. Local keeps the
// state in the process (golang.org/x/time/rate); Redis shares it between
// gateway instances, in one atomic script per request.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limit is Count requests per Per, with bursts of up to Burst.
type Limit struct {
	Count int
	Per   time.Duration
	Burst int
}

// Interval is the time one request's share of the limit takes to return.
func (l Limit) Interval() time.Duration { return l.Per / time.Duration(l.Count) }

// String is the limit as ParseLimit reads it, with its burst.
func (l Limit) String() string {
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[l.Per]
	return fmt.Sprintf("%d/%s burst %d", l.Count, unit, l.Burst)
}

// ParseLimit reads "N/s", "N/m" or "N/h"; burst 0 makes the burst N.
func ParseLimit(s string, burst int) (Limit, error) {
	count, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(count)
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	if !ok || err != nil || n < 1 || n > 1_000_000 || per == 0 {
		return Limit{}, errors.New("want a number of requests per s, m or h, such as 100/m")
	}
	if burst < 0 || burst > 1_000_000 {
		return Limit{}, errors.New("burst: want 0 (the limit's count) to 1000000")
	}
	if burst == 0 {
		burst = n
	}
	return Limit{Count: n, Per: per, Burst: burst}, nil
}

// Result is the decision on one request.
type Result struct {
	Allowed bool
	// Remaining is how many more requests the key may make at once.
	Remaining int
	// RetryAfter is how long until the next request would be allowed,
	// when this one is not.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to a full burst.
	ResetAfter time.Duration
}

// Limiter decides whether the request keyed key is within l.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

// SetHeaders sets, on a refusal by the policy named policy, Retry-After
// (whole seconds, rounded up) and the RateLimit-Policy and RateLimit
// fields of draft-ietf-httpapi-ratelimit-headers-10: the policy's quota q
// per window w seconds, the remaining quota r and the seconds t until it
// is whole.
func SetHeaders(h http.Header, policy string, l Limit, r Result) {
	h.Set("Retry-After", strconv.FormatInt(ceilSeconds(r.RetryAfter), 10))
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", policy, l.Burst, int64(l.Per/time.Second)))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", policy, r.Remaining, ceilSeconds(r.ResetAfter)))
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
