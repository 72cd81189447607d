// Command load is tokamak's load generator for HTTP/1.1, MessagePack-RPC
// and Cocaine v0.12: keep-alive connections, optional pipelining, closed
// or open loop, every response checked, latency in an HDR histogram.
//
//	go run ./bench/load -c 50 -d 10s http://127.0.0.1:8080/plaintext
//	go run ./bench/load -c 50 -pipeline 16 -n 1000000 -json http://127.0.0.1:8080/plaintext
//	go run ./bench/load -c 8 -pipeline 64 -size 64 msgpackrpc://127.0.0.1:9090
//	go run ./bench/load -c 8 -pipeline 64 -method echo cocaine://127.0.0.1:10054
//	go run ./bench/load -c 50 -rate 20000 -d 30s http://127.0.0.1:8080/plaintext
//
// # Protocols
//
// The URL's scheme picks the protocol: http://host[:port]/path (port 80 by
// default), msgpackrpc://host[:port] (9090) or cocaine://host[:port]
// (10054), as tokamak's server binary listens (docs/protocols.md has the
// bytes). HTTP sends one fixed request (-method, default GET; -H; -body)
// and takes its responses in request order; each must parse as HTTP/1.1
// with its body framed by Content-Length or chunked encoding, and a status
// outside -expect's class is an error of kind status.
//
// The RPC protocols call -method (default echo) with one parameter, the
// payload: -size bytes (default 64) of lowercase letters as a msgpack str.
// MessagePack-RPC sends [0, msgid, method, [payload]] and reads [1, msgid,
// error, result]; the msgid is the call's number on its connection modulo
// 2^32. Cocaine opens a channel per call, numbered 2, 3, … on each
// connection, and sends invoke [method], chunk [params] (the msgpack array
// [payload] as bytes) and choke; it reads one chunk then choke, or an
// error [[category, code], message]; heartbeats from the server are
// ignored. Answers may come in any order (tokamak answers blocking methods
// as they finish) and are matched by msgid or channel. A result must be
// the payload (Cocaine: the chunk's data the params unchanged, as
// tokamak's echo stream answers, or the payload alone, as a unary echo
// does) unless -verify=false, for methods that answer something else. An
// RPC answered with an error counts as an answer and as an error of kind
// rpc, as an HTTP status outside -expect does.
//
// Anything else the server sends is an error of its kind and costs the
// connection, which is replaced, so a server that answers badly cannot
// look fast: bytes that are not a message of the protocol, a wrong
// result, an answer to a request not in flight (never sent, or answered
// already), a close with requests in flight, no answer within -timeout. A
// response must fit in 64 KiB (so -size is at most 65472); msgpack is
// walked by codec/mpack's Walker before anything reads it, so that no
// declared length is trusted.
//
// # Closed loop
//
// By default each connection keeps requests in flight as fast as the
// server answers. HTTP, as wrk's pipeline.lua does, writes -pipeline
// requests in one write, reads their responses, and writes the next batch
// as soon as the last one is in. The RPC protocols keep -pipeline calls in
// flight, as a client multiplexing concurrent calls on a connection does:
// after each read, the calls it answered are replaced in one write. A
// response's latency runs from the write that sent its request to the
// read that completed it. This measures throughput, but not latency under
// a given load: a server that stalls holds back the requests the tool
// would have sent meanwhile, and they never show in the histogram
// (coordinated omission).
//
// # Open loop: -rate
//
// With -rate N the requests follow a fixed schedule, as wrk2's do: N a
// second in all, request e due at e/N seconds from the start and given to
// connection e mod -c, so that each connection has one every -c/N seconds,
// the connections staggered evenly. A connection's schedule starts once
// it has first connected and then runs whatever happens to its sockets. A
// connection writes its due requests as soon as it may: at once while it
// has fewer than -pipeline requests in flight, else as answers free room
// (requests due together go out in one write). Latency runs from the time
// the schedule gave a request, not from its write, so a server that
// stalls is charged for every request that should have been sent during
// the stall, with the time it made it wait; the latency from the actual
// write is reported next to it (latency_uncorrected_us). The engine sleeps
// to the next turn in epoll_pwait2 with its timer slack cut to 1 ns, but
// its own lateness, if any, counts in the corrected latency as well. The
// run reports the achieved rate (answers a second) next to the target,
// how many requests came due and how many were written, and says when the
// target was not reached (fewer than 99% of the requests that came due
// were written, or answered but for those of the last 50 ms, or with -n,
// answers below 99% of the rate): then the server, or the tool, could not
// keep up, and the corrected latency grows with the backlog. With -n the
// schedule stops after that many requests, and the run ends when they are
// answered, or when the only ones left belong to connections that failed
// and wait to be dialled again: those are never written, and show as sent
// below scheduled (and the rate not reached).
//
// # Engines
//
// The default engine (-engine epoll, Linux) is built like wrk so that the
// tool is not what limits the rate: -threads goroutines (GOMAXPROCS by
// default), each an event loop with its own epoll instance, drive the
// connections dealt to it over non-blocking sockets. Per readable event a
// loop makes one read into its shared 64 KiB buffer, parses the responses
// in place, copies out only the start of an unfinished one, and writes the
// next batch straight away (EPOLLOUT is watched only while a write is
// unfinished); reads, writes and polls are raw system calls, and nothing
// is allocated per request. The clock is read once per read and once per
// write: in the closed loop responses that share a write and a read are
// recorded in the histogram in one step. Timeouts and reconnects are found by a scan every
// 10 ms. -engine goroutine, the portable one, runs a goroutine per
// connection on package net instead; it runs the closed loop only (-rate
// is refused: a goroutine blocked in a read keeps no schedule).
//
// Wire formats sit behind the protocol interface (protocol.go, rpc.go):
// the engines own sockets, clocks, counting and the window of requests in
// flight on a connection; a protocol encodes requests and frames, checks
// and matches responses, numbering the request each one answers.
//
// # Output
//
// A summary for people, or with -json one object: req_per_s, requests
// (answers; for RPC, calls), seconds, latency_us {p50, p90, p99, p99.9,
// max}, errors {connect, timeout, status, protocol, closed, rpc},
// statuses (HTTP), and with -rate target_rate, rate_reached, scheduled,
// sent and latency_uncorrected_us. The exit status is 1 when errors
// exceed -max-errors (a fraction of the requests answered) or the host
// does not resolve, 2 on bad flags.
package main

