package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

// harness runs the matrix. runHarness sets its fields up before the first
// run; only ports and procs change while the matrix runs.
type harness struct {
	bin   string // built binaries
	tmp   string // logs
	dur   time.Duration
	clk   int64 // clock ticks per second
	wrk   string
	lua   string // bench/prelim/pipeline.lua
	base  string // -base: the base build's server binary, absolute
	log   io.Writer
	procs procs
	ports ports

	serverCPU, loadCPU int // -1 when not pinned
}

func (h *harness) pinning() bool { return h.serverCPU >= 0 }

// binaries are the packages built into h.bin, by contestant or tool; go
// build names each binary after its directory.
var binaries = map[string]string{
	"tokamak":  "./cmd/server",
	"nethttp":  "./bench/peers/nethttp",
	"fasthttp": "./bench/peers/fasthttp",
	"gnetraw":  "./bench/peers/gnetraw",
	"netrpc":   "./bench/peers/netrpc",
	"load":     "./bench/load",
	"rpcload":  "./bench/prelim/rpcload",
}

// packages lists the packages the configurations need (the profile run
// needs tokamak and bench/load, which every HTTP run needs too).
func packages(configs []Config, profile bool) []string {
	need := map[string]bool{}
	for _, c := range configs {
		switch c.Kind {
		case kindHTTP:
			need["load"] = true
		case kindRPC:
			need["rpcload"] = true
		case kindTool:
			need["tokamak"], need["load"] = true, true
		}
		for _, w := range c.Who {
			if _, ok := binaries[w]; ok {
				need[w] = true
			}
		}
	}
	if profile {
		need["tokamak"], need["load"] = true, true
	}
	var pkgs []string
	for w := range need {
		pkgs = append(pkgs, binaries[w])
	}
	slices.Sort(pkgs)
	return pkgs
}

// serverArgv is the command line of server who listening on addr. rpc
// selects tokamak's MessagePack-RPC listener instead of HTTP. The base
// build runs exactly as tokamak does, from its own binary.
func (h *harness) serverArgv(who, addr string, rpc bool, cpuprofile string) []string {
	b := func(name string) string { return filepath.Join(h.bin, name) }
	switch who {
	case "tokamak", baseName:
		exe := b("server")
		if who == baseName {
			exe = h.base
		}
		httpAddr, rpcAddr := addr, ""
		if rpc {
			httpAddr, rpcAddr = "", addr
		}
		argv := []string{exe, "-http", httpAddr, "-msgpackrpc", rpcAddr, "-cocaine", "", "-locator", "",
			"-loops", "1", "-log-level", "warn"}
		if cpuprofile != "" {
			argv = append(argv, "-cpuprofile", cpuprofile)
		}
		return argv
	case "gnetraw":
		return []string{b("gnetraw"), "-addr", addr, "-loops", "1"}
	case "nethttp", "fasthttp", "netrpc":
		return []string{b(who), "-addr", addr}
	}
	panic("compare: unknown server " + who)
}

// startServer starts a server on a fresh port and waits until it answers.
func (h *harness) startServer(ctx context.Context, who string, rpc bool, cpuprofile string) (*proc, string, error) {
	var lastErr error
	for range 3 { // a port taken between the check and the bind: try another
		addr, err := h.ports.get()
		if err != nil {
			return nil, "", err
		}
		p, err := h.procs.startServer(h.tmp, who, benchproc.Pinned(h.serverCPU, h.serverArgv(who, addr, rpc, cpuprofile)))
		if err != nil {
			return nil, "", err
		}
		check := func() error { return httpReady(addr) }
		if rpc {
			check = func() error { return rpcReady(addr, rpcMethod[who]) }
		}
		if lastErr = waitReady(ctx, p, check); lastErr == nil {
			return p, addr, nil
		}
		p.Stop(stopTimeout)
		if ctx.Err() != nil || !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	return nil, "", lastErr
}

// loadArgv is the load command of one run.
func (h *harness) loadArgv(c *Config, who, addr string) []string {
	secs := strconv.FormatFloat(h.dur.Seconds(), 'f', -1, 64) + "s"
	url := "http://" + addr + "/plaintext"
	switch {
	case c.Kind == kindRPC:
		return []string{filepath.Join(h.bin, "rpcload"), "-addr", addr, "-method", rpcMethod[who],
			"-c", strconv.Itoa(c.Conns), "-depth", strconv.Itoa(max(c.Pipeline, 1)), "-d", secs, "-size", strconv.Itoa(c.Size), "-kind", "str"}
	case who == "wrk":
		// wrk takes whole seconds.
		argv := []string{h.wrk, "-t1", "-c" + strconv.Itoa(c.Conns), fmt.Sprintf("-d%ds", wrkSeconds(h.dur)), "--latency"}
		if c.Pipeline > 1 {
			return append(argv, "-s", h.lua, url, "--", strconv.Itoa(c.Pipeline))
		}
		return append(argv, url)
	}
	return []string{filepath.Join(h.bin, "load"), "-c", strconv.Itoa(c.Conns), "-d", secs,
		"-pipeline", strconv.Itoa(c.Pipeline), "-threads", "1", "-json", "-progress=false", url}
}

func wrkSeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// measure runs one configuration against one contestant and returns the
// run; a failure is recorded in the run, not returned, unless the context
// ended.
func (h *harness) measure(ctx context.Context, c *Config, rep int, who string) (Run, error) {
	r := Run{Rep: rep, Config: c.Name, Who: who, Server: who, Started: time.Now().UTC(), Pinned: h.pinning()}
	if c.Kind == kindTool {
		r.Server = "tokamak"
	}
	var err error
	if c.Kind == kindIdle {
		err = h.idle(ctx, c, &r)
	} else {
		err = h.load(ctx, c, &r)
	}
	if err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		r.Failure = err.Error()
	}
	return r, nil
}

