// Package django_test runs the Django example for real: gunicorn and Django
// from Debian's packages, approov-gateway in front as a reverse proxy, and
// nginx (auth_request) and Caddy (forward_auth) in front of the gateway's
// forward-auth endpoint; every setup is held against the in-process PyJWT
// reference.
package django_test

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/e2e"
)

var (
	secret    = []byte("django end-to-end secret: 64 bytes, like an Approov secret......")
	secretB64 = base64.StdEncoding.EncodeToString(secret)
	signer    = approovtest.MustSigner(approov.HS256, secret, "")
	djangoDir = filepath.Join(e2e.RepoRoot(), "examples", "django")
	// pythonPath puts approov_django (python/) beside the example, as an
	// installed copy would be; scripts/test proves the pip install itself.
	pythonPath = "PYTHONPATH=" + filepath.Join(e2e.RepoRoot(), "python")
	// gatewayAssertionKey signs the facts the gateway forwards; Django
	// verifies them with it (signed mode, as the Django guide sets up).
	gatewayAssertionKey = base64.StdEncoding.EncodeToString([]byte("end-to-end assertion key: 48 bytes, not secret!!"))
)

const gunicorn = "/usr/bin/gunicorn"

// startDjango runs the hello API under gunicorn with the given settings
// module on addr (host:port, or unix:/path for a socket), and waits until
// it answers. Behind the gateway (hello.settings) it verifies the
// gateway's assertions, signed with gatewayAssertionKey unless env sets
// APPROOV_ASSERTION_SECRET itself.
func startDjango(t *testing.T, settings, addr string, env ...string) *e2e.Proc {
	t.Helper()
	e2e.Require(t, gunicorn, "/usr/bin/python3")
	if !hasVar(env, "APPROOV_ASSERTION_SECRET") {
		env = append(env, "APPROOV_ASSERTION_SECRET="+gatewayAssertionKey)
	}
	env = append(env, "DJANGO_SETTINGS_MODULE="+settings, "PYTHONDONTWRITEBYTECODE=1", "APPROOV_BASE64_SECRET="+secretB64, pythonPath)
	p := e2e.Start(t, djangoDir, env, gunicorn, "--bind", addr, "--workers", "2", "--graceful-timeout", "2", "hello.wsgi:application")
	network, address := "tcp", addr
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", path
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.Dial(network, address)
		if err == nil {
			conn.Close()
			return p
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("gunicorn did not start on %s: %v\n%s", addr, err, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gatewayRoutes is the policy of every gateway setup: / needs a token,
// /bound/ a token bound to Authorization, /public/ and /healthz nothing.
const gatewayRoutes = `
routes:
  - match: /healthz
    mode: public
  - match: /public/
    mode: public
  - match: /bound/
    mode: binding
    binding_headers: [Authorization]
`

// startGateway runs the gateway with the routes above, signing facts
// with gatewayAssertionKey unless env sets APPROOV_ASSERTION_SECRET.
func startGateway(t *testing.T, extra string, env ...string) *e2e.Gateway {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gateway.yaml"), []byte(gatewayRoutes+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	if !hasVar(env, "APPROOV_ASSERTION_SECRET") {
		env = append(env, "APPROOV_ASSERTION_SECRET="+gatewayAssertionKey)
	}
	return e2e.StartGateway(t, dir, append(env, "APPROOV_BASE64_SECRET="+secretB64, "APPROOV_CONFIG=gateway.yaml"))
}

// hasVar reports whether env sets name.
func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

func sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour)
	}
	tok, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func signJSON(t *testing.T, claims string) string {
	t.Helper()
	tok, err := signer.SignJSON([]byte(`{"alg":"HS256","typ":"JWT"}`), []byte(claims))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func get(t *testing.T, url string, h http.Header) e2e.Response {
	t.Helper()
	return e2e.Request(t, "GET", url, h)
}

// matrixCase is one request of the verification matrix: the status the
// in-process reference gives and the one the gateway gives, with the reason
// when they differ on purpose.
type matrixCase struct {
	name      string
	path      string
	header    http.Header
	reference int
	gateway   int
	why       string
}

func matrix(t *testing.T) []matrixCase {
	const auth = "Bearer user-1-session"
	valid := sign(t, map[string]any{"did": "device-1"})
	bound := sign(t, map[string]any{"did": "device-1", "pay": approov.PayloadHash(auth)})
	expired := sign(t, map[string]any{"exp": time.Now().Add(-time.Minute)})
	forged, _ := approovtest.MustSigner(approov.HS256, approovtest.NewSecret(), "").Sign(map[string]any{"exp": time.Now().Add(time.Hour)})
	noExp := signJSON(t, `{"did":"device-1"}`)
	emptyExp := signJSON(t, `{"exp":""}`)
	nullExp := signJSON(t, `{"exp":null}`)
	dupExp := signJSON(t, fmt.Sprintf(`{"exp":1,"exp":%d}`, time.Now().Add(time.Hour).Unix()))
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	return []matrixCase{
		{"valid", "/", h("Approov-Token", valid), 200, 200, ""},
		{"missing", "/", nil, 401, 401, ""},
		{"empty", "/", h("Approov-Token", ""), 401, 401, ""},
		{"malformed", "/", h("Approov-Token", "garbage"), 401, 401, ""},
		{"bad signature", "/", h("Approov-Token", forged), 401, 401, ""},
		{"exp empty", "/", h("Approov-Token", emptyExp), 401, 401, ""},
		{"expired", "/", h("Approov-Token", expired), 401, 401, ""},
		{"duplicated token header", "/", h("Approov-Token", valid, "Approov-Token", valid), 401, 401, ""},
		{"exp missing", "/", h("Approov-Token", noExp), 200, 401, "exp is required here; PyJWT by default accepts a token without it"},
		{"exp null", "/", h("Approov-Token", nullExp), 500, 401, "PyJWT raises TypeError, which the reference does not catch"},
		{"exp duplicated", "/", h("Approov-Token", dupExp), 200, 401, "duplicate claim names are ambiguous; PyJWT takes the last"},

		{"bound, matching", "/bound/", h("Approov-Token", bound, "Authorization", auth), 200, 200, ""},
		{"bound, other credential", "/bound/", h("Approov-Token", bound, "Authorization", "Bearer user-2-session"), 401, 401, ""},
		{"bound, header missing", "/bound/", h("Approov-Token", bound), 401, 401, ""},
		{"bound, pay missing", "/bound/", h("Approov-Token", valid, "Authorization", auth), 401, 401, ""},
		{"bound, Authorization twice", "/bound/", h("Approov-Token", bound, "Authorization", auth, "Authorization", auth), 401, 401, ""},
		{"bound, expired", "/bound/", h("Approov-Token", sign(t, map[string]any{"exp": time.Now().Add(-time.Minute), "pay": approov.PayloadHash(auth)}), "Authorization", auth), 401, 401, ""},
		{"bound, token missing", "/bound/", h("Authorization", auth), 401, 401, ""},
	}
}

// runMatrix sends every case to the setup at base and checks its status:
// the reference's where both should agree, the documented stricter one
// where they deliberately differ, or the front proxy's own answer where it
// refuses a request before asking the gateway (edge).
func runMatrix(t *testing.T, setup, base string, reference bool, pathFilter string, edge map[string]int) {
	t.Helper()
	for _, c := range matrix(t) {
		if pathFilter != "" && c.path != pathFilter {
			continue
		}
		want := c.gateway
		if reference {
			want = c.reference
		}
		if status, ok := edge[c.name]; ok {
			want = status
		}
		got := get(t, base+c.path, c.header)
		if got.Status != want {
			t.Errorf("%s: %s: status %d, want %d %s", setup, c.name, got.Status, want, c.why)
		}
		if got.Status == 401 && got.Body != "{}" {
			t.Errorf("%s: %s: 401 body %q, want {}", setup, c.name, got.Body)
		}
		if got.Status == 200 && got.Body != `{"message": "Hello, World!"}` {
			t.Errorf("%s: %s: body %q", setup, c.name, got.Body)
		}
	}
}

func TestReference(t *testing.T) {
	token := e2e.FreeAddr(t)
	startDjango(t, "hello.settings_inprocess", token)
	runMatrix(t, "in-process PyJWT", "http://"+token, true, "/", nil)

	bound := e2e.FreeAddr(t)
	startDjango(t, "hello.settings_inprocess", bound, "APPROOV_TOKEN_BINDING_HEADER=Authorization")
	runMatrix(t, "in-process PyJWT with binding", "http://"+bound, true, "/bound/", nil)
}

func TestGatewayInFrontOfDjango(t *testing.T) {
	django := e2e.FreeAddr(t)
	startDjango(t, "hello.settings", django)
	// Django alone checks no token, but in signed mode it answers only
	// requests that carry the gateway's assertion.
	if got := get(t, "http://"+django+"/", nil); got.Status != 401 {
		t.Fatalf("Django alone, no assertion: %d", got.Status)
	}
	gw := startGateway(t, "upstream: http://"+django+"\n")
	runMatrix(t, "gateway", gw.URL(), false, "", nil)
	checkScriptName(t, gw.URL())
	if got := get(t, gw.URL()+"/nope", http.Header{"Approov-Token": {sign(t, map[string]any{})}}); got.Status != 404 || got.Body != "{}" {
		t.Errorf("Django 404 through the gateway: %d %q", got.Status, got.Body)
	}
}

// TestGatewayToDjangoOverUnixSocket: gunicorn bound to a Unix socket, the
// gateway's upstream unix:/path: the whole verification matrix holds, and
// Django, verifying signed facts, accepts them with Host: localhost, which
// its ALLOWED_HOSTS lists.
func TestGatewayToDjangoOverUnixSocket(t *testing.T) {
	sock := "unix:" + filepath.Join(t.TempDir(), "gunicorn.sock")
	startDjango(t, "hello.settings", sock)
	gw := startGateway(t, "upstream: "+sock+"\n")
	runMatrix(t, "gateway over a Unix socket", gw.URL(), false, "", nil)
	checkScriptName(t, gw.URL())
	status, w := getWhoami(t, gw.URL()+"/whoami", http.Header{"Approov-Token": {sign(t, map[string]any{"did": "socket-device"})}})
	if status != 200 || w.DeviceID == nil || *w.DeviceID != "socket-device" || !w.Verified {
		t.Fatalf("whoami over the socket: %d %+v", status, w)
	}
}

type whoami struct {
	DeviceID    *string `json:"device_id"`
	Verified    bool    `json:"verified"`
	Result      *string `json:"result"`
	TokenExpiry *string `json:"token_expiry"`
}

func getWhoami(t *testing.T, url string, h http.Header) (int, whoami) {
	t.Helper()
	a := get(t, url, h)
	var w whoami
	if a.Status == 200 {
		if err := json.Unmarshal([]byte(a.Body), &w); err != nil {
			t.Fatalf("%s: %q: %v", url, a.Body, err)
		}
	}
	return a.Status, w
}

func str(p *string) string {
	if p == nil {
		return "<none>"
	}
	return *p
}

// forgeries are the client-sent copies of forwarded facts a backend might
// take for the gateway's: every spelling gunicorn maps to the same name.
var forgeries = http.Header{
	"Approov-Device-Id":    {"forged-dash"},
	"Approov_Device_Id":    {"forged-underscore"},
	"Approov-Result":       {"ok"},
	"Approov_Result":       {"ok"},
	"Approov-Token-Expiry": {"4102444800"},
}

func withForgeries(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for k, v := range forgeries {
		out[k] = v
	}
	return out
}

// checkFacts: verified facts reach Django as request.approov, and forged
// copies never do: each request either shows the gateway's values or is
// refused.
func checkFacts(t *testing.T, setup, base string) {
	t.Helper()
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	valid := sign(t, map[string]any{"did": "device-42", "exp": exp})

	status, w := getWhoami(t, base+"/whoami", http.Header{"Approov-Token": {valid}})
	if status != 200 || str(w.DeviceID) != "device-42" || !w.Verified || str(w.TokenExpiry) != exp.UTC().Format("2006-01-02T15:04:05+00:00") {
		t.Errorf("%s: facts: %d %+v (device %s, expiry %s)", setup, status, w, str(w.DeviceID), str(w.TokenExpiry))
	}
	status, w = getWhoami(t, base+"/whoami", withForgeries(http.Header{"Approov-Token": {valid}}))
	if status == 200 && (str(w.DeviceID) != "device-42" || str(w.Result) != "ok") {
		t.Errorf("%s: a forged fact reached Django: %+v (device %s)", setup, w, str(w.DeviceID))
	}
	status, w = getWhoami(t, base+"/public/whoami", withForgeries(nil))
	if status == 200 && (w.DeviceID != nil || w.Verified) {
		t.Errorf("%s: a forged fact reached Django on a public route: device %s, verified %v", setup, str(w.DeviceID), w.Verified)
	}
	status, _ = getWhoami(t, base+"/whoami", withForgeries(nil))
	if status != 401 {
		t.Errorf("%s: forged facts without a token: %d, want 401", setup, status)
	}
}

func TestForwardedFacts(t *testing.T) {
	// Signed facts, as the Django guide sets up: straight to Django, a
	// request with forged facts in any spelling and no assertion is
	// refused, so reaching Django without the gateway earns nothing.
	django := e2e.FreeAddr(t)
	startDjango(t, "hello.settings", django)
	gw := startGateway(t, "upstream: http://"+django+"\n")
	checkFacts(t, "gateway, signed facts", gw.URL())
	for _, forged := range []http.Header{nil, withForgeries(nil), {"Approov-Result": {"ok"}, "Approov-Device-Id": {"victim"}}, {"Approov_Result": {"ok"}, "Approov_Device_Id": {"victim"}}} {
		if status, _ := getWhoami(t, "http://"+django+"/whoami", forged); status != 401 {
			t.Errorf("straight to Django with %v: %d, want 401", forged, status)
		}
	}

	// Unsigned facts (the hello.unsigned probe, as a backend that reads
	// the plain headers would): a request with no verdict is refused, and
	// two spellings of one fact are refused as the forgery they are. A
	// single forged header cannot be told apart, which is why such a
	// backend must be reachable only from the gateway.
	t.Run("unsigned", func(t *testing.T) {
		django := e2e.FreeAddr(t)
		startDjango(t, "hello.settings_unsigned", django)
		gw := startGateway(t, "upstream: http://"+django+"\n", "APPROOV_ASSERTION_SECRET=")
		checkFacts(t, "gateway, unsigned facts", gw.URL())
		if status, _ := getWhoami(t, "http://"+django+"/whoami", nil); status != 401 {
			t.Errorf("straight to Django, no verdict: %d, want 401", status)
		}
		if status, _ := getWhoami(t, "http://"+django+"/whoami", withForgeries(nil)); status != 400 {
			t.Errorf("straight to Django, two spellings of a fact: %d, want 400", status)
		}
	})
}

func TestBodiesAndStreaming(t *testing.T) {
	django := e2e.FreeAddr(t)
	startDjango(t, "hello.settings", django)
	gw := startGateway(t, "upstream: http://"+django+"\n")
	valid := sign(t, map[string]any{})

	body := make([]byte, 16<<20)
	rand.Read(body)
	sum := sha256.Sum256(body)
	req, _ := http.NewRequest("POST", gw.URL()+"/upload", strings.NewReader(string(body)))
	req.Header.Set("Approov-Token", valid)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		Bytes  int    `json:"bytes"`
		SHA256 string `json:"sha256"`
	}
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != 200 || up.Bytes != len(body) || up.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("16 MiB upload through the gateway: %d, %d bytes, %s", resp.StatusCode, up.Bytes, up.SHA256)
	}

	release := filepath.Join(t.TempDir(), "release")
	req, _ = http.NewRequest("GET", gw.URL()+"/stream?count=100000&release="+release, nil)
	req.Header.Set("Approov-Token", valid)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "line 000000\n" {
		t.Fatalf("first streamed line: %q %v", first, err)
	}
	// The rest is produced only now: the first line came through while
	// Django was still inside the response.
	os.WriteFile(release, nil, 0o600)
	h := sha256.New()
	h.Write([]byte(first))
	n, _ := io.Copy(h, br)
	want := sha256.New()
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(want, "line %06d\n", i)
	}
	if int(n)+len(first) != 100000*12 || hex.EncodeToString(h.Sum(nil)) != hex.EncodeToString(want.Sum(nil)) {
		t.Fatalf("streamed response changed on the way: %d bytes", int(n)+len(first))
	}
}

