package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/approov-gateway/approov/internal/config"
)

// runGateway runs a gateway the way serve does — Listen, then Serve with a
// context and a reload channel — from the YAML file it returns, which the
// test may rewrite before a reload.
type runningGateway struct {
	*Gateway
	file   string
	reload chan struct{}
	stop   context.CancelFunc
	done   chan error
}

func runGateway(t testing.TB, yaml string, vars map[string]string) *runningGateway {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func() (*config.Config, error) {
		cfg, _, err := config.Load(config.Source{
			Args:   []string{"--config", file},
			Getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			Dir:    dir,
		})
		return cfg, err
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, Options{Load: load})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rg := &runningGateway{Gateway: g, file: file, reload: make(chan struct{}), stop: cancel, done: make(chan error, 1)}
	go func() { rg.done <- g.Serve(ctx, rg.reload) }()
	t.Cleanup(func() {
		cancel()
		<-rg.done
	})
	return rg
}

func get(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeReloadAndDrain(t *testing.T) {
	release := make(chan struct{})
	var inSlow atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			inSlow.Add(1)
			<-release
		}
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	defer up.Close()
	vars := map[string]string{
		"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": up.URL,
		"APPROOV_LISTEN": "127.0.0.1:0", "APPROOV_ADMIN_LISTEN": "127.0.0.1:0", "APPROOV_FORWARD_AUTH_LISTEN": "127.0.0.1:0",
	}
	rg := runGateway(t, "", vars)
	a := rg.Addrs()
	if a.Listen == "" || a.Admin == "" || a.ForwardAuth == "" {
		t.Fatalf("addresses %+v", a)
	}
	api, admin := "http://"+a.Listen, "http://"+a.Admin
	valid := h("Approov-Token", token(t, nil))

	if s, b := get(t, api+"/x", valid); s != 200 || b != "ok /x" {
		t.Fatalf("proxy: %d %s", s, b)
	}
	if s, _ := get(t, api+"/public/x", nil); s != 401 {
		t.Fatalf("before reload, /public/ is protected: %d", s)
	}
	if s, b := get(t, admin+"/healthz", nil); s != 200 || b != "{\"status\":\"ok\"}\n" {
		t.Fatalf("healthz: %d %q", s, b)
	}
	if s, _ := get(t, admin+"/readyz", nil); s != 200 {
		t.Fatalf("readyz: %d", s)
	}
	if s, _ := get(t, api+"/metrics", nil); s != 401 {
		t.Fatalf("the API listener serves /metrics: %d", s)
	}

	// A reload applies a new policy; a bad one is refused and the old one
	// kept.
	os.WriteFile(rg.file, []byte(publicUnderProtected+"access_log: true\n"), 0o600)
	rg.reload <- struct{}{}
	waitFor(t, func() bool { s, _ := get(t, api+"/public/x", nil); return s == 200 })
	os.WriteFile(rg.file, []byte("leeway: soon\n"), 0o600)
	rg.reload <- struct{}{}
	waitFor(t, func() bool {
		_, m := get(t, admin+"/metrics", nil)
		return strings.Contains(m, `approov_gateway_config_reloads_total{result="failure"} 1`)
	})
	if s, _ := get(t, api+"/public/x", nil); s != 200 {
		t.Fatalf("after a refused reload: %d", s)
	}
	_, m := get(t, admin+"/metrics", nil)
	for _, want := range []string{
		`approov_gateway_config_reloads_total{result="success"} 1`,
		`approov_gateway_requests_total{endpoint="proxy",outcome="allowed",reason="ok",route="default"} 1`,
		`approov_gateway_requests_total{endpoint="proxy",outcome="public",reason="ok",route="/public/"} `,
		`approov_gateway_refused_requests_total{cause="dot_segment"} 0`,
		`approov_gateway_upstream_duration_seconds_count{route="default"} 1`,
		`approov_gateway_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Drain: a request in flight finishes; readiness turns off meanwhile.
	slow := make(chan int, 1)
	go func() { s, _ := get(t, api+"/slow", valid); slow <- s }()
	waitFor(t, func() bool { return inSlow.Load() == 1 })
	rg.stop()
	waitFor(t, func() bool { s, _ := get(t, admin+"/readyz", nil); return s == 503 })
	close(release)
	if s := <-slow; s != 200 {
		t.Fatalf("in-flight request during drain: %d", s)
	}
	if err := <-rg.done; err != nil {
		t.Fatalf("Serve after a clean drain: %v", err)
	}
	rg.done <- nil // for the cleanup
	if _, err := http.Get(api + "/x"); err == nil {
		t.Fatal("still accepting after the drain")
	}
}

func TestServeWithoutAdmin(t *testing.T) {
	up := newBackend(t)
	rg := runGateway(t, "", map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": up.URL, "APPROOV_LISTEN": "127.0.0.1:0", "APPROOV_ADMIN_LISTEN": "off"})
	if a := rg.Addrs(); a.Admin != "" || a.ForwardAuth != "" || a.Listen == "" {
		t.Fatalf("addresses %+v", a)
	}
	if s, _ := get(t, "http://"+rg.Addrs().Listen+"/", h("Approov-Token", token(t, nil))); s != 200 {
		t.Fatalf("proxy without admin: %d", s)
	}
}

func TestListenFailsOnTakenAddress(t *testing.T) {
	taken := httptest.NewServer(http.NotFoundHandler())
	defer taken.Close()
	cfg := loadTestConfig(t, "", map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": taken.URL,
		"APPROOV_LISTEN": "127.0.0.1:0", "APPROOV_ADMIN_LISTEN": taken.Listener.Addr().String()})
	g, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Listen(); err == nil || !strings.HasPrefix(err.Error(), "admin_listen: ") {
		t.Fatalf("Listen on a taken admin address: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMetricsOnlyForEndpointsServed: a proxy-only gateway has no
// forward-auth series, a forward-auth-only one no proxy series.
func TestMetricsOnlyForEndpointsServed(t *testing.T) {
	for _, tt := range []struct {
		yaml, absent, present string
	}{
		{"", `endpoint="forward_auth"`, `endpoint="proxy"`},
		{"forward_auth_only: true\n", `endpoint="proxy"`, `endpoint="forward_auth"`},
	} {
		tg := newTestGateway(t, tt.yaml)
		rec := httptest.NewRecorder()
		tg.adminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		m := rec.Body.String()
		if strings.Contains(m, tt.absent) || !strings.Contains(m, tt.present) {
			t.Errorf("%q: metrics have %s: %v, %s: %v", tt.yaml, tt.absent, strings.Contains(m, tt.absent), tt.present, strings.Contains(m, tt.present))
		}
	}
}

// TestReloadProblemsAtTheirLines: a reload the gateway refuses names each
// problem at its line of the new file.
func TestReloadProblemsAtTheirLines(t *testing.T) {
	vars := map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": "http://127.0.0.1:9"}
	rg := runGateway(t, "", vars)
	os.WriteFile(rg.file, []byte("routes:\n  - match: /a/\n  - match: /b/{x\n"), 0o600)
	_, err := rg.Gateway.reload()
	lines := problemLines(nil, err)
	if len(lines) != 1 || !strings.Contains(lines[0], "gateway.yaml:3: routes[1].match") {
		t.Fatalf("reload problems %q", lines)
	}
}

func TestReadyzUpstreams(t *testing.T) {
	up := newBackend(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String()
	ln.Close()
	for _, tt := range []struct {
		yaml string
		want int
	}{
		{"readyz_upstreams: true\nupstream: " + up.URL + "\n", 200},
		{"readyz_upstreams: true\nupstream: " + up.URL + "\nroutes:\n  - match: /other/\n    upstream: " + down + "\n", 503},
		{"upstream: " + down + "\n", 200}, // not asked to look
	} {
		tg := newTestGateway(t, tt.yaml)
		rec := httptest.NewRecorder()
		tg.adminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != tt.want {
			t.Errorf("%q: /readyz %d, want %d: %s", tt.yaml, rec.Code, tt.want, rec.Body)
		}
	}
}
