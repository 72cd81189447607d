package main

import (
	"math"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want spread
	}{
		{"empty", nil, spread{}},
		{"one", []float64{3}, spread{3, 3, 3, 1}},
		{"odd", []float64{5, 1, 3}, spread{3, 1, 5, 3}},
		{"even", []float64{4, 1, 2, 10}, spread{3, 1, 10, 4}},
		{"equal", []float64{2, 2}, spread{2, 2, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.in...)
			if got := summarize(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatalf("summarize reordered its input: %v", tt.in)
				}
			}
		})
	}
}

// httpRun is a clean run of an HTTP configuration.
func httpRun(rep int, cfg, who string, rate, cpu float64) Run {
	return Run{Rep: rep, Config: cfg, Who: who, Server: who, ReqPerSec: rate, ServerCPUus: cpu, Requests: int64(rate)}
}

func TestRatiosPairWithinRepetition(t *testing.T) {
	runs := []Run{
		httpRun(1, "c50", "tokamak", 200, 8),
		httpRun(1, "c50", "nethttp", 100, 16),
		httpRun(2, "c50", "tokamak", 150, 8),
		httpRun(2, "c50", "nethttp", 50, 20),
		httpRun(3, "c50", "tokamak", 300, 8), // no peer in rep 3: no pair
		httpRun(1, "c256", "nethttp", 1, 1),  // another configuration
	}
	rs := ratios(runs, "c50", figRate, "tokamak", "nethttp")
	if rs.Pairs != 2 || rs.Excluded != 0 || len(rs.Vals) != 2 {
		t.Fatalf("got %+v, want 2 clean pairs", rs)
	}
	// Per repetition: 2 and 3; the ratio of the medians would be 175/75.
	if s := summarize(rs.Vals); s.Med != 2.5 || s.Min != 2 || s.Max != 3 {
		t.Errorf("req/s ratio: got %+v, want median 2.5 (2–3)", s)
	}
	cpu := summarize(ratios(runs, "c50", figCPU, "tokamak", "nethttp").Vals)
	if cpu.Min != 0.4 || cpu.Max != 0.5 || math.Abs(cpu.Med-0.45) > 1e-12 {
		t.Errorf("CPU ratio: got %+v, want median 0.45 (0.4–0.5)", cpu)
	}
}

func TestRatiosLeaveOutBadRuns(t *testing.T) {
	bad := httpRun(2, "c50", "nethttp", 50, 20)
	bad.Errors = 3
	failed := Run{Rep: 3, Config: "c50", Who: "tokamak", Failure: "did not start"}
	runs := []Run{
		httpRun(1, "c50", "tokamak", 200, 8), httpRun(1, "c50", "nethttp", 100, 16),
		httpRun(2, "c50", "tokamak", 150, 8), bad,
		failed, httpRun(3, "c50", "nethttp", 100, 16),
	}
	rs := ratios(runs, "c50", figRate, "tokamak", "nethttp")
	if rs.Pairs != 3 || rs.Excluded != 2 || rs.SubjBad != 1 || len(rs.Vals) != 1 || rs.Vals[0] != 2 {
		t.Errorf("got %+v, want 3 pairs, 2 excluded (1 by the subject), one ratio of 2", rs)
	}
}