func TestDjangoDownAndBack(t *testing.T) {
	addr := e2e.FreeAddr(t)
	django := startDjango(t, "hello.settings", addr)
	gw := startGateway(t, "upstream: http://"+addr+"\n")
	valid := http.Header{"Approov-Token": {sign(t, map[string]any{})}}
	if got := get(t, gw.URL()+"/", valid); got.Status != 200 {
		t.Fatalf("before: %d", got.Status)
	}
	django.Kill()
	// The client's 10 s timeout bounds "quickly": the gateway answers at
	// once when the upstream refuses connections.
	if got := get(t, gw.URL()+"/", valid); got.Status != 502 || got.Body != `{"error":"bad gateway"}` {
		t.Fatalf("Django stopped: %d %q", got.Status, got.Body)
	}
	startDjango(t, "hello.settings", addr)
	if got := get(t, gw.URL()+"/", valid); got.Status != 200 {
		t.Fatalf("Django back, gateway not restarted: %d", got.Status)
	}
	gw.WaitOutput(t, `"msg":"upstream error"`, 5*time.Second)
}

// startNginx runs Debian's nginx with the guide's tested server block in
// front of Django and the gateway, and returns its base URL.
func startNginx(t *testing.T, django, gateway string) string {
	t.Helper()
	e2e.Require(t, "nginx")
	dir := t.TempDir()
	listen := e2e.FreeAddr(t)
	site, err := e2e.FrontConfig("nginx tested", django, gateway, listen)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(e2e.NginxConf(dir, site)), 0o600)
	nginx := e2e.Start(t, dir, nil, "nginx", "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf)
	e2e.WaitHTTP(t, nginx, "http://"+listen+"/healthz", 200, 15*time.Second)
	return "http://" + listen
}

