package main

import (
	"fmt"
	"os"
	"testing"
)

func TestParseWrk(t *testing.T) {
	for _, tt := range []struct {
		file string
		want rawResult
	}{
		{"testdata/wrk-ok.txt", rawResult{RPS: 378.50, P50: 11.09, P99: 17.45, Requests: 379}},
		{"testdata/wrk-rejections.txt", rawResult{RPS: 55214.13, P50: 0.464, P99: 5.24, Requests: 55253, Non2xx: 55253}},
	} {
		out, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if got := parseWrk(out); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.file, got, tt.want)
		}
	}
}

func Example_median() {
	fmt.Println(median([]float64{3, 1, 2}), median([]float64{4, 1, 3, 2}), minOf([]float64{3, 1, 2}), maxOf([]float64{3, 1, 2}))
	// Output:
	// 2 2.5 1 3
}

func TestSummarise(t *testing.T) {
	s := scenario{name: "gw", proxy: []int{1}}
	rounds := []rawResult{
		{RPS: 100, P50: 2, P99: 9, Requests: 1000, ProxyCPU: 30},
		{RPS: 300, P50: 1, P99: 5, Requests: 20000, ProxyCPU: 10},
		{RPS: 200, P50: 3, P99: 7, Requests: 10000, ProxyCPU: 20},
	}
	got := summarise("gw", rounds, s)
	want := summary{name: "gw", rps: spread{200, 100, 300}, p50: 2, p99: 7, proxyCPU: spread{20, 10, 30}, hasProxy: true,
		tick:   10, // 10 ms over the 1,000 answers of the shortest round
		rounds: 3}
	if got != want {
		t.Errorf("summarise: %+v\nwant %+v", got, want)
	}
	if c := cpuCell(got.hasBackend, got.backendCPU); c != "—" {
		t.Errorf("no backend measured, cell %q", c)
	}
	if c := cpuCell(got.hasProxy, got.proxyCPU); c != "20.0 [10.0–30.0]" {
		t.Errorf("proxy cell %q", c)
	}
}
