package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

// executable writes an executable file for -base to point at.
func executable(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "old-server")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseFlagsBase(t *testing.T) {
	exe := executable(t)
	plain := filepath.Join(t.TempDir(), "not-executable")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(mustGetwd(t), exe)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		args          []string
		base, baseOut string
		stderr        string // part of the message when the flags are refused
	}{
		{name: "no base", args: []string{"-only", "c50,tokamak"}},
		{name: "base", args: []string{"-base", exe}, base: exe},
		{name: "relative base made absolute", args: []string{"-base", rel}, base: exe},
		{name: "base-out and -only base", args: []string{"-base", exe, "-base-out", "/tmp/x.md", "-only", "c50, base"}, base: exe, baseOut: "/tmp/x.md"},
		{name: "missing base", args: []string{"-base", "/nonexistent/server"}, stderr: "-base /nonexistent/server: "},
		{name: "base not executable", args: []string{"-base", plain}, stderr: "not an executable file"},
		{name: "base is a directory", args: []string{"-base", t.TempDir()}, stderr: "not an executable file"},
		{name: "base-out without base", args: []string{"-base-out", "x.md"}, stderr: "-base-out needs -base"},
		{name: "-only base without base", args: []string{"-only", "c50,base"}, stderr: "-only base needs -base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseFlags(tt.args, &stderr)
			if tt.stderr != "" {
				if !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), tt.stderr) {
					t.Errorf("got %v and %q, want errUsage and %q", err, stderr.String(), tt.stderr)
				}
				// run refuses them with status 2 before doing anything.
				if code := run(context.Background(), tt.args, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
					t.Errorf("run: got status %d, want 2", code)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v (%s)", err, stderr.String())
			}
			if o.base != tt.base || o.baseOut != tt.baseOut {
				t.Errorf("got -base %q -base-out %q, want %q %q", o.base, o.baseOut, tt.base, tt.baseOut)
			}
		})
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// whoLists is every configuration with its contestants in run order.
func whoLists(cs []Config) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Name + ": " + strings.Join(c.Who, " ") + "\n")
	}
	return b.String()
}

// Without -base the matrix is what it always was.
func TestConfigsWithoutBase(t *testing.T) {
	const want = `c50: tokamak nethttp fasthttp gnetraw
c256: tokamak nethttp fasthttp gnetraw
c50-p16: tokamak nethttp fasthttp gnetraw
c256-p16: tokamak nethttp fasthttp gnetraw
rpc-64B: tokamak netrpc
rpc-4KiB: tokamak netrpc
rpc-64B-d16: tokamak netrpc
idle: tokamak nethttp fasthttp gnetraw
wrk-c50: load wrk
wrk-c50-p16: load wrk
`
	all := allConfigs(100)
	if got := whoLists(all); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	if got := strings.Join(runOrder(all[0].Who, 2), " "); got != "gnetraw fasthttp nethttp tokamak" {
		t.Errorf("c50 in repetition 2: got %q", got)
	}
	if _, err := selectConfigs(all, "base"); err == nil {
		t.Error(`-only base without -base: got no error`)
	}
}

