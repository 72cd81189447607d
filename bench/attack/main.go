// Command attack replays the resource-exhaustion attacks of issue 9
// against the server binary and measures, from outside, what they cost it
// and its other clients. It treats the server as a black box (the wire,
// /proc/<pid>/status, stat and fd, /proc/net/sockstat), so that it runs
// the same against an old build, to show a problem, and a new one, to show
// its bound.
//
//	go run ./bench/attack                          # every scenario at full scale (about 16 minutes, GBs of RAM)
//	go run ./bench/attack -scale 0.1               # a tenth of the connections, same durations
//	go run ./bench/attack -scale 0.05 -time 0.1 -only storm-memory,listener-starve
//	go run ./bench/attack -server /tmp/old/server -md old.md -json old.json
//
// Flags: -only NAME,… picks scenarios (default all); -scale F multiplies
// the connection counts (default 1, the full scale) and -time F
// the durations and the attackers' intervals (default 1); -server PATH
// attacks a prebuilt binary instead of building ./cmd/server, to compare
// two builds; -server-args "…" adds server flags (after the tool's, so
// they win; a flag the binary lacks stops it from starting); -md FILE and
// -json FILE write the markdown block and the raw results; -pin=false
// turns pinning off; -bystanders N (4) and -bystander-every D (10ms, 0 =
// back to back) shape the bystanders; -sources N (4) the client source
// addresses; -starve-frame partial|heartbeat what listener-starve's
// connections send.
//
// # What it does
//
// It builds ./cmd/server into a temporary directory (or runs -server), and
// for each scenario starts a fresh server with every listener but the
// locator on 127.0.0.1 port 0 (the ports come from its "listening" log
// lines, so -server-args must keep -log-level info), the scenario's flags
// and then -server-args. With taskset and two CPUs the server runs on the
// first allowed CPU with GOMAXPROCS=1 and this tool (attackers and
// bystanders, every thread of it) on the second. It raises RLIMIT_NOFILE to the hard limit,
// which the server inherits, and spreads its connections over the source
// addresses 127.0.0.1 … 127.0.0.N (-sources) for ephemeral ports. Bytes
// sent are slices of one shared payload; no connection has a buffer of its
// own beyond a small reader.
//
// Each scenario runs: the server starts; bystanders run alone for 2 s and
// the baseline is sampled; the attack runs and stops by itself; every
// attacking connection left is closed; 5 s more are sampled ("end"); the
// server gets SIGTERM (SIGKILL after 10 s, by PID). Throughout, a sampler
// records every second (closed-queue: every 100 ms) the server's VmRSS,
// VmHWM, utime+stime, descriptors, the machine's TCP line of
// /proc/net/sockstat, the attackers still open and the bystanders'
// slowest answer. It also records contention, since the machine may be
// shared: the time the server's threads and this tool's spent runnable but
// waiting for a CPU (/proc/<pid>/task/*/schedstat) and the machine's CPU
// pressure (/proc/pressure/cpu); a scenario where others took more than 5%
// of the server's time says so.
//
// Bystanders: -bystanders keep-alive HTTP connections doing GET
// /plaintext and one MessagePack-RPC connection calling ping, each a
// request every -bystander-every (0: back to back), 2 s allowed per
// request, a new connection after an error. Their latency (HDR histogram,
// good answers only) and errors by kind are reported per scenario.
//
// For every attacking connection the tool records when it dialed, wrote
// its first byte and closed, who closed it (the server, or the client at
// the scenario's end), how (fin, reset, …) and what the server said first
// (a status line, a Cocaine error frame, a MessagePack-RPC error).
//
// # Scenarios
//
// -only picks some, comma-separated; counts are at -scale 1 and durations
// at -time 1 (both multiply).
//
//   - held-cocaine: 2000 Cocaine connections, each invoking ping ([ch, 0,
//     ["ping"], []]) on channels 2–5 and sending on each one params chunk
//     of 1 MiB − 64 bytes of data (the msgpack array [bin] as a str, so the
//     frame stays under the 1 MiB frame limit and the four under the 4 MiB
//     a connection may buffer), never the choke; a heartbeat [1, 0, [], []]
//     every 20 s; held 120 s once every connection has sent its chunks (or
//     120 s of waiting for that). The error frames the server sends and
//     when it closes are recorded.
//   - http-trickle: 500 HTTP connections, each POST /echo with
//     Content-Length 4194304, all but 16 bytes of the body at once, then 1
//     byte every 20 s; held 120 s once every body is sent. The status the
//     server answers (408, 503) and when are recorded.
//   - json-offload: 64 connections looping POST /rpc/echo with a JSON body
//     of 4 MiB − 256 bytes ([[1,1,…]], converted on the offload pool) for
//     60 s, reading every answer.
//   - closed-queue: 400 connections each send POST /rpc/echo with a 2 MiB
//     JSON body and close right after the last byte. From the last close
//     the server is sampled every 100 ms until its threads run or wait for
//     a CPU less than 20% of the time for 1 s (at most 120 s): how long it
//     stayed busy with work nobody will read, and the CPU it used. At the same moment three probes on fresh connections: GET
//     /plaintext, POST /rpc/echo ["hi"], and POST /rpc/echo with 100 KiB
//     of JSON (offloaded, so it queues behind the dead work).
//   - listener-starve: the server gets -max-conns 2000 (scaled, at least
//     20). 2000 + 5% Cocaine connection slots each write 5 bytes at once and
//     every 45 s: the start of an invoke whose event is a str declaring
//     1 MiB, never completed (-starve-frame partial), or a heartbeat
//     (-starve-frame heartbeat). A slot the server refuses at open (closes
//     within 1 s) gives up; one it drops later dials again at once (if
//     refused, every second), keeping the pressure a real attacker would.
//     Then 1000 new HTTP connections spread over the rest of the 120 s, each
//     GET /plaintext with 2 s allowed: 200s, resets, fins, timeouts. Bound:
//     ≥ 99% answered 200.
//   - fin-wait-orphans: 200 HTTP connections with SO_RCVBUF 4096 (set
//     before connect) each send POST /echo with a 3 MiB body (the answer,
//     base64 in JSON, is about 4 MiB) and a pipelined GET /plaintext, so
//     that the server's output passes its high-water mark and its
//     write-progress timer (the close timeout, 10 s) drops them; they never
//     read. For 90 s each socket's TCP state (fin after a FIN, reset after
//     an RST) and the machine's TCP memory and orphans are watched; then
//     the clients close, resetting whatever the kernel still holds.
//   - storm-memory: 1000 MessagePack-RPC connections each send the request
//     [0, 1, "echo", [str of 1 MiB − 64]] less its last 16 bytes; 10 s after
//     the sends they are closed and the RSS is sampled every second for up
//     to 120 s. Bound: RSS ≤ 2 × baseline + 32 MiB within 60 s of the close
//     (reported as not a test when the peak never passed it).
//   - near-threshold-json: 64 connections looping POST /rpc/echo with
//     64 KiB − 32 bytes of JSON, just under the size converted on the
//     offload pool (so on the event loop), for 60 s; the figure is the
//     bystanders' p99.
//
// A full run (-scale 1 -time 1) takes about 16 minutes plus the build
// (the estimate printed at the start allows 60 s for held-cocaine's 8 GiB
// of sends; closed-queue and storm-memory stop early when the server
// settles). Against a server without the process bounds it needs about
// 13 GB of server memory at held-cocaine's peak (1.3 GB was measured at
// -scale 0.1) and up to the kernel's tcp_mem of socket buffers; -scale
// scales the memory, -time the minutes. Scaling time below 1 also
// shortens the attackers' intervals (heartbeats, trickle) against server
// timeouts that stay as they are: pass shorter timeouts with -server-args
// to keep the relation.
//
// # Output
//
// Progress goes to stderr; a summary per scenario to stdout as each
// finishes; then the markdown block for docs/benchmarks.md (between
// <!-- bench/attack:begin --> and <!-- bench/attack:end -->) to stdout, or
// to -md FILE; -json FILE writes every result with its timeline. The tool
// never edits docs/benchmarks.md. The exit status is 1 when a scenario
// could not run (the server did not start, say), 2 on bad flags; a bound
// missed is a result, not an error.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed flags.
type options struct {
	server      string
	serverArgs  string
	only        string
	scale       float64
	timeScale   float64
	jsonFile    string
	mdFile      string
	pin         bool
	byHTTP      int
	byEvery     time.Duration
	sources     int
	starveFrame string
}

