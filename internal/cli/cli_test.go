package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/internal/version"
)

// leak is put in bad values: no message may repeat it.
const leak = "Zq9-LEAK-7f3e"

// isolate gives the test a working directory of its own, without .env,
// and an environment without APPROOV_ variables, both restored after it;
// it also restores the GC percentage, which serve and demo change.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "APPROOV_") || name == "GOGC" {
			t.Setenv(name, "") // restores the value after the test
			os.Unsetenv(name)
		}
	}
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	t.Cleanup(func() { debug.SetGCPercent(gc) })
	return dir
}

// run runs the command line args with stdin and returns the exit status and
// what it wrote.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

// writeFile writes content to name in the working directory.
func writeFile(t *testing.T, name, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a buffer that a running command writes to while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a serve or demo command running in the background, with its
// signals in the test's hands.
type running struct {
	t              *testing.T
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	reload         chan struct{}
	done           chan struct{}
	code           int
	stopped        bool // the command called the stop function of its signals
}

// start runs args in the background; the test's cleanup stops it.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, reload: make(chan struct{}), done: make(chan struct{})}
	var mu sync.Mutex
	stdio := IO{Stdin: strings.NewReader(""), Stdout: r.stdout, Stderr: r.stderr,
		Signals: func() (context.Context, <-chan struct{}, func()) {
			return ctx, r.reload, func() { mu.Lock(); r.stopped = true; mu.Unlock() }
		}}
	go func() {
		defer close(r.done)
		r.code = Main(args, stdio)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// wait returns once the command has exited, with its status.
func (r *running) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(30 * time.Second):
		r.t.Fatalf("still running 30s after the stop\nstderr:\n%s", r.stderr.String())
		return 0
	}
}

// stop ends the command as SIGTERM would and returns its exit status.
func (r *running) stop() int {
	r.t.Helper()
	r.cancel()
	return r.wait()
}

// sendReload delivers a reload as SIGHUP would.
func (r *running) sendReload() {
	r.t.Helper()
	select {
	case r.reload <- struct{}{}:
	case <-r.done:
		r.t.Fatalf("exited with status %d before the reload\nstderr:\n%s", r.code, r.stderr.String())
	case <-time.After(30 * time.Second):
		r.t.Fatal("reload not taken within 30s")
	}
}