// With -base, base runs right after tokamak wherever tokamak is a
// contestant, so that the two run back to back in both orders.
func TestWithBase(t *testing.T) {
	const want = `c50: tokamak base nethttp fasthttp gnetraw
c256: tokamak base nethttp fasthttp gnetraw
c50-p16: tokamak base nethttp fasthttp gnetraw
c256-p16: tokamak base nethttp fasthttp gnetraw
rpc-64B: tokamak base netrpc
rpc-4KiB: tokamak base netrpc
rpc-64B-d16: tokamak base netrpc
idle: tokamak base nethttp fasthttp gnetraw
wrk-c50: load wrk
wrk-c50-p16: load wrk
`
	all := allConfigs(100)
	with := withBase(all)
	if got := whoLists(with); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	if got := whoLists(allConfigs(100)); got != whoLists(all) || slices.Contains(all[0].Who, baseName) || slices.Contains(httpServers, baseName) {
		t.Error("withBase changed the configurations it was given")
	}
	for rep, order := range map[int]string{
		1: "tokamak base nethttp fasthttp gnetraw",
		2: "gnetraw fasthttp nethttp base tokamak",
		3: "tokamak base nethttp fasthttp gnetraw",
		4: "gnetraw fasthttp nethttp base tokamak",
	} {
		if got := strings.Join(runOrder(with[0].Who, rep), " "); got != order {
			t.Errorf("c50 in repetition %d: got %q, want %q", rep, got, order)
		}
	}
	for rep, order := range map[int]string{1: "tokamak base netrpc", 2: "netrpc base tokamak"} {
		if got := strings.Join(runOrder(with[4].Who, rep), " "); got != order {
			t.Errorf("rpc-64B in repetition %d: got %q, want %q", rep, got, order)
		}
	}

	// -only takes base like any contestant.
	got, err := selectConfigs(with, "c50,c50-p16,tokamak,base")
	if err != nil || whoLists(got) != "c50: tokamak base\nc50-p16: tokamak base\n" {
		t.Errorf("c50,c50-p16,tokamak,base: got %q, %v", whoLists(got), err)
	}
	got, err = selectConfigs(with, "base")
	if err != nil || strings.Join(configNames(got), " ") != "c50 c256 c50-p16 c256-p16 rpc-64B rpc-4KiB rpc-64B-d16 idle" || strings.Join(contestantNames(got), " ") != "base" {
		t.Errorf("base: got %q, %v", whoLists(got), err)
	}
	// The base build is prebuilt: nothing more to build for it.
	if got := strings.Join(packages(got, false), " "); got != "./bench/load ./bench/prelim/rpcload" {
		t.Errorf("packages for base alone: got %q", got)
	}
}

// The base build runs exactly as tokamak does, from its own binary.
func TestServerArgvBase(t *testing.T) {
	h := &harness{bin: "/tmp/bin", base: "/old/server"}
	for _, rpc := range []bool{false, true} {
		tk := h.serverArgv("tokamak", "127.0.0.1:1", rpc, "")
		base := h.serverArgv(baseName, "127.0.0.1:1", rpc, "")
		if tk[0] != "/tmp/bin/server" || base[0] != "/old/server" || !slices.Equal(tk[1:], base[1:]) {
			t.Errorf("rpc %v: got %q and %q, want the same flags", rpc, tk, base)
		}
	}
	if rpcMethod[baseName] != rpcMethod["tokamak"] {
		t.Errorf("base is called %q, tokamak %q", rpcMethod[baseName], rpcMethod["tokamak"])
	}
}

