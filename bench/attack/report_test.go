package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
	}{
		{"median odd", []float64{3, 1, 2}, 0.5, 2},
		{"median even: lower middle", []float64{4, 1, 3, 2}, 0.5, 2},
		{"p99 of 100", seq(100), 0.99, 99},
		{"p99 of 10", seq(10), 0.99, 10},
		{"max", seq(7), 1, 7},
		{"min", seq(7), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.xs, tt.q); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Errorf("empty: want NaN")
	}
}

func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[n-1-i] = float64(i + 1) // reversed: quantile sorts
	}
	return xs
}

func TestSummarizeCloses(t *testing.T) {
	recs := []closeRec{
		{byServer: true, sent: true, secs: 30, how: "fin", told: "HTTP/1.1 408 Request Timeout"},
		{byServer: true, sent: true, secs: 31, how: "fin", told: "HTTP/1.1 408 Request Timeout"},
		{byServer: true, sent: false, secs: 5, how: "reset"},
		{byServer: false, sent: true, how: "closed by the client"},
		{refused: true, how: "fin"},
	}
	s := summarizeCloses(recs)
	if s.Opened != 5 || s.SentAll != 3 || s.ClosedByServer != 3 || s.Refused != 1 {
		t.Errorf("counts: got %+v", s)
	}
	if s.CloseP50S != 30 || s.CloseMaxS != 31 {
		t.Errorf("close times: got p50 %v max %v, want 30 and 31", s.CloseP50S, s.CloseMaxS)
	}
	want := []count{{"408 Request Timeout, then fin", 2}, {"nothing, then reset", 1}}
	if len(s.Told) != len(want) || s.Told[0] != want[0] || s.Told[1] != want[1] {
		t.Errorf("told: got %v, want %v", s.Told, want)
	}
	if got := toldText(s.Told, 1); got != "408 Request Timeout, then fin ×2; +1 more" {
		t.Errorf("toldText: got %q", got)
	}
}

// timeline builds samples every step seconds from RSS values (MiB) and
// CPU ticks per interval.
func timeline(step float64, rssMiB []int64, ticks []int64) []sample {
	var out []sample
	var cum int64
	for i := range max(len(rssMiB), len(ticks)) {
		s := sample{T: float64(i) * step}
		if i < len(rssMiB) {
			s.RSSKB = rssMiB[i] << 10
		}
		if i < len(ticks) {
			cum += ticks[i]
		}
		s.CPUTicks = cum
		s.RunNS = cum * 10_000_000 // a tick is 10 ms at CLK_TCK 100
		out = append(out, s)
	}
	return out
}

func TestRecoveryTime(t *testing.T) {
	s := timeline(1, []int64{10, 10, 900, 900, 800, 400, 50, 40}, nil)
	limit := int64(2*10+32) << 10
	if got, ok := recoveryTime(s, 3, limit); !ok || got != 3 {
		t.Errorf("got %v, %v; want 3 s after the close", got, ok)
	}
	if _, ok := recoveryTime(s[:6], 3, limit); ok {
		t.Errorf("recovered without a sample under the bound")
	}
	// The baseline before t0 does not count.
	if got, ok := recoveryTime(s, 2, limit); !ok || got != 4 {
		t.Errorf("got %v, %v; want 4", got, ok)
	}
}

