package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Error kinds, as reported.
const (
	errConnect  = iota // the connection could not be made
	errTimeout         // no complete response within the timeout
	errStatus          // a status outside the expected class
	errProtocol        // bytes that are not a response of the protocol
	errClosed          // the server closed a connection with requests outstanding
	errRPC             // an RPC answered with an error (counted as a response too)
	numErrKinds
)

// maxLatency is the largest latency the histograms hold, in µs; a longer
// one is recorded as this.
const maxLatency = 60_000_000

// newHist records latencies in microseconds, from 1 µs to 60 s, with three
// significant digits.
func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, maxLatency, 3) }

// An engine opens cfg.conns connections to cfg.raddr and sends requests on
// them, in batches (closed loop) or on a schedule (-rate), until sh.stop is
// closed or the -n budget is spent. It returns the
// meters it counts into and a channel closed once it has stopped and its
// connections are closed; after that the meters are no longer written. An
// error means it could not start.
type engine func(cfg *config, sh *shared) ([]*meter, <-chan struct{}, error)

// engines are the engines built into this binary, by -engine name.
var engines = map[string]engine{}

// shared is what all engines' goroutines see of the run.
type shared struct {
	budget  atomic.Int64  // requests left to send (-rate: to schedule) with -n; unused otherwise
	stopped atomic.Bool   // the run is over: count nothing more
	stop    chan struct{} // closed when stopped is set, to wake blocked goroutines
}

// meter is what one event loop or one goroutine measured. Only its owner
// writes it. The progress line reads the atomics and takes the latency
// windows under mu; the other fields are read once the engine has stopped.
type meter struct {
	requests atomic.Uint64 // responses counted
	errors   atomic.Uint64

	mu   sync.Mutex
	win  *hdrhistogram.Histogram // latencies in µs since the window was last taken
	uwin *hdrhistogram.Histogram // with -rate: the same from the actual writes (uncorrected)

	bytes     uint64
	errs      [numErrKinds]uint64
	statuses  [1000]uint64 // by status; protocols report 100–999 (HTTP) or 0 (RPC)
	scheduled uint64       // with -rate: requests whose time came
	issued    uint64       // with -rate: requests written
}

// newMeter returns a meter; open gives it the uncorrected window of the
// open loop (a histogram is ~140 KB, and the goroutine engine has a meter
// per connection).
func newMeter(open bool) *meter {
	m := &meter{win: newHist()}
	if open {
		m.uwin = newHist()
	}
	return m
}

func (m *meter) fail(kind int) {
	m.errs[kind]++
	m.errors.Add(1)
}

// record counts n responses that share a latency: in a closed loop every
// response of a batch was sent by the same write, and those parsed from one
// read were received by it, so they are recorded in one step.
func (m *meter) record(lat time.Duration, n int) {
	if n == 0 {
		return
	}
	us := min(max(lat.Microseconds(), 1), maxLatency)
	m.mu.Lock()
	m.win.RecordValues(us, int64(n))
	m.mu.Unlock()
	m.requests.Add(uint64(n))
}

// recordOpen counts one response of the open loop: lat runs from the time
// the schedule gave its request, ulat from the write that sent it.
func (m *meter) recordOpen(lat, ulat int64) {
	m.mu.Lock()
	m.win.RecordValue(min(max(lat/1000, 1), maxLatency))
	m.uwin.RecordValue(min(max(ulat/1000, 1), maxLatency))
	m.mu.Unlock()
	m.requests.Add(1)
}

// takeWindows merges the meters' latency windows into total and utotal,
// clears them, and returns the 99th percentile of the latencies they held.
func takeWindows(ms []*meter, total, utotal *hdrhistogram.Histogram) int64 {
	h := newHist()
	for _, m := range ms {
		m.mu.Lock()
		h.Merge(m.win)
		m.win.Reset()
		if m.uwin != nil {
			utotal.Merge(m.uwin)
			m.uwin.Reset()
		}
		m.mu.Unlock()
	}
	total.Merge(h)
	return h.ValueAtQuantile(99)
}

