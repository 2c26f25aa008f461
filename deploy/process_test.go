package deploy

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requirePrograms skips the test unless APPROOV_E2E=1, and then fails it
// unless every program is installed.
func requirePrograms(t *testing.T, programs ...string) {
	t.Helper()
	if os.Getenv("APPROOV_E2E") != "1" {
		t.Skipf("needs %s: set APPROOV_E2E=1 to run it (./scripts/test installs them and does)", strings.Join(programs, ", "))
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed: run ./scripts/test, which installs what the tests use", p)
		}
	}
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// gatewayBinary builds cmd/approov-gateway, static as released, once per
// test process, and returns its path.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "approov-deploy-test-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "approov-gateway")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binary, "./cmd/approov-gateway")
		cmd.Dir = repoPath()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// baseEnv is the environment every process starts from: enough to run,
// none of the developer's APPROOV_* settings.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PATH", "HOME", "TMPDIR", "LANG":
			env = append(env, kv)
		}
	}
	return env
}

// checkConfig runs the gateway's serve --check-config in dir with env, as
// a deployment file would configure it, and fails the test unless the
// gateway accepts the configuration.
func checkConfig(t *testing.T, dir string, env []string) {
	t.Helper()
	cmd := exec.Command(gatewayBinary(t), "serve", "--check-config")
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil || !strings.Contains(stdout.String(), "configuration ok") {
		t.Fatalf("serve --check-config: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	t.Logf("serve --check-config: %s%s", stdout.String(), stderr.String())
}

// randomKey returns n random bytes in base64, as the gateway's secrets are
// written.
func randomKey(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

var (
	portsMu sync.Mutex
	given   = map[string]bool{}
)

// freeAddr returns a loopback address whose port was free a moment ago and
// that this process has not handed out before.
func freeAddr(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !given[addr] {
			given[addr] = true
			return addr
		}
	}
	t.Fatal("no free loopback port")
	return ""
}

// process is a program started for a test, with its output captured.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs name in dir with env added to baseEnv. The process and its
// children are killed when the test ends; their output is logged if the
// test failed.
func start(t *testing.T, dir string, env []string, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &process{name: filepath.Base(name), cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// stop kills the process group and waits for the process to end.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitHTTP waits up to d for url to answer want, failing early if the
// process serving it has ended.
func waitHTTP(t *testing.T, p *process, url string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := "no answer"
	for time.Now().Before(deadline) {
		if p != nil && p.exited() {
			t.Fatalf("%s exited while waiting for %s", p.name, url)
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within %v: %s", url, want, d, last)
}

// kubeletFiles writes files as the kubelet mounts a Secret or ConfigMap
// volume in dir: each name a symbolic link into ..data, itself a link to a
// timestamped directory holding the files with mode perm.
func kubeletFiles(t *testing.T, dir string, files map[string]string, perm os.FileMode) {
	t.Helper()
	stamp := "..2026_11_30_04_00_00.000000001"
	if err := os.MkdirAll(filepath.Join(dir, stamp), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(stamp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		path := filepath.Join(dir, stamp, name)
		if err := os.WriteFile(path, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, perm); err != nil { // whatever the umask
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}
