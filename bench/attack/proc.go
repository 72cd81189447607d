package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// What the tool reads of the server from outside besides its memory and
// CPU time (benchproc.ReadMemory, benchproc.ReadTicks): the entries of
// /proc/<pid>/fd, its threads' schedstat, the machine's CPU pressure and
// the kernel's socket totals in /proc/net/sockstat.

// sockstat is the TCP line of /proc/net/sockstat: sockets in use, orphans
// (closed by their process, still held by the kernel), TIME_WAIT, allocated,
// and the memory of all TCP buffers in pages.
type sockstat struct {
	InUse    int   `json:"inuse"`
	Orphan   int   `json:"orphan"`
	TW       int   `json:"tw"`
	Alloc    int   `json:"alloc"`
	MemPages int64 `json:"mem_pages"`
}

// parseSockstat reads the "TCP:" line of a /proc/net/sockstat text, e.g.
// "TCP: inuse 4 orphan 0 tw 10 alloc 4 mem 55".
func parseSockstat(b []byte) (sockstat, error) {
	var s sockstat
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		if len(f)%2 != 1 {
			return s, fmt.Errorf("sockstat: odd TCP line %q", sc.Text())
		}
		seen := 0
		for i := 1; i+1 < len(f); i += 2 {
			v, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return s, fmt.Errorf("sockstat: %s: %w", f[i], err)
			}
			switch f[i] {
			case "inuse":
				s.InUse = int(v)
			case "orphan":
				s.Orphan = int(v)
			case "tw":
				s.TW = int(v)
			case "alloc":
				s.Alloc = int(v)
			case "mem":
				s.MemPages = v
			default:
				continue
			}
			seen++
		}
		if seen < 5 {
			return s, fmt.Errorf("sockstat: TCP line lacks fields: %q", sc.Text())
		}
		return s, nil
	}
	return s, fmt.Errorf("sockstat: no TCP line")
}

func readSockstat() (sockstat, error) {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return sockstat{}, err
	}
	return parseSockstat(b)
}

// countFDs returns the descriptors process pid holds (listeners, epoll and
// connections), or -1 when they cannot be listed.
func countFDs(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	n := 0
	for {
		names, err := f.Readdirnames(1024)
		n += len(names)
		if err != nil || len(names) == 0 {
			return n
		}
	}
}

// parseSchedstat reads a /proc/<pid>/task/<tid>/schedstat line: the
// thread's time on a CPU and its time runnable but waiting on a run queue,
// both in ns.
func parseSchedstat(b []byte) (run, wait int64, err error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("schedstat: %d fields, want 3", len(f))
	}
	if run, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("schedstat: %w", err)
	}
	if wait, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("schedstat: %w", err)
	}
	return run, wait, nil
}

// schedTimes sums the run and run-queue wait times of every thread of pid
// ("self" for this process), in ns; -1, -1 when they cannot be read. A
// thread that exits takes its times with it, so the sums may drop.
func schedTimes(pid string) (run, wait int64) {
	dir := "/proc/" + pid + "/task"
	f, err := os.Open(dir)
	if err != nil {
		return -1, -1
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return -1, -1
	}
	for _, n := range names {
		b, err := os.ReadFile(dir + "/" + n + "/schedstat")
		if err != nil {
			continue
		}
		if r, w, err := parseSchedstat(b); err == nil {
			run += r
			wait += w
		}
	}
	return run, wait
}

// parsePressure returns the "some" total of /proc/pressure/cpu: the µs
// during which at least one task on the machine waited for a CPU.
func parsePressure(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "some" {
			continue
		}
		for _, kv := range f[1:] {
			if v, ok := strings.CutPrefix(kv, "total="); ok {
				return strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("pressure: no \"some ... total=\" line")
}

func readPressure() int64 {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return -1
	}
	v, err := parsePressure(b)
	if err != nil {
		return -1
	}
	return v
}