// caddyGlobal are the Caddy options of the test: no admin endpoint, no
// HTTPS, storage in the test's directory; the site block is the guide's.
const caddyGlobal = `{
	admin off
	auto_https off
	storage file_system %s/data
}

`

// startCaddy runs Debian's Caddy with the guide's tested site block in
// front of Django and the gateway, and returns its base URL.
func startCaddy(t *testing.T, django, gateway string) string {
	t.Helper()
	e2e.Require(t, "caddy")
	dir := t.TempDir()
	listen := e2e.FreeAddr(t)
	file := filepath.Join(dir, "Caddyfile")
	site, err := e2e.FrontConfig("caddyfile tested", django, gateway, listen)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, []byte(fmt.Sprintf(caddyGlobal, dir)+site), 0o600)
	caddy := e2e.Start(t, dir, []string{"XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "HOME=" + dir}, "caddy", "run", "--config", file, "--adapter", "caddyfile")
	e2e.WaitHTTP(t, caddy, "http://"+listen+"/healthz", 200, 15*time.Second)
	return "http://" + listen
}

// fronts are the proxies the guide documents for forward auth, each with
// the convention the guide tells the gateway to read.
var fronts = []struct {
	name       string
	convention string
	start      func(t *testing.T, django, gateway string) string
	// edge is what the front answers itself, before asking the gateway.
	edge map[string]int
}{
	// nginx 1.22 itself answers 400 to a request with two Authorization
	// headers, before auth_request runs.
	{"nginx auth_request", "nginx", startNginx, map[string]int{"bound, Authorization twice": 400}},
	{"caddy forward_auth", "forwarded", startCaddy, nil},
}

// startFront runs Django (in signed mode unless djangoEnv says
// otherwise), the gateway as forward auth for front, and front itself; it
// returns the front's base URL and Django's address.
func startFront(t *testing.T, front int, settings string) (base, django string) {
	t.Helper()
	django = e2e.FreeAddr(t)
	startDjango(t, settings, django)
	gw := startGateway(t, "forward_auth_only: true\n", "APPROOV_FORWARD_AUTH_CONVENTION="+fronts[front].convention)
	return fronts[front].start(t, django, gw.Addr), django
}

func TestNginxAuthRequest(t *testing.T) {
	base, _ := startFront(t, 0, "hello.settings")
	runMatrix(t, fronts[0].name, base, false, "", fronts[0].edge)
	checkFacts(t, fronts[0].name, base)
}

func TestCaddyForwardAuth(t *testing.T) {
	base, _ := startFront(t, 1, "hello.settings")
	runMatrix(t, fronts[1].name, base, false, "", fronts[1].edge)
	checkFacts(t, fronts[1].name, base)
}

// TestForwardAuthAttacks sends, through each documented front proxy, every
// header a client could add to walk around forward auth — each
// convention's headers pointing at a public path, underscore twins of the
// facts and of the convention headers, Connection headers nominating the
// facts — alone and together, with and without a valid token. Property:
// Django never serves protected content without a valid token, and never
// shows an identity other than the token's own. It must hold twice: with
// Django verifying signed facts, and with Django trusting the unsigned
// headers, which holds only if the proxy configuration itself removes
// every client copy.
func TestForwardAuthAttacks(t *testing.T) {
	attacks := map[string][]string{
		"X-Original-URI public":      {"X-Original-URI", "/public/whoami", "X-Original-Method", "GET"},
		"X-Forwarded-Uri public":     {"X-Forwarded-Uri", "/public/whoami", "X-Forwarded-Method", "GET"},
		"X-Forwarded-Host other":     {"X-Forwarded-Host", "public.example"},
		"underscore conventions":     {"X_Original_URI", "/public/whoami", "X_Forwarded_Uri", "/public/whoami"},
		"forged facts":               {"Approov-Result", "ok", "Approov-Device-Id", "victim", "Approov-Token-Expiry", "4102444800"},
		"forged underscore facts":    {"Approov_Result", "ok", "Approov_Device_Id", "victim", "Approov_Token_Expiry", "4102444800"},
		"forged assertion":           {"Approov-Assertion", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "Approov_Assertion", "x.y.z"},
		"Connection drops the facts": {"Connection", "Approov-Result, Approov-Device-Id, Approov-Token-Expiry, Approov-Assertion"},
		"Connection drops facts, underscore twins added": {"Connection", "Approov-Result, Approov-Device-Id, Approov-Assertion",
			"Approov_Result", "ok", "Approov_Device_Id", "victim"},
		"Connection drops the credential": {"Connection", "Authorization"},
		"everything at once": {"X-Original-URI", "/public/whoami", "X-Forwarded-Uri", "/public/whoami", "X-Forwarded-Host", "public.example",
			"Approov_Result", "ok", "Approov_Device_Id", "victim", "Connection", "Approov-Result, Approov-Device-Id, Approov-Assertion"},
	}
	const auth = "Bearer alice"
	valid := sign(t, map[string]any{"did": "device-real"})
	bound := sign(t, map[string]any{"did": "device-real", "pay": approov.PayloadHash(auth)})
	for i, front := range fronts {
		for _, mode := range []struct {
			name     string
			settings string
		}{{"signed facts", "hello.settings"}, {"unsigned facts", "hello.settings_unsigned"}} {
			t.Run(front.name+", "+mode.name, func(t *testing.T) {
				base, _ := startFront(t, i, mode.settings)
				checks := 0
				for name, kv := range attacks {
					for _, path := range []string{"/whoami", "/bound/", "/public/whoami"} {
						for _, tok := range []string{"", "valid"} {
							header := http.Header{}
							for j := 0; j+1 < len(kv); j += 2 {
								header[kv[j]] = append(header[kv[j]], kv[j+1])
							}
							if tok != "" {
								header["Approov-Token"] = []string{valid}
								if path == "/bound/" {
									header["Approov-Token"] = []string{bound}
									header["Authorization"] = []string{auth}
								}
							}
							r := e2e.Request(t, "GET", base+path, header)
							checks++
							what := fmt.Sprintf("%s, %s, token %q", name, path, tok)
							switch {
							case r.Status != 200:
								// Refused: nothing served.
							case path == "/bound/" && tok == "":
								t.Errorf("%s: protected content without a token: %s", what, r.Body)
							case path == "/bound/":
							default:
								var w whoami
								if err := json.Unmarshal([]byte(r.Body), &w); err != nil {
									t.Fatalf("%s: %q", what, r.Body)
								}
								if path == "/whoami" && tok == "" {
									t.Errorf("%s: protected view served without a token: %s", what, r.Body)
								}
								if w.DeviceID != nil && (tok == "" || *w.DeviceID != "device-real") {
									t.Errorf("%s: Django shows device %q", what, *w.DeviceID)
								}
								if w.Verified && tok == "" {
									t.Errorf("%s: Django shows verified without a token", what)
								}
							}
						}
					}
				}
				checkStripped(t, base, valid)
				checkScriptName(t, base)
				t.Logf("%d attack requests, none got around the check", checks)
			})
		}
	}
}

// checkScriptName sends the Script_Name trick: gunicorn takes the header
// as SCRIPT_NAME and cuts it out of PATH_INFO, so a public path checked as
// such would run a protected view. Neither request may get the protected
// hello view without a token.
func checkScriptName(t *testing.T, base string) {
	t.Helper()
	for _, tc := range []struct{ path, scriptName string }{
		{"/healthz", "/healthz"},          // PATH_INFO "": the protected "/" view
		{"/public/whoami", "/public"},     // PATH_INFO /whoami
		{"/public/bound/", "/public"},     // PATH_INFO /bound/
		{"/public/x/bound/", "/public/x"}, // PATH_INFO /bound/
		{"/public/bound/", "public"},      // an unanchored split
		{"/healthz", "/healthz/../"},      // nonsense
	} {
		r := e2e.Request(t, "GET", base+tc.path, http.Header{"Script_Name": {tc.scriptName}})
		if r.Status == 200 && (strings.Contains(r.Body, "Hello, World!") || strings.Contains(r.Body, `"verified": true`)) {
			t.Errorf("GET %s with Script_Name %q: protected view served: %s", tc.path, tc.scriptName, r.Body)
		}
	}
}

// checkStripped sends a request with every forged header at once, in both
// spellings, and checks what reached Django: the convention headers not at
// all, the facts only as the gateway set them, once each.
func checkStripped(t *testing.T, base, valid string) {
	t.Helper()
	forged := http.Header{"Approov-Token": {valid}}
	for _, name := range []string{"X-Original-URI", "X-Original-Method", "X-Forwarded-Uri", "X-Forwarded-Method",
		"X_Original_URI", "X_Original_Method", "X_Forwarded_Uri", "X_Forwarded_Method", "X_Forwarded_Host",
		"Approov-Result", "Approov-Device-Id", "Approov-Token-Expiry", "Approov-Assertion",
		"Approov_Result", "Approov_Device_Id", "Approov_Token_Expiry", "Approov_Assertion", "Approov_Token"} {
		forged[name] = []string{"forged"}
	}
	forged["X-Forwarded-Host"] = []string{"public.example"}
	r := e2e.Request(t, "GET", base+"/public/headers", forged)
	if r.Status != 200 {
		t.Fatalf("/public/headers: %d %s", r.Status, r.Body)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"HTTP_X_ORIGINAL_URI", "HTTP_X_ORIGINAL_METHOD", "HTTP_X_FORWARDED_URI", "HTTP_X_FORWARDED_METHOD", "HTTP_APPROOV_TOKEN"} {
		if v, ok := got[name]; ok {
			t.Errorf("Django received %s: %q", name, v)
		}
	}
	if strings.Contains(got["HTTP_X_FORWARDED_HOST"], "public.example") {
		t.Errorf("Django received the client's X-Forwarded-Host: %q", got["HTTP_X_FORWARDED_HOST"])
	}
	for name, v := range got {
		if strings.HasPrefix(name, "HTTP_APPROOV_") && (strings.Contains(v, "forged") || strings.Contains(v, ",")) {
			t.Errorf("Django received a client's copy of a fact: %s: %q", name, v)
		}
	}
	if got["HTTP_APPROOV_RESULT"] != "public" {
		t.Errorf("Django received Approov-Result %q, want the gateway's public", got["HTTP_APPROOV_RESULT"])
	}
}

// giveUpOften sends requests through the gateway from clients that give up
// after a few milliseconds, as clients of a busy API do. A pooling gateway
// parks the connections it dialled for requests given up; a sync worker
// that accepts one is blocked until it closes.
//
// The number of requests is fixed, not the time spent sending them:
// gunicorn still runs every request a client gave up on, so a load bounded
// by time leaves more work queued the faster the gateway is and the slower
// gunicorn is (under the race detector, or beside other tests), and how
// long gunicorn then takes to answer again was not bounded.
func giveUpOften(t *testing.T, gw *e2e.Gateway) {
	t.Helper()
	valid := sign(t, map[string]any{})
	const perClient = 100
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: time.Duration(2+i) * time.Millisecond}
			for range perClient {
				req, _ := http.NewRequest("GET", gw.URL()+"/", nil)
				req.Header.Set("Approov-Token", valid)
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
}

// openConns counts the established connections whose far end is addr:
// the gateway's connections to gunicorn, from /proc/net/tcp.
func openConns(t *testing.T, addr string) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		// local_address rem_address st: rem 0100007F:PORT, st 01 established
		if len(f) > 3 && f[3] == "01" && f[2] == fmt.Sprintf("0100007F:%04X", p) {
			n++
		}
	}
	return n
}

