// Command benchmark measures the library, the gateway and the Django
// alternatives side by side and writes a Markdown report; scripts/bench runs
// it. Every load run targets loopback only, is bounded in time, and stops by
// itself.
//
//	go run ./internal/benchmark [-smoke] [-rounds 5] [-duration 5s] [-out bench.out]
//
// Method: the machine is small and shared, so each scenario's figure is the
// median of several rounds, with min–max, and scenarios that are compared
// run alternately within each round. With two or more cores, wrk is pinned
// to the last core and every process under test to the first (taskset).
// Every process under test leads its own process group, and the CPU time
// of the groups in a scenario's path — the proxies, the backend — is read
// from /proc before and after each load run and divided by the answers.
// Checks written for the benchmark (nginx + njs) are proven to accept a
// valid token and refuse bad ones before they are measured.
//
// The binary also serves as its own test backend and plain proxy:
// "benchmark backend ADDR" and "benchmark proxy ADDR TARGET".
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/approov-gateway/approov"
	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/e2e"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "backend":
			serveBackend(os.Args[2])
			return
		case "proxy":
			serveProxy(os.Args[2], os.Args[3])
			return
		}
	}
	smoke := flag.Bool("smoke", false, "one short round per scenario, to prove the harness works")
	rounds := flag.Int("rounds", 5, "rounds per scenario (the median is reported)")
	duration := flag.Duration("duration", 5*time.Second, "length of each load run")
	conns := flag.Int("connections", 32, "concurrent connections per load run")
	out := flag.String("out", "bench.out", "directory for the report and raw numbers")
	workers := flag.Int("workers", 2, "gunicorn workers, the same in every Django scenario")
	only := flag.String("only", "library,gateway,django,resources", "groups to run, comma-separated")
	workerClasses := flag.String("worker-classes", "sync,gthread", "gunicorn worker classes to run the Django group with, comma-separated")
	flag.Parse()
	if *smoke {
		*rounds, *duration = 1, time.Second
	}
	b := &bench{rounds: *rounds, duration: *duration, conns: *conns, workers: *workers, workerClasses: strings.Split(*workerClasses, ","), out: *out, smoke: *smoke, only: *only}
	if err := b.run(); err != nil {
		fmt.Fprintf(os.Stderr, "benchmark: %v\n", err)
		b.stopAll()
		os.Exit(1)
	}
	os.RemoveAll(b.tmp)
}

