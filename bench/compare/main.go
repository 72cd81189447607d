// Command compare is tokamak's side-by-side benchmark harness: it measures
// tokamak's server against its peers on this machine, per core, and
// records the result in docs/benchmarks.md.
//
//	go run ./bench/compare                  # the full matrix, 3 repetitions of 5 s runs (about 7.5 minutes)
//	go run ./bench/compare -quick           # 1 repetition of 2 s runs (about 80 s)
//	go run ./bench/compare -only c50,tokamak,nethttp -d 1s -reps 1 -out /tmp/b.md
//	go run ./bench/compare -write=false -json runs.json -profile cpu.pprof
//	go run ./bench/compare -base /tmp/tk-base-server -only tokamak,base -reps 4 -base-out /tmp/before-after.md
//
// Flags: -reps N and -d DURATION set the repetitions and the length of each
// load run; -quick shortens both; -only selects configurations (c50 c256
// c50-p16 c256-p16 rpc-64B rpc-4KiB rpc-64B-d16 idle wrk-c50 wrk-c50-p16) and/or
// contestants (tokamak nethttp fasthttp gnetraw netrpc load wrk, and base
// with -base), by name or path.Match pattern; -out picks the markdown file,
// -write=false only prints, -json FILE writes the raw runs, -profile FILE
// saves a CPU profile of tokamak; -idle N sets the idle connections,
// -pin=false turns pinning off, -wrk names the wrk binary ("" skips the wrk
// rows); -base PATH and -base-out FILE compare two builds of tokamak (below).
//
// Before and after: -base PATH names a prebuilt server binary, an older
// build of ./cmd/server, e.g.
//
//	git worktree add /tmp/tk-base <commit>
//	(cd /tmp/tk-base && go build -o /tmp/tk-base-server ./cmd/server)
//
// It runs as the contestant base ("tokamak (base)") exactly as tokamak runs
// the tree's ./cmd/server (same flags, -loops 1, GOMAXPROCS=1, pinning and
// fresh ports), in every configuration that has tokamak as a contestant
// (HTTP, RPC, idle; not the wrk rows), right after tokamak: the pair runs
// back to back, in either order over an even -reps. The report then adds,
// per configuration, tokamak/base within each repetition of the server's CPU
// per request and req/s (KB per connection for idle), with median and
// range: printed after the usual tables, in -json under "base", and
// written to -base-out FILE when given. A run with -base is not the record
// of the peers: it writes neither docs/benchmarks.md nor the chart, whatever
// -write says. -only tokamak,base runs just the pair (about 5.5 minutes
// with -reps 4); the full matrix with -base adds 8 runs per repetition.
//
// The full matrix is 30 runs per repetition: 26 load runs (16 HTTP, 6 RPC,
// 4 bench/load vs wrk) of -d each plus about 0.3 s to start and stop a
// server, and 4 idle runs of about 4 s. With the defaults that is
// 3 × (26 × 5.3 s + 4 × 4.3 s) ≈ 7.8 minutes, plus the build (seconds when
// cached, about a minute cold); -quick is 26 × 2.3 s + 17 s ≈ 77 s plus the
// build.
//
// It builds ./cmd/server, the peers (./bench/peers/nethttp, fasthttp,
// gnetraw, netrpc) and the load tools (./bench/load, ./bench/prelim/rpcload)
// into a temporary directory, then runs the matrix:
//
//   - HTTP GET /plaintext at c50, c256, c50 pipelined ×16 and c256 ×16,
//     driven by bench/load -threads 1, against tokamak, net/http, fasthttp
//     and a raw gnet responder;
//   - MessagePack-RPC echo with 64-byte and 4 KiB payloads at c50 (one call
//     in flight per connection), and 64 bytes with 16 calls in flight per
//     connection, driven by rpcload, against tokamak's
//     MessagePack-RPC listener (method "echo") and net/rpc with ugorji's
//     codec (method "Echo.Echo");
//   - idle memory: the harness opens -idle keep-alive connections (10,000),
//     each sends one GET /plaintext and reads the answer, and holds them;
//     the server's VmRSS growth divided by the connections is its memory
//     per idle connection;
//   - when wrk is installed: bench/load against wrk, both driving tokamak at
//     c50 and c50 ×16 (wrk with bench/prelim/pipeline.lua).
//
// Each repetition runs every configuration against each contestant in
// turn, in reverse order every other repetition (A B C D, D C B A, …: the
// machine's speed drifts over minutes, and a fixed order would hand the
// drift to one side of each ratio; an even -reps balances it), each run against a fresh server on a
// fresh port of 127.0.0.1, started and then checked by a request, stopped
// by PID with SIGTERM (SIGKILL after 10 s). With two CPUs or more and
// taskset, the server is pinned to the first allowed CPU and the load tool to the
// second; every server runs with GOMAXPROCS=1 (tokamak and gnet raw with
// -loops 1), so the comparison is per core. Without pinning the harness
// says so in its output and in the report.
//
// For every run it records requests per second, p50 and p99 latency (from
// bench/load and wrk; rpcload reports none), the server's CPU time per
// request — utime + stime, fields 14 and 15 of /proc/<pid>/stat, in clock
// ticks (CLK_TCK from getconf, 100 assumed if that fails) across the load
// tool's run, divided by the requests completed —, the server's and the
// load tool's CPU cores, the server's VmRSS, and every error the load tool
// counted. A run with errors is marked and left out of the ratios; a run
// that could not be done (a server that did not start) is marked failed.
//
// The report gives medians over the repetitions with their min–max range,
// the ratios tokamak/peer computed within each repetition (the two runs at
// most three runs apart) summarised by median and range, and each DESIGN.md §8 target as
// met, missed or unmeasured, with an SVG chart of the ratios against the
// targets. It is printed, and written between the markers
// <!-- bench/compare:begin --> and <!-- bench/compare:end --> of
// docs/benchmarks.md (inserted before the first "## " heading if absent;
// the rest of the file is kept), with the chart in
// docs/benchmarks-ratios.svg beside it. -json writes every raw run.
//
// -profile FILE adds one run of tokamak under c256 ×16 with the server's
// -cpuprofile flag (not counted in the tables); read the profile with
// go tool pprof (the report explains how).
//
// Progress goes to stderr, one line per run; the report to stdout. Ctrl-C
// kills every child and writes nothing. The exit status is 1 when a run
// failed or the harness could not finish, 2 on bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

