package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// ticksPerSecond is USER_HZ, the unit of the CPU times in /proc/PID/stat:
// 100 on every Linux the harness runs on, which checkClockTicks confirms.
const ticksPerSecond = 100

// checkClockTicks fails unless the kernel counts CPU time in the
// ticksPerSecond the harness divides by.
func checkClockTicks() error {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return fmt.Errorf("getconf CLK_TCK: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(ticksPerSecond) {
		return fmt.Errorf("CPU times are in 1/%s s here, the harness assumes 1/%d s", got, ticksPerSecond)
	}
	return nil
}

// groupCPUTicks returns the CPU time, in clock ticks, that the processes
// of process group pgid have used so far: utime + stime of each, and
// cutime + cstime, the time of children each has reaped, so that a
// worker ending in the middle of a load run is still counted. Every
// process under test leads a group of its own (see start), which its
// forks join: nginx's worker, gunicorn's workers.
//
// A process that ends and is reaped while /proc is being read may be
// missed or counted twice; no process under test ends during a load run.
func groupCPUTicks(pgid int) (int64, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var total int64
	members := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.pgrp != pgid {
			continue // gone since the listing, or another group's
		}
		total += st.utime + st.stime + st.cutime + st.cstime
		members++
	}
	if members == 0 {
		return 0, fmt.Errorf("process group %d has no process left", pgid)
	}
	return total, nil
}

// groupsCPUTicks is groupCPUTicks summed over several groups: the
// processes in a request's path, such as nginx and the gateway it asks.
func groupsCPUTicks(pgids []int) (int64, error) {
	var total int64
	for _, g := range pgids {
		t, err := groupCPUTicks(g)
		if err != nil {
			return 0, err
		}
		total += t
	}
	return total, nil
}

// cpuMicrosPerRequest converts ticks spent over requests answers into
// microseconds of CPU per request.
func cpuMicrosPerRequest(ticks int64, requests int) float64 {
	if requests <= 0 {
		return 0
	}
	return float64(ticks) * 1e6 / ticksPerSecond / float64(requests)
}

// stat is the part of /proc/PID/stat the harness reads.
type stat struct {
	pgrp                         int
	utime, stime, cutime, cstime int64
}

func readStat(pid int) (stat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	return parseStat(string(data))
}

// parseStat reads a /proc/PID/stat line. The command name, in
// parentheses, may hold spaces and parentheses itself, so the fields are
// counted from the last ')': there, field 3 (state) is the first, so
// pgrp (field 5) is at index 2 and utime, stime, cutime and cstime
// (fields 14 to 17) at 11 to 14.
func parseStat(line string) (stat, error) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 || end+2 > len(line) {
		return stat{}, fmt.Errorf("malformed stat line %q", line)
	}
	f := strings.Fields(line[end+2:])
	if len(f) < 15 {
		return stat{}, fmt.Errorf("stat line with %d fields after the name", len(f))
	}
	var s stat
	var err error
	num := func(i int) int64 {
		n, e := strconv.ParseInt(f[i], 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("stat field %d: %v", i+3, e)
		}
		return n
	}
	s.pgrp = int(num(2))
	s.utime, s.stime, s.cutime, s.cstime = num(11), num(12), num(13), num(14)
	return s, err
}

// memKiB returns VmRSS and VmHWM (the peak) of pid, in KiB; 0 when pid is
// gone.
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
