package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/approov-gateway/approov/internal/e2e"
)

// library runs the Go benchmarks of the verifier and golang-jwt.
func (b *bench) library() error {
	b.logf("library: go test -bench")
	count, benchtime := strconv.Itoa(max(b.rounds, 5)), "1s"
	if b.smoke {
		count, benchtime = "1", "100ms"
	}
	out, err := runIn(b.root, "go", "test", "-run", "^$", "-bench", "BenchmarkVerify|BenchmarkGolangJWT", "-benchmem", "-count", count, "-benchtime", benchtime, ".")
	if err != nil {
		return fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`^Benchmark(Verify|GolangJWT)/(\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op\s+(\d+) B/op\s+(\d+) allocs/op`)
	type row struct {
		ns            []float64
		bytes, allocs int
	}
	rows := map[string]*row{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		key := m[1] + "/" + m[2]
		if rows[key] == nil {
			rows[key] = &row{}
		}
		ns, _ := strconv.ParseFloat(m[4], 64)
		rows[key].ns = append(rows[key].ns, ns)
		rows[key].bytes, _ = strconv.Atoi(m[5])
		rows[key].allocs, _ = strconv.Atoi(m[6])
	}
	fmt.Fprintf(&b.report, "## Library\n\n`go test -run '^$' -bench 'BenchmarkVerify|BenchmarkGolangJWT' -benchmem -count %s -benchtime %s .` — median ns/op [min–max].\n\n", count, benchtime)
	fmt.Fprintf(&b.report, "| case | approov | B/op | allocs | golang-jwt v5 | B/op | allocs | ratio |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range []string{"valid", "valid+binding", "bad_signature", "garbage"} {
		a, g := rows["Verify/"+c], rows["GolangJWT/"+c]
		if a == nil || g == nil {
			return fmt.Errorf("benchmark %s missing from the go test output:\n%s", c, out)
		}
		ratio := median(g.ns) / median(a.ns)
		fmt.Fprintf(&b.report, "| %s | %.0f ns [%.0f–%.0f] | %d | %d | %.0f ns [%.0f–%.0f] | %d | %d | %.1f× |\n",
			c, median(a.ns), minOf(a.ns), maxOf(a.ns), a.bytes, a.allocs, median(g.ns), minOf(g.ns), maxOf(g.ns), g.bytes, g.allocs, ratio)
		switch c {
		case "valid+binding":
			b.target(median(a.ns) < 1500 && a.allocs <= 2, "library: valid + binding under 1.5 µs with at most 2 allocations (%.0f ns, %d)", median(a.ns), a.allocs)
			b.target(ratio >= 4, "library: at least 4× golang-jwt on valid + binding (%.1f×)", ratio)
		case "garbage":
			b.target(a.allocs == 0, "library: garbage rejected with 0 allocations (%d)", a.allocs)
		}
	}
	b.report.WriteString("\n")
	return nil
}

// startGateway runs the gateway with extra YAML on free ports and returns
// its address and process.
func (b *bench) startGateway(tok tokens, yaml string, env ...string) (string, *exec.Cmd, error) {
	dir, err := os.MkdirTemp(b.tmp, "gw-")
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "gateway.yaml"), []byte(yaml), 0o600); err != nil {
		return "", nil, err
	}
	addr, admin := freeAddr(), freeAddr()
	env = append(env, "APPROOV_BASE64_SECRET="+tok.secretB64, "APPROOV_CONFIG=gateway.yaml", "APPROOV_LISTEN="+addr, "APPROOV_ADMIN_LISTEN="+admin)
	cmd, err := b.start(dir, env, b.gateway, "serve")
	if err != nil {
		return "", nil, err
	}
	if err := waitHTTP("http://" + admin + "/readyz"); err != nil {
		return "", nil, err
	}
	return addr, cmd, nil
}

const bindingRoute = `
routes:
  - match: /bound
    mode: binding
    binding_headers: [Authorization]
`

