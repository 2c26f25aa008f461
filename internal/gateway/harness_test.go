package gateway

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/config"
)

// The gateway's tests run it in-process: the real loader reads a YAML
// configuration, gateway.New builds it, httptest servers stand for the
// listeners and the backend.

var (
	testSecret    = []byte("gateway unit-test secret: 64 bytes, as Approov issues secrets..")
	testSecretB64 = base64.StdEncoding.EncodeToString(testSecret)
	testSigner    = approovtest.MustSigner(approov.HS256, testSecret, "")
	// testAssertionKey signs assertions in tests that turn them on.
	testAssertionKey = base64.StdEncoding.EncodeToString([]byte("assertion key for gateway tests, 48 bytes long!!"))
)

// token returns a valid token with claims, expiring in an hour unless
// claims say otherwise.
func token(t testing.TB, claims map[string]any) string {
	t.Helper()
	if claims == nil {
		claims = map[string]any{}
	}
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour)
	}
	s, err := testSigner.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seen is what the backend received.
type seen struct {
	Method, RequestURI, Host string
	Header                   http.Header
	Body                     string
}

// backend is an HTTP server that records what reaches it and answers with
// it, as JSON.
type backend struct {
	*httptest.Server
	hits atomic.Int64
}

func newBackend(t testing.TB) *backend {
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{r.Method, r.RequestURI, r.Host, r.Header.Clone(), string(body)}
		b.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s)
	}))
	t.Cleanup(b.Close)
	return b
}

var topLevelUpstream = regexp.MustCompile(`(?m)^upstream:`)

// testGateway is a gateway under test and its surroundings.
type testGateway struct {
	*Gateway
	front   *httptest.Server // serves Handler(), as listen would
	backend *backend
}

// newTestGateway builds a gateway from the YAML configuration yaml, with
// the test secret and, unless yaml says forward_auth_only, the test backend
// as upstream; env adds or overrides APPROOV_* variables.
func newTestGateway(t testing.TB, yaml string, env ...string) *testGateway {
	t.Helper()
	tg := &testGateway{}
	vars := map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_ADMIN_LISTEN": "off"}
	if !strings.Contains(yaml, "forward_auth_only: true") && !topLevelUpstream.MatchString(yaml) {
		tg.backend = newBackend(t)
		vars["APPROOV_UPSTREAM"] = tg.backend.URL
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg := loadTestConfig(t, yaml, vars)
	g, err := New(cfg, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tg.Gateway = g
	tg.front = httptest.NewServer(g.Handler())
	t.Cleanup(tg.front.Close)
	return tg
}

// loadTestConfig loads yaml and vars through the real loader.
func loadTestConfig(t testing.TB, yaml string, vars map[string]string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gateway.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(config.Source{
		Args:   []string{"--config", "gateway.yaml"},
		Getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Dir:    dir,
	})
	if err != nil {
		t.Fatalf("configuration: %v", err)
	}
	return cfg
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request built by hand, so that its request line is exactly
// target, through a real connection to the front server: what a client
// can send, not what a well-behaved client library would.
func (tg *testGateway) do(t testing.TB, method, target string, header http.Header) response {
	t.Helper()
	return rawDo(t, tg.front.Listener.Addr().String(), method, target, header)
}

func rawDo(t testing.TB, addr, method, target string, header http.Header) response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	if _, ok := header["Host"]; !ok {
		fmt.Fprintf(&b, "Host: %s\r\n", addr)
	}
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return response{resp.StatusCode, resp.Header, strings.TrimSpace(string(body))}
}

func decodeSeen(t testing.TB, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("backend answer %q: %v", body, err)
	}
	return s
}

// h builds a header from name, value pairs.
func h(kv ...string) http.Header {
	out := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = append(out[kv[i]], kv[i+1])
	}
	return out
}

// writeTestFile writes content to dir/name, readable by its owner only.
func writeTestFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