// measure runs the engine for the run's length and merges what it measured.
func measure(cfg *config, eng engine, progress bool, out io.Writer) (*result, error) {
	sh := &shared{stop: make(chan struct{})}
	sh.budget.Store(cfg.requests)
	total, utotal := newHist(), newHist()
	start := time.Now()
	ms, finished, err := eng(cfg, sh)
	if err != nil {
		return nil, err
	}

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var deadline <-chan time.Time
	if cfg.requests == 0 {
		deadline = time.After(cfg.duration)
	}
	var lastReq uint64
loop:
	for {
		select {
		case <-deadline:
			break loop
		case <-finished:
			break loop
		case now := <-tick.C:
			if progress {
				var req, errs uint64
				for _, m := range ms {
					req += m.requests.Load()
					errs += m.errors.Load()
				}
				target := ""
				if cfg.rate > 0 {
					target = fmt.Sprintf(" (target %d)", cfg.rate)
				}
				fmt.Fprintf(out, "\r%5.0fs  %10.0f req/s%s  errors %d  p99 %s   ",
					now.Sub(start).Seconds(), float64(req-lastReq), target, errs, us(takeWindows(ms, total, utotal)))
				lastReq = req
			}
		}
	}
	sh.stopped.Store(true)
	elapsed := time.Since(start)
	close(sh.stop)
	<-finished
	if progress {
		fmt.Fprintln(out)
	}
	takeWindows(ms, total, utotal)
	return merge(cfg, ms, total, utotal, elapsed), nil
}

func merge(cfg *config, ms []*meter, h, uh *hdrhistogram.Histogram, elapsed time.Duration) *result {
	res := &result{
		Engine: cfg.engine, Threads: cfg.threads, Conns: cfg.conns, Pipeline: cfg.pipeline,
		Seconds: elapsed.Seconds(), Statuses: map[string]uint64{},
	}
	var bytes uint64
	for _, m := range ms {
		res.Requests += m.requests.Load()
		bytes += m.bytes
		res.Scheduled += m.scheduled
		res.Sent += m.issued
		for s, n := range m.statuses {
			if n > 0 && s > 0 {
				res.Statuses[fmt.Sprint(s)] += n
			}
		}
		res.Errors.Connect += m.errs[errConnect]
		res.Errors.Timeout += m.errs[errTimeout]
		res.Errors.Status += m.errs[errStatus]
		res.Errors.Protocol += m.errs[errProtocol]
		res.Errors.Closed += m.errs[errClosed]
		res.Errors.RPC += m.errs[errRPC]
	}
	res.ReqPerSec = float64(res.Requests) / elapsed.Seconds()
	res.BytesPerSec = float64(bytes) / elapsed.Seconds()
	res.Latency = quantiles(h)
	if cfg.rate > 0 {
		res.TargetRate = float64(cfg.rate)
		res.Uncorrected = quantiles(uh)
		res.RateReached = new(rateReached(cfg, res))
	}
	return res
}

// rateReached reports whether a -rate run kept its schedule: it wrote
// reachedShare of the requests that came due, and had answered that share
// of them but for the few a server that keeps up still has in flight at
// the end — the requests of the last reachedGrace, at most a window per
// connection. Answers are counted against the turns that came, not against
// -rate × -d, as a connection's schedule starts only once it has
// connected. A run bounded by -n writes and answers every request in the
// end, so there the answers a second must reach the share of -rate too.
func rateReached(cfg *config, res *result) bool {
	due := float64(res.Scheduled)
	inFlight := min(float64(cfg.conns*cfg.pipeline), res.TargetRate*reachedGrace.Seconds())
	ok := float64(res.Sent) >= reachedShare*due && float64(res.Requests)+inFlight >= reachedShare*due
	if cfg.requests > 0 {
		ok = ok && res.ReqPerSec >= reachedShare*res.TargetRate
	}
	return ok
}

// reachedShare is the share of its schedule a -rate run must keep, and
// reachedGrace the latency within which a server that keeps up answers
// (see rateReached). Without the grace a run that kept up was failed for
// its last answers (16 of 2,004 in a 500 ms run at 4,000/s, c4 × 4, on a
// busy machine); without its bound by -rate a slow server hid its backlog
// in a wide window (c256 × 16 holds 4,096 requests).
const (
	reachedShare = 0.99
	reachedGrace = 50 * time.Millisecond
)

func quantiles(h *hdrhistogram.Histogram) map[string]int64 {
	return map[string]int64{
		"p50": h.ValueAtQuantile(50), "p90": h.ValueAtQuantile(90), "p99": h.ValueAtQuantile(99),
		"p99.9": h.ValueAtQuantile(99.9), "max": h.Max(),
	}
}