// load runs a load tool against a fresh server and fills r.
func (h *harness) load(ctx context.Context, c *Config, r *Run) error {
	srv, addr, err := h.startServer(ctx, r.Server, c.Kind == kindRPC, "")
	if err != nil {
		return err
	}
	defer srv.Stop(stopTimeout)
	bare := h.loadArgv(c, r.Who, addr)
	tool := filepath.Base(bare[0])
	argv := benchproc.Pinned(h.loadCPU, bare)
	r.Command = argv

	t0, err := benchproc.ReadTicks(srv.Pid())
	if err != nil {
		return err
	}
	b0 := readCPUTimes()
	start := time.Now()
	out, errOut, usage, runErr := runTool(ctx, h.dur+loadSlack, argv)
	wall := time.Since(start).Seconds()
	t1, err := benchproc.ReadTicks(srv.Pid())
	if err != nil {
		return fmt.Errorf("%s gone during the run: %v; log: %s", r.Server, err, srv.LogTail())
	}
	b1 := readCPUTimes()
	if m, err := benchproc.ReadMemory(srv.Pid()); err == nil {
		r.RSSKB = m.RSS
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if h.pinning() {
		r.CPUBusy = []float64{busy(b0, b1, h.serverCPU), busy(b0, b1, h.loadCPU)}
	}

	var res toolResult
	switch {
	case c.Kind == kindRPC:
		res, err = parseRPCLoad(out)
	case r.Who == "wrk":
		res, err = parseWrk(out)
	default:
		res, err = parseLoad(out)
	}
	if err != nil {
		// Exit status 1 with a summary means errors, reported below;
		// without one the run failed.
		return fmt.Errorf("%s: %v (exit: %v) %s", tool, err, runErr, tail(errOut))
	}
	r.Seconds, r.Requests, r.ReqPerSec = res.seconds, res.requests, res.rate
	r.P50us, r.P99us = res.p50, res.p99
	r.Errors, r.ErrorKinds = res.errors, res.kinds
	r.ServerTicks = t1 - t0
	if r.Requests > 0 {
		r.ServerCPUus = float64(r.ServerTicks) / float64(h.clk) * 1e6 / float64(r.Requests)
	}
	r.ServerCores = float64(r.ServerTicks) / float64(h.clk) / wall
	if usage != nil {
		cpu := time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
		r.ClientCores = cpu.Seconds() / wall
	}
	if r.Requests == 0 && r.Failure == "" {
		return fmt.Errorf("no request completed (%v) %s", runErr, tail(errOut))
	}
	return nil
}

// runTool runs a load tool to completion within limit and returns its
// stdout, stderr and resource usage. A non-zero exit is returned as an
// error next to the output: the tools exit 1 when requests failed, and
// their summaries say how.
func runTool(ctx context.Context, limit time.Duration, argv []string) (stdout, stderr []byte, usage *syscall.Rusage, err error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.SysProcAttr = benchproc.ChildAttr()
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if cmd.ProcessState != nil {
		usage, _ = cmd.ProcessState.SysUsage().(*syscall.Rusage)
	}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("killed after %v", limit)
	}
	return o.Bytes(), e.Bytes(), usage, err
}

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		b = b[len(b)-300:]
	}
	return string(b)
}