func (b *bench) gatewayScenarios() error {
	tok := newTokens()
	backend := freeAddr()
	if _, err := b.start(b.root, nil, b.self, "backend", backend); err != nil {
		return err
	}
	floor := freeAddr()
	if _, err := b.start(b.root, nil, b.self, "proxy", floor, "http://"+backend); err != nil {
		return err
	}
	gw, _, err := b.startGateway(tok, "upstream: http://"+backend+"\n"+bindingRoute)
	if err != nil {
		return err
	}
	for _, u := range []string{"http://" + backend + "/", "http://" + floor + "/"} {
		if err := waitHTTP(u); err != nil {
			return err
		}
	}
	token := "Approov-Token: " + tok.valid
	res, err := b.measure("gateway", []scenario{
		{name: "direct to backend", url: "http://" + backend + "/"},
		{name: "plain httputil.ReverseProxy (floor)", url: "http://" + floor + "/"},
		{name: "approov-gateway, valid token", url: "http://" + gw + "/", headers: []string{token}},
		{name: "approov-gateway, valid token + binding", url: "http://" + gw + "/bound", headers: []string{"Approov-Token: " + tok.bound, "Authorization: " + tok.auth}},
		{name: "approov-gateway, bad signatures (rejected)", url: "http://" + gw + "/", headers: []string{"Approov-Token: " + tok.badSig}, reject: true},
	})
	if err != nil {
		return err
	}
	b.stopAll()
	floorRes := res["plain httputil.ReverseProxy (floor)"]
	fmt.Fprintf(&b.report, "## Gateway in front of a trivial Go backend\n\nThe backend answers `{\"message\": \"Hello, World!\"}`; the floor is a bare `httputil.ReverseProxy` with the same transport settings and no checks. The rejection row counts 401 answers per second.\n\n")
	b.table(ordered(res, "direct to backend", "plain httputil.ReverseProxy (floor)", "approov-gateway, valid token", "approov-gateway, valid token + binding", "approov-gateway, bad signatures (rejected)"), "floor", floorRes)
	valid := res["approov-gateway, valid token"]
	b.target(valid.rps >= 0.9*floorRes.rps, "gateway: valid traffic at least 0.9× the bare ReverseProxy (%.2f×)", valid.rps/floorRes.rps)
	return nil
}

func ordered(m map[string]summary, names ...string) []summary {
	out := make([]summary, 0, len(names))
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}

// startDjango runs the example under gunicorn with settings, pinned like
// every process under test.
func (b *bench) startDjango(settings, workerClass string, tok tokens) (string, error) {
	addr := freeAddr()
	env := []string{"DJANGO_SETTINGS_MODULE=" + settings, "APPROOV_BASE64_SECRET=" + tok.secretB64, "PYTHONDONTWRITEBYTECODE=1"}
	if _, err := b.start(filepath.Join(b.root, "examples", "django"), env, "/usr/bin/gunicorn", "--bind", addr,
		"--workers", strconv.Itoa(b.workers), "--worker-class", workerClass, "--log-level", "warning", "hello.wsgi:application"); err != nil {
		return "", err
	}
	return addr, waitHTTP("http://" + addr + "/healthz")
}

func (b *bench) djangoScenarios() error {
	for _, wc := range b.workerClasses {
		if err := b.djangoWith(wc); err != nil {
			return err
		}
	}
	return nil
}

// djangoWith runs the Django group with one gunicorn worker class: sync
// closes every connection, so a proxy in front dials per request; gthread
// keeps connections alive.
func (b *bench) djangoWith(workerClass string) error {
	tok := newTokens()
	plain, err := b.startDjango("hello.settings", workerClass, tok)
	if err != nil {
		return err
	}
	inproc, err := b.startDjango("hello.settings_inprocess", workerClass, tok)
	if err != nil {
		return err
	}
	gw, _, err := b.startGateway(tok, "upstream: http://"+plain+"\n")
	if err != nil {
		return err
	}
	fa, _, err := b.startGateway(tok, "forward_auth_only: true\n")
	if err != nil {
		return err
	}
	nginx, err := b.startNginx(plain, fa)
	if err != nil {
		return err
	}
	token := []string{"Approov-Token: " + tok.valid}
	bad := []string{"Approov-Token: " + tok.badSig}
	valid, err := b.measure("django "+workerClass+" valid", []scenario{
		{name: "Django alone (no checks)", url: "http://" + plain + "/"},
		{name: "Django + in-process PyJWT middleware", url: "http://" + inproc + "/", headers: token},
		{name: "approov-gateway → Django", url: "http://" + gw + "/", headers: token},
		{name: "nginx auth_request → approov-gateway → Django", url: "http://" + nginx + "/", headers: token},
	})
	if err != nil {
		return err
	}
	flood, err := b.measure("django "+workerClass+" flood", []scenario{
		{name: "Django + in-process PyJWT middleware", url: "http://" + inproc + "/", headers: bad, reject: true},
		{name: "approov-gateway → Django", url: "http://" + gw + "/", headers: bad, reject: true},
		{name: "nginx auth_request → approov-gateway → Django", url: "http://" + nginx + "/", headers: bad, reject: true},
	})
	if err != nil {
		return err
	}
	b.stopAll()
	ref := valid["Django + in-process PyJWT middleware"]
	fmt.Fprintf(&b.report, "## Django, gunicorn %[2]s workers\n\nThe example API under gunicorn, %[1]d %[2]s workers in every case. Valid traffic carries a valid token; the flood carries tokens signed with another secret, as failed attestations get (all answered 401; requests/s counts rejections).\n\nValid traffic:\n\n", b.workers, workerClass)
	b.table(ordered(valid, "Django alone (no checks)", "Django + in-process PyJWT middleware", "approov-gateway → Django", "nginx auth_request → approov-gateway → Django"), "in-process", ref)
	fmt.Fprintf(&b.report, "Invalid-token flood:\n\n")
	floodRef := flood["Django + in-process PyJWT middleware"]
	b.table(ordered(flood, "Django + in-process PyJWT middleware", "approov-gateway → Django", "nginx auth_request → approov-gateway → Django"), "in-process", floodRef)
	gwValid, gwFlood := valid["approov-gateway → Django"], flood["approov-gateway → Django"]
	b.target(gwFlood.rps >= 8*floodRef.rps, "invalid-token flood (%s): the gateway rejects at least 8× the requests/s of the in-process middleware (%.1f×)", workerClass, gwFlood.rps/floodRef.rps)
	b.target(gwValid.rps >= 0.95*ref.rps, "valid traffic to Django (%s): through the gateway at least 0.95× Django with the in-process middleware (%.2f×)", workerClass, gwValid.rps/ref.rps)
	return nil
}

