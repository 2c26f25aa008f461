package gateway

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/approov-gateway/approov/internal/config"
)

// The classes of requests that walked around the check, each through the
// whole gateway: the backend must never be reached without a valid token
// on a protected route.

// publicUnderProtected is /public/ public under a protected /.
const publicUnderProtected = `
routes:
  - match: /public/
    mode: public
`

// protectedUnderPublic is a public / with protected methods, paths and
// hosts below it.
const protectedUnderPublic = `
preserve_host: true
routes:
  - match: /
    mode: public
  - match: POST /upload
    mode: token
  - match: /private/
    mode: token
  - match: api.example.com/
    mode: token
`

func TestDotSegmentsNeverReachTheBackend(t *testing.T) {
	tg := newTestGateway(t, publicUnderProtected)
	for _, target := range []string{
		"/public/%2e%2e/private/secret.txt",
		"/public/%2E%2E/private/secret.txt",
		"/public/.%2e/private/secret.txt",
		"/public/%2e./private/secret.txt",
		"/public/../private/secret.txt",
		"/public/..;/private/secret.txt",
		"/public/..%2fprivate/secret.txt",
		"/public/..%5cprivate/secret.txt",
		"/public/..\\private\\secret.txt",
		"//private/secret.txt",
		"/public/#/../../private/secret.txt",
		"http://" + tg.front.Listener.Addr().String() + "/public/%2e%2e/private/secret.txt",
	} {
		before := tg.backend.hits.Load()
		r := tg.do(t, "GET", target, nil)
		if r.status != 400 || tg.backend.hits.Load() != before {
			t.Errorf("GET %s: %d %s, backend reached: %v", target, r.status, r.body, tg.backend.hits.Load() != before)
		}
	}
	// Ordinary encodings still pass, unchanged.
	r := tg.do(t, "GET", "/public/caf%C3%A9?q=a%20b", nil)
	if r.status != 200 || decodeSeen(t, r.body).RequestURI != "/public/caf%C3%A9?q=a%20b" {
		t.Fatalf("ordinary encoding: %d %s", r.status, r.body)
	}
}

func TestConnectAndTraceRefused(t *testing.T) {
	tg := newTestGateway(t, publicUnderProtected)
	for _, m := range []string{"CONNECT", "TRACE"} {
		before := tg.backend.hits.Load()
		r := tg.do(t, m, "/public/../private/x", nil)
		if r.status != 405 && r.status != 400 || tg.backend.hits.Load() != before {
			t.Errorf("%s: %d, backend reached %v", m, r.status, tg.backend.hits.Load() != before)
		}
		r = tg.do(t, m, "/public/x", nil)
		if r.status != 405 || tg.backend.hits.Load() != before {
			t.Errorf("%s /public/x: %d", m, r.status)
		}
	}
}

func TestMethodCase(t *testing.T) {
	tg := newTestGateway(t, protectedUnderPublic)
	for _, m := range []string{"post", "Post", "pOST"} {
		before := tg.backend.hits.Load()
		if r := tg.do(t, m, "/upload", nil); r.status != 400 || tg.backend.hits.Load() != before {
			t.Errorf("%s /upload: %d, backend reached %v", m, r.status, tg.backend.hits.Load() != before)
		}
	}
	if r := tg.do(t, "POST", "/upload", nil); r.status != 401 {
		t.Errorf("POST /upload without a token: %d", r.status)
	}
	if r := tg.do(t, "M-SEARCH", "/x", nil); r.status != 200 {
		t.Errorf("an extension method on a public route: %d", r.status)
	}
}

func TestHostVariants(t *testing.T) {
	tg := newTestGateway(t, protectedUnderPublic)
	for _, host := range []string{"api.example.com", "API.EXAMPLE.COM", "api.example.com.", "Api.Example.Com.:8443", "api.example.com:80"} {
		before := tg.backend.hits.Load()
		if r := tg.do(t, "GET", "/anything", h("Host", host)); r.status != 401 || tg.backend.hits.Load() != before {
			t.Errorf("Host %s: %d, backend reached %v", host, r.status, tg.backend.hits.Load() != before)
		}
	}
	// The host the backend sees is the one routed on.
	r := tg.do(t, "GET", "/anything", h("Host", "API.Example.COM.", "Approov-Token", token(t, nil)))
	if r.status != 200 || decodeSeen(t, r.body).Host != "api.example.com" {
		t.Fatalf("valid token, upper-case host: %d %s", r.status, r.body)
	}
	if r := tg.do(t, "GET", "/anything", h("Host", "www.example.com")); r.status != 200 {
		t.Errorf("a public host: %d", r.status)
	}
}

func TestHostRoutesSharingAnUpstreamNeedPreserveHost(t *testing.T) {
	vars := map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": "http://127.0.0.1:9"}
	dir := t.TempDir()
	_ = dir
	yaml := strings.Replace(protectedUnderPublic, "preserve_host: true\n", "", 1)
	_, _, err := loadConfig(t, yaml, vars)
	if err == nil || !strings.Contains(err.Error(), "preserve_host") {
		t.Fatalf("want a preserve_host problem, got %v", err)
	}
	// With each host on its own upstream, there is nothing to confuse.
	own := yaml + "    upstream: http://127.0.0.1:10\n"
	if _, _, err := loadConfig(t, own, vars); err != nil {
		t.Fatalf("host route with its own upstream: %v", err)
	}
}

func TestMethodScopedRouteWarning(t *testing.T) {
	cfg := loadTestConfig(t, protectedUnderPublic, map[string]string{"APPROOV_BASE64_SECRET": testSecretB64, "APPROOV_UPSTREAM": "http://127.0.0.1:9"})
	warnings, err := Check(cfg)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range warnings {
		if strings.Contains(w, `route "POST /upload" protects only POST`) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no warning about POST /upload under a public /: %q", warnings)
	}
}