func TestEvaluate(t *testing.T) {
	atLeast2 := Target{Config: "c50", Figure: figRate, Subject: "tokamak", Peer: "nethttp", AtLeast: true, Value: 2}
	atMost115 := Target{Config: "c50", Figure: figCPU, Subject: "tokamak", Peer: "gnetraw", Value: 1.15}
	withErrors := func(r Run) Run { r.Errors = 7; return r }
	tests := []struct {
		name    string
		runs    []Run
		target  Target
		applies bool
		status  string
		note    string
		med     float64
	}{
		{
			name:   "met: median above, one repetition below",
			target: atLeast2,
			runs: []Run{
				httpRun(1, "c50", "tokamak", 210, 1), httpRun(1, "c50", "nethttp", 100, 1),
				httpRun(2, "c50", "tokamak", 190, 1), httpRun(2, "c50", "nethttp", 100, 1),
				httpRun(3, "c50", "tokamak", 250, 1), httpRun(3, "c50", "nethttp", 100, 1),
			},
			applies: true, status: statusMet, note: "met in 2 of 3", med: 2.1,
		},
		{
			name:   "missed",
			target: atLeast2,
			runs: []Run{
				httpRun(1, "c50", "tokamak", 150, 1), httpRun(1, "c50", "nethttp", 100, 1),
			},
			applies: true, status: statusMissed, note: "met in 0 of 1", med: 1.5,
		},
		{
			name:   "at most: met",
			target: atMost115,
			runs: []Run{
				httpRun(1, "c50", "tokamak", 1, 4.4), httpRun(1, "c50", "gnetraw", 1, 4),
			},
			applies: true, status: statusMet, note: "met in 1 of 1", med: 1.1,
		},
		{
			name:   "at most: missed",
			target: atMost115,
			runs: []Run{
				httpRun(1, "c50", "tokamak", 1, 6), httpRun(1, "c50", "gnetraw", 1, 4),
			},
			applies: true, status: statusMissed, med: 1.5,
		},
		{
			name:    "missing peer",
			target:  atMost115,
			runs:    []Run{httpRun(1, "c50", "tokamak", 1, 6), httpRun(1, "c50", "nethttp", 1, 4)},
			applies: true, status: statusUnmeasured, note: "no gnet raw run",
		},
		{
			name:    "configuration not run",
			target:  atLeast2,
			runs:    []Run{httpRun(1, "c256", "tokamak", 1, 1), httpRun(1, "c256", "nethttp", 1, 1)},
			applies: false,
		},
		{
			name:   "peer with errors in every repetition",
			target: atLeast2,
			runs: []Run{
				httpRun(1, "c50", "tokamak", 300, 1), withErrors(httpRun(1, "c50", "nethttp", 100, 1)),
			},
			applies: true, status: statusUnmeasured, note: "net/http had errors in every repetition",
		},
		{
			name:   "tokamak with errors: missed whatever its rate",
			target: atLeast2,
			runs: []Run{
				withErrors(httpRun(1, "c50", "tokamak", 900, 1)), httpRun(1, "c50", "nethttp", 100, 1),
			},
			applies: true, status: statusMissed, note: "tokamak had errors in 1 of 1 repetitions",
		},
		{
			name:   "a repetition with errors is left out",
			target: atLeast2,
			runs: []Run{
				httpRun(1, "c50", "tokamak", 300, 1), httpRun(1, "c50", "nethttp", 100, 1),
				withErrors(httpRun(2, "c50", "tokamak", 100, 1)), httpRun(2, "c50", "nethttp", 100, 1),
			},
			applies: true, status: statusMet, note: "met in 1 of 1; 1 of 2 repetitions left out for errors", med: 3,
		},
		{
			name:   "absolute: idle memory",
			target: Target{Config: "idle", Figure: figKB, Subject: "tokamak", Value: 1},
			runs: []Run{
				{Rep: 1, Config: "idle", Who: "tokamak", KBPerConn: 0.6},
				{Rep: 2, Config: "idle", Who: "tokamak", KBPerConn: 1.4},
				{Rep: 3, Config: "idle", Who: "tokamak", KBPerConn: 0.7},
				{Rep: 1, Config: "idle", Who: "nethttp", KBPerConn: 20},
			},
			applies: true, status: statusMet, note: "met in 2 of 3", med: 0.7,
		},
		{
			name:   "absolute: failed runs only",
			target: Target{Config: "idle", Figure: figKB, Subject: "tokamak", Value: 1},
			runs: []Run{
				{Rep: 1, Config: "idle", Who: "tokamak", Failure: "not ready"},
			},
			applies: true, status: statusMissed, note: "tokamak had errors in 1 of 1 repetitions",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := evaluate(tt.runs, tt.target)
			if ok != tt.applies {
				t.Fatalf("applies: got %v, want %v", ok, tt.applies)
			}
			if !ok {
				return
			}
			if v.Status != tt.status {
				t.Errorf("status: got %q, want %q (note %q)", v.Status, tt.status, v.Note)
			}
			if tt.note != "" && v.Note != tt.note {
				t.Errorf("note: got %q, want %q", v.Note, tt.note)
			}
			if math.Abs(v.Got.Med-tt.med) > 1e-9 {
				t.Errorf("median: got %v, want %v", v.Got.Med, tt.med)
			}
		})
	}
}