// toolResult is what a load tool's output says.
type toolResult struct {
	seconds  float64
	requests int64
	rate     float64
	p50, p99 float64 // µs; 0 when the tool does not report them
	errors   int64
	kinds    map[string]int64
}

// lastJSONLine returns the last line of out that starts with '{'.
func lastJSONLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if l := bytes.TrimSpace(lines[i]); len(l) > 0 && l[0] == '{' {
			return l
		}
	}
	return nil
}

// parseLoad reads bench/load's -json output.
func parseLoad(out []byte) (toolResult, error) {
	var v struct {
		Seconds  float64            `json:"seconds"`
		Requests int64              `json:"requests"`
		Rate     float64            `json:"req_per_s"`
		Latency  map[string]float64 `json:"latency_us"`
		Errors   map[string]int64   `json:"errors"`
		Statuses map[string]int64   `json:"statuses"`
	}
	line := lastJSONLine(out)
	if line == nil {
		return toolResult{}, errors.New("no JSON summary")
	}
	if err := json.Unmarshal(line, &v); err != nil {
		return toolResult{}, fmt.Errorf("JSON summary: %v", err)
	}
	res := toolResult{seconds: v.Seconds, requests: v.Requests, rate: v.Rate, p50: v.Latency["p50"], p99: v.Latency["p99"]}
	for k, n := range v.Errors {
		if n > 0 {
			if res.kinds == nil {
				res.kinds = map[string]int64{}
			}
			res.kinds[k] = n
			res.errors += n
		}
	}
	return res, nil
}

// parseRPCLoad reads rpcload's JSON line (the last line of its output).
func parseRPCLoad(out []byte) (toolResult, error) {
	var v struct {
		Seconds    float64          `json:"seconds"`
		Calls      int64            `json:"calls"`
		Rate       float64          `json:"calls_per_s"`
		Errors     int64            `json:"errors"`
		ErrorKinds map[string]int64 `json:"error_kinds"`
		FirstError string           `json:"first_error"`
	}
	line := lastJSONLine(out)
	if line == nil {
		return toolResult{}, errors.New("no JSON summary")
	}
	if err := json.Unmarshal(line, &v); err != nil {
		return toolResult{}, fmt.Errorf("JSON summary: %v", err)
	}
	res := toolResult{seconds: v.Seconds, requests: v.Calls, rate: v.Rate, errors: v.Errors}
	if v.Errors > 0 {
		res.kinds = maps.Clone(v.ErrorKinds)
		if res.kinds == nil {
			res.kinds = map[string]int64{"rpc": v.Errors}
		}
	}
	return res, nil
}

