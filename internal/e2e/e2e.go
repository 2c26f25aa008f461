// Package e2e starts real processes for end-to-end tests: the
// approov-gateway binary, built once per test run, and whatever else a test
// needs (gunicorn, nginx), on free loopback ports, each with a deadline and
// stopped on every path out of the test.
//
// Tests that need programs from outside Go (Python with PyJWT and Django,
// gunicorn, nginx, Caddy, curl) call [Require]: they run when APPROOV_E2E=1,
// which scripts/test sets after installing everything, and then a missing
// program fails the test, never skips it. Without the switch they skip,
// saying so, so that go test ./... passes on any machine with Go alone.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// RepoRoot returns the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Binary builds cmd/approov-gateway once per test process and returns its
// path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "approov-gateway-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "approov-gateway")
		// Built as released: static, no cgo.
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "./cmd/approov-gateway")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var (
	portsMu sync.Mutex
	given   = map[string]bool{}
)

// FreeAddress returns a loopback address with a port that was free a
// moment ago and that this process has not handed out before: the kernel
// readily gives a just-closed port again, and two processes of one test
// must not be told the same one.
func FreeAddress() (string, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := ln.Addr().String()
		ln.Close()
		if !given[addr] {
			given[addr] = true
			return addr, nil
		}
	}
	return "", fmt.Errorf("no fresh loopback port after 100 tries")
}

// FreeAddr is FreeAddress for tests.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// enabled reports whether tests that run outside programs are switched on
// (APPROOV_E2E=1).
func enabled() bool { return os.Getenv("APPROOV_E2E") == "1" }

// Require skips the test unless APPROOV_E2E=1, and then fails it unless
// every named program is installed.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	if !enabled() {
		t.Skipf("needs %s: set APPROOV_E2E=1 to run it (./scripts/test installs them and does)", strings.Join(programs, ", "))
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed: run ./scripts/test, which installs the Debian packages the tests use", p)
		}
	}
}

// Proc is a running process with its output captured.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs name with args in dir (or the test's temporary directory)
// with env added to a minimal environment. The process is killed, with its
// process group, when the test ends; its output is logged if the test
// failed.
func Start(t testing.TB, dir string, env []string, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(BaseEnv(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Proc{Name: filepath.Base(name), Cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.Name, indent(p.Output()))
		}
	})
	return p
}

// BaseEnv is the environment every process starts from: enough to run,
// nothing of the developer's APPROOV_* settings.
func BaseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PATH", "HOME", "TMPDIR", "LANG", "GOCOVERDIR":
			env = append(env, kv)
		}
	}
	return env
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// Output returns everything the process wrote so far.
func (p *Proc) Output() string { return p.out.String() }

// Signal sends sig to the process.
func (p *Proc) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %s: %v", sig, p.Name, err)
	}
}

// Wait waits up to d for the process to exit and returns its exit code.
func (p *Proc) Wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s did not exit within %v", p.Name, d)
	}
	if p.Cmd.ProcessState == nil {
		t.Fatalf("%s: %v", p.Name, p.err)
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill stops the process group, if still running, and waits for it.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// WaitOutput waits up to d for the process output to contain s.
func (p *Proc) WaitOutput(t testing.TB, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.Output(), s) {
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("%s did not print %q within %v", p.Name, s, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitReady waits up to within for url to answer at all, polling every 2
// ms: quickly enough that the benchmark harness times start-up with it.
func WaitReady(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within %v", url, within)
}

// WaitHTTP waits up to d for url to answer with status want, failing early
// if proc (when not nil) exits.
func WaitHTTP(t testing.TB, proc *Proc, url string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	client := &http.Client{Timeout: time.Second}
	var last string
	for time.Now().Before(deadline) {
		if proc != nil && proc.Exited() {
			t.Fatalf("%s exited while waiting for %s:\n%s", proc.Name, url, indent(proc.Output()))
		}
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within %v (last: %s)", url, want, d, last)
}

// Gateway is a running approov-gateway serve.
type Gateway struct {
	*Proc
	Addr, AdminAddr string
	Dir             string
}

// URL returns the gateway's base URL.
func (g *Gateway) URL() string { return "http://" + g.Addr }

// AdminURL returns the admin listener's base URL.
func (g *Gateway) AdminURL() string { return "http://" + g.AdminAddr }

// StartGateway runs approov-gateway serve in dir (a new temporary directory
// when empty) with env, on free ports unless env sets them, and waits until
// it is ready.
func StartGateway(t testing.TB, dir string, env []string, args ...string) *Gateway {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	g := &Gateway{Dir: dir}
	hasListen, hasAdmin := false, false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "APPROOV_LISTEN="); ok {
			hasListen, g.Addr = true, v
		}
		if v, ok := strings.CutPrefix(kv, "APPROOV_ADMIN_LISTEN="); ok {
			hasAdmin, g.AdminAddr = true, v
		}
	}
	if !hasListen {
		g.Addr = FreeAddr(t)
		env = append(env, "APPROOV_LISTEN="+g.Addr)
	}
	if !hasAdmin {
		g.AdminAddr = FreeAddr(t)
		env = append(env, "APPROOV_ADMIN_LISTEN="+g.AdminAddr)
	}
	g.Proc = Start(t, dir, env, Binary(t), append([]string{"serve"}, args...)...)
	WaitHTTP(t, g.Proc, g.AdminURL()+"/readyz", http.StatusOK, 15*time.Second)
	return g
}

// Run runs the binary to completion with a deadline and returns its exit
// code, stdout and stderr.
func Run(t testing.TB, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	bin := Binary(t) // built before the deadline starts
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(BaseEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("approov-gateway %s: still running after 30s", strings.Join(args, " "))
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("approov-gateway %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// Response is what Request got back.
type Response struct {
	Status int
	Header http.Header
	Body   string // trimmed of surrounding whitespace
}

// Request sends one request with header and a 10 s deadline, without
// following redirects.
func Request(t testing.TB, method, url string, header http.Header) Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return Response{resp.StatusCode, resp.Header, strings.TrimSpace(string(body))}
}
