package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// defaultClockTicks is USER_HZ on every Linux architecture Go supports; it
// is used when getconf cannot be asked.
const defaultClockTicks = 100

// clockTicks returns CLK_TCK from getconf, or defaultClockTicks and a note
// saying that it was assumed.
func clockTicks() (int64, string) {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v, ""
		}
	}
	return defaultClockTicks, fmt.Sprintf("getconf CLK_TCK failed; assumed %d ticks per second", defaultClockTicks)
}

// parseStatTicks returns utime+stime, fields 14 and 15 of a /proc/<pid>/stat
// line, in clock ticks. The second field, the command name in parentheses,
// may itself hold spaces and parentheses, so the fields are counted from
// the last ')'.
func parseStatTicks(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no ')' after the command name in %q", snippet(stat))
	}
	// fields[0] is field 3 (state), so field n is fields[n-3].
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least 13", len(fields))
	}
	utime, err := strconv.ParseInt(fields[14-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: utime: %w", err)
	}
	stime, err := strconv.ParseInt(fields[15-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: stime: %w", err)
	}
	return utime + stime, nil
}

// procTicks reads the CPU time of process pid so far, in clock ticks.
func procTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatTicks(b)
}

// parseStatusKB returns the value of field key ("VmRSS", "VmHWM") of a
// /proc/<pid>/status file, in kB.
func parseStatusKB(status []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != key {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("status: %s: want \"<n> kB\", got %q", key, strings.TrimSpace(rest))
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("status: no %s field", key)
}

// procRSS reads the resident set size of process pid, in kB.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, "VmRSS")
}

// parseStatusField returns the text of field key of a /proc/<pid>/status file.
func parseStatusField(status []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if name, rest, ok := strings.Cut(sc.Text(), ":"); ok && name == key {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// parseCPUList expands a kernel CPU list such as "0-2,5" into CPU numbers.
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for part := range strings.SplitSeq(strings.TrimSpace(s), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// allowedCPUs returns the CPUs this process may run on, from
// /proc/self/status.
func allowedCPUs() ([]int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	list := parseStatusField(b, "Cpus_allowed_list")
	if list == "" {
		return nil, fmt.Errorf("no Cpus_allowed_list in /proc/self/status")
	}
	return parseCPUList(list)
}

// cpuTimes are the busy and total ticks of each CPU, from /proc/stat.
type cpuTimes map[int][2]int64

// parseCPUTimes reads the per-CPU lines of /proc/stat. Busy is user, nice,
// system, irq, softirq and steal; total adds idle and iowait.
func parseCPUTimes(stat []byte) cpuTimes {
	t := cpuTimes{}
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var v [8]int64
		for i := range v {
			v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
		}
		busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
		t[n] = [2]int64{busy, busy + v[3] + v[4]}
	}
	return t
}

func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	return parseCPUTimes(b)
}

// busy returns the fraction of cpu's time spent busy between a and b, or -1
// when unknown.
func busy(a, b cpuTimes, cpu int) float64 {
	x, ok1 := a[cpu]
	y, ok2 := b[cpu]
	if !ok1 || !ok2 || y[1] <= x[1] {
		return -1
	}
	return float64(y[0]-x[0]) / float64(y[1]-x[1])
}

// cpuModel returns the first "model name" of a /proc/cpuinfo text and the
// number of "processor" entries.
func cpuModel(cpuinfo []byte) (model string, n int) {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(name) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(val)
			}
		case "processor":
			n++
		}
	}
	return model, n
}

func snippet(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