func TestTargetsCoverDesign(t *testing.T) {
	// DESIGN.md §8, as configured: every HTTP configuration has its three
	// targets with the right bounds.
	want := map[string][3]float64{ // cpu vs gnetraw, rate vs nethttp, rate vs fasthttp
		"c50": {1.15, 2, 1.2}, "c256": {1.15, 2, 1.2}, "c50-p16": {1.6, 10, 1.6}, "c256-p16": {1.6, 10, 1.6},
	}
	got := map[string][3]float64{}
	var idle, rpc, wrk int
	for _, tg := range targets() {
		b := got[tg.Config]
		switch {
		case tg.Peer == "gnetraw" && tg.Figure == figCPU && !tg.AtLeast:
			b[0] = tg.Value
		case tg.Peer == "nethttp" && tg.Figure == figRate && tg.AtLeast:
			b[1] = tg.Value
		case tg.Peer == "fasthttp" && tg.Figure == figRate && tg.AtLeast:
			b[2] = tg.Value
		case tg.Config == "idle" && tg.Value == 1 && !tg.AtLeast:
			idle++
		case tg.Peer == "netrpc" && tg.Value == 4 && tg.AtLeast:
			rpc++
		case tg.Peer == "wrk" && tg.Subject == "load" && tg.Value == 0.9 && tg.AtLeast:
			wrk++
		default:
			t.Errorf("unexpected target %+v", tg)
		}
		if strings.HasPrefix(tg.Config, "c") {
			got[tg.Config] = b
		}
	}
	for cfg, w := range want {
		if got[cfg] != w {
			t.Errorf("%s: got %v, want %v", cfg, got[cfg], w)
		}
	}
	if idle != 1 || rpc != 3 || wrk != 2 {
		t.Errorf("got %d idle, %d RPC and %d wrk targets, want 1, 3 and 2", idle, rpc, wrk)
	}
}

func TestSelectConfigs(t *testing.T) {
	all := allConfigs(10000)
	got, err := selectConfigs(all, "c50,tokamak,nethttp")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "c50" || strings.Join(got[0].Who, " ") != "tokamak nethttp" {
		t.Errorf("c50,tokamak,nethttp: got %+v", got)
	}
	got, err = selectConfigs(all, "rpc-*")
	if err != nil || len(got) != 3 || strings.Join(got[0].Who, " ") != "tokamak netrpc" {
		t.Errorf("rpc-*: got %+v, %v", got, err)
	}
	// Contestants only: configurations without any of them drop out.
	got, err = selectConfigs(all, "gnetraw")
	if err != nil || strings.Join(configNames(got), " ") != "c50 c256 c50-p16 c256-p16 idle" {
		t.Errorf("gnetraw: got %v, %v", configNames(got), err)
	}
	if got, err := selectConfigs(all, ""); err != nil || len(got) != len(all) {
		t.Errorf("empty filter: got %d configurations, %v", len(got), err)
	}
	for _, bad := range []string{"c51", "apache", "["} {
		if _, err := selectConfigs(all, bad); err == nil {
			t.Errorf("%q: got no error", bad)
		}
	}
	if _, err := selectConfigs(all, "idle,netrpc"); err == nil {
		t.Error("idle,netrpc: got no error for an empty selection")
	}
}

func TestEstimate(t *testing.T) {
	// The default and -quick runs must fit their budgets (DESIGN: ≤ 10 and
	// ≤ 2 minutes), the build (cached or not) aside.
	all := allConfigs(defaultIdle)
	if got := estimate(all, defaultReps, defaultDur, false); got > 9*60e9 {
		t.Errorf("default run: estimated %v, want ≤ 9m (10m with the build)", got)
	}
	if got := estimate(all, quickReps, quickDur, false); got > 100e9 {
		t.Errorf("-quick: estimated %v, want ≤ 100s (2m with the build)", got)
	}
}

func TestPackages(t *testing.T) {
	all := allConfigs(100)
	if got := packages(all, false); len(got) != len(binaries) {
		t.Errorf("full matrix: got %v, want all %d packages", got, len(binaries))
	}
	c50, _ := selectConfigs(all, "c50,tokamak,nethttp")
	if got, want := strings.Join(packages(c50, false), " "), "./bench/load ./bench/peers/nethttp ./cmd/server"; got != want {
		t.Errorf("c50 tokamak nethttp: got %q, want %q", got, want)
	}
	rpc, _ := selectConfigs(all, "rpc-64B,netrpc")
	if got, want := strings.Join(packages(rpc, true), " "), "./bench/load ./bench/peers/netrpc ./bench/prelim/rpcload ./cmd/server"; got != want {
		t.Errorf("rpc-64B netrpc with -profile: got %q, want %q", got, want)
	}
}

// Every other repetition runs the contestants in reverse, so that each
// pair is run in both orders.
func TestRunOrder(t *testing.T) {
	who := []string{"a", "b", "c"}
	for rep, want := range map[int]string{1: "a b c", 2: "c b a", 3: "a b c", 4: "c b a"} {
		if got := strings.Join(runOrder(who, rep), " "); got != want {
			t.Errorf("rep %d: %q, want %q", rep, got, want)
		}
	}
	if strings.Join(who, " ") != "a b c" {
		t.Error("runOrder changed its argument")
	}
}