// logLine waits for the n-th JSON log line (from 1) with message msg and
// returns it.
func (r *running) logLine(msg string, n int) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := 0
		sc := bufio.NewScanner(strings.NewReader(r.stderr.String()))
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
				if seen++; seen == n {
					return line
				}
			}
		}
		select {
		case <-r.done:
			r.t.Fatalf("exited with status %d without logging %q (%d)\nstderr:\n%s", r.code, msg, n, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no log line %q (%d) within 30s\nstderr:\n%s", msg, n, r.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStdout waits until stdout holds want and returns it.
func (r *running) waitStdout(want string) string {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if out := r.stdout.String(); strings.Contains(out, want) {
			return out
		}
		select {
		case <-r.done:
			r.t.Fatalf("exited with status %d before printing %q\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout.String(), r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%q not printed within 30s\nstdout:\n%s", want, r.stdout.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// get sends a GET to url with headers ("Name: value") and returns the
// status and body.
func get(t *testing.T, url string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Add(name, value)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// newSecret returns a fresh Approov secret and its base64.
func newSecret() ([]byte, string) {
	s := approovtest.NewSecret()
	return s, base64.StdEncoding.EncodeToString(s)
}

// sign returns a token signed with secret, valid for an hour, for device did.
func sign(t *testing.T, secret []byte, did string) string {
	t.Helper()
	tok, err := approovtest.MustSigner(approov.HS256, secret, "").Sign(map[string]any{"exp": time.Now().Add(time.Hour), "did": did})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMainCommands(t *testing.T) {
	isolate(t)
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string // the whole output
	}{
		{"no command", nil, 2, "", usage},
		{"help", []string{"help"}, 0, usage, ""},
		{"-h", []string{"-h"}, 0, usage, ""},
		{"--help", []string{"--help"}, 0, usage, ""},
		{"help token", []string{"help", "token"}, 0, tokenUsage, ""},
		{"help unknown", []string{"help", "frobnicate"}, 2, "", "approov-gateway: no help on \"frobnicate\" (see approov-gateway help)\n"},
		{"help typo", []string{"help", "setings"}, 2, "", "approov-gateway: no help on \"setings\" (did you mean settings?)\n"},
		{"version", []string{"version"}, 0, version.Current().String(), ""},
		{"--version", []string{"--version"}, 0, version.Current().String(), ""},
		{"-version", []string{"-version"}, 0, version.Current().String(), ""},
		{"version with an argument", []string{"version", "--short"}, 2, "", "approov-gateway version: unknown flag --short (see approov-gateway help version)\n"},
		{"version with a word", []string{"version", "now"}, 2, "", "approov-gateway version: unexpected argument \"now\"\n"},
		{"unknown command", []string{"frobnicate", "x"}, 2, "", "approov-gateway: unknown command \"frobnicate\" (see approov-gateway help)\n"},
		{"command typo", []string{"tokn", "gen"}, 2, "", "approov-gateway: unknown command \"tokn\" (did you mean token?)\n"},
		{"token alone", []string{"token"}, 2, "", tokenUsage},
		{"token help", []string{"token", "--help"}, 0, tokenUsage, ""},
		{"token unknown", []string{"token", "sign"}, 2, "", "approov-gateway token: unknown command \"sign\" (want gen, check or decode)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.code || stdout != tt.stdout || stderr != tt.stderr {
				t.Errorf("status %d, stdout\n%s\nstderr\n%s\nwant status %d, stdout\n%s\nstderr\n%s", code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestHelpSettings: help serve and help settings list every setting with
// its environment variable, its flag or that it has none, and its default.
func TestHelpSettings(t *testing.T) {
	isolate(t)
	for _, topic := range []string{"serve", "settings"} {
		code, stdout, stderr := run(t, "", "help", topic)
		if code != 0 || stderr != "" {
			t.Fatalf("help %s: status %d, stderr %q", topic, code, stderr)
		}
		for _, s := range config.Settings() {
			flag := s.Flag
			if s.Secret {
				flag = "(no flag: a secret)"
			}
			want := fmt.Sprintf("  %s\n      %s, %s\n      %s", s.Name, s.Env, flag, s.Usage)
			if s.Default != "" {
				want += " (default " + s.Default + ")"
			}
			if !strings.Contains(stdout, want+"\n") {
				t.Errorf("help %s lacks\n%s", topic, want)
			}
		}
		for _, want := range []string{"Precedence: flags > environment > .env > YAML file > defaults.", "routes, keys", "--check-config"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("help %s lacks %q", topic, want)
			}
		}
	}
}

// TestServeCheckConfig: --check-config prints a summary and the warnings a
// start would log, or every problem, one line each, with status 2.
func TestServeCheckConfig(t *testing.T) {
	_, secret := newSecret()
	tests := []struct {
		name   string
		env    []string // NAME=value
		dotenv string
		args   []string
		code   int
		stdout string   // the whole output
		stderr []string // these lines, in order
	}{
		{name: "ok, with warnings",
			env:    []string{"APPROOV_SECRET_FILE=secret.txt", "APPROOV_UPSTREAM=http://127.0.0.1:8000"},
			args:   []string{"--check-config", "--listen", "127.0.0.1:8080"},
			code:   0,
			stdout: "configuration ok: listen 127.0.0.1:8080, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), no binding, enforcing, no signed facts, forward-auth off, admin 127.0.0.1:9002\n",
			stderr: []string{
				"approov-gateway: warning: APPROOV_SECRET_FILE: the file is readable by other users (mode 0644); 0400 or 0600 keeps the secret to its owner",
				"approov-gateway: warning: assertion_secret is not set: backends cannot tell the facts the gateway forwards from forged ones (docs/ASSERTION.md)",
				"approov-gateway: warning: message_signing is on but neither public_url nor trusted_proxies is set: the target URI apps signed is rebuilt as http:// and the Host header, which fails behind TLS or a load balancer",
			}},
		{name: "ok from .env, no warnings",
			dotenv: "APPROOV_BASE64_SECRET=" + secret + "\nAPPROOV_UPSTREAM=http://127.0.0.1:8000\nAPPROOV_ASSERTION_SECRET=" + secret + "\nAPPROOV_PUBLIC_URL=https://api.example.com\n",
			args:   []string{"--check-config"},
			code:   0,
			stdout: "configuration ok: listen 127.0.0.1:8002, upstream http://127.0.0.1:8000, 1 key(s), 0 route(s), no binding, enforcing, signed facts for approov-backend, forward-auth off, admin 127.0.0.1:9002\n"},
		{name: "every problem at once",
			env:  []string{"APPROOV_BASE64_SECRET=" + leak, "APPROOV_UPSTREAM=http://user:" + leak + "@127.0.0.1/", "APPROOV_LEEWAY=" + leak, "APPROOV_MONITOR=" + leak},
			args: []string{"--check-config", "--listen=" + leak},
			code: 2,
			stderr: []string{
				"approov-gateway: APPROOV_LEEWAY: not a duration (use for example 30s or 1m)",
				"approov-gateway: APPROOV_MONITOR: not true or false",
				"approov-gateway: listen: want host:port, such as 127.0.0.1:8002",
				"approov-gateway: upstream: want a base URL without query, fragment or credentials",
				// The gateway's own check, in the same pass.
				"approov-gateway: APPROOV_BASE64_SECRET: secret is neither base64 nor base64url",
			}},
		{name: "keys are loaded",
			env:  []string{"APPROOV_BASE64_SECRET=" + leak + "==", "APPROOV_UPSTREAM=http://127.0.0.1:8000"},
			args: []string{"--check-config"},
			code: 2,
			stderr: []string{
				"approov-gateway: APPROOV_BASE64_SECRET: secret is neither base64 nor base64url",
			}},
		{name: "missing key file",
			env:    []string{"APPROOV_SECRET_FILE=missing.txt", "APPROOV_UPSTREAM=http://127.0.0.1:8000"},
			args:   []string{"--check-config"},
			code:   2,
			stderr: []string{"approov-gateway: APPROOV_SECRET_FILE: no such file or directory"}},
		{name: "bad flag",
			args:   []string{"--check-config", "--frobnicate"},
			code:   2,
			stderr: []string{"approov-gateway: unknown flag --frobnicate (see approov-gateway serve -h)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			writeFile(t, "secret.txt", secret, 0o644)
			if tt.dotenv != "" {
				writeFile(t, ".env", tt.dotenv, 0o600)
			}
			for _, kv := range tt.env {
				name, value, _ := strings.Cut(kv, "=")
				t.Setenv(name, value)
			}
			code, stdout, stderr := run(t, "", append([]string{"serve"}, tt.args...)...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if stderr == "" {
				lines = nil
			}
			if code != tt.code || stdout != tt.stdout || !slices.Equal(lines, tt.stderr) {
				t.Errorf("status %d, stdout\n%s\nstderr\n%s\nwant status %d, stdout\n%s\nstderr\n%s", code, stdout, stderr, tt.code, tt.stdout, strings.Join(tt.stderr, "\n"))
			}
			if strings.Contains(stdout+stderr, leak) {
				t.Errorf("output repeats a value:\n%s%s", stdout, stderr)
			}
		})
	}
}

// TestServe runs serve in process: it proxies a request with a valid token,
// reloads a rotated secret from .env on the reload signal, keeps the
// running configuration when a reload is refused, and exits 0 when told
// to stop.
func TestServe(t *testing.T) {
	isolate(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s device=%s token=%q", r.Method, r.URL.Path, r.Header.Get("Approov-Device-Id"), r.Header.Get("Approov-Token"))
	}))
	defer backend.Close()

	oldSecret, oldB64 := newSecret()
	newSecretBytes, newB64 := newSecret()
	writeFile(t, ".env", "APPROOV_BASE64_SECRET="+oldB64+"\n", 0o600)
	t.Setenv("APPROOV_UPSTREAM", backend.URL)
	t.Setenv("APPROOV_LISTEN", "127.0.0.1:0")
	t.Setenv("APPROOV_ADMIN_LISTEN", "127.0.0.1:0")
	t.Setenv("APPROOV_DJANGO_SETTING", "not ours")

	r := start(t, "serve")
	serving := r.logLine("serving", 1)
	if serving["level"] != "INFO" || serving["forward_auth_listen"] != "off" || !strings.Contains(fmt.Sprint(serving["summary"]), "upstream "+backend.URL) {
		t.Errorf("serving line: %v", serving)
	}
	if strings.Contains(r.stderr.String(), oldB64) {
		t.Errorf("the log shows the secret")
	}
	if w := r.logLine("configuration", 1); w["level"] != "WARN" || w["warning"] != "APPROOV_DJANGO_SETTING: not a setting of approov-gateway; ignored" {
		t.Errorf("unknown variable warning: %v", w)
	}
	base := "http://" + serving["listen"].(string)
	admin := "http://" + serving["admin_listen"].(string)

	oldToken := sign(t, oldSecret, "device-1")
	if status, body := get(t, base+"/hello", "Approov-Token: "+oldToken); status != 200 || body != `GET /hello device=device-1 token=""` {
		t.Errorf("valid token: %d %s", status, body)
	}
	if status, _ := get(t, base+"/hello"); status != 401 {
		t.Errorf("no token: %d", status)
	}
	if status, _ := get(t, admin+"/readyz"); status != 200 {
		t.Errorf("readyz: %d", status)
	}

	// Rotate the secret through .env and change a restart-only setting.
	writeFile(t, ".env", "APPROOV_BASE64_SECRET="+newB64+"\nAPPROOV_LOG_FORMAT=json\nAPPROOV_LOG_LEVEL=warn\n", 0o600)
	r.sendReload()
	if w := r.logLine("setting changed but needs a restart to apply", 1); w["setting"] != "log_level" {
		t.Errorf("restart warning: %v", w)
	}
	r.logLine("configuration reloaded", 1)
	if status, _ := get(t, base+"/hello", "Approov-Token: "+oldToken); status != 401 {
		t.Errorf("token of the old secret after the reload: %d", status)
	}
	if status, body := get(t, base+"/hello", "Approov-Token: "+sign(t, newSecretBytes, "device-2")); status != 200 || !strings.Contains(body, "device=device-2") {
		t.Errorf("token of the new secret after the reload: %d %s", status, body)
	}

	// A broken configuration is refused, naming the problem but not the
	// value, and the running one stays.
	writeFile(t, ".env", "APPROOV_BASE64_SECRET="+newB64+"\nAPPROOV_LEEWAY="+leak+"\n", 0o600)
	r.sendReload()
	refused := r.logLine("configuration reload refused; still serving the previous one", 1)
	if fmt.Sprint(refused["problems"]) != "[.env:2: APPROOV_LEEWAY: not a duration (use for example 30s or 1m)]" {
		t.Errorf("refused reload: %v", refused)
	}
	if status, _ := get(t, base+"/hello", "Approov-Token: "+sign(t, newSecretBytes, "device-3")); status != 200 {
		t.Errorf("after a refused reload: %d", status)
	}

	if code := r.stop(); code != 0 {
		t.Errorf("exit status %d after the stop, want 0\nstderr:\n%s", code, r.stderr.String())
	}
	r.logLine("stopped", 1)
	if !r.stopped {
		t.Error("serve did not release its signals")
	}
	if strings.Contains(r.stderr.String(), leak) || strings.Contains(r.stderr.String(), newB64) {
		t.Errorf("the log repeats a value:\n%s", r.stderr.String())
	}
	if gc := debug.SetGCPercent(100); gc != gcPercent {
		t.Errorf("GOGC %d while serving, want %d", gc, gcPercent)
	}
}

// TestServeFailures: a configuration the gateway cannot build is a usage
// error (2); an address in use is a failure to run (1).
func TestServeFailures(t *testing.T) {
	_, secret := newSecret()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name   string
		env    []string
		code   int
		stderr string // the whole output
	}{
		{"configuration", []string{"APPROOV_UPSTREAM=http://127.0.0.1:8000", "APPROOV_LISTEN=" + leak},
			2, "approov-gateway: no key: set APPROOV_BASE64_SECRET (from `approov secret -get base64`), APPROOV_SECRET_FILE, APPROOV_PUBLIC_KEY_FILE or APPROOV_JWKS_URL\napproov-gateway: listen: want host:port, such as 127.0.0.1:8002\n"},
		{"key file", []string{"APPROOV_UPSTREAM=http://127.0.0.1:8000", "APPROOV_SECRET_FILE=" + filepath.Join("missing", leak)},
			2, "approov-gateway: APPROOV_SECRET_FILE: no such file or directory\n"},
		{"address in use", []string{"APPROOV_UPSTREAM=http://127.0.0.1:8000", "APPROOV_BASE64_SECRET=" + secret, "APPROOV_LISTEN=" + busy.Addr().String(), "APPROOV_ADMIN_LISTEN=off"},
			1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for _, kv := range tt.env {
				name, value, _ := strings.Cut(kv, "=")
				t.Setenv(name, value)
			}
			code, stdout, stderr := run(t, "", "serve")
			if code != tt.code || stdout != "" {
				t.Errorf("status %d, stdout %q, want status %d", code, stdout, tt.code)
			}
			if tt.stderr != "" && stderr != tt.stderr {
				t.Errorf("stderr\n%s\nwant\n%s", stderr, tt.stderr)
			}
			if tt.code == 1 && !strings.Contains(stderr, "approov-gateway: listen: listen tcp "+busy.Addr().String()+": ") {
				t.Errorf("stderr %q does not name the listener", stderr)
			}
			if strings.Contains(stderr, leak) {
				t.Errorf("stderr repeats a value: %s", stderr)
			}
		})
	}
}

// TestTuneGC: serve and demo collect garbage less often unless GOGC says
// otherwise.
func TestTuneGC(t *testing.T) {
	isolate(t)
	debug.SetGCPercent(100)
	tuneGC()
	if gc := debug.SetGCPercent(100); gc != gcPercent {
		t.Errorf("without GOGC: %d, want %d", gc, gcPercent)
	}
	t.Setenv("GOGC", "50")
	tuneGC()
	if gc := debug.SetGCPercent(100); gc != 100 {
		t.Errorf("with GOGC set: %d, want it left alone", gc)
	}
}
