package main

import (
	"os"
	"slices"
	"testing"
)

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want int64
	}{
		{
			name: "plain",
			stat: "1234 (server) S 1 1234 1234 0 -1 4194560 1289 0 0 0 97 419 0 0 20 0 5 0 4242 1709376 3200 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 0 0 0 0 0 0",
			want: 97 + 419,
		},
		{
			name: "name with spaces and parentheses",
			stat: "77 (a (b) c) d)) R 1 77 77 0 -1 4194560 10 0 0 0 12 34 0 0 20 0 1 0 100 1000 50 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0",
			want: 12 + 34,
		},
		{
			name: "name that looks like fields",
			stat: "9 () 1 2 3 4 5 6 7 8 9 10 11 12) S 1 9 9 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 1 1",
			want: 5 + 6,
		},
		{
			name: "trailing newline",
			stat: "5 (x) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 1 1\n",
			want: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatTicks([]byte(tt.stat))
			if err != nil {
				t.Fatalf("parseStatTicks: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %d ticks, want %d", got, tt.want)
			}
		})
	}
}

func TestParseStatTicksErrors(t *testing.T) {
	for name, stat := range map[string]string{
		"no parenthesis": "1 server S 1 1 1 0 -1 0 0 0 0 0 1 2",
		"too short":      "1 (server) S 1 1 1 0 -1 0 0 0 0 0 1",
		"not a number":   "1 (server) S 1 1 1 0 -1 0 0 0 0 0 x 2 0",
		"empty":          "",
	} {
		if got, err := parseStatTicks([]byte(stat)); err == nil {
			t.Errorf("%s: got %d and no error, want an error", name, got)
		}
	}
}

const statusFixture = `Name:	server
Umask:	0022
State:	S (sleeping)
Tgid:	31373
Pid:	31373
VmPeak:	 1709376 kB
VmHWM:	   14020 kB
VmRSS:	   12800 kB
RssAnon:	    6144 kB
Threads:	5
Cpus_allowed:	3
Cpus_allowed_list:	0-1
`

func TestParseStatusKB(t *testing.T) {
	for key, want := range map[string]int64{"VmRSS": 12800, "VmHWM": 14020, "RssAnon": 6144} {
		got, err := parseStatusKB([]byte(statusFixture), key)
		if err != nil || got != want {
			t.Errorf("%s: got %d, %v, want %d", key, got, err, want)
		}
	}
	if _, err := parseStatusKB([]byte(statusFixture), "VmSwap"); err == nil {
		t.Error("VmSwap: got no error for a missing field")
	}
	if _, err := parseStatusKB([]byte(statusFixture), "Threads"); err == nil {
		t.Error("Threads: got no error for a field without kB")
	}
	if got, want := parseStatusField([]byte(statusFixture), "Cpus_allowed_list"), "0-1"; got != want {
		t.Errorf("Cpus_allowed_list: got %q, want %q", got, want)
	}
}

func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	pid := os.Getpid()
	t0, err := procTicks(pid)
	if err != nil {
		t.Fatalf("procTicks: %v", err)
	}
	// Burn CPU until the tick count moves (bounded: a tick is 10 ms).
	x := 0
	for i := 0; i < 2e9; i++ {
		x += i
		if i%1e6 == 0 {
			if t1, _ := procTicks(pid); t1 > t0 {
				break
			}
		}
	}
	t1, err := procTicks(pid)
	if err != nil {
		t.Fatalf("procTicks: %v", err)
	}
	if t1 <= t0 {
		t.Errorf("CPU ticks did not grow while spinning: %d then %d (x=%d)", t0, t1, x)
	}
	rss, err := procRSS(pid)
	if err != nil {
		t.Fatalf("procRSS: %v", err)
	}
	if rss < 1000 || rss > 10<<20 {
		t.Errorf("VmRSS of the test process: got %d kB, want between 1 MB and 10 GB", rss)
	}
	if cpus, err := allowedCPUs(); err != nil || len(cpus) == 0 {
		t.Errorf("allowedCPUs: got %v, %v", cpus, err)
	}
	if ts := readCPUTimes(); len(ts) == 0 {
		t.Error("readCPUTimes: no CPU lines in /proc/stat")
	}
}

func TestParseCPUList(t *testing.T) {
	tests := map[string][]int{
		"0":         {0},
		"0-1":       {0, 1},
		"0-2,5,7-8": {0, 1, 2, 5, 7, 8},
		"3\n":       {3},
	}
	for in, want := range tests {
		got, err := parseCPUList(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: got %v, %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"a", "3-1", "1-x"} {
		if got, err := parseCPUList(bad); err == nil {
			t.Errorf("%q: got %v and no error", bad, got)
		}
	}
}

func TestParseCPUTimes(t *testing.T) {
	a := parseCPUTimes([]byte("cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 5 0 5 50 0 0 0 0 0 0\ncpu1 5 0 5 50 0 0 0 0 0 0\nintr 1\n"))
	b := parseCPUTimes([]byte("cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 35 0 25 50 0 0 0 0 0 0\ncpu1 6 0 5 149 0 0 0 0 0 0\n"))
	if got := busy(a, b, 0); got != 1 {
		t.Errorf("cpu0 busy: got %v, want 1", got)
	}
	if got := busy(a, b, 1); got != 0.01 {
		t.Errorf("cpu1 busy: got %v, want 0.01", got)
	}
	if got := busy(a, b, 2); got != -1 {
		t.Errorf("cpu2 busy: got %v, want -1 (unknown)", got)
	}
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\n"
	model, n := cpuModel([]byte(info))
	if model != "Intel(R) Xeon(R) Processor" || n != 2 {
		t.Errorf("got %q, %d, want %q, 2", model, n, "Intel(R) Xeon(R) Processor")
	}
}