var (
	wrkTotals  = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)`)
	wrkRate    = regexp.MustCompile(`(?m)^Requests/sec:\s*([\d.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s*(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$`)
	wrkSocket  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkUnitsUs = map[string]float64{"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
)

// parseWrk reads wrk's text report (run with --latency).
func parseWrk(out []byte) (toolResult, error) {
	s := string(out)
	m := wrkTotals.FindStringSubmatch(s)
	if m == nil {
		return toolResult{}, errors.New("no \"requests in\" line in wrk's output")
	}
	var res toolResult
	res.requests, _ = strconv.ParseInt(m[1], 10, 64)
	secs, _ := strconv.ParseFloat(m[2], 64)
	res.seconds = secs * wrkUnitsUs[m[3]] / 1e6
	if m := wrkRate.FindStringSubmatch(s); m != nil {
		res.rate, _ = strconv.ParseFloat(m[1], 64)
	} else if res.seconds > 0 {
		res.rate = float64(res.requests) / res.seconds
	}
	for _, m := range wrkPct.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		v *= wrkUnitsUs[m[3]]
		if m[1] == "50" {
			res.p50 = v
		} else {
			res.p99 = v
		}
	}
	add := func(kind, n string) {
		v, _ := strconv.ParseInt(n, 10, 64)
		if v > 0 {
			if res.kinds == nil {
				res.kinds = map[string]int64{}
			}
			res.kinds[kind] += v
			res.errors += v
		}
	}
	if m := wrkSocket.FindStringSubmatch(s); m != nil {
		add("connect", m[1])
		add("read", m[2])
		add("write", m[3])
		add("timeout", m[4])
	}
	if m := wrkNon2xx.FindStringSubmatch(s); m != nil {
		add("status", m[1])
	}
	return res, nil
}

// idleSettle is the pause between the last idle connection's answer and
// the RSS reading.
const idleSettle = time.Second

// idleOpenLimit bounds the opening of the idle connections; those not
// opened by then count as timeout errors.
const idleOpenLimit = 60 * time.Second

// idle opens c.Conns keep-alive connections to a fresh server, sends one
// GET /plaintext on each and reads the answer, holds them, and records the
// growth of the server's VmRSS per connection.
func (h *harness) idle(ctx context.Context, c *Config, r *Run) error {
	srv, addr, err := h.startServer(ctx, r.Server, false, "")
	if err != nil {
		return err
	}
	defer srv.Stop(stopTimeout)
	before, err := benchproc.ReadMemory(srv.Pid())
	if err != nil {
		return err
	}
	start := time.Now()
	conns, kinds := openIdle(ctx, addr, c.Conns, 64, idleOpenLimit)
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(idleSettle):
	}
	after, err := benchproc.ReadMemory(srv.Pid())
	if err != nil {
		return fmt.Errorf("%s gone while holding connections: %v; log: %s", r.Server, err, srv.LogTail())
	}
	r.Seconds = time.Since(start).Seconds()
	r.IdleConns = len(conns)
	r.IdleBeforeKB, r.IdleAfterKB, r.RSSKB = before.RSS, after.RSS, after.RSS
	if len(conns) > 0 {
		r.KBPerConn = float64(after.RSS-before.RSS) / float64(len(conns))
	}
	for k, n := range kinds {
		r.Errors += n
		if r.ErrorKinds == nil {
			r.ErrorKinds = map[string]int64{}
		}
		r.ErrorKinds[k] = n
	}
	return nil
}

// openIdle opens n connections to addr with par dialers, each answered
// once, within limit, and returns the good ones and the failures by kind.
// An interrupted open returns what it has.
func openIdle(ctx context.Context, addr string, n, par int, limit time.Duration) ([]net.Conn, map[string]int64) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var (
		mu    sync.Mutex
		conns = make([]net.Conn, 0, n)
		kinds = map[string]int64{}
		next  = make(chan struct{}, n)
		wg    sync.WaitGroup
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	d := net.Dialer{Timeout: 5 * time.Second}
	for range par {
		wg.Go(func() {
			buf := make([]byte, 4096)
			for range next {
				if parent.Err() != nil {
					return
				}
				if ctx.Err() != nil {
					mu.Lock()
					kinds["timeout"]++
					mu.Unlock()
					continue
				}
				nc, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					mu.Lock()
					kinds["connect"]++
					mu.Unlock()
					continue
				}
				dl := time.Now().Add(10 * time.Second)
				if dl.After(deadline) {
					dl = deadline
				}
				nc.SetDeadline(dl)
				_, err = io.WriteString(nc, plaintextRequest)
				var status string
				if err == nil {
					status, err = readResponse(nc, buf)
				}
				nc.SetDeadline(time.Time{})
				mu.Lock()
				switch {
				case err != nil:
					kinds["io"]++
					nc.Close()
				case !strings.HasPrefix(status, "HTTP/1.1 200 "):
					kinds["status"]++
					nc.Close()
				default:
					conns = append(conns, nc)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for k, v := range kinds {
		if v == 0 {
			delete(kinds, k)
		}
	}
	return conns, kinds
}

// profile runs tokamak under c256-p16 with -cpuprofile and stops it with
// SIGTERM, so that it writes the profile. It returns the profile's size.
func (h *harness) profile(ctx context.Context, c *Config, file string) (int64, error) {
	srv, addr, err := h.startServer(ctx, "tokamak", false, file)
	if err != nil {
		return 0, err
	}
	argv := benchproc.Pinned(h.loadCPU, h.loadArgv(c, "tokamak", addr))
	out, errOut, _, runErr := runTool(ctx, h.dur+loadSlack, argv)
	if srv.Stop(profileStopTimeout) {
		return 0, fmt.Errorf("tokamak did not exit within %v of SIGTERM; no profile", profileStopTimeout)
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	res, err := parseLoad(out)
	if err != nil {
		return 0, fmt.Errorf("load: %v (%v) %s", err, runErr, tail(errOut))
	}
	fmt.Fprintf(h.log, "profile run: %s req/s, %d errors\n", fmtInt(res.rate), res.errors)
	st, err := os.Stat(file)
	if err != nil {
		return 0, err
	}
	if st.Size() == 0 {
		return 0, fmt.Errorf("%s is empty; log: %s", file, srv.LogTail())
	}
	return st.Size(), nil
}