import (
	"cmp"
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

// maxPayload bounds -size: the echo of the payload must fit maxResponse
// with its framing.
const maxPayload = maxResponse - 64

// maxPipeline bounds -pipeline: a connection keeps a window of twice as
// many slots (24 bytes each) and a batch of as many requests.
const maxPipeline = 1 << 12

// defaultPorts are the ports of the URL schemes, as tokamak's server binary
// listens.
var defaultPorts = map[string]string{"http": "80", "msgpackrpc": "9090", "cocaine": "10054"}

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
	expect   int   // the status class a response must have: 2 for 2xx
	rate     int64 // requests per second in all (open loop); 0: closed loop
	refill   bool  // closed loop: keep -pipeline requests in flight, rather than send batches
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
		method   = fs.String("method", "", "HTTP request method (default GET); RPC method (MessagePack-RPC) or event (Cocaine) (default echo)")
		body     = fs.String("body", "", "HTTP request body (sent with Content-Length)")
		size     = fs.Int("size", 64, "RPC payload bytes: the one parameter, a str")
		verify   = fs.Bool("verify", true, "RPC: every result must be the payload (turn off for methods other than echo)")
		headers  headerFlags
		asJSON   = fs.Bool("json", false, "print the result as one JSON object")
		maxErr   = fs.Float64("max-errors", 0.01, "exit 1 when errors exceed this fraction of the responses")
		cpuProf  = fs.String("cpuprofile", "", "write the load tool's own CPU profile to `file`")
		progress = fs.Bool("progress", isTerminal(stderr), "print a progress line each second (default: when stderr is a terminal)")
	)
	fs.IntVar(&cfg.conns, "c", 50, "connections")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "duration (ignored with -n)")
	fs.Int64Var(&cfg.requests, "n", 0, "total requests to send, then stop (0: run for -d)")
	fs.IntVar(&cfg.pipeline, "pipeline", 1, "requests in flight per connection: HTTP writes them as one batch, RPC keeps them in flight; with -rate, the most in flight")
	fs.Int64Var(&cfg.rate, "rate", 0, "open loop: requests per second in all, spread over the connections, latency from each one's scheduled time (0: closed loop)")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "time allowed for a connect, and for answers: to an HTTP batch, or the next one while requests are in flight (RPC, -rate)")
	fs.IntVar(&cfg.expect, "expect", 2, "HTTP: status class every response must have (2 = 2xx)")
	fs.Var(&headers, "H", "request header `Name: value` (repeatable)")
	fs.StringVar(&cfg.engine, "engine", defaultEngine(), "connection engine: "+strings.Join(engineNames(), " or "))
	fs.IntVar(&cfg.threads, "threads", runtime.GOMAXPROCS(0), "event loops of the epoll engine")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: load [flags] http://host:port/path | msgpackrpc://host:port | cocaine://host:port\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	eng := engines[cfg.engine]
	if fs.NArg() != 1 || cfg.conns < 1 || cfg.pipeline < 1 || cfg.pipeline > maxPipeline || cfg.threads < 1 || cfg.rate < 0 || eng == nil {
		fs.Usage()
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.rate > 0 && cfg.engine != "epoll" {
		fmt.Fprintf(stderr, "load: -rate needs -engine epoll (a goroutine blocked in a read keeps no schedule)\n")
		return 2
	}
	u, err := url.Parse(fs.Arg(0))
	var port string
	if err == nil {
		port = defaultPorts[u.Scheme]
	}
	if port == "" || u.Host == "" || u.Scheme != "http" && u.Path != "" && u.Path != "/" {
		fmt.Fprintf(stderr, "load: want an http://host:port/path, msgpackrpc://host:port or cocaine://host:port URL, got %q\n", fs.Arg(0))
		return 2
	}
	switch {
	case u.Scheme == "http" && set["size"]:
		fmt.Fprintf(stderr, "load: -size is for the RPC protocols; HTTP sends -body\n")
		return 2
	case u.Scheme != "http" && (set["body"] || set["H"] || set["expect"]):
		fmt.Fprintf(stderr, "load: -body, -H and -expect are for HTTP\n")
		return 2
	case *size < 0 || *size > maxPayload:
		fmt.Fprintf(stderr, "load: -size %d: want 0..%d (an answer must fit in %d bytes)\n", *size, maxPayload, maxResponse)
		return 2
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	// Resolved once: the engines connect to an address, not a name.
	if cfg.raddr, err = net.ResolveTCPAddr("tcp", addr); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	switch u.Scheme {
	case "http":
		cfg.proto = newHTTP(cmp.Or(*method, "GET"), u, headers, *body, cfg.pipeline)
	case "msgpackrpc":
		cfg.proto = newMsgpackRPC(cmp.Or(*method, "echo"), *size, cfg.pipeline, *verify)
	case "cocaine":
		cfg.proto = newCocaine(cmp.Or(*method, "echo"), *size, cfg.pipeline, *verify)
	}
	cfg.refill = u.Scheme != "http"
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
	res.Protocol = u.Scheme
	if u.Scheme != "http" {
		res.Method, res.Size = cmp.Or(*method, "echo"), *size
	}
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
	RPC      uint64 `json:"rpc"` // RPCs answered with an error
}

func (e errorCounts) total() uint64 {
	return e.Connect + e.Timeout + e.Status + e.Protocol + e.Closed + e.RPC
}

// result is a run's outcome; latencies in microseconds.
type result struct {
	URL         string            `json:"url"`
	Protocol    string            `json:"protocol"`         // the URL's scheme
	Method      string            `json:"method,omitempty"` // RPC method or Cocaine event
	Size        int               `json:"size,omitempty"`   // RPC payload bytes
	Engine      string            `json:"engine"`
	Threads     int               `json:"threads,omitempty"` // event loops, with the epoll engine
	Conns       int               `json:"conns"`
	Pipeline    int               `json:"pipeline"`
	Seconds     float64           `json:"seconds"`
	Requests    uint64            `json:"requests"` // responses (HTTP) or calls (RPC) answered
	ReqPerSec   float64           `json:"req_per_s"`
	BytesPerSec float64           `json:"bytes_per_s"`
	Latency     map[string]int64  `json:"latency_us"` // with -rate, from each request's scheduled time
	Statuses    map[string]uint64 `json:"statuses"`   // HTTP statuses; empty for RPC
	Errors      errorCounts       `json:"errors"`

	// With -rate only.
	TargetRate  float64          `json:"target_rate,omitempty"`            // -rate, requests per second
	RateReached *bool            `json:"rate_reached,omitempty"`           // 99% of scheduled sent and answered (see rateReached)
	Scheduled   uint64           `json:"scheduled,omitempty"`              // requests whose scheduled time came
	Sent        uint64           `json:"sent,omitempty"`                   // of those, the ones written
	Uncorrected map[string]int64 `json:"latency_uncorrected_us,omitempty"` // latency from the actual write
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
	if r.Protocol != "http" {
		fmt.Fprintf(w, "  call      %s, %d-byte payload\n", r.Method, r.Size)
	}
	fmt.Fprintf(w, "  requests  %d, %.1f req/s, %.2f MB/s\n", r.Requests, r.ReqPerSec, r.BytesPerSec/1e6)
	if r.TargetRate > 0 {
		fmt.Fprintf(w, "  rate      target %.0f req/s, achieved %.1f req/s (%.1f%%); %d scheduled, %d sent\n",
			r.TargetRate, r.ReqPerSec, 100*r.ReqPerSec/r.TargetRate, r.Scheduled, r.Sent)
		if !*r.RateReached {
			fmt.Fprintf(w, "  WARNING   target rate not reached: the server (or this tool) could not keep up\n")
		}
	}
	printLatency := func(name string, l map[string]int64) {
		fmt.Fprintf(w, "  %-9s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", name,
			us(l["p50"]), us(l["p90"]), us(l["p99"]), us(l["p99.9"]), us(l["max"]))
	}
	if r.Uncorrected != nil {
		printLatency("latency", r.Latency)
		fmt.Fprintf(w, "            (from each request's scheduled time: corrected for coordinated omission)\n")
		printLatency("uncorr.", r.Uncorrected)
		fmt.Fprintf(w, "            (from each request's write)\n")
	} else {
		printLatency("latency", r.Latency)
	}
	if r.Protocol == "http" {
		codes := make([]string, 0, len(r.Statuses))
		for c := range r.Statuses {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		fmt.Fprintf(w, "  statuses ")
		for _, c := range codes {
			fmt.Fprintf(w, " %s: %d", c, r.Statuses[c])
		}
		fmt.Fprintln(w)
	}
	e := r.Errors
	fmt.Fprintf(w, "  errors    connect %d, timeout %d, status %d, protocol %d, closed %d, rpc %d\n",
		e.Connect, e.Timeout, e.Status, e.Protocol, e.Closed, e.RPC)
}
