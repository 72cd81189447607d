package benchproc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// DefaultClockTicks is USER_HZ on every Linux architecture Go supports:
// the clock ticks per second [ClockTicks] assumes when getconf cannot be
// asked.
const DefaultClockTicks = 100

// Getconf returns the value of the system variable name (CLK_TCK,
// PAGESIZE) as the getconf command prints it. It fails when getconf cannot
// be run or does not print a positive number.
func Getconf(name string) (int64, error) {
	out, err := exec.Command("getconf", name).Output()
	if err != nil {
		return 0, fmt.Errorf("getconf %s: %w", name, err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("getconf %s: %q is not a positive number", name, snippet(bytes.TrimSpace(out)))
	}
	return v, nil
}

// ClockTicks returns the clock ticks per second, the unit of [ReadTicks]:
// CLK_TCK from getconf, or [DefaultClockTicks] and a note saying that it
// was assumed.
func ClockTicks() (ticks int64, note string) {
	if v, err := Getconf("CLK_TCK"); err == nil {
		return v, ""
	}
	return DefaultClockTicks, fmt.Sprintf("getconf CLK_TCK failed; assumed %d ticks per second", DefaultClockTicks)
}

// ReadTicks returns the CPU time process pid has used so far, utime +
// stime of /proc/<pid>/stat, in clock ticks (see [ClockTicks]).
func ReadTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatTicks(b)
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

// Memory is the memory of a process, from /proc/<pid>/status, in kB.
type Memory struct {
	RSS int64 // VmRSS: resident now
	HWM int64 // VmHWM: the peak resident set since the process started
}

// ReadMemory reads VmRSS and VmHWM of process pid from /proc/<pid>/status.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return parseMemory(b)
}

// parseMemory reads VmRSS and VmHWM of a /proc/<pid>/status text.
func parseMemory(status []byte) (Memory, error) {
	var m Memory
	var err error
	if m.RSS, err = ParseStatusKB(status, "VmRSS"); err != nil {
		return Memory{}, err
	}
	if m.HWM, err = ParseStatusKB(status, "VmHWM"); err != nil {
		return Memory{}, err
	}
	return m, nil
}

// ParseStatusKB returns the value of field key of a /proc/<pid>/status or
// /proc/meminfo text ("VmRSS", "MemTotal"), in kB. It fails when the field
// is missing or is not "<n> kB".
func ParseStatusKB(status []byte, key string) (int64, error) {
	rest, ok := statusField(status, key)
	if !ok {
		return 0, fmt.Errorf("status: no %s field", key)
	}
	f := strings.Fields(rest)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("status: %s: want \"<n> kB\", got %q", key, rest)
	}
	v, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("status: %s: %w", key, err)
	}
	return v, nil
}

// statusField returns the text of field key of a /proc/<pid>/status file,
// trimmed of white space, and whether the field is there.
func statusField(status []byte, key string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if name, rest, ok := strings.Cut(sc.Text(), ":"); ok && name == key {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// AllowedCPUs returns the CPUs this process may run on, from
// Cpus_allowed_list of /proc/self/status.
func AllowedCPUs() ([]int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	list, _ := statusField(b, "Cpus_allowed_list")
	if list == "" {
		return nil, fmt.Errorf("no Cpus_allowed_list in /proc/self/status")
	}
	return parseCPUList(list)
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

// snippet returns at most the first 40 bytes of b, for error messages.
func snippet(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
