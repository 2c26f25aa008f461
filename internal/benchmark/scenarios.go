package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	b.gateways = append(b.gateways, cmd)
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

// The gateway group's scenarios, by the names the report gives them.
const (
	directRow  = "direct to backend"
	floorRow   = "plain httputil.ReverseProxy (floor)"
	gatewayRow = "approov-gateway, valid token"
	bindingRow = "approov-gateway, valid token + binding"
	gwFloodRow = "approov-gateway, bad signatures (rejected)"
)

// gatewayScenarios measures the gateway against a bare ReverseProxy in
// front of a trivial Go backend.
func (b *bench) gatewayScenarios() error {
	tok := newTokens()
	backend := freeAddr()
	backendCmd, err := b.start(b.root, nil, b.self, "backend", backend)
	if err != nil {
		return err
	}
	floor := freeAddr()
	floorCmd, err := b.start(b.root, nil, b.self, "proxy", floor, "http://"+backend)
	if err != nil {
		return err
	}
	for _, u := range []string{"http://" + backend + "/", "http://" + floor + "/"} {
		if err := waitHTTP(u); err != nil {
			return err
		}
	}
	gw, gwCmd, err := b.startGateway(tok, "upstream: http://"+backend+"\n"+bindingRoute)
	if err != nil {
		return err
	}
	pg := func(c *exec.Cmd) []int { return []int{c.Process.Pid} }
	be := pg(backendCmd)
	res, err := b.measure("gateway", []scenario{
		{name: directRow, url: "http://" + backend + "/", backend: be},
		{name: floorRow, url: "http://" + floor + "/", proxy: pg(floorCmd), backend: be},
		{name: gatewayRow, url: "http://" + gw + "/", headers: []string{"Approov-Token: " + tok.valid}, proxy: pg(gwCmd), backend: be},
		{name: bindingRow, url: "http://" + gw + "/bound", headers: []string{"Approov-Token: " + tok.bound, "Authorization: " + tok.auth}, proxy: pg(gwCmd), backend: be},
		{name: gwFloodRow, url: "http://" + gw + "/", headers: []string{"Approov-Token: " + tok.badSig}, reject: true, proxy: pg(gwCmd), backend: be},
	})
	if err != nil {
		return err
	}
	b.stopAll()
	floorRes := res[floorRow]
	fmt.Fprintf(&b.report, "## Gateway in front of a trivial Go backend\n\nThe backend answers `{\"message\": \"Hello, World!\"}`; the floor is a bare `httputil.ReverseProxy` with the same transport settings and no checks. The rejection row counts 401 answers per second.\n\n")
	b.table(ordered(res, directRow, floorRow, gatewayRow, bindingRow, gwFloodRow), "floor", floorRes)
	gwRes := res[gatewayRow]
	b.target(gwRes.rps.med >= 0.9*floorRes.rps.med, "gateway: valid traffic at least 0.9× the requests/s of the bare ReverseProxy (%.2f×)", gwRes.rps.med/floorRes.rps.med)
	return nil
}

func ordered(m map[string]summary, names ...string) []summary {
	out := make([]summary, 0, len(names))
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}