// harness holds what every scenario shares.
type harness struct {
	o         *options
	d         *dialer
	bin       string
	tmp       string
	userArgs  []string
	serverCPU int
	clk       int64
	pageKB    int64
	fill      []byte
	log       io.Writer
}

func (x *exp) pageKB() int64 { return x.h.pageKB }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.server, "server", "", "server binary to attack; default: build ./cmd/server of this module")
	fs.StringVar(&o.serverArgs, "server-args", "", "extra server flags, space-separated, after the tool's own (so they win)")
	fs.StringVar(&o.only, "only", "", "comma-separated scenarios to run (default all): "+scenarioNames())
	fs.Float64Var(&o.scale, "scale", 1, "multiplier of the connection counts (0.1 for a quick check)")
	fs.Float64Var(&o.timeScale, "time", 1, "multiplier of the durations and attack intervals")
	fs.StringVar(&o.jsonFile, "json", "", "write the raw results, timelines included, to `file`")
	fs.StringVar(&o.mdFile, "md", "", "write the markdown block to `file` instead of stdout")
	fs.BoolVar(&o.pin, "pin", true, "pin the server to one CPU and this tool to another with taskset when there are two")
	fs.IntVar(&o.byHTTP, "bystanders", 4, "keep-alive HTTP bystanders (plus one MessagePack-RPC bystander)")
	fs.DurationVar(&o.byEvery, "bystander-every", 10*time.Millisecond, "pause between a bystander's requests; 0 = back to back")
	fs.IntVar(&o.sources, "sources", 4, "client source addresses 127.0.0.1 … 127.0.0.N")
	fs.StringVar(&o.starveFrame, "starve-frame", "partial", "what listener-starve's connections send every 45 s: partial (5 bytes more of a frame that never ends) or heartbeat")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./bench/attack [flags]\n\nReplays the attacks of issue 9 against the server and measures them from outside.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || o.scale <= 0 || o.scale > 10 || o.timeScale <= 0 || o.byHTTP < 0 || o.sources < 1 || o.sources > 250 ||
		(o.starveFrame != "partial" && o.starveFrame != "heartbeat") {
		fmt.Fprintln(stderr, "attack: want no arguments, 0 < -scale ≤ 10, -time > 0, -bystanders ≥ 0, 1 ≤ -sources ≤ 250, -starve-frame partial or heartbeat")
		return 2
	}
	scs, err := selectScenarios(allScenarios, o.only)
	if err != nil {
		fmt.Fprintln(stderr, "attack:", err)
		return 2
	}
	if err := attack(ctx, &o, scs, args, stdout, stderr); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "attack: interrupted; the server was stopped")
			return 130
		}
		fmt.Fprintln(stderr, "attack:", err)
		return 1
	}
	return 0
}