// Defaults of the full run and of -quick; see estimate for the time they take.
const (
	defaultReps = 3
	defaultDur  = 5 * time.Second
	quickReps   = 1
	quickDur    = 2 * time.Second
	defaultIdle = 10000
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed flags.
type options struct {
	reps     int
	dur      time.Duration
	quick    bool
	only     string
	out      string
	write    bool
	jsonFile string
	profile  string
	idle     int
	pin      bool
	wrk      string
	base     string // absolute once parsed
	baseOut  string
}

// run is the command: report to stdout, progress to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if err := runHarness(ctx, o, args, stdout, stderr); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "compare: interrupted; children stopped, nothing written")
			return 130
		}
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	return 0
}

// errUsage is returned by parseFlags for bad flags, after saying why on
// stderr.
var errUsage = errors.New("compare: bad flags")

// parseFlags parses and checks the command line.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.reps, "reps", defaultReps, "repetitions of the whole matrix")
	fs.DurationVar(&o.dur, "d", defaultDur, "duration of each load run")
	fs.BoolVar(&o.quick, "quick", false, fmt.Sprintf("a short run: -reps %d -d %v unless those are given", quickReps, quickDur))
	fs.StringVar(&o.only, "only", "", "comma-separated configurations and/or contestants to run (names or path.Match patterns), e.g. c50,tokamak,nethttp")
	fs.StringVar(&o.out, "out", "", "markdown file to update between the markers (default docs/benchmarks.md of the module); the chart goes beside it as <name>-ratios.svg")
	fs.BoolVar(&o.write, "write", true, "write the markdown and the chart; false only prints")
	fs.StringVar(&o.jsonFile, "json", "", "write every raw run and the verdicts to `file` as JSON")
	fs.StringVar(&o.profile, "profile", "", "save a CPU profile of tokamak under c256 pipelined ×16 to `file`")
	fs.IntVar(&o.idle, "idle", defaultIdle, "connections held for the idle-memory figure")
	fs.BoolVar(&o.pin, "pin", true, "pin the server and the load to different CPUs with taskset when there are two")
	fs.StringVar(&o.wrk, "wrk", "wrk", "wrk binary for the bench/load vs wrk rows; empty skips them")
	fs.StringVar(&o.base, "base", "", "an older build of ./cmd/server: run it as contestant \"base\" next to tokamak, report tokamak/base per repetition and leave docs/benchmarks.md alone")
	fs.StringVar(&o.baseOut, "base-out", "", "with -base, also write the before/after markdown to `file`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./bench/compare [flags]\n\nRuns tokamak against its peers side by side and records the results in docs/benchmarks.md.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["reps"] {
			o.reps = quickReps
		}
		if !set["d"] {
			o.dur = quickDur
		}
	}
	if fs.NArg() > 0 || o.reps < 1 || o.dur < 100*time.Millisecond || o.idle < 1 {
		fmt.Fprintln(stderr, "compare: want no arguments, -reps ≥ 1, -d ≥ 100ms, -idle ≥ 1")
		return nil, errUsage
	}
	if o.base != "" {
		abs, err := checkBase(o.base)
		if err != nil {
			fmt.Fprintf(stderr, "compare: -base %s: %v\n", o.base, err)
			return nil, errUsage
		}
		o.base = abs
	} else {
		bad := ""
		switch {
		case o.baseOut != "":
			bad = "-base-out"
		case slices.Contains(strings.Split(strings.ReplaceAll(o.only, " ", ""), ","), baseName):
			bad = "-only " + baseName
		}
		if bad != "" {
			fmt.Fprintf(stderr, "compare: %s needs -base PATH\n", bad)
			return nil, errUsage
		}
	}
	return &o, nil
}

