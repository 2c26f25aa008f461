package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// scenario is one load run target.
type scenario struct {
	name    string
	url     string
	headers []string
	// reject means non-2xx answers are the point (a flood of bad tokens).
	reject bool
	// proxy and backend are the process groups whose CPU time is counted
	// per request: every proxy in the request's path (nginx and the
	// gateway it asks count together), and the application behind them.
	proxy, backend []int
}

var (
	rpsRe     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	latRe     = regexp.MustCompile(`^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	non2xxRe  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	requestRe = regexp.MustCompile(`(\d+) requests in`)
)

// wrk runs one bounded load run against loopback, and counts the CPU time
// the scenario's process groups spent during it.
func (b *bench) wrk(s scenario) (rawResult, error) {
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		return rawResult{}, fmt.Errorf("refusing to load %s: loopback only", s.url)
	}
	args := []string{"-c", b.loadCore(), "wrk", "-t1", "-c" + strconv.Itoa(b.conns), "-d" + b.duration.String(), "--latency", "--timeout", "5s"}
	for _, h := range s.headers {
		args = append(args, "-H", h)
	}
	args = append(args, s.url)
	proxy0, err := groupsCPUTicks(s.proxy)
	if err != nil {
		return rawResult{}, fmt.Errorf("%s, proxy before: %v", s.name, err)
	}
	backend0, err := groupsCPUTicks(s.backend)
	if err != nil {
		return rawResult{}, fmt.Errorf("%s, backend before: %v", s.name, err)
	}
	out, err := exec.Command("taskset", args...).CombinedOutput()
	if err != nil {
		return rawResult{}, fmt.Errorf("wrk %s: %v\n%s", s.name, err, out)
	}
	proxy1, err := groupsCPUTicks(s.proxy)
	if err != nil {
		return rawResult{}, fmt.Errorf("%s, proxy after: %v", s.name, err)
	}
	backend1, err := groupsCPUTicks(s.backend)
	if err != nil {
		return rawResult{}, fmt.Errorf("%s, backend after: %v", s.name, err)
	}
	r := parseWrk(out)
	r.Scenario = s.name
	if len(s.proxy) > 0 {
		r.ProxyTicks = proxy1 - proxy0
		r.ProxyCPU = cpuMicrosPerRequest(r.ProxyTicks, r.Requests)
	}
	if len(s.backend) > 0 {
		r.BackendTicks = backend1 - backend0
		r.BackendCPU = cpuMicrosPerRequest(r.BackendTicks, r.Requests)
	}
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

// parseWrk reads the throughput, the count of answers and of non-2xx
// answers, and the median and 99th percentile latency, in milliseconds,
// from wrk --latency output.
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

// spread is the median of a measure over rounds, with its extremes.
type spread struct{ med, min, max float64 }

func spreadOf(v []float64) spread { return spread{median(v), minOf(v), maxOf(v)} }

// summary is the median and spread of a scenario's rounds.
type summary struct {
	name                 string
	rps                  spread
	p50, p99             float64
	proxyCPU, backendCPU spread // µs per request
	hasProxy, hasBackend bool
	// tick is the CPU µs per request that one clock tick amounts to in
	// the round with the fewest requests: the figures' resolution.
	tick   float64
	rounds int
}

// summarise reduces a scenario's rounds to medians with min–max.
func summarise(name string, rs []rawResult, s scenario) summary {
	var rps, p50, p99, proxy, backend []float64
	out := summary{name: name, rounds: len(rs), hasProxy: len(s.proxy) > 0, hasBackend: len(s.backend) > 0}
	for _, r := range rs {
		rps, p50, p99 = append(rps, r.RPS), append(p50, r.P50), append(p99, r.P99)
		proxy, backend = append(proxy, r.ProxyCPU), append(backend, r.BackendCPU)
		out.tick = math.Max(out.tick, cpuMicrosPerRequest(1, r.Requests))
	}
	out.rps, out.p50, out.p99 = spreadOf(rps), median(p50), median(p99)
	if out.hasProxy {
		out.proxyCPU = spreadOf(proxy)
	}
	if out.hasBackend {
		out.backendCPU = spreadOf(backend)
	}
	return out
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
	for _, s := range scenarios {
		out[s.name] = summarise(s.name, byName[s.name], s)
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

// cpuCell formats a CPU figure as "median [min–max]", or a dash when the
// scenario has no such process.
func cpuCell(has bool, s spread) string {
	if !has {
		return "—"
	}
	return fmt.Sprintf("%.1f [%.1f–%.1f]", s.med, s.min, s.max)
}

// table writes rows with their ratio of requests/s to base, and the CPU
// time each spent per request in its proxies and its backend.
func (b *bench) table(rows []summary, baseline string, base summary) {
	fmt.Fprintf(&b.report, "| scenario | requests/s (median) | min–max | p50 | p99 | vs %s | proxy CPU µs/req | backend CPU µs/req |\n|---|---|---|---|---|---|---|---|\n", baseline)
	tick := 0.0
	for _, r := range rows {
		fmt.Fprintf(&b.report, "| %s | %.0f | %.0f–%.0f | %.2f ms | %.2f ms | %.2f× | %s | %s |\n", r.name, r.rps.med, r.rps.min, r.rps.max, r.p50, r.p99, r.rps.med/base.rps.med,
			cpuCell(r.hasProxy, r.proxyCPU), cpuCell(r.hasBackend, r.backendCPU))
		tick = math.Max(tick, r.tick)
	}
	fmt.Fprintf(&b.report, "\nCPU µs/req: utime + stime of every process of the group, and of the children it reaped, read from /proc before and after each whole load run and divided by its answers; median [min–max] of the rounds. /proc counts 10 ms ticks: one tick is at most %.2f µs/req in these rows.\n\n", tick)
}