// loadConfig is config.Load on yaml and vars.
func loadConfig(t testing.TB, yaml string, vars map[string]string) (*config.Config, *config.Flags, error) {
	t.Helper()
	dir := t.TempDir()
	writeTestFile(t, dir, "gateway.yaml", yaml)
	return config.Load(config.Source{
		Args:   []string{"--config", "gateway.yaml"},
		Getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Dir:    dir,
	})
}

// TestRoutingDifferential holds the gateway's routing against a reference
// backend that acts on the most it could: the method upper-cased (as
// gunicorn does), the host lower-cased without a trailing dot, the path
// cut at "?" or "#", fully percent-decoded, with dot segments removed and
// slashes merged (as Python's http.server, Go's FileServer or nginx would
// resolve it). Property: whenever that reference lands on a protected
// route, a request without a token never reaches the backend.
func TestRoutingDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, policy := range []string{publicUnderProtected, protectedUnderPublic, `
preserve_host: true
routes:
  - match: /
    mode: public
  - match: GET /static/{file}
    mode: public
  - match: /admin/
    mode: binding
    binding_headers: [Authorization]
  - match: private.example.com/
    mode: token
  - match: /api/{version}/items/
    mode: token
`} {
		tg := newTestGateway(t, policy)
		st := tg.state.Load()
		n := 3000
		if testing.Short() {
			n = 300
		}
		for range n {
			method, host, target := randomRequest(rng)
			checkRoutingProperty(t, tg, st, method, host, target)
		}
	}
}

// FuzzRouting is TestRoutingDifferential's property under the fuzzer.
func FuzzRouting(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		m, h, p := randomRequest(rng)
		f.Add(m, h, p)
	}
	f.Add("GET", "api.example.com.", "/public/%2e%2e/private/x")
	f.Add("post", "x", "/upload")
	tg := newTestGateway(f, protectedUnderPublic)
	st := tg.state.Load()
	f.Fuzz(func(t *testing.T, method, host, target string) {
		checkRoutingProperty(t, tg, st, method, host, target)
	})
}

func checkRoutingProperty(t testing.TB, tg *testGateway, st *state, method, host, target string) {
	t.Helper()
	raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", method, target, host)
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return // net/http refuses it before any handler runs
	}
	req.RemoteAddr = "192.0.2.1:1234"
	protected, why := referenceProtected(st, method, host, target)
	if !protected {
		return
	}
	before := tg.backend.hits.Load()
	rec := httptest.NewRecorder()
	tg.ServeHTTP(rec, req)
	if tg.backend.hits.Load() != before {
		t.Fatalf("%q %q Host %q reached the backend without a token (status %d); the reference resolves it to %s", method, target, host, rec.Code, why)
	}
}

// referenceProtected reports whether the reference backend's reading of
// the request lands on a route that checks tokens.
func referenceProtected(st *state, method, host, target string) (bool, string) {
	p := target
	if scheme, rest, ok := strings.Cut(p, "://"); ok && !strings.Contains(scheme, "/") {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = rest[i:]
		} else {
			p = "/"
		}
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	decoded, err := url.PathUnescape(p)
	if err != nil {
		decoded = p
	}
	decoded = strings.ReplaceAll(decoded, "\\", "/")
	for strings.Contains(decoded, "//") {
		decoded = strings.ReplaceAll(decoded, "//", "/")
	}
	if !strings.HasPrefix(decoded, "/") {
		decoded = "/" + decoded
	}
	decoded = removeDotSegments(decoded)
	probe := &http.Request{Method: strings.ToUpper(method), Host: canonicalHost(host), URL: &url.URL{Path: decoded}}
	rt, ok := st.lookup(probe).(*route)
	if !ok {
		// The mux would redirect (to the path with a slash): conservatively
		// protected, since a backend acts on the path as it is.
		return true, "no route (" + decoded + ")"
	}
	return rt.mode != config.ModePublic, fmt.Sprintf("route %q (%s %s %s)", rt.name, probe.Method, probe.Host, decoded)
}

// randomRequest draws a request from the spellings that split parsers.
func randomRequest(rng *rand.Rand) (method, host, target string) {
	methods := []string{"GET", "get", "POST", "post", "Post", "PUT", "HEAD", "OPTIONS", "CONNECT", "TRACE", "M-SEARCH", "DELETE"}
	hosts := []string{"api.example.com", "API.EXAMPLE.COM", "api.example.com.", "Api.Example.Com:8080", "www.example.com",
		"private.example.com", "PRIVATE.example.com.", "127.0.0.1", "[::1]:80"}
	segments := []string{"public", "private", "admin", "upload", "static", "api", "v1", "items", "x", "secret.txt",
		".", "..", "%2e", "%2E", "%2e%2e", ".%2e", "%2e.", "..;", ".;x", ";x=1", "%2f", "%2F", "%5c", "\\", "%00",
		"%25", "%252e%252e", "#", "?", "", "%61dmin", "PUBLIC", "Private", "%7e", "~", "public;", "admin%20", "%70rivate"}
	method = methods[rng.IntN(len(methods))]
	host = hosts[rng.IntN(len(hosts))]
	var b strings.Builder
	if rng.IntN(10) == 0 {
		b.WriteString("http://" + host)
	}
	for range 1 + rng.IntN(5) {
		b.WriteString("/")
		for range 1 + rng.IntN(2) {
			b.WriteString(segments[rng.IntN(len(segments))])
		}
	}
	if rng.IntN(4) == 0 {
		b.WriteString("/")
	}
	return method, host, b.String()
}