// errFailedRuns reports failed runs after the report was written.
var errFailedRuns = errors.New("some runs failed (marked in the report)")

func runHarness(ctx context.Context, o *options, args []string, stdout, stderr io.Writer) error {
	started := time.Now()
	root, err := benchproc.FindRoot()
	if err != nil {
		return err
	}
	all := allConfigs(o.idle)
	if o.base != "" {
		all = withBase(all)
	}
	configs, err := selectConfigs(all, o.only)
	if err != nil {
		return err
	}
	h := &harness{dur: o.dur, log: stderr, base: o.base, serverCPU: -1, loadCPU: -1}
	h.ports.next = portLo + rand.IntN(portHi-portLo)
	var notes []string
	note := func(format string, a ...any) {
		n := fmt.Sprintf(format, a...)
		notes = append(notes, n)
		fmt.Fprintln(stderr, "note:", n)
	}

	// wrk rows only with wrk.
	if anyKind(configs, kindTool) {
		h.wrk = findWrk(o.wrk)
		h.lua = filepath.Join(root, "bench", "prelim", "pipeline.lua")
		switch {
		case h.wrk == "":
			note("wrk not found (%q, /usr/bin/wrk): the bench/load vs wrk rows are skipped", o.wrk)
			configs = dropKind(configs, kindTool)
		case !exists(h.lua):
			note("%s missing: the pipelined bench/load vs wrk row is skipped", h.lua)
			configs = slices.DeleteFunc(configs, func(c Config) bool { return c.Kind == kindTool && c.Pipeline > 1 })
		}
	}

	// Descriptors: the harness holds the idle connections itself, and the
	// servers inherit the limit. Setrlimit also tells os/exec not to
	// restore the original soft limit in the children.
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			note("could not raise RLIMIT_NOFILE: %v", err)
		}
		if anyKind(configs, kindIdle) && rl.Cur < uint64(o.idle)+256 {
			note("RLIMIT_NOFILE is %d, too low to hold %d connections: the idle-memory row is skipped (use -idle)", rl.Cur, o.idle)
			configs = dropKind(configs, kindIdle)
		}
	}
	if len(configs) == 0 {
		return errors.New("nothing left to run")
	}

	pinning := h.choosePinning(o.pin)
	fmt.Fprintln(stderr, "pinning:", pinning)
	clk, clkNote := benchproc.ClockTicks()
	h.clk = clk
	if clkNote != "" {
		note("%s", clkNote)
	}
	if o.profile != "" {
		if o.profile, err = filepath.Abs(o.profile); err != nil {
			return err
		}
	}

	perRep := 0
	for _, c := range configs {
		perRep += len(c.Who)
	}
	fmt.Fprintf(stderr, "plan: %d runs per repetition × %d repetitions, %v each; estimated %v\n",
		perRep, o.reps, o.dur, estimate(configs, o.reps, o.dur, o.profile != "").Round(time.Second))

	tmp, err := os.MkdirTemp("", "bench-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	defer h.procs.killAll()
	h.tmp = tmp
	h.bin = filepath.Join(tmp, "bin")
	fmt.Fprintln(stderr, "building into", h.bin)
	if err := benchproc.Build(ctx, root, h.bin+string(filepath.Separator), packages(configs, o.profile != "")...); err != nil {
		return err
	}

	var runs []Run
	total := perRep * o.reps
	for rep := 1; rep <= o.reps; rep++ {
		for ci := range configs {
			c := &configs[ci]
			for _, who := range runOrder(c.Who, rep) {
				if err := ctx.Err(); err != nil {
					return err
				}
				r, err := h.measure(ctx, c, rep, who)
				if err != nil {
					return err
				}
				runs = append(runs, r)
				fmt.Fprintf(stderr, "[%*d/%d] rep %d %s\n", len(fmt.Sprint(total)), len(runs), total, rep, progressLine(&r))
			}
		}
	}

	rep := &report{
		Machine:  describeMachine(findWrk(o.wrk)),
		Command:  commandLine(args),
		Reps:     o.reps,
		Duration: o.dur.String(),
		ClkTck:   clk,
		Pinning:  pinning,
		Notes:    notes,
		Runs:     runs,
		Verdicts: verdicts(runs),
		configs:  configs,
		idleN:    o.idle,
	}
	rep.Machine.Date = started.UTC()
	if o.base != "" {
		rep.Base = &baseReport{Binary: o.base, Revision: revision(o.base), Ratios: baseRatios(runs, configs)}
		if tk := filepath.Join(h.bin, "server"); exists(tk) {
			rep.Base.TokamakRevision = revision(tk)
		}
	}

	if o.profile != "" {
		c := allConfigs(o.idle)[3] // c256-p16
		size, err := h.profile(ctx, &c, o.profile)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			rep.Notes = append(rep.Notes, fmt.Sprintf("-profile: %v", err))
			fmt.Fprintln(stderr, "profile:", err)
		default:
			rep.Profile = o.profile
			fmt.Fprintf(stderr, "profile: %s (%d bytes); go tool pprof -top %s\n", o.profile, size, o.profile)
		}
	}
	rep.Elapsed = time.Since(started).Seconds()

	out := o.out
	if out == "" {
		out = filepath.Join(root, "docs", "benchmarks.md")
	} else if out, err = filepath.Abs(out); err != nil {
		return err
	}
	svgPath := strings.TrimSuffix(out, filepath.Ext(out)) + "-ratios.svg"
	if o.base == "" {
		rep.svgName = filepath.Base(svgPath)
	}
	md := rep.markdown()
	fmt.Fprint(stdout, md)
	if o.base != "" {
		baseMd := rep.baseMarkdown()
		fmt.Fprint(stdout, "\n", baseMd)
		if o.baseOut != "" {
			if err := os.WriteFile(o.baseOut, []byte(baseMd), 0o644); err != nil {
				return err
			}
			fmt.Fprintln(stderr, "wrote", o.baseOut)
		}
	}

	if o.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", o.jsonFile)
	}
	switch {
	case o.write && o.base != "":
		fmt.Fprintf(stderr, "not writing %s: a run with -base compares two builds of tokamak, it is not the record of the peers\n", out)
	case o.write:
		if err := writeReport(out, svgPath, md, ratioSVG(rep.Verdicts)); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", out, "and", svgPath)
	}
	for i := range runs {
		if runs[i].Failure != "" {
			return errFailedRuns
		}
	}
	return nil
}

