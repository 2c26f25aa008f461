package gateway

import (
	"testing"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestRateLimitRealRedis: two gateways sharing Debian's redis-server hold
// one device's limit between them, exactly; killed Redis leaves requests
// to the failure policy (fail open by default).
func TestRateLimitRealRedis(t *testing.T) {
	redis, url := e2e.StartRedis(t)
	yaml := "rate_limit: 5/h\nrate_limit_redis_url: " + url + "\nrate_limit_redis_timeout: 100ms\n"
	a, b := newTestGateway(t, yaml), newTestGateway(t, yaml)
	alice := h("Approov-Token", token(t, map[string]any{"did": "alice"}))
	counts := map[int]int{}
	for i := range 12 {
		tg := a
		if i%2 == 1 {
			tg = b
		}
		counts[tg.do(t, "GET", "/", alice).status]++
	}
	if counts[200] != 5 || counts[429] != 7 {
		t.Fatalf("12 requests across two gateways: %v, want 5 allowed", counts)
	}
	redis.Kill()
	if r := a.do(t, "GET", "/", h("Approov-Token", token(t, map[string]any{"did": "bob"}))); r.status != 200 {
		t.Errorf("Redis killed, fail open: %d", r.status)
	}
	if got := a.rateCount(t, "default", "error"); got != 1 {
		t.Errorf("errors: %v", got)
	}
}
