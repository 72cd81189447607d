package main

import (
	"os"
	"testing"
)

func TestReadCPUTimes(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	if ts := readCPUTimes(); len(ts) == 0 {
		t.Error("readCPUTimes: no CPU lines in /proc/stat")
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