// writeReport splices md into the markdown file at out (created with a
// title when absent) and writes the chart.
func writeReport(out, svgPath, md, svg string) error {
	doc := "# Benchmarks\n\n"
	b, err := os.ReadFile(out)
	switch {
	case err == nil:
		doc = string(b)
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	newDoc, err := splice(doc, md)
	if err != nil {
		return fmt.Errorf("%s: %v", out, err)
	}
	if err := os.WriteFile(svgPath, []byte(svg), 0o644); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(newDoc), 0o644)
}

// choosePinning sets the server's and the load's CPUs and describes the
// choice.
func (h *harness) choosePinning(want bool) string {
	if !want {
		return "not pinned (-pin=false): the server and the load tool share the CPUs as the scheduler places them."
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return "not pinned: taskset was not found (util-linux); the server and the load tool share the CPUs as the scheduler places them."
	}
	cpus, err := benchproc.AllowedCPUs()
	if err != nil || len(cpus) < 2 {
		return fmt.Sprintf("not pinned: fewer than two CPUs are available (%d); the server and the load tool share one.", len(cpus))
	}
	h.serverCPU, h.loadCPU = cpus[0], cpus[1]
	return fmt.Sprintf("server on CPU %d (`taskset -c %d`), load tool on CPU %d (`taskset -c %d`).",
		h.serverCPU, h.serverCPU, h.loadCPU, h.loadCPU)
}