// serveBackend is the trivial Go backend: the hello JSON, nothing else.
func serveBackend(addr string) {
	body := []byte(`{"message": "Hello, World!"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// serveProxy is the floor: a bare httputil.ReverseProxy with the same
// transport limits as the gateway, and no checks.
func serveProxy(addr, target string) {
	u, err := url.Parse(target)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	transport := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second}
	p := &httputil.ReverseProxy{Transport: transport, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.SetXForwarded()
	}}
	srv := &http.Server{Addr: addr, Handler: p, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type bench struct {
	rounds        int
	duration      time.Duration
	conns         int
	workers       int
	workerClasses []string
	only          string
	out           string
	smoke         bool

	root, self, gateway string
	procs               []*exec.Cmd
	gateways            []*exec.Cmd // the gateway processes among procs
	peakRSS             int64       // KiB, the most any gateway process held
	started             int
	tmp                 string
	report              bytes.Buffer
	raw                 []rawResult
	targets             []string
}

type rawResult struct {
	Group, Scenario string
	Round           int
	RPS             float64
	P50, P99        float64 // milliseconds
	Non2xx          int
	Requests        int
	// ProxyTicks and BackendTicks are the CPU clock ticks the proxies in
	// the path and the backend spent during the run; ProxyCPU and
	// BackendCPU the same in µs per request.
	ProxyTicks, BackendTicks int64   `json:",omitempty"`
	ProxyCPU, BackendCPU     float64 `json:",omitempty"`
}

func (b *bench) logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func (b *bench) run() (err error) {
	if b.root, err = repoRoot(); err != nil {
		return err
	}
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	for _, p := range []string{"wrk", "taskset", "getconf", "/usr/bin/gunicorn", "nginx", "go"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is not installed: run scripts/bench, which installs it", p)
		}
	}
	if _, err := os.Stat(njsModule); err != nil {
		return fmt.Errorf("nginx's njs module is not installed (%v): run scripts/bench, which installs libnginx-mod-http-js", err)
	}
	if err := checkClockTicks(); err != nil {
		return err
	}
	if b.tmp, err = os.MkdirTemp("", "approov-bench-"); err != nil {
		return err
	}
	// On failure the process logs stay, and their ends are printed.
	defer func() {
		if err != nil {
			b.dumpLogs()
		}
	}()
	b.gateway = filepath.Join(b.tmp, "approov-gateway")
	if out, err := runIn(b.root, "go", "build", "-o", b.gateway, "./cmd/approov-gateway"); err != nil {
		return fmt.Errorf("building the gateway: %v\n%s", err, out)
	}
	defer b.stopAll()

	fmt.Fprintf(&b.report, "# Benchmark run\n\n%s\n\nCommand: `scripts/bench%s` (%d round(s) of %v per scenario, %d connections, wrk on core %s, everything else on core %s).\n\n",
		machine(), map[bool]string{true: " --smoke", false: ""}[b.smoke], b.rounds, b.duration, b.conns, b.loadCore(), b.sutCore())

	for _, g := range []struct {
		name string
		run  func() error
	}{{"library", b.library}, {"gateway", b.gatewayScenarios}, {"django", b.djangoScenarios}, {"resources", b.resources}} {
		if !strings.Contains(","+b.only+",", ","+g.name+",") {
			continue
		}
		if err := g.run(); err != nil {
			return err
		}
	}
	if b.peakRSS > 0 {
		b.target(b.peakRSS*1024 <= 50e6, "gateway: resident memory at most 50 MB, the peak of every gateway process of the run (%.1f MB)", float64(b.peakRSS)*1024/1e6)
	}
	fmt.Fprintf(&b.report, "## Targets\n\nReported, not enforced: a target not met does not fail the run.\n\n%s\n", strings.Join(b.targets, "\n"))

	if err := os.MkdirAll(b.out, 0o755); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(b.raw, "", "  ")
	if err := os.WriteFile(filepath.Join(b.out, "raw.json"), raw, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.out, "report.md"), b.report.Bytes(), 0o644); err != nil {
		return err
	}
	os.Stdout.Write(b.report.Bytes())
	b.logf("report written to %s", filepath.Join(b.out, "report.md"))
	return nil
}

// dumpLogs prints the end of every process log, to show why a run failed.
func (b *bench) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(b.tmp, "proc-*.log"))
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(os.Stderr, "--- %s\n%s\n", l, strings.Join(lines, "\n"))
	}
	fmt.Fprintf(os.Stderr, "process logs kept in %s\n", b.tmp)
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func runIn(dir, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	goVersion, _ := exec.Command("go", "version").Output()
	kernel, _ := exec.Command("uname", "-r").Output()
	return fmt.Sprintf("Machine: %d cores (%s), %s, Linux %s, %s.", runtime.NumCPU(), model,
		strings.TrimSpace(string(goVersion)), strings.TrimSpace(string(kernel)), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}

func (b *bench) loadCore() string { return strconv.Itoa(runtime.NumCPU() - 1) }
func (b *bench) sutCore() string  { return "0" }

// start runs a process under test, pinned to the first core.
func (b *bench) start(dir string, env []string, name string, args ...string) (*exec.Cmd, error) {
	full := append([]string{"-c", b.sutCore(), name}, args...)
	cmd := exec.Command("taskset", full...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.started++
	logf, err := os.Create(filepath.Join(b.tmp, fmt.Sprintf("proc-%02d-%s.log", b.started, filepath.Base(name))))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", name, err)
	}
	b.procs = append(b.procs, cmd)
	return cmd, nil
}

func (b *bench) stop(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// stopAll stops every process still running, noting the gateways' peak
// memory first.
func (b *bench) stopAll() {
	for _, g := range b.gateways {
		if g.ProcessState == nil {
			_, hwm := memKiB(g.Process.Pid)
			b.peakRSS = max(b.peakRSS, hwm)
		}
	}
	b.gateways = nil
	for _, p := range b.procs {
		if p.ProcessState == nil {
			b.stop(p)
		}
	}
	b.procs = nil
}

func freeAddr() string {
	addr, err := e2e.FreeAddress()
	if err != nil {
		panic(err)
	}
	return addr
}

// waitHTTP waits until url answers anything; start-up time is measured
// with it.
func waitHTTP(url string) error { return e2e.WaitReady(url, 20*time.Second) }

// target records whether a target was met; targets are reported, never
// enforced.
func (b *bench) target(ok bool, format string, args ...any) {
	mark := "met"
	if !ok {
		mark = "NOT met"
	}
	b.targets = append(b.targets, fmt.Sprintf("- %s: %s", fmt.Sprintf(format, args...), mark))
}

// tokens are signed with the benchmark's secret, valid for the run.
type tokens struct {
	secretB64, valid, bound, badSig string
	// assertionKey signs the facts gateways forward to Django, which
	// verifies them (approov_django's gateway mode).
	assertionKey string
	auth         string
	// refused are tokens every check must refuse, by what is wrong with
	// them: the proof a check written for the benchmark (njs) is one.
	refused map[string]string
}

func newTokens() tokens {
	secret := approovtest.NewSecret()
	s := approovtest.MustSigner(approov.HS256, secret, "")
	other := approovtest.MustSigner(approov.HS256, approovtest.NewSecret(), "")
	const auth = "Bearer benchmark-user-session-0123456789"
	exp := time.Now().Add(3 * time.Hour)
	sign := func(s *approovtest.Signer, c map[string]any) string {
		t, err := s.Sign(c)
		if err != nil {
			panic(err)
		}
		return t
	}
	signJSON := func(header, claims string) string {
		t, err := s.SignJSON([]byte(header), []byte(claims))
		if err != nil {
			panic(err)
		}
		return t
	}
	t := tokens{
		secretB64:    base64.StdEncoding.EncodeToString(secret),
		assertionKey: base64.StdEncoding.EncodeToString(approovtest.NewSecret()[:32]),
		valid:        sign(s, map[string]any{"exp": exp, "did": "ExampleApproovTokenDID==", "ip": "1.2.3.4"}),
		bound:        sign(s, map[string]any{"exp": exp, "did": "ExampleApproovTokenDID==", "ip": "1.2.3.4", "pay": approov.PayloadHash(auth)}),
		badSig:       sign(other, map[string]any{"exp": exp, "did": "ExampleApproovTokenDID==", "ip": "1.2.3.4"}),
		auth:         auth,
	}
	later := approovtest.NumericDate(exp)
	parts := strings.Split(t.valid, ".")
	t.refused = map[string]string{
		"bad signature":   t.badSig,
		"expired":         sign(s, map[string]any{"exp": time.Now().Add(-time.Minute), "did": "ExampleApproovTokenDID=="}),
		"no exp":          sign(s, map[string]any{"did": "ExampleApproovTokenDID=="}),
		"exp a string":    signJSON(`{"alg":"HS256","typ":"JWT"}`, `{"exp":"`+later+`"}`),
		"alg none":        signJSON(`{"alg":"none","typ":"JWT"}`, `{"exp":`+later+`}`),
		"alg HS384":       signJSON(`{"alg":"HS384","typ":"JWT"}`, `{"exp":`+later+`}`),
		"alg hs256":       signJSON(`{"alg":"hs256","typ":"JWT"}`, `{"exp":`+later+`}`),
		"payload swapped": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":`+later+`,"did":"other"}`)) + "." + parts[2],
		"signature cut":   t.valid[:len(t.valid)-1],
		"two parts":       parts[0] + "." + parts[1],
		"not a token":     "not-a-token",
	}
	return t
}
