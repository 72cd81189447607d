package main

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestPercentiles: latencies recorded by several meters, in several
// windows (as the progress line takes them), give the percentiles and the
// maximum of the whole distribution, within the histogram's three
// significant digits; out-of-range latencies are clamped, not lost.
func TestPercentiles(t *testing.T) {
	ms := []*meter{newMeter(true), newMeter(true), newMeter(true)}
	total, utotal := newHist(), newHist()
	var all []int64
	// 1..100,000 µs, spread over the meters and over two windows, some
	// recorded one by one and some as batches of equal latency.
	for v := int64(1); v <= 100_000; v++ {
		m := ms[v%3]
		if v%2 == 0 {
			m.record(time.Duration(v)*time.Microsecond, 1)
			all = append(all, v)
		} else if v%10 == 1 {
			m.record(time.Duration(v)*time.Microsecond, 5) // a read that completed five
			for range 5 {
				all = append(all, v)
			}
		}
		if v == 50_000 {
			takeWindows(ms, total, utotal)
		}
	}
	takeWindows(ms, total, utotal)
	slices.Sort(all)
	var requests uint64
	for _, m := range ms {
		requests += m.requests.Load()
	}
	if requests != uint64(len(all)) || total.TotalCount() != int64(len(all)) {
		t.Fatalf("counted %d requests, histogram %d, want %d", requests, total.TotalCount(), len(all))
	}
	q := quantiles(total)
	for name, p := range map[string]float64{"p50": 50, "p90": 90, "p99": 99, "p99.9": 99.9} {
		want := all[int(math.Ceil(p/100*float64(len(all))))-1] // nearest rank
		if got := q[name]; math.Abs(float64(got-want)) > 0.001*float64(want)+1 {
			t.Errorf("%s = %d µs, want %d µs (±0.1%%)", name, got, want)
		}
	}
	if got, want := q["max"], all[len(all)-1]; math.Abs(float64(got-want)) > 0.001*float64(want) {
		t.Errorf("max = %d µs, want %d", got, want)
	}

	// Clamping: below 1 µs counts as 1 µs, beyond the range as its top.
	m := newMeter(true)
	m.record(0, 1)
	m.record(2*time.Hour, 1)
	h := newHist()
	takeWindows([]*meter{m}, h, newHist())
	if h.TotalCount() != 2 || h.Min() != 1 || !h.ValuesAreEquivalent(h.Max(), maxLatency) {
		t.Errorf("clamped: count %d min %d max %d, want 2, 1, %d", h.TotalCount(), h.Min(), h.Max(), maxLatency)
	}
}