// Estimated costs besides the load itself: starting a server, checking it
// and stopping it (gnet takes ≥ 0.5 s to stop), and opening the idle
// connections.
const (
	runOverhead  = 300 * time.Millisecond
	idleOpenTime = 3 * time.Second // for 10,000 connections
)

// estimate is the expected duration of a run of the harness, build excluded.
func estimate(configs []Config, reps int, d time.Duration, profile bool) time.Duration {
	var t time.Duration
	for _, c := range configs {
		for _, w := range c.Who {
			t += runOverhead
			switch {
			case c.Kind == kindIdle:
				t += idleSettle + time.Duration(float64(idleOpenTime)*float64(c.Conns)/10000)
			case w == "wrk":
				t += time.Duration(wrkSeconds(d)) * time.Second
			default:
				t += d
			}
		}
	}
	t *= time.Duration(reps)
	if profile {
		t += d + runOverhead
	}
	return t
}

// progressLine describes one finished run.
func progressLine(r *Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %-10s", r.Config, r.Who)
	switch {
	case r.Failure != "":
		fmt.Fprintf(&b, " FAILED: %s", shorten(r.Failure, 300))
		return b.String()
	case r.IdleConns > 0 || r.Config == "idle":
		fmt.Fprintf(&b, " %s conns held, RSS %.1f → %.1f MB, %s KB/conn", fmtInt(float64(r.IdleConns)),
			float64(r.IdleBeforeKB)/1024, float64(r.IdleAfterKB)/1024, fmtSig(r.KBPerConn))
	default:
		unit := "req/s"
		if strings.HasPrefix(r.Config, "rpc") {
			unit = "calls/s"
		}
		fmt.Fprintf(&b, " %11s %s", fmtInt(r.ReqPerSec), unit)
		if r.P50us > 0 {
			fmt.Fprintf(&b, "  p50 %sµs p99 %sµs", fmtInt(r.P50us), fmtInt(r.P99us))
		}
		fmt.Fprintf(&b, "  server %s µs/req, %.2f cores  client %.2f cores  RSS %.1f MB",
			fmtSig(r.ServerCPUus), r.ServerCores, r.ClientCores, float64(r.RSSKB)/1024)
		if len(r.CPUBusy) == 2 {
			fmt.Fprintf(&b, "  busy %.2f/%.2f", r.CPUBusy[0], r.CPUBusy[1])
		}
	}
	if r.Errors > 0 {
		fmt.Fprintf(&b, "  ERRORS %d %s", r.Errors, kindsText(r.ErrorKinds))
	} else {
		b.WriteString("  errors 0")
	}
	return b.String()
}

// commandLine is how the harness was invoked, quoted for a shell.
func commandLine(args []string) string {
	parts := []string{"go run ./bench/compare"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// findWrk resolves the wrk binary: name on PATH, or /usr/bin/wrk.
func findWrk(name string) string {
	if name == "" {
		return ""
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if name == "wrk" && exists("/usr/bin/wrk") {
		return "/usr/bin/wrk"
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func anyKind(cs []Config, k kind) bool {
	return slices.ContainsFunc(cs, func(c Config) bool { return c.Kind == k })
}

func dropKind(cs []Config, k kind) []Config {
	return slices.DeleteFunc(cs, func(c Config) bool { return c.Kind == k })
}

// runOrder is the order of the contestants in repetition rep (from 1):
// as listed in odd repetitions, reversed in even ones.
func runOrder(who []string, rep int) []string {
	if rep%2 == 1 {
		return who
	}
	r := slices.Clone(who)
	slices.Reverse(r)
	return r
}
