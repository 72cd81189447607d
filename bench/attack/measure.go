package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

// Bystanders are well-behaved clients that run through every scenario:
// -bystanders keep-alive HTTP connections doing GET /plaintext and one
// MessagePack-RPC connection calling ping, each a request every
// -bystander-every (0: back to back), 2 s allowed per request, a new
// connection after any error.
const bystanderTimeout = 2 * time.Second

// meter is one bystander's record; only its goroutine writes it until the
// bystanders stop.
type meter struct {
	h    *hdrhistogram.Histogram // latency of good answers, µs
	errs map[string]int
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

type bystanders struct {
	d      *dialer
	every  time.Duration
	stopCh chan struct{}
	wg     sync.WaitGroup
	http   []*meter
	rpc    []*meter

	maxUS atomic.Int64 // slowest answer (or failure) since the last sample
	errs  atomic.Int64 // failures so far
}

// startBystanders starts nHTTP HTTP bystanders against httpAddr and one
// RPC bystander against rpcAddr.
func startBystanders(d *dialer, every time.Duration, nHTTP int, httpAddr, rpcAddr string) *bystanders {
	b := &bystanders{d: d, every: every, stopCh: make(chan struct{})}
	for range nHTTP {
		m := &meter{h: newHist(), errs: map[string]int{}}
		b.http = append(b.http, m)
		b.wg.Go(func() { b.loop(m, httpAddr, httpCall) })
	}
	m := &meter{h: newHist(), errs: map[string]int{}}
	b.rpc = append(b.rpc, m)
	b.wg.Go(func() { b.loop(m, rpcAddr, newPingCall()) })
	return b
}

func (b *bystanders) stop() {
	close(b.stopCh)
	b.wg.Wait()
}

// call makes one request on c and reports the failure, if any.
type call func(c net.Conn, r *bufio.Reader) error

func httpCall(c net.Conn, r *bufio.Reader) error {
	if _, err := io.WriteString(c, plaintextRequest); err != nil {
		return err
	}
	resp, err := readHTTPResponse(r)
	if err != nil {
		return err
	}
	if resp.status != 200 {
		return fmt.Errorf("status %d", resp.status)
	}
	return nil
}

// newPingCall returns a call of the MessagePack-RPC method ping, which must
// answer [1, msgid, nil, "pong"].
func newPingCall() call {
	var id uint32
	var buf []byte
	return func(c net.Conn, r *bufio.Reader) error {
		id++
		buf = appendRPCRequest(buf[:0], id, "ping", []byte{0x90})
		if _, err := c.Write(buf); err != nil {
			return err
		}
		v, err := readValue(r, 0)
		if err != nil {
			return err
		}
		f, ok := v.([]any)
		if !ok || len(f) != 4 {
			return fmt.Errorf("bad answer %s", brief(v))
		}
		if got, _ := asUint(f[1]); got != uint64(id) || f[2] != nil || f[3] != "pong" {
			return fmt.Errorf("bad answer %s", brief(v))
		}
		return nil
	}
}

func (b *bystanders) loop(m *meter, addr string, do call) {
	var c *net.TCPConn
	var r *bufio.Reader
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	fail := func(what string, err error, took time.Duration) {
		m.errs[what+errKind(err)]++
		b.errs.Add(1)
		b.noteMax(took)
		if c != nil {
			c.Close()
			c = nil
		}
	}
	next := time.Now()
	for {
		if b.every > 0 {
			next = next.Add(b.every)
			if d := time.Until(next); d > 0 {
				select {
				case <-b.stopCh:
					return
				case <-time.After(d):
				}
			} else {
				next = time.Now() // late: do not burst to catch up
			}
		}
		select {
		case <-b.stopCh:
			return
		default:
		}
		start := time.Now()
		if c == nil {
			var err error
			c, err = b.d.dial(context.Background(), addr, bystanderTimeout, 0)
			if err != nil {
				c = nil
				fail("connect: ", err, time.Since(start))
				continue
			}
			r = bufio.NewReaderSize(c, 4096)
		}
		c.SetDeadline(start.Add(bystanderTimeout))
		if err := do(c, r); err != nil {
			fail("", err, time.Since(start))
			continue
		}
		took := time.Since(start)
		_ = m.h.RecordValue(max(took.Microseconds(), 1))
		b.noteMax(took)
	}
}

func (b *bystanders) noteMax(d time.Duration) {
	us := d.Microseconds()
	for {
		cur := b.maxUS.Load()
		if us <= cur || b.maxUS.CompareAndSwap(cur, us) {
			return
		}
	}
}

// latencySummary is what the bystanders of one kind saw.
type latencySummary struct {
	Clients int            `json:"clients"`
	N       int64          `json:"answers"`
	P50US   int64          `json:"p50_us"`
	P99US   int64          `json:"p99_us"`
	MaxUS   int64          `json:"max_us"`
	Errors  int            `json:"errors"`
	Kinds   map[string]int `json:"error_kinds,omitempty"`
}

// summarize merges the meters. Call it after stop.
func summarize(ms []*meter) latencySummary {
	h := newHist()
	s := latencySummary{Clients: len(ms), Kinds: map[string]int{}}
	for _, m := range ms {
		h.Merge(m.h)
		for k, n := range m.errs {
			s.Kinds[k] += n
			s.Errors += n
		}
	}
	s.N = h.TotalCount()
	if s.N > 0 {
		s.P50US, s.P99US, s.MaxUS = h.ValueAtQuantile(50), h.ValueAtQuantile(99), h.Max()
	}
	return s
}

// sample is one look at the server and the machine.
type sample struct {
	T        float64  `json:"t"` // seconds since the scenario started
	RSSKB    int64    `json:"rss_kb"`
	HWMKB    int64    `json:"hwm_kb"`
	CPUTicks int64    `json:"cpu_ticks"`      // utime+stime of the server so far
	FDs      int      `json:"fds"`            // descriptors the server holds
	TCP      sockstat `json:"tcp"`            // the whole machine's, from /proc/net/sockstat
	RunNS    int64    `json:"run_ns"`         // the server's threads' time on a CPU so far (schedstat)
	WaitNS   int64    `json:"runq_wait_ns"`   // their time runnable but waiting for a CPU so far
	ClientNS int64    `json:"client_wait_ns"` // the same wait for this tool's threads
	PSIUS    int64    `json:"psi_some_us"`    // /proc/pressure/cpu "some" total: µs some task on the machine waited
	Open     int64    `json:"attackers_open"`
	ByMaxUS  int64    `json:"bystander_max_us"` // slowest bystander request since the previous sample
	ByErrors int64    `json:"bystander_errors"` // bystander failures so far
}

// sampler looks at the server every interval until stopped.
type sampler struct {
	pid   int
	start time.Time
	att   *attackers
	by    *bystanders

	mu      sync.Mutex
	samples []sample

	stopCh chan struct{}
	done   chan struct{}
}

func startSampler(pid int, start time.Time, every time.Duration, att *attackers, by *bystanders) *sampler {
	s := &sampler{pid: pid, start: start, att: att, by: by, stopCh: make(chan struct{}), done: make(chan struct{})}
	s.take()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stopCh:
				return
			case <-t.C:
				s.take()
			}
		}
	}()
	return s
}

// take records a sample now and returns it and its index.
func (s *sampler) take() (sample, int) {
	x := sample{T: time.Since(s.start).Seconds()}
	if m, err := benchproc.ReadMemory(s.pid); err == nil {
		x.RSSKB, x.HWMKB = m.RSS, m.HWM
	}
	x.CPUTicks, _ = benchproc.ReadTicks(s.pid)
	x.FDs = countFDs(s.pid)
	x.RunNS, x.WaitNS = schedTimes(strconv.Itoa(s.pid))
	_, x.ClientNS = schedTimes("self")
	x.PSIUS = readPressure()
	x.TCP, _ = readSockstat()
	if s.att != nil {
		x.Open = s.att.open.Load()
	}
	if s.by != nil {
		x.ByMaxUS = s.by.maxUS.Swap(0)
		x.ByErrors = s.by.errs.Load()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, x)
	return x, len(s.samples) - 1
}

// stop ends the sampling with one last sample.
func (s *sampler) stop() []sample {
	close(s.stopCh)
	<-s.done
	s.take()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// since returns the samples taken at or after t seconds.
func (s *sampler) since(t float64) []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sample
	for _, x := range s.samples {
		if x.T >= t {
			out = append(out, x)
		}
	}
	return out
}