func scenarioNames() string {
	var names []string
	for _, sc := range allScenarios {
		names = append(names, sc.name)
	}
	return strings.Join(names, ",")
}

// errScenarios reports scenarios that could not run, after the report.
var errScenarios = errors.New("some scenarios could not run (see their errors)")

func attack(ctx context.Context, o *options, scs []*scenario, args []string, stdout, stderr io.Writer) error {
	started := time.Now()
	h := &harness{o: o, d: newDialer(o.sources), userArgs: strings.Fields(o.serverArgs), log: stderr, serverCPU: -1}
	var notes []string
	note := func(format string, a ...any) {
		n := fmt.Sprintf(format, a...)
		notes = append(notes, n)
		fmt.Fprintln(stderr, "note:", n)
	}
	if lim, err := raiseNofile(); err != nil {
		note("could not raise RLIMIT_NOFILE: %v", err)
	} else if need := maxConns(scs, o.scale) + 256; lim < uint64(need) {
		note("RLIMIT_NOFILE is %d, below the %d descriptors the largest scenario needs", lim, need)
	}
	tmp, err := os.MkdirTemp("", "bench-attack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	h.tmp = tmp
	h.bin = o.server
	serverDesc := ""
	if h.bin == "" {
		root, err := benchproc.FindRoot()
		if err != nil {
			return fmt.Errorf("%w; pass -server", err)
		}
		fmt.Fprintln(stderr, "building ./cmd/server")
		h.bin = filepath.Join(tmp, "server")
		if err := benchproc.Build(ctx, root, h.bin, "./cmd/server"); err != nil {
			return err
		}
		serverDesc = "./cmd/server at " + gitDescribe(root)
	} else if h.bin, err = filepath.Abs(h.bin); err != nil {
		return err
	}
	if serverDesc == "" {
		serverDesc = h.bin
	}
	serverCPU, clientCPU, pinning := choosePinning(o.pin)
	h.serverCPU = serverCPU
	if clientCPU >= 0 {
		if err := pinSelf(clientCPU); err != nil {
			note("could not pin this tool to CPU %d: %v", clientCPU, err)
		}
		note("the attackers and the bystanders share CPU %d: a bystander's latency includes its own wait for that CPU while attackers write", clientCPU)
	}
	fmt.Fprintln(stderr, "pinning:", pinning)
	h.clk, _ = benchproc.ClockTicks()
	page, err := benchproc.Getconf("PAGESIZE")
	if err != nil {
		page = 4096
	}
	h.pageKB = page / 1024
	h.fill = filler(fillSize)
	fmt.Fprintf(stderr, "plan: %s at -scale %g -time %g; about %v\n", names(scs), o.scale, o.timeScale, estimate(scs, o.timeScale).Round(time.Second))

	rep := &report{
		Date:     started.UTC(),
		Command:  commandLine(args),
		Server:   serverDesc,
		Pinning:  pinning,
		Machine:  machine(),
		ClkTck:   h.clk,
		PageSize: page,
	}
	failed := false
	for _, sc := range scs {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "== %s\n", sc.name)
		r := h.runScenario(ctx, sc)
		r.writeText(stdout)
		rep.Scenarios = append(rep.Scenarios, r)
		failed = failed || r.Error != ""
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep.Elapsed = time.Since(started).Seconds()
	rep.Notes = notes
	md := rep.markdown()
	if o.mdFile != "" {
		if err := os.WriteFile(o.mdFile, []byte(md), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "markdown written to", o.mdFile)
	} else {
		fmt.Fprint(stdout, "\n"+md)
	}
	if o.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "results written to", o.jsonFile)
	}
	if failed {
		return errScenarios
	}
	return nil
}

// maxConns is the most client descriptors a scenario of scs holds.
func maxConns(scs []*scenario, scale float64) int {
	n := 0
	for _, sc := range scs {
		n = max(n, int(float64(sc.conns)*scale*1.1)+16)
	}
	return n
}

func names(scs []*scenario) string {
	var out []string
	for _, sc := range scs {
		out = append(out, sc.name)
	}
	return strings.Join(out, ",")
}

// commandLine renders the command as typed, for the report.
func commandLine(args []string) string {
	parts := []string{"go run ./bench/attack"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// gitDescribe names the commit of the module at root, "+ changes" when
// the tree differs from it.
func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "an unknown commit"
	}
	d := "commit " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		d += " + uncommitted changes"
	}
	return d
}

// machine describes the CPUs and memory in a few words.
func machine() string {
	cpus := runtime.NumCPU()
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, err := benchproc.ParseStatusKB(b, "MemTotal"); err == nil {
			mem = fmt.Sprintf(", %s RAM", fmtKB(kb))
		}
	}
	return fmt.Sprintf("%d CPUs%s, %s/%s", cpus, mem, runtime.GOOS, runtime.GOARCH)
}