func TestBaseRatios(t *testing.T) {
	cfgs := withBase(allConfigs(100))
	cfgs, _ = selectConfigs(cfgs, "c50,rpc-64B,idle,tokamak,base,nethttp")
	withErrors := func(r Run) Run { r.Errors = 2; return r }
	runs := []Run{
		httpRun(1, "c50", "tokamak", 110, 4.4), httpRun(1, "c50", "base", 100, 4), httpRun(1, "c50", "nethttp", 50, 9),
		httpRun(2, "c50", "nethttp", 50, 9), httpRun(2, "c50", "base", 100, 5), httpRun(2, "c50", "tokamak", 90, 4),
		httpRun(3, "c50", "tokamak", 100, 4), withErrors(httpRun(3, "c50", "base", 100, 4)),
		httpRun(4, "c50", "base", 100, 4), httpRun(4, "c50", "tokamak", 120, 3),
		httpRun(1, "rpc-64B", "tokamak", 300, 2), httpRun(1, "rpc-64B", "base", 200, 2),
		{Rep: 1, Config: "idle", Who: "tokamak", KBPerConn: 0.6}, {Rep: 1, Config: "idle", Who: "base", KBPerConn: 0.5},
		{Rep: 2, Config: "idle", Who: "base", KBPerConn: 0.5}, {Rep: 2, Config: "idle", Who: "tokamak", Failure: "not ready"},
	}
	got := baseRatios(runs, cfgs)
	type want struct {
		cfg, fig string
		perRep   []RepRatio
		left     []int
		med      float64
		text     string
	}
	wants := []want{
		{"c50", figCPU, []RepRatio{{1, 1.1}, {2, 0.8}, {4, 0.75}}, []int{3}, 0.8, "1: 1.10×, 2: 0.800×, 3: ⚠, 4: 0.750×"},
		{"c50", figRate, []RepRatio{{1, 1.1}, {2, 0.9}, {4, 1.2}}, []int{3}, 1.1, "1: 1.10×, 2: 0.900×, 3: ⚠, 4: 1.20×"},
		{"rpc-64B", figCPU, []RepRatio{{1, 1}}, nil, 1, "1: 1.00×"},
		{"rpc-64B", figRate, []RepRatio{{1, 1.5}}, nil, 1.5, "1: 1.50×"},
		{"idle", figKB, []RepRatio{{1, 1.2}}, []int{2}, 1.2, "1: 1.20×, 2: ⚠"},
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d ratios, want %d: %+v", len(got), len(wants), got)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for i, w := range wants {
		g := got[i]
		if g.Config != w.cfg || g.Figure != w.fig {
			t.Errorf("%d: got %s %s, want %s %s", i, g.Config, g.Figure, w.cfg, w.fig)
			continue
		}
		ok := len(g.PerRep) == len(w.perRep) && slices.Equal(g.Left, w.left) && near(g.Ratio.Med, w.med)
		for j := range g.PerRep {
			ok = ok && j < len(w.perRep) && g.PerRep[j].Rep == w.perRep[j].Rep && near(g.PerRep[j].Ratio, w.perRep[j].Ratio)
		}
		if !ok {
			t.Errorf("%s %s: got %+v, want per repetition %v, left out %v, median %v", w.cfg, w.fig, g, w.perRep, w.left, w.med)
		}
		if text := g.perRepText(); text != w.text {
			t.Errorf("%s %s: got %q, want %q", w.cfg, w.fig, text, w.text)
		}
	}
	// The figures themselves, as the tables show them: runs with errors
	// counted, failed runs not.
	if c := got[0]; c.Base != (spread{4, 4, 5, 4}) || c.Tokamak != (spread{4, 3, 4.4, 4}) {
		t.Errorf("c50 CPU: got base %+v, tokamak %+v", c.Base, c.Tokamak)
	}
	if k := got[4]; k.Base.N != 2 || k.Tokamak.N != 1 || k.What != "KB per idle connection" {
		t.Errorf("idle: got %+v", k)
	}
	if got[2].What != "server CPU µs/call" || got[1].What != "req/s" {
		t.Errorf("names: got %q and %q", got[2].What, got[1].What)
	}

	r := &report{Reps: 4, Duration: "1s", ClkTck: 100, Pinning: "not pinned", Command: "go run ./bench/compare -base /old/server",
		Runs: runs, Verdicts: verdicts(runs), configs: cfgs, idleN: 100,
		Base: &baseReport{Binary: "/old/server", Revision: "0123456789ab", Ratios: got}}
	md := r.baseMarkdown()
	for _, s := range []string{
		"## Before/after (`bench/compare -base`)",
		"tokamak (base): `/old/server` (revision 0123456789ab)",
		"| config | figure | tokamak (base) | tokamak | tokamak / base | per repetition |",
		"| c50 | server CPU µs/req | 4.00 (4.00–5.00) | 4.00 (3.00–4.40) | 0.800× (0.750×–1.10×) | 1: 1.10×, 2: 0.800×, 3: ⚠, 4: 0.750× |",
		"| c50 | req/s | 100 | 105 (90–120) | 1.10× (0.900×–1.20×) | 1: 1.10×, 2: 0.900×, 3: ⚠, 4: 1.20× |",
		"| rpc-64B | calls/s | 200 | 300 | 1.50× | 1: 1.50× |",
		"| idle | KB per idle connection | 0.500 | 0.600 | 1.20× | 1: 1.20×, 2: ⚠ |",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("before/after markdown lacks %q:\n%s", s, md)
		}
	}
	// The main report shows the base build's runs in its tables, but its
	// ratios against the peers only.
	main := r.markdown()
	if !strings.Contains(main, "| c50 | tokamak (base) | 100 |") || !strings.Contains(main, "| c50 | tokamak / net/http |") {
		t.Errorf("main report lacks the base's row or the peers' ratios:\n%s", main)
	}
	if strings.Contains(main, "/ tokamak (base)") {
		t.Errorf("main report has a ratio against the base build:\n%s", main)
	}
	// Nothing to compare: said, not a table.
	r.Base.Ratios = nil
	if md := r.baseMarkdown(); !strings.Contains(md, "No configuration ran both builds.") || strings.Contains(md, "| config |") {
		t.Errorf("no pairs:\n%s", md)
	}
}