// startNginx runs nginx with the tested server block of
// docs/quickstart-nginx.md, pointed at django and the forward-auth gateway.
func (b *bench) startNginx(django, gateway string) (string, error) {
	listen := freeAddr()
	site, err := e2e.FrontConfig("nginx tested", django, gateway, listen)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(b.tmp, "nginx-")
	if err != nil {
		return "", err
	}
	conf := e2e.NginxConf(dir, site)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return "", err
	}
	if _, err := b.start(dir, nil, "nginx", "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", path); err != nil {
		return "", err
	}
	return listen, waitHTTP("http://" + listen + "/healthz")
}

// resources measures the gateway's start-up time, and its CPU time per
// 1,000 requests and memory under valid load.
func (b *bench) resources() error {
	tok := newTokens()
	backend := freeAddr()
	if _, err := b.start(b.root, nil, b.self, "backend", backend); err != nil {
		return err
	}
	if err := waitHTTP("http://" + backend + "/"); err != nil {
		return err
	}
	runs := 5
	if b.smoke {
		runs = 1
	}
	var startups []float64
	for i := 0; i < runs; i++ {
		t0 := time.Now()
		_, cmd, err := b.startGateway(tok, "upstream: http://"+backend+"\n")
		if err != nil {
			return err
		}
		startups = append(startups, float64(time.Since(t0).Microseconds())/1000)
		b.stop(cmd)
	}
	sort.Float64s(startups)

	gw, cmd, err := b.startGateway(tok, "upstream: http://"+backend+"\n")
	if err != nil {
		return err
	}
	cpu0, err := cpuTicks(cmd.Process.Pid)
	if err != nil {
		return err
	}
	r, err := b.wrk(scenario{name: "resources", url: "http://" + gw + "/", headers: []string{"Approov-Token: " + tok.valid}})
	if err != nil {
		return err
	}
	cpu1, err := cpuTicks(cmd.Process.Pid)
	if err != nil {
		return err
	}
	rss, hwm := memKiB(cmd.Process.Pid)
	b.stopAll()
	const ticksPerSecond = 100 // USER_HZ on Linux
	cpuMsPer1000 := float64(cpu1-cpu0) * 1000 / ticksPerSecond / float64(r.Requests) * 1000
	fmt.Fprintf(&b.report, "## Resources\n\n| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b.report, "| start-up, exec to ready (median of %d) | %.0f ms [%.0f–%.0f] |\n", runs, median(startups), startups[0], startups[len(startups)-1])
	fmt.Fprintf(&b.report, "| CPU per 1,000 valid requests (user + system) | %.1f ms |\n", cpuMsPer1000)
	fmt.Fprintf(&b.report, "| resident memory after %v of load (peak) | %.1f MiB (%.1f MiB) |\n", b.duration, float64(rss)/1024, float64(hwm)/1024)
	fmt.Fprintf(&b.report, "| requests in that run | %d (%.0f/s) |\n\n", r.Requests, r.RPS)
	return nil
}

// cpuTicks returns utime + stime of pid, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime, nil
}

// memKiB returns VmRSS and VmHWM of pid.
func memKiB(pid int) (rss, hwm int64) {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			switch f[0] {
			case "VmRSS:":
				rss, _ = strconv.ParseInt(f[1], 10, 64)
			case "VmHWM:":
				hwm, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return rss, hwm
}
