package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcra is the limit as one atomic step in Redis. The state is the key's
// theoretical arrival time (TAT), in microseconds of Redis's own clock, so
// that gateways whose clocks differ agree. A request is allowed when the
// TAT it would push the key to lies within the burst's reach of now.
//
// KEYS[1] the key; ARGV[1] the interval and ARGV[2] the burst times the
// interval, in microseconds. Returns allowed (0 or 1), remaining, and the
// retry-after and reset-after times in microseconds.
var gcra = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local reach = tonumber(ARGV[2])
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local diff = now - (next_tat - reach)
if diff < 0 then
  return {0, 0, -diff, tat - now}
end
local ttl = next_tat - now
redis.call("SET", KEYS[1], string.format("%d", next_tat), "PX", math.ceil(ttl / 1000))
return {1, math.floor(diff / interval), 0, ttl}
`)

// Redis shares limits between gateways through one Redis server.
type Redis struct {
	client  *redis.Client
	timeout time.Duration
	prefix  string
}

// NewRedis connects to the Redis of url (redis:// or rediss://, as
// go-redis reads it), bounding each decision to timeout. It does not dial:
// a Redis that is down shows as errors from Allow.
func NewRedis(url string, timeout time.Duration) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("not a redis:// or rediss:// URL")
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = timeout, timeout, timeout
	opts.MaxRetries = -1 // a retry would double the wait; the failure policy decides
	return &Redis{client: redis.NewClient(opts), timeout: timeout, prefix: "approov:rl:"}, nil
}

// CheckURL reports whether url is one NewRedis accepts, without connecting.
func CheckURL(url string) error {
	if _, err := redis.ParseURL(url); err != nil {
		return errors.New("not a redis:// or rediss:// URL")
	}
	return nil
}

// Close closes the connections to Redis.
func (r *Redis) Close() error { return r.client.Close() }

// Allow runs the GCRA step for key under l. The key is hashed, so that a
// device id of any length or content makes a short, plain Redis key; the
// limit is part of it, so that routes with different limits do not share
// a TAT.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	sum := sha256.Sum256([]byte(key))
	k := fmt.Sprintf("%s%d:%d:%d:%s", r.prefix, l.Count, l.Per/time.Second, l.Burst, base64.RawURLEncoding.EncodeToString(sum[:18]))
	interval := l.Interval().Microseconds()
	if interval < 1 {
		interval = 1
	}
	v, err := gcra.Run(ctx, r.client, []string{k}, interval, interval*int64(l.Burst)).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("redis: %w", err)
	}
	if len(v) != 4 {
		return Result{}, errors.New("redis: unexpected answer to the rate-limit script")
	}
	return Result{Allowed: v[0] == 1, Remaining: int(v[1]), RetryAfter: time.Duration(v[2]) * time.Microsecond,
		ResetAfter: time.Duration(v[3]) * time.Microsecond}, nil
}