// TestSmokeBase runs the harness with -base end to end: tokamak against a
// base built from this tree, at c50, two repetitions of 500 ms (about 10 s
// once the builds are cached). It checks the order of the runs, the
// ratios in -json and -base-out, and that the -out file is left alone.
func TestSmokeBase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers and load for a few seconds; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the binaries with")
	}
	root, err := benchproc.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // cold builds included
	defer cancel()
	base := filepath.Join(dir, "base-server")
	if err := benchproc.Build(ctx, root, base, "./cmd/server"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bench.md")
	const doc = "# Benchmarks\n\nLeft alone.\n"
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonFile, baseOut := filepath.Join(dir, "runs.json"), filepath.Join(dir, "before-after.md")

	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-base", base, "-only", "c50,tokamak,base", "-d", "500ms", "-reps", "2",
		"-out", out, "-json", jsonFile, "-base-out", baseOut}, &stdout, &stderr)
	t.Logf("harness took %v\n%s", time.Since(start).Round(time.Millisecond), stderr.String())
	if code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s", code, stdout.String())
	}
	if b, _ := os.ReadFile(out); string(b) != doc {
		t.Errorf("-out file changed with -base:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "bench-ratios.svg")); err == nil {
		t.Error("the chart was written with -base")
	}
	md, err := os.ReadFile(baseOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Before/after", "| c50 | server CPU µs/req | ", "| c50 | req/s | "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("-base-out lacks %q:\n%s", want, md)
		}
	}
	if !strings.Contains(stdout.String(), "| c50 | tokamak (base) | ") || !strings.Contains(stdout.String(), string(md)) {
		t.Errorf("stdout lacks the tables or the before/after part:\n%s", stdout.String())
	}

	var rep struct {
		Runs []Run      `json:"runs"`
		Base baseReport `json:"base"`
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range rep.Runs {
		order = append(order, r.Who)
		if r.Failure != "" || r.Requests == 0 || r.ServerCPUus <= 0 {
			t.Errorf("run %d %s: got %+v, want requests and CPU measured", r.Rep, r.Who, r)
		}
	}
	if got := strings.Join(order, " "); got != "tokamak base base tokamak" {
		t.Errorf("run order: got %q, want %q", got, "tokamak base base tokamak")
	}
	if rep.Base.Binary != base || len(rep.Base.Ratios) != 2 {
		t.Fatalf("-json base: got %+v", rep.Base)
	}
	for _, x := range rep.Base.Ratios {
		if len(x.PerRep)+len(x.Left) != 2 || x.Ratio.N != len(x.PerRep) {
			t.Errorf("%s %s: got %+v, want two repetitions", x.Config, x.Figure, x)
		}
	}
}
