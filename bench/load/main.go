// Command load is tokamak's HTTP/1.1 load generator: closed loop, keep-alive
// connections, optional pipelining, every response checked, latency in an
// HDR histogram.
//
//	go run ./bench/load -c 50 -d 10s http://127.0.0.1:8080/plaintext
//	go run ./bench/load -c 50 -pipeline 16 -n 1000000 -json http://127.0.0.1:8080/plaintext
//
// Each connection writes -pipeline requests in one write, reads their
// responses, and writes the next batch as soon as the last one is in. A
// response is counted only when it parses as HTTP/1.1 with its body framed
// by Content-Length or chunked encoding; garbage, a response to nothing
// sent, a close with requests outstanding, a timeout or a status outside
// -expect's class is an error of its kind, and the connection is replaced,
// so a server that answers badly cannot look fast. A response must fit in
// 64 KiB; a larger one counts as a protocol error.
//
// The default engine (-engine epoll, Linux) is built like wrk so that the
// tool is not what limits the rate: -threads goroutines (GOMAXPROCS by
// default), each an event loop with its own epoll instance, drive the
// connections dealt to it over non-blocking sockets. Per readable event a
// loop makes one read into its shared 64 KiB buffer, parses the responses
// in place, copies out only the start of an unfinished one, and writes the
// next batch straight away (EPOLLOUT is watched only while a write is
// unfinished); reads, writes and polls are raw system calls, and nothing
// is allocated per request. The clock is read once per read: a response's
// latency runs from the write of its batch to the read that completed it,
// and responses that share both (a batch in one read) are recorded in the
// histogram in one step. Timeouts and reconnects are found by a scan every
// 10 ms. -engine goroutine, the portable one, runs a goroutine per
// connection on package net instead.
//
// Wire formats sit behind the protocol interface (protocol.go): the engines
// own sockets, clocks and counting, a protocol encodes a batch and frames
// and matches responses, numbering the request each one answers so that
// protocols matched by id can come, and an open loop can keep a send time
// per request.
//
// The exit status is 1 when errors exceed -max-errors (a fraction of the
// requests answered) or the host does not resolve, 2 on bad flags.
//
// Not yet: the open-loop -rate mode with coordinated-omission correction,
// and the MessagePack-RPC and Cocaine protocols (bench/prelim/rpcload
// drives MessagePack-RPC meanwhile).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// maxResponse bounds a response: it must fit a connection's read buffer.
const maxResponse = 64 << 10

// retryPause is the wait before a failed connect is tried again.
const retryPause = 10 * time.Millisecond

type config struct {
	raddr    *net.TCPAddr
	proto    protocol
	engine   string
	threads  int
	pipeline int
	conns    int
	duration time.Duration
	requests int64
	timeout  time.Duration
	expect   int // the status class a response must have: 2 for 2xx
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the command, with its output and exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      config
		method   = fs.String("method", "GET", "request method")
		body     = fs.String("body", "", "request body (sent with Content-Length)")
		headers  headerFlags
		asJSON   = fs.Bool("json", false, "print the result as one JSON object")
		maxErr   = fs.Float64("max-errors", 0.01, "exit 1 when errors exceed this fraction of the responses")
		cpuProf  = fs.String("cpuprofile", "", "write the load tool's own CPU profile to `file`")
		progress = fs.Bool("progress", isTerminal(stderr), "print a progress line each second (default: when stderr is a terminal)")
	)
	fs.IntVar(&cfg.conns, "c", 50, "connections")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "duration (ignored with -n)")
	fs.Int64Var(&cfg.requests, "n", 0, "total requests to send, then stop (0: run for -d)")
	fs.IntVar(&cfg.pipeline, "pipeline", 1, "requests written per batch on a connection")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "time allowed for a connect, and for a batch's responses")
	fs.IntVar(&cfg.expect, "expect", 2, "status class every response must have (2 = 2xx)")
	fs.Var(&headers, "H", "request header `Name: value` (repeatable)")
	fs.StringVar(&cfg.engine, "engine", defaultEngine(), "connection engine: "+strings.Join(engineNames(), " or "))
	fs.IntVar(&cfg.threads, "threads", runtime.GOMAXPROCS(0), "event loops of the epoll engine")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: load [flags] http://host:port/path\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	eng := engines[cfg.engine]
	if fs.NArg() != 1 || cfg.conns < 1 || cfg.pipeline < 1 || cfg.threads < 1 || eng == nil {
		fs.Usage()
		return 2
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintf(stderr, "load: want an http://host:port/path URL, got %q\n", fs.Arg(0))
		return 2
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	// Resolved once: the engines connect to an address, not a name.
	if cfg.raddr, err = net.ResolveTCPAddr("tcp", addr); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	cfg.proto = newHTTP(*method, u, headers, *body, cfg.pipeline)
	cfg.threads = min(cfg.threads, cfg.conns)
	if cfg.engine != "epoll" {
		cfg.threads = 0 // a goroutine per connection
	}

	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 2
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	res, err := measure(&cfg, eng, *progress, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	res.URL = u.String()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.Encode(res)
	} else {
		res.print(stdout)
	}
	if float64(res.Errors.total()) > *maxErr*float64(max(res.Requests, 1)) {
		return 1
	}
	return 0
}

