package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
	directRow     = "direct to backend"
	floorRow      = "plain httputil.ReverseProxy (floor)"
	nginxRow      = "nginx proxy_pass, upstream keep-alive (floor)"
	njsRow        = "nginx + njs token check, valid token"
	gatewayRow    = "approov-gateway, valid token"
	slowPathRow   = "approov-gateway, valid token, upstream_fast_path off"
	bindingRow    = "approov-gateway, valid token + binding"
	njsFloodRow   = "nginx + njs token check, bad signatures (rejected)"
	gwFloodRow    = "approov-gateway, bad signatures (rejected)"
	checkRow      = "forward-auth check, valid token"
	checkFloodRow = "forward-auth check, bad signature (rejected)"
)

// gatewayScenarios measures the gateway against the proxies a user could
// run instead in front of a trivial Go backend — a bare ReverseProxy,
// nginx, nginx checking tokens with njs — and its forward-auth check
// alone, all in one alternating run so that their ratios compare.
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
	slow, slowCmd, err := b.startGateway(tok, "upstream: http://"+backend+"\n", "APPROOV_UPSTREAM_FAST_PATH=false")
	if err != nil {
		return err
	}
	fa, faCmd, err := b.startGateway(tok, "forward_auth_only: true\n", "APPROOV_FORWARD_AUTH_CONVENTION=nginx")
	if err != nil {
		return err
	}
	ngx, ngxCmd, err := b.startNginxProxy(backend, false, tok)
	if err != nil {
		return err
	}
	njs, njsCmd, err := b.startNginxProxy(backend, true, tok)
	if err != nil {
		return err
	}
	// Both checks are proven to be checks before either is measured.
	for _, u := range []string{"http://" + njs + "/", "http://" + gw + "/"} {
		if err := proveCheck(u, tok); err != nil {
			return err
		}
	}
	pg := func(c *exec.Cmd) []int { return []int{c.Process.Pid} }
	be := pg(backendCmd)
	valid := []string{"Approov-Token: " + tok.valid}
	bad := []string{"Approov-Token: " + tok.badSig}
	// What nginx's auth_request sends the check (docs/quickstart-nginx.md).
	check := []string{"X-Original-URI: /", "X-Original-Method: GET", "X-Forwarded-Host: " + fa, "X-Forwarded-Proto: http"}
	res, err := b.measure("gateway", []scenario{
		{name: directRow, url: "http://" + backend + "/", backend: be},
		{name: floorRow, url: "http://" + floor + "/", proxy: pg(floorCmd), backend: be},
		{name: nginxRow, url: "http://" + ngx + "/", proxy: pg(ngxCmd), backend: be},
		{name: njsRow, url: "http://" + njs + "/", headers: valid, proxy: pg(njsCmd), backend: be},
		{name: gatewayRow, url: "http://" + gw + "/", headers: valid, proxy: pg(gwCmd), backend: be},
		{name: slowPathRow, url: "http://" + slow + "/", headers: valid, proxy: pg(slowCmd), backend: be},
		{name: bindingRow, url: "http://" + gw + "/bound", headers: []string{"Approov-Token: " + tok.bound, "Authorization: " + tok.auth}, proxy: pg(gwCmd), backend: be},
		{name: njsFloodRow, url: "http://" + njs + "/", headers: bad, reject: true, proxy: pg(njsCmd), backend: be},
		{name: gwFloodRow, url: "http://" + gw + "/", headers: bad, reject: true, proxy: pg(gwCmd), backend: be},
		{name: checkRow, url: "http://" + fa + "/_approov/verify", headers: slices.Concat(check, valid), proxy: pg(faCmd)},
		{name: checkFloodRow, url: "http://" + fa + "/_approov/verify", headers: slices.Concat(check, bad), reject: true, proxy: pg(faCmd)},
	})
	if err != nil {
		return err
	}
	b.stopAll()
	floorRes := res[floorRow]
	fmt.Fprintf(&b.report, "## Gateway in front of a trivial Go backend\n\n"+
		"The backend answers `{\"message\": \"Hello, World!\"}`. The floors proxy without checks: a bare `httputil.ReverseProxy` with the gateway's transport limits, and nginx `proxy_pass` (one worker) keeping up to 64 idle upstream connections. nginx + njs checks the token in process (`js_set`, HS256, `exp`) before the same `proxy_pass`. Rejection rows count 401 answers per second; the backend's CPU is the same Go server's in every row.\n\n")
	b.table(ordered(res, directRow, floorRow, nginxRow, njsRow, gatewayRow, slowPathRow, bindingRow, njsFloodRow, gwFloodRow), "ReverseProxy", floorRes)
	fmt.Fprintf(&b.report, "### Forward auth\n\nThe gateway's forward-auth endpoint (`forward_auth_only`, nginx convention) asked directly, with the headers nginx's `auth_request` sends: the cost of one check, without nginx.\n\n")
	b.table(ordered(res, checkRow, checkFloodRow), "valid check", res[checkRow])

	gwRes, ngxRes, njsRes := res[gatewayRow], res[nginxRow], res[njsRow]
	b.target(gwRes.rps.med >= 0.9*floorRes.rps.med, "gateway: valid traffic at least 0.9× the requests/s of the bare ReverseProxy (%.2f×)", gwRes.rps.med/floorRes.rps.med)
	b.target(gwRes.proxyCPU.med <= 2.5*ngxRes.proxyCPU.med, "gateway: CPU per valid proxied request at most 2.5× nginx proxy_pass's (%.1f µs against %.1f µs: %.2f×)",
		gwRes.proxyCPU.med, ngxRes.proxyCPU.med, gwRes.proxyCPU.med/ngxRes.proxyCPU.med)
	b.target(gwRes.proxyCPU.med <= njsRes.proxyCPU.med, "gateway, stretch: CPU per valid proxied request at most nginx + njs's (%.1f µs against %.1f µs: %.2f×)",
		gwRes.proxyCPU.med, njsRes.proxyCPU.med, gwRes.proxyCPU.med/njsRes.proxyCPU.med)
	gwFlood, njsFlood := res[gwFloodRow], res[njsFloodRow]
	b.target(gwFlood.proxyCPU.med <= 1.2*njsFlood.proxyCPU.med, "gateway: CPU per rejected request in a bad-signature flood at most 1.2× nginx + njs's (%.1f µs against %.1f µs: %.2f×)",
		gwFlood.proxyCPU.med, njsFlood.proxyCPU.med, gwFlood.proxyCPU.med/njsFlood.proxyCPU.med)
	return nil
}

func ordered(m map[string]summary, names ...string) []summary {
	out := make([]summary, 0, len(names))
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}