func TestBusyAfter(t *testing.T) {
	// 100 ms samples at CLK_TCK 100: 10 ticks = a whole CPU.
	ticks := []int64{0, 10, 10, 10, 10, 10, 9, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	s := timeline(0.1, nil, ticks)
	busy, ok := busyAfter(s, 0.05, 0.2, 1)
	if !ok || math.Abs(busy-0.55) > 1e-9 {
		t.Errorf("got %v, %v; want busy 0.55 s (until the sample at 0.6 s)", busy, ok)
	}
	if _, ok := busyAfter(s[:12], 0.05, 0.2, 1); ok {
		t.Errorf("settled on less than a quiet second")
	}
	// A server waiting for a CPU other processes hold is busy too.
	starved := timeline(0.1, nil, make([]int64, 20))
	for i := range starved[:8] {
		starved[i].WaitNS = int64(i) * 100_000_000
	}
	for i := 8; i < len(starved); i++ {
		starved[i].WaitNS = starved[7].WaitNS
	}
	if busy, ok := busyAfter(starved, 0, 0.2, 1); !ok || math.Abs(busy-0.7) > 1e-9 {
		t.Errorf("starved: got %v, %v; want busy 0.7 s", busy, ok)
	}
	if got := cpuSecondsAfter(s, 0.05, 100); math.Abs(got-0.51) > 1e-9 {
		t.Errorf("cpu after: got %v, want 0.51 (51 ticks from the sample at 0.1 s)", got)
	}
	// Never busy: settled at once.
	idle := timeline(0.1, nil, make([]int64, 15))
	if busy, ok := busyAfter(idle, 0, 0.2, 1); !ok || busy != 0 {
		t.Errorf("idle: got %v, %v", busy, ok)
	}
}

func TestSummarizeTimeline(t *testing.T) {
	s := []sample{
		{T: 0, RSSKB: 5000, HWMKB: 5000, FDs: 10, CPUTicks: 100, WaitNS: 500e6, ClientNS: 1e9, PSIUS: 1e6},
		{T: 2, RSSKB: 7000, HWMKB: 7000, FDs: 19, CPUTicks: 110, TCP: sockstat{MemPages: 10}},
		{T: 3, RSSKB: 90000, HWMKB: 120000, FDs: 219, CPUTicks: 300, TCP: sockstat{MemPages: 5000, Orphan: 7}},
		{T: 9, RSSKB: 9000, HWMKB: 120000, FDs: 19, CPUTicks: 350, TCP: sockstat{MemPages: 20, Orphan: 1}, WaitNS: 2e9, ClientNS: 1.25e9, PSIUS: 5.5e6},
	}
	m := summarizeTimeline(s, 1, 4, 100)
	want := memSummary{BaselineRSSKB: 7000, PeakRSSKB: 120000, EndRSSKB: 9000, BaselineTCPMemKB: 40, PeakTCPMemKB: 20000,
		EndTCPMemKB: 80, PeakOrphans: 7, EndOrphans: 1, BaselineFDs: 19, PeakFDs: 219, EndFDs: 19, CPUSeconds: 2.5,
		ServerWaitS: 1.5, ClientWaitS: 0.25, Pressure: 0.5}
	if m != want {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
	if (summarizeTimeline(nil, 0, 4, 100) != memSummary{}) {
		t.Errorf("empty timeline: want zero")
	}
}

func TestTraces(t *testing.T) {
	s := []sample{{T: 1, Open: 40}, {T: 2, Open: 40}, {T: 3, Open: 30, TCP: sockstat{Orphan: 3}}, {T: 4, Open: 0}, {T: 5}}
	if got, want := openTrace(s, 1, 2), "+0s 40, +2s 30, +4s 0"; got != want {
		t.Errorf("openTrace: got %q, want %q", got, want)
	}
	if got, want := orphanTrace(s, 1, 2), "+0s 0, +2s 3, +4s 0"; got != want {
		t.Errorf("orphanTrace: got %q, want %q", got, want)
	}
	f := []sample{{T: 0, FDs: 19}, {T: 1, FDs: 220}, {T: 2, FDs: 220}, {T: 3, FDs: 30}, {T: 4, FDs: 19}}
	if got := peakFDsAt(f); got != 1 {
		t.Errorf("peakFDsAt: got %v, want 1", got)
	}
	if got := fdsBackAt(f, 39); got != "3 s" {
		t.Errorf("fdsBackAt: got %q, want 3 s", got)
	}
	r := []sample{{T: 10, RSSKB: 1 << 20}, {T: 11, RSSKB: 1 << 20}, {T: 20, RSSKB: 100 << 10}}
	if got, want := rssTrace(r, 10, []float64{1, 10}, 1), "+1s 1024 MiB, +10s 100 MiB"; got != want {
		t.Errorf("rssTrace: got %q, want %q", got, want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtKB(512), "512 KiB"},
		{fmtKB(2048), "2 MiB"},
		{fmtKB(12 << 20), "12.0 GiB"},
		{fmtUS(250), "250 µs"},
		{fmtUS(2500), "2.5 ms"},
		{fmtUS(25000), "25 ms"},
		{fmtUS(2_500_000), "2.50 s"},
		{fmtSecs(9.96), "10.0 s"},
		{fmtSecs(30.2), "30 s"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	rep := &report{Date: time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC), Command: "go run ./bench/attack -scale 0.1", Server: "server", Pinning: "pinned", Machine: "2 CPUs"}
	rep.Scenarios = []*Result{
		{Scenario: "storm-memory", Scale: 0.1, Conns: 100, Mem: memSummary{PeakRSSKB: 200 << 10, EndRSSKB: 150 << 10},
			Attack:  attackSummary{Opened: 100},
			HTTP:    latencySummary{N: 10, P50US: 100, P99US: 900, MaxUS: 5000},
			Bound:   &bound{Target: "t", Pass: false, Detail: "not back | within 60s"},
			Figures: []kv{{"RSS after the close", "+1s 150 MiB"}}},
		{Scenario: "http-trickle", Scale: 0.1, Conns: 50, Attack: attackSummary{Opened: 50, ClosedByServer: 50, CloseP50S: 30, CloseMaxS: 31,
			Told: []count{{"408 Request Timeout, then fin", 50}}}},
	}
	md := rep.markdown()
	for _, want := range []string{
		mdBegin, mdEnd,
		"| storm-memory | 0.1 | 100 | 200 MiB | 150 MiB | 0 KiB | 0 / 100 | – | – | 100 µs / 900 µs / 5.0 ms | no answers | 0 | **fail**: not back \\| within 60s |",
		"| http-trickle | 0.1 | 50 |",
		"| 50 / 50 | 30 s / 31 s | 408 Request Timeout, then fin ×50 |",
		"- **storm-memory**: RSS after the close: +1s 150 MiB; contention: the server's threads waited 0.0 s for a CPU",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	all, err := selectScenarios(allScenarios, "")
	if err != nil || len(all) != 8 {
		t.Fatalf("all: got %d, %v", len(all), err)
	}
	got, err := selectScenarios(allScenarios, "storm-memory, held-cocaine")
	if err != nil || len(got) != 2 || got[0].name != "held-cocaine" || got[1].name != "storm-memory" {
		t.Errorf("got %v, %v; want held-cocaine, storm-memory in the list's order", got, err)
	}
	if _, err := selectScenarios(allScenarios, "held-cocaine,nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown name: got %v", err)
	}
}

func TestEstimate(t *testing.T) {
	// Full time: warm-up 2 s + length (sends 60 s, hold 120 s) + 5 s after + 2 s to start and stop.
	if got := estimate(allScenarios[:1], 1); got != 189*time.Second {
		t.Errorf("held-cocaine: got %v, want 189s", got)
	}
	if got := estimate(allScenarios, 1); got < 14*time.Minute || got > 17*time.Minute {
		t.Errorf("all: got %v, want about 15 minutes", got)
	}
}

func TestLogLevels(t *testing.T) {
	log := "time=x level=INFO msg=listening\ntime=x level=WARN msg=\"refusing\"\ntime=x level=ERROR msg=boom\ntime=x level=WARN msg=again\n"
	got := logLevels([]byte(log))
	if len(got) != 2 || got["WARN lines"] != 2 || got["ERROR lines"] != 1 {
		t.Errorf("got %v", got)
	}
}