// answersWithin reports whether gunicorn answers a direct request within
// d: long enough for the work the given-up requests queued to drain, far
// shorter than the 90 s a parked connection pins a sync worker.
func answersWithin(django string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + django + "/"); err == nil {
			resp.Body.Close()
			return true
		}
	}
	return false
}

// TestUpstreamKeepAliveWithGunicorn: the gateway stops pooling connections
// to gunicorn's sync workers, which close every connection, so that no
// parked connection can block them; it keeps pooling with gthread workers,
// which keep connections alive.
func TestUpstreamKeepAliveWithGunicorn(t *testing.T) {
	mode := os.Getenv("KEEPALIVE_MODE_UNDER_TEST") // to check the test itself: true fails it
	if mode == "" {
		mode = "auto"
	}
	for _, tt := range []struct {
		workerClass string
		pooled      string
	}{{"sync", "0"}, {"gthread", "1"}} {
		t.Run(tt.workerClass, func(t *testing.T) {
			django := e2e.FreeAddr(t)
			startDjango(t, "hello.settings", django, "GUNICORN_CMD_ARGS=--worker-class "+tt.workerClass)
			gw := startGateway(t, "upstream: http://"+django+"\n", "APPROOV_UPSTREAM_KEEPALIVE="+mode)
			valid := http.Header{"Approov-Token": {sign(t, map[string]any{})}}
			for range 20 {
				if got := get(t, gw.URL()+"/", valid); got.Status != 200 {
					t.Fatalf("warm-up: %d", got.Status)
				}
			}
			metric := fmt.Sprintf(`approov_gateway_upstream_keepalive{upstream="http://%s"} %s`, django, tt.pooled)
			if m := get(t, gw.AdminURL()+"/metrics", nil).Body; mode == "auto" && !strings.Contains(m, metric) {
				t.Fatalf("want %s in the metrics", metric)
			}
			// The race that parks connections is rare per request: more
			// rounds where it matters.
			rounds := 2
			if tt.workerClass == "sync" {
				rounds = 5
			}
			for round := range rounds {
				giveUpOften(t, gw)
				if !answersWithin(django, 20*time.Second) {
					t.Fatalf("round %d: gunicorn (%s workers) did not answer for 20 s after clients gave up on requests through the gateway", round, tt.workerClass)
				}
				if tt.workerClass != "sync" {
					continue
				}
				// Connections to sync workers are never kept: once the load
				// stops, none may stay open to block a worker.
				time.Sleep(2500 * time.Millisecond)
				if n := openConns(t, django); n > 0 {
					t.Fatalf("round %d: %d connections to gunicorn's sync workers left open after the load stopped; each blocks a worker", round, n)
				}
			}
		})
	}
}

