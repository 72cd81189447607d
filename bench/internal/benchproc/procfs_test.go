package benchproc

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
			name: "name with spaces and a parenthesis, trailing newline",
			stat: "4242 (ser ver) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 17 0 0 20 0 5 0 100 1000 200 18446744073709551615\n",
			want: 250 + 17,
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
		"no parenthesis":        "1 server S 1 1 1 0 -1 0 0 0 0 0 1 2",
		"no parenthesis, short": "4242 server S 1",
		"too short":             "1 (server) S 1 1 1 0 -1 0 0 0 0 0 1",
		"far too short":         "4242 (server) S 1 2 3",
		"not a number":          "1 (server) S 1 1 1 0 -1 0 0 0 0 0 x 2 0",
		"utime not a number":    "4242 (s) S 1 4242 4242 0 -1 4194560 100 0 0 0 x 17 0 0",
		"stime not a number":    "1 (server) S 1 1 1 0 -1 0 0 0 0 0 1 x 0",
		"empty":                 "",
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
		got, err := ParseStatusKB([]byte(statusFixture), key)
		if err != nil || got != want {
			t.Errorf("%s: got %d, %v, want %d", key, got, err, want)
		}
	}
	if _, err := ParseStatusKB([]byte(statusFixture), "VmSwap"); err == nil {
		t.Error("VmSwap: got no error for a missing field")
	}
	if _, err := ParseStatusKB([]byte(statusFixture), "Threads"); err == nil {
		t.Error("Threads: got no error for a field without kB")
	}
	if got, ok := statusField([]byte(statusFixture), "Cpus_allowed_list"); got != "0-1" || !ok {
		t.Errorf("Cpus_allowed_list: got %q, %v, want %q, true", got, ok, "0-1")
	}
	if got, ok := statusField([]byte(statusFixture), "Cpus"); got != "" || ok {
		t.Errorf("Cpus: got %q, %v, want %q, false", got, ok, "")
	}
}

func TestParseMemory(t *testing.T) {
	in := "Name:\tserver\nVmPeak:\t 1000 kB\nVmHWM:\t   283000 kB\nVmRSS:\t    9000 kB\nThreads:\t5\n"
	got, err := parseMemory([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Memory{RSS: 9000, HWM: 283000}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"VmRSS:\t9000 kB\n", "VmHWM:\t9000 kB\n", "VmRSS:\t9000 MB\nVmHWM:\t1 kB\n", "VmRSS:\tx kB\nVmHWM:\t1 kB\n"} {
		if _, err := parseMemory([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestReadSelf reads this process's own /proc files.
func TestReadSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	pid := os.Getpid()
	t0, err := ReadTicks(pid)
	if err != nil {
		t.Fatalf("ReadTicks: %v", err)
	}
	// Burn CPU until the tick count moves (bounded: a tick is 10 ms).
	x := 0
	for i := 0; i < 2e9; i++ {
		x += i
		if i%1e6 == 0 {
			if t1, _ := ReadTicks(pid); t1 > t0 {
				break
			}
		}
	}
	t1, err := ReadTicks(pid)
	if err != nil {
		t.Fatalf("ReadTicks: %v", err)
	}
	if t1 <= t0 {
		t.Errorf("CPU ticks did not grow while spinning: %d then %d (x=%d)", t0, t1, x)
	}
	m, err := ReadMemory(pid)
	if err != nil {
		t.Fatalf("ReadMemory: %v", err)
	}
	if m.RSS < 1000 || m.RSS > 10<<20 {
		t.Errorf("VmRSS of the test process: got %d kB, want between 1 MB and 10 GB", m.RSS)
	}
	if m.HWM < m.RSS {
		t.Errorf("VmHWM of the test process: got %d kB, want at least VmRSS, %d kB", m.HWM, m.RSS)
	}
	if _, err := ReadTicks(-1); err == nil {
		t.Error("ReadTicks(-1): got no error")
	}
	if cpus, err := AllowedCPUs(); err != nil || len(cpus) == 0 {
		t.Errorf("AllowedCPUs: got %v, %v", cpus, err)
	}
	if clk, note := ClockTicks(); clk <= 0 || (note != "" && clk != DefaultClockTicks) {
		t.Errorf("ClockTicks: got %d, %q", clk, note)
	}
}

func TestParseCPUList(t *testing.T) {
	tests := map[string][]int{
		"0":         {0},
		"0-1":       {0, 1},
		"0-2,5,7-8": {0, 1, 2, 5, 7, 8},
		"0-2,5\n":   {0, 1, 2, 5},
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
