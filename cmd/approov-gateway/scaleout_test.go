package main_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// TestScaleOut runs three gateway processes behind a real nginx
// round-robin upstream, sharing per-device rate limits through Debian's
// redis-server: one device's limit holds across the three exactly; a
// rolling SIGHUP of every instance under load loses no request; and with
// Redis killed mid-run requests still pass (rate limits fail open by
// default), counted as errors.
func TestScaleOut(t *testing.T) {
	e2e.Require(t, "nginx")
	redis, redisURL := e2e.StartRedis(t)
	b := newBackend(t)
	const limit = 20
	cfg := fmt.Sprintf("upstream: %s\nrate_limit: %d/h\nrate_limit_redis_url: %s\nrate_limit_redis_timeout: 250ms\n", b.URL, limit, redisURL)
	var gws []*e2e.Gateway
	var servers strings.Builder
	for range 3 {
		dir := t.TempDir()
		writeFile(t, dir, "gateway.yaml", cfg)
		gw := e2e.StartGateway(t, dir, []string{"APPROOV_BASE64_SECRET=" + secretB64, "APPROOV_CONFIG=gateway.yaml"})
		gws = append(gws, gw)
		fmt.Fprintf(&servers, "        server %s;\n", gw.Addr)
	}
	front := startNginxFront(t, servers.String())

	// One device, thirty requests, round robin over three gateways: the
	// shared GCRA lets exactly its burst through.
	alice := http.Header{"Approov-Token": {tok(t, map[string]any{"did": "alice"})}}
	counts := map[int]int{}
	for range 30 {
		counts[request(t, "GET", front+"/x", alice).status]++
	}
	if counts[200] != limit || counts[429] != 30-limit {
		t.Fatalf("30 requests of one device across 3 gateways: %v, want %d allowed", counts, limit)
	}
	for i, gw := range gws {
		if m := grep(request(t, "GET", gw.AdminURL()+"/metrics", nil).body, `approov_gateway_rate_limit_total{limit="device",outcome="allowed"`); m == "" {
			t.Errorf("gateway %d allowed none: nginx did not spread the requests", i)
		}
	}

	// Load from many devices, each within its limit.
	var device atomic.Int64
	l := startLoad(t, 6, func() *http.Request {
		req, _ := http.NewRequest("GET", front+"/load", nil)
		req.Header.Set("Approov-Token", tok(t, map[string]any{"did": fmt.Sprintf("device-%d", device.Add(1))}))
		return req
	})

	// A rolling reload: each instance in turn, each waited for.
	for _, gw := range gws {
		before := l.ok.Load()
		gw.Signal(t, syscall.SIGHUP)
		waitUntil(t, func() bool {
			return strings.Contains(request(t, "GET", gw.AdminURL()+"/metrics", nil).body, `approov_gateway_config_reloads_total{result="success"} 1`)
		})
		waitUntil(t, func() bool { return l.ok.Load() > before+20 }) // load on the new configuration
	}
	l.check(t, "rolling reload")

	// Redis gone: requests keep passing, and the gateways count errors.
	redis.Kill()
	before := l.ok.Load()
	waitUntil(t, func() bool { return l.ok.Load() > before+60 })
	l.check(t, "Redis killed")
	errors := 0
	for _, gw := range gws {
		if grep(request(t, "GET", gw.AdminURL()+"/metrics", nil).body, `approov_gateway_rate_limit_total{limit="device",outcome="error"`) != "" {
			errors++
		}
	}
	if errors == 0 {
		t.Errorf("no gateway counted a rate-limit error with Redis killed")
	}
	t.Logf("%d requests through 3 gateways, none failed, across a rolling reload and Redis killed", l.ok.Load())
}

// startNginxFront runs nginx round-robin over the upstream servers, and
// returns its base URL.
func startNginxFront(t *testing.T, servers string) string {
	t.Helper()
	dir := t.TempDir()
	listen := e2e.FreeAddr(t)
	site := fmt.Sprintf(`    upstream gateways {
%s        keepalive 16;
    }
    server {
        listen %s;
        location / {
            proxy_pass http://gateways;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }
    }`, servers, listen)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(e2e.NginxConf(dir, site)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := e2e.Start(t, dir, nil, "nginx", "-c", conf, "-p", dir)
	url := "http://" + listen
	e2e.WaitHTTP(t, p, url+"/", http.StatusUnauthorized, 10*time.Second)
	return url
}