// defaultEngine is the event loops where the system has them.
func defaultEngine() string {
	if engines["epoll"] != nil {
		return "epoll"
	}
	return "goroutine"
}

func engineNames() []string {
	names := make([]string, 0, len(engines))
	for name := range engines {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// errorCounts are the errors of a run by kind.
type errorCounts struct {
	Connect  uint64 `json:"connect"`
	Timeout  uint64 `json:"timeout"`
	Status   uint64 `json:"status"`
	Protocol uint64 `json:"protocol"`
	Closed   uint64 `json:"closed"`
}

func (e errorCounts) total() uint64 { return e.Connect + e.Timeout + e.Status + e.Protocol + e.Closed }

// result is a run's outcome; latencies in microseconds.
type result struct {
	URL         string            `json:"url"`
	Engine      string            `json:"engine"`
	Threads     int               `json:"threads,omitempty"` // event loops, with the epoll engine
	Conns       int               `json:"conns"`
	Pipeline    int               `json:"pipeline"`
	Seconds     float64           `json:"seconds"`
	Requests    uint64            `json:"requests"`
	ReqPerSec   float64           `json:"req_per_s"`
	BytesPerSec float64           `json:"bytes_per_s"`
	Latency     map[string]int64  `json:"latency_us"`
	Statuses    map[string]uint64 `json:"statuses"`
	Errors      errorCounts       `json:"errors"`
}

func us(v int64) string {
	switch {
	case v >= 1_000_000:
		return fmt.Sprintf("%.2fs", float64(v)/1e6)
	case v >= 1000:
		return fmt.Sprintf("%.2fms", float64(v)/1e3)
	}
	return fmt.Sprintf("%dµs", v)
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d connections, pipeline %d, %.2fs, engine %s", r.URL, r.Conns, r.Pipeline, r.Seconds, r.Engine)
	if r.Threads > 0 {
		fmt.Fprintf(w, " ×%d", r.Threads)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  requests  %d, %.1f req/s, %.2f MB/s\n", r.Requests, r.ReqPerSec, r.BytesPerSec/1e6)
	l := r.Latency
	fmt.Fprintf(w, "  latency   p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		us(l["p50"]), us(l["p90"]), us(l["p99"]), us(l["p99.9"]), us(l["max"]))
	codes := make([]string, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	fmt.Fprintf(w, "  statuses ")
	for _, c := range codes {
		fmt.Fprintf(w, " %s: %d", c, r.Statuses[c])
	}
	e := r.Errors
	fmt.Fprintf(w, "\n  errors    connect %d, timeout %d, status %d, protocol %d, closed %d\n",
		e.Connect, e.Timeout, e.Status, e.Protocol, e.Closed)
}
