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
