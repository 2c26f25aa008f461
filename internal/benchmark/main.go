// Command benchmark measures the library, the gateway and the Django
// alternatives side by side and writes a Markdown report; scripts/bench runs
// it. Every load run targets loopback only, is bounded in time, and stops by
// itself.
//
//	go run ./internal/benchmark [-smoke] [-rounds 3] [-duration 5s] [-out bench.out]
//
// Method: the machine is small and shared, so each scenario's figure is the
// median of several rounds, with min–max, and scenarios that are compared
// run alternately within each round. With two or more cores, wrk is pinned
// to the last core and every process under test to the first (taskset).
//
// The binary also serves as its own test backend and plain proxy:
// "benchmark backend ADDR" and "benchmark proxy ADDR TARGET".
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
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
	rounds := flag.Int("rounds", 3, "rounds per scenario (the median is reported)")
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
}

func (b *bench) logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func (b *bench) run() (err error) {
	if b.root, err = repoRoot(); err != nil {
		return err
	}
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	for _, p := range []string{"wrk", "taskset", "/usr/bin/gunicorn", "nginx", "go"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is not installed: run scripts/bench, which installs it", p)
		}
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
	fmt.Fprintf(&b.report, "## Targets\n\n%s\n", strings.Join(b.targets, "\n"))

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

func (b *bench) stopAll() {
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

// scenario is one load run target.
type scenario struct {
	name    string
	url     string
	headers []string
	// reject means non-2xx answers are the point (a flood of bad tokens).
	reject bool
}

var (
	rpsRe     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	latRe     = regexp.MustCompile(`^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	non2xxRe  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	requestRe = regexp.MustCompile(`(\d+) requests in`)
)

// wrk runs one bounded load run against loopback.
func (b *bench) wrk(s scenario) (rawResult, error) {
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		return rawResult{}, fmt.Errorf("refusing to load %s: loopback only", s.url)
	}
	args := []string{"-c", b.loadCore(), "wrk", "-t1", "-c" + strconv.Itoa(b.conns), "-d" + b.duration.String(), "--latency", "--timeout", "5s"}
	for _, h := range s.headers {
		args = append(args, "-H", h)
	}
	args = append(args, s.url)
	out, err := exec.Command("taskset", args...).CombinedOutput()
	if err != nil {
		return rawResult{}, fmt.Errorf("wrk %s: %v\n%s", s.name, err, out)
	}
	r := parseWrk(out)
	r.Scenario = s.name
	if r.RPS == 0 {
		return r, fmt.Errorf("wrk %s: no throughput in output:\n%s", s.name, out)
	}
	if !s.reject && r.Non2xx > 0 {
		return r, fmt.Errorf("%s: %d of %d answers were not 2xx: the scenario is broken", s.name, r.Non2xx, r.Requests)
	}
	if s.reject && r.Non2xx != r.Requests {
		return r, fmt.Errorf("%s: %d of %d answers were rejections; all should be", s.name, r.Non2xx, r.Requests)
	}
	return r, nil
}

// parseWrk reads the throughput, the count of non-2xx answers and the
// median and 99th percentile latency, in milliseconds, from wrk --latency
// output.
func parseWrk(out []byte) rawResult {
	var r rawResult
	if m := rpsRe.FindSubmatch(out); m != nil {
		r.RPS, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := non2xxRe.FindSubmatch(out); m != nil {
		r.Non2xx, _ = strconv.Atoi(string(m[1]))
	}
	if m := requestRe.FindSubmatch(out); m != nil {
		r.Requests, _ = strconv.Atoi(string(m[1]))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := latRe.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			switch m[3] {
			case "us":
				v /= 1000
			case "s":
				v *= 1000
			}
			if m[1] == "50" {
				r.P50 = v
			} else {
				r.P99 = v
			}
		}
	}
	return r
}

// summary is the median and spread of a scenario's rounds.
type summary struct {
	name           string
	rps, p50, p99  float64
	rpsMin, rpsMax float64
	rounds         int
}

// measure runs the scenarios of a group alternately, rounds times, with the
// order rotated each round, and summarises each.
func (b *bench) measure(group string, scenarios []scenario) (map[string]summary, error) {
	byName := map[string][]rawResult{}
	for round := 0; round < b.rounds; round++ {
		for i := range scenarios {
			s := scenarios[(i+round)%len(scenarios)]
			b.logf("%s: %s (round %d of %d)", group, s.name, round+1, b.rounds)
			r, err := b.wrk(s)
			if err != nil {
				return nil, err
			}
			r.Group, r.Round = group, round+1
			b.raw = append(b.raw, r)
			byName[s.name] = append(byName[s.name], r)
		}
	}
	out := map[string]summary{}
	for name, rs := range byName {
		var rps, p50, p99 []float64
		for _, r := range rs {
			rps, p50, p99 = append(rps, r.RPS), append(p50, r.P50), append(p99, r.P99)
		}
		out[name] = summary{name: name, rps: median(rps), p50: median(p50), p99: median(p99), rpsMin: minOf(rps), rpsMax: maxOf(rps), rounds: len(rs)}
	}
	return out, nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func (b *bench) table(rows []summary, baseline string, base summary) {
	fmt.Fprintf(&b.report, "| scenario | requests/s (median) | min–max | p50 | p99 | vs %s |\n|---|---|---|---|---|---|\n", baseline)
	for _, r := range rows {
		fmt.Fprintf(&b.report, "| %s | %.0f | %.0f–%.0f | %.2f ms | %.2f ms | %.2f× |\n", r.name, r.rps, r.rpsMin, r.rpsMax, r.p50, r.p99, r.rps/base.rps)
	}
	b.report.WriteString("\n")
}

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
	auth                            string
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
	return tokens{
		secretB64: base64.StdEncoding.EncodeToString(secret),
		valid:     sign(s, map[string]any{"exp": exp, "did": "ExampleApproovTokenDID==", "ip": "1.2.3.4"}),
		bound:     sign(s, map[string]any{"exp": exp, "did": "ExampleApproovTokenDID==", "ip": "1.2.3.4", "pay": approov.PayloadHash(auth)}),
		badSig:    sign(other, map[string]any{"exp": exp, "did": "ExampleApproovTokenDID==", "ip": "1.2.3.4"}),
		auth:      auth,
	}
}