// TestSlowBodiesAgainstSyncWorkers: clients that send a body a byte at a
// time cannot take gunicorn's sync workers away from everyone else. With
// request_buffering above the body's size, the gateway holds such bodies
// itself and calls Django only with a complete request; a legitimate
// request meanwhile is answered at once.
func TestSlowBodiesAgainstSyncWorkers(t *testing.T) {
	buffering := os.Getenv("BUFFERING_UNDER_TEST") // to check the test itself: 0 fails it
	if buffering == "" {
		buffering = "1MiB"
	}
	django := e2e.FreeAddr(t)
	startDjango(t, "hello.settings", django) // two sync workers, gunicorn's default class
	gw := startGateway(t, "upstream: http://"+django+"\n", "APPROOV_REQUEST_BUFFERING="+buffering)
	valid := sign(t, map[string]any{})

	// Two clients each trickle a 100 KB upload, a byte every 20 ms.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", gw.Addr)
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: %s\r\nApproov-Token: %s\r\nContent-Length: 100000\r\n\r\n", gw.Addr, valid)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	time.Sleep(500 * time.Millisecond) // both trickles under way

	start := time.Now()
	req, _ := http.NewRequest("POST", gw.URL()+"/upload", strings.NewReader("a legitimate body"))
	req.Header.Set("Approov-Token", valid)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("a legitimate upload while two bodies trickle in: %v (after %v)", err, time.Since(start))
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a legitimate upload while two bodies trickle in: %d", resp.StatusCode)
	}
	t.Logf("answered in %v while two 100 KB bodies trickled in", time.Since(start).Round(time.Millisecond))
}
