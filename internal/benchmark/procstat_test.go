package main

import (
	"syscall"
	"testing"
)

func TestParseStat(t *testing.T) {
	for _, tt := range []struct {
		name string
		line string
		want stat
		bad  bool
	}{
		{name: "cat, as read on the project machine",
			line: "27010 (cat) R 27003 27003 26052 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 1249765 3133440 394 18446744073709551615 94153241169920 94153241189801 140725398636752 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
			want: stat{pgrp: 27003}},
		{name: "gunicorn master with time used and reaped",
			line: "4242 (gunicorn) S 4241 4242 4200 0 -1 4194560 9000 100 0 0 1234 567 89 10 20 0 1 0 100 50000000 4000 18446744073709551615 1 1 0 0 0 0 0 16781312 134235651 0 0 0 17 0 0 0 0 0 0\n",
			want: stat{pgrp: 4242, utime: 1234, stime: 567, cutime: 89, cstime: 10}},
		{name: "a name with spaces and parentheses",
			line: "77 (a (b) c) d) S 1 70 70 0 -1 0 0 0 0 0 5 6 7 8 20 0 1 0 1 1 1",
			want: stat{pgrp: 70, utime: 5, stime: 6, cutime: 7, cstime: 8}},
		{name: "no name", line: "77 S 1 70 70", bad: true},
		{name: "cut short", line: "77 (x) S 1 70 70 0 -1 0 0 0 0 0 5 6", bad: true},
		{name: "not a number", line: "77 (x) S 1 70 70 0 -1 0 0 0 0 0 5 six 7 8 20", bad: true},
		{name: "nothing after the name", line: "77 (x)", bad: true},
	} {
		got, err := parseStat(tt.line)
		if tt.bad {
			if err == nil {
				t.Errorf("%s: parsed %+v, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestGroupCPUTicks(t *testing.T) {
	// The test's own group is there, and holds at least this process.
	if _, err := groupCPUTicks(syscall.Getpgrp()); err != nil {
		t.Fatal(err)
	}
	// A group no process can lead is an error, never 0 ticks.
	if ticks, err := groupCPUTicks(1 << 30); err == nil {
		t.Fatalf("an empty group read as %d ticks", ticks)
	}
}

func TestCPUMicrosPerRequest(t *testing.T) {
	for _, tt := range []struct {
		ticks    int64
		requests int
		want     float64
	}{
		{150, 30000, 50}, // 1.5 s over 30,000 answers
		{1, 100000, 0.1}, // one tick: the resolution at that count
		{0, 5000, 0},
		{10, 0, 0}, // no answers: no figure, not a division by zero
	} {
		if got := cpuMicrosPerRequest(tt.ticks, tt.requests); got != tt.want {
			t.Errorf("%d ticks over %d requests: %v µs, want %v", tt.ticks, tt.requests, got, tt.want)
		}
	}
}
