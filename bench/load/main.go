// Command load is tokamak's HTTP/1.1 load generator: closed loop, keep-alive
// connections, optional pipelining, every response checked, latency in an
// HDR histogram.
//
//	go run ./bench/load -c 50 -d 10s http://127.0.0.1:8080/plaintext
//	go run ./bench/load -c 50 -pipeline 16 -n 1000000 -json http://127.0.0.1:8080/plaintext
//
// Each connection runs in its own goroutine: it writes -pipeline requests
// in one write, reads their responses in order, and records each one's
// latency from the write of its batch to the end of its response. A
// response is counted only when it parses as HTTP/1.1 with its body framed
// by Content-Length or chunked encoding; garbage, a close with requests
// outstanding, a timeout or a status outside -expect's class is an error
// of its kind, so a server that answers badly cannot look fast. A response
// must fit in the connection's 64 KiB read buffer; a larger one counts as a
// protocol error.
//
// The exit status is 1 when errors exceed -max-errors (a fraction of the
// requests answered), 2 on bad flags.
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
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type config struct {
	addr     string
	head     bool
	request  []byte // one request
	batch    []byte // pipeline copies of it
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
		progress = fs.Bool("progress", isTerminal(stderr), "print a progress line each second (default: when stderr is a terminal)")
	)
	fs.IntVar(&cfg.conns, "c", 50, "connections")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "duration (ignored with -n)")
	fs.Int64Var(&cfg.requests, "n", 0, "total requests to send, then stop (0: run for -d)")
	fs.IntVar(&cfg.pipeline, "pipeline", 1, "requests written per batch on a connection")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "time allowed for a batch's responses")
	fs.IntVar(&cfg.expect, "expect", 2, "status class every response must have (2 = 2xx)")
	fs.Var(&headers, "H", "request header `Name: value` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: load [flags] http://host:port/path\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || cfg.conns < 1 || cfg.pipeline < 1 {
		fs.Usage()
		return 2
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintf(stderr, "load: want an http://host:port/path URL, got %q\n", fs.Arg(0))
		return 2
	}
	cfg.addr = u.Host
	if u.Port() == "" {
		cfg.addr += ":80"
	}
	cfg.head = *method == "HEAD"
	cfg.request = buildRequest(*method, u, headers, *body)
	cfg.batch = []byte(strings.Repeat(string(cfg.request), cfg.pipeline))

	res := measure(&cfg, *progress, stderr)
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

func buildRequest(method string, u *url.URL, headers []string, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), u.Host)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s\r\n", h)
	}
	if body != "" || method == "POST" || method == "PUT" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return []byte(b.String())
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

// measure runs the workers and merges what they measured.
func measure(cfg *config, progress bool, out io.Writer) *result {
	sh := &shared{}
	sh.budget.Store(cfg.requests)
	stop := make(chan struct{})
	ws := make([]*worker, cfg.conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		ws[i] = &worker{cfg: cfg}
		wg.Add(1)
		go func() { defer wg.Done(); ws[i].run(sh, stop) }()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var deadline <-chan time.Time
	if cfg.requests == 0 {
		deadline = time.After(cfg.duration)
	}
	var lastReq uint64
	var elapsed time.Duration
loop:
	for {
		select {
		case <-deadline:
			break loop
		case <-finished:
			break loop
		case now := <-tick.C:
			if cfg.requests > 0 && sh.budget.Load() <= 0 && sh.requests.Load() >= uint64(cfg.requests) {
				break loop
			}
			if progress {
				req := sh.requests.Load()
				fmt.Fprintf(out, "\r%5.0fs  %10.0f req/s  errors %d  p99 %s   ",
					now.Sub(start).Seconds(), float64(req-lastReq), sh.errors.Load(), us(secondP99(ws)))
				lastReq = req
			}
		}
	}
	elapsed = time.Since(start)
	close(stop)
	<-finished
	if progress {
		fmt.Fprintln(out)
	}
	return merge(cfg, ws, elapsed)
}

// secondP99 is the 99th percentile of the latencies since the last call.
func secondP99(ws []*worker) int64 {
	h := newHist()
	for _, w := range ws {
		w.mu.Lock()
		if w.second != nil {
			h.Merge(w.second)
			w.second.Reset()
		}
		w.mu.Unlock()
	}
	return h.ValueAtQuantile(99)
}

func merge(cfg *config, ws []*worker, elapsed time.Duration) *result {
	h := newHist()
	res := &result{Conns: cfg.conns, Pipeline: cfg.pipeline, Seconds: elapsed.Seconds(), Statuses: map[string]uint64{}}
	var bytes uint64
	for _, w := range ws {
		h.Merge(w.hist)
		res.Requests += w.requests
		bytes += w.bytes
		for s, n := range w.statuses {
			res.Statuses[fmt.Sprint(s)] += n
		}
		res.Errors.Connect += w.errs[errConnect]
		res.Errors.Timeout += w.errs[errTimeout]
		res.Errors.Status += w.errs[errStatus]
		res.Errors.Protocol += w.errs[errProtocol]
		res.Errors.Closed += w.errs[errClosed]
	}
	res.ReqPerSec = float64(res.Requests) / elapsed.Seconds()
	res.BytesPerSec = float64(bytes) / elapsed.Seconds()
	res.Latency = map[string]int64{
		"p50": h.ValueAtQuantile(50), "p90": h.ValueAtQuantile(90), "p99": h.ValueAtQuantile(99),
		"p99.9": h.ValueAtQuantile(99.9), "max": h.Max(),
	}
	return res
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
	fmt.Fprintf(w, "%s: %d connections, pipeline %d, %.2fs\n", r.URL, r.Conns, r.Pipeline, r.Seconds)
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
