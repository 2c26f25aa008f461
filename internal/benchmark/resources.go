package main

import (
	"fmt"
	"sort"
	"time"
)

// resources measures the gateway's start-up time, and its CPU time per
// request and memory under valid load.
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
	r, err := b.wrk(scenario{name: "resources", url: "http://" + gw + "/", headers: []string{"Approov-Token: " + tok.valid}, proxy: []int{cmd.Process.Pid}})
	if err != nil {
		return err
	}
	rss, hwm := memKiB(cmd.Process.Pid)
	b.stopAll()
	fmt.Fprintf(&b.report, "## Resources\n\n| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b.report, "| start-up, exec to ready (median of %d) | %.0f ms [%.0f–%.0f] |\n", runs, median(startups), startups[0], startups[len(startups)-1])
	fmt.Fprintf(&b.report, "| CPU per valid request, trivial backend (user + system) | %.1f µs (%d ticks over %d requests) |\n", r.ProxyCPU, r.ProxyTicks, r.Requests)
	fmt.Fprintf(&b.report, "| resident memory after %v of load (peak) | %.1f MiB (%.1f MiB) |\n", b.duration, float64(rss)/1024, float64(hwm)/1024)
	fmt.Fprintf(&b.report, "| requests in that run | %d (%.0f/s) |\n\n", r.Requests, r.RPS)
	return nil
}
