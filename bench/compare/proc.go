package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

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
