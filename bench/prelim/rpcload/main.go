// Command rpcload is a closed-loop MessagePack-RPC load driver: it keeps
// -depth calls in flight on each of -c connections for -d, checks every
// answer and reports calls per second.
//
//	rpcload -addr 127.0.0.1:9090 -c 8 -depth 64 -d 10s -size 16 -kind str
//	rpcload -addr 127.0.0.1:9091 -method Echo.Echo ...   # the net/rpc peer
//	rpcload -serve 127.0.0.1:9099                        # a trivial echo server
//
// Every call is [0, msgid, method, [payload]], the payload -size bytes of str
// or bin. An answer counts as a call only if its msgid is one in flight, its
// error is nil and its result is the payload, in the same family; anything
// else is counted by kind, and a frame that cannot be decoded drops its
// connection. When -d ends no new calls go out and the calls in flight are
// awaited (at most 5 s).
//
// Each connection is one goroutine that writes all the calls a read made
// room for in one write and decodes the answers in place from its read
// buffer, so the driver spends far less CPU per call than the servers it
// measures (the summary reports its own CPU time to show it). It prints one
// line for people, then one line of JSON, and exits 1 if any call failed.
//
// -serve runs a minimal echo server instead (one goroutine per connection,
// batched writes, no dispatch), to see how much load rpcload can produce.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	addr   string
	method string
	conns  int
	depth  int
	dur    time.Duration
	drain  time.Duration // the longest wait for calls in flight after dur
	size   int
	kind   string
}

// maxFrame is the largest response accepted: the echo of the payload with
// room for a long error message.
func (c *config) maxFrame() int { return max(1<<20, 2*c.size+4096) }

// summary is the JSON line.
type summary struct {
	Addr         string           `json:"addr"`
	Method       string           `json:"method"`
	Conns        int              `json:"conns"`
	Depth        int              `json:"depth"`
	Size         int              `json:"size"`
	Kind         string           `json:"kind"`
	Seconds      float64          `json:"seconds"`
	Calls        int64            `json:"calls"`
	CallsPerSec  float64          `json:"calls_per_s"`
	Errors       int64            `json:"errors"`
	ErrorKinds   map[string]int64 `json:"error_kinds,omitempty"`
	FirstError   string           `json:"first_error,omitempty"`
	CPUSeconds   float64          `json:"client_cpu_s"`
	CPUPerCallUs float64          `json:"client_cpu_us_per_call"`
	CPUCores     float64          `json:"client_cpu_cores"` // CPU time over wall time
}

func main() {
	cfg := config{drain: 5 * time.Second}
	serveAddr := flag.String("serve", "", "run a minimal echo server on `host:port` instead of the load")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:9090", "server address, host:port")
	flag.StringVar(&cfg.method, "method", "echo", `method called ("Echo.Echo" for the net/rpc peer)`)
	flag.IntVar(&cfg.conns, "c", 50, "connections")
	flag.IntVar(&cfg.depth, "depth", 1, "calls in flight per connection (pipelined)")
	flag.DurationVar(&cfg.dur, "d", 10*time.Second, "duration of the load")
	flag.IntVar(&cfg.size, "size", 16, "payload bytes")
	flag.StringVar(&cfg.kind, "kind", familyStr, "payload type: str or bin")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load to `file`")
	flag.Parse()

	if *serveAddr != "" {
		ln, err := net.Listen("tcp", *serveAddr)
		if err != nil {
			logf("%v", err)
			os.Exit(1)
		}
		fmt.Printf("listening on %s\n", ln.Addr())
		if err := serveFake(ln, 16<<20); err != nil {
			logf("%v", err)
			os.Exit(1)
		}
		return
	}
	if err := cfg.check(); err != nil {
		logf("%v", err)
		os.Exit(2)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			logf("%v", err)
			os.Exit(2)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	s := load(&cfg)
	pprof.StopCPUProfile()
	fmt.Printf("%.0f calls/s: %d calls in %.2fs, c=%d depth=%d size=%d %s, %d errors, client CPU %.2f µs/call\n",
		s.CallsPerSec, s.Calls, s.Seconds, s.Conns, s.Depth, s.Size, s.Kind, s.Errors, s.CPUPerCallUs)
	js, _ := json.Marshal(s)
	fmt.Printf("%s\n", js)
	if s.Errors > 0 || s.Calls == 0 {
		if s.FirstError != "" {
			logf("first error: %s", s.FirstError)
		}
		os.Exit(1)
	}
}

func (c *config) check() error {
	switch {
	case c.conns < 1:
		return fmt.Errorf("-c %d: want at least 1", c.conns)
	case c.depth < 1 || c.depth > 1<<16:
		return fmt.Errorf("-depth %d: want 1..65536", c.depth)
	case c.size < 0 || c.size > 64<<20:
		return fmt.Errorf("-size %d: want 0..64 MiB", c.size)
	case c.kind != familyStr && c.kind != familyBin:
		return fmt.Errorf("-kind %q: want str or bin", c.kind)
	case c.dur <= 0:
		return fmt.Errorf("-d %v: want a positive duration", c.dur)
	}
	return nil
}

// payload returns size bytes that are valid UTF-8 for str and cover every
// byte value for bin.
func payload(size int, kind string) []byte {
	p := make([]byte, size)
	for i := range p {
		if kind == familyStr {
			p[i] = 'a' + byte(i%26)
		} else {
			p[i] = byte(i*7 + 3)
		}
	}
	return p
}

// load runs the configured load and sums what the connections saw.
func load(cfg *config) summary {
	pay := payload(cfg.size, cfg.kind)
	tail := requestTail(cfg.method, cfg.kind, pay)
	reqLen := 2 + 5 + len(tail)

	var total tally
	clients := make([]*client, 0, cfg.conns)
	for range cfg.conns {
		nc, err := net.DialTimeout("tcp", cfg.addr, 5*time.Second)
		if err != nil {
			total.connect++
			total.note("dial: %v", err)
			continue
		}
		clients = append(clients, &client{
			nc:      nc,
			tail:    tail,
			family:  cfg.kind,
			payload: pay,
			in:      newFrameBuf(max(64<<10, 4*reqLen), cfg.maxFrame()),
			out:     make([]byte, 0, cfg.depth*reqLen),
			slots:   newSlots(cfg.depth),
		})
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(cfg.dur + cfg.drain)
	timer := time.AfterFunc(cfg.dur, func() { stop.Store(true) })
	for _, c := range clients {
		c.nc.SetDeadline(deadline)
		wg.Go(func() { c.run(cfg.depth, &stop) })
	}
	wg.Wait()
	timer.Stop()
	elapsed := time.Since(start).Seconds()
	cpu := (cpuTime() - cpu0).Seconds()

	for _, c := range clients {
		total.add(&c.t)
	}
	s := summary{
		Addr: cfg.addr, Method: cfg.method, Conns: cfg.conns, Depth: cfg.depth, Size: cfg.size, Kind: cfg.kind,
		Seconds:    elapsed,
		Calls:      total.calls,
		Errors:     total.errors(),
		FirstError: total.first,
		CPUSeconds: cpu,
		CPUCores:   cpu / elapsed,
	}
	if elapsed > 0 {
		s.CallsPerSec = float64(total.calls) / elapsed
	}
	if total.calls > 0 {
		s.CPUPerCallUs = cpu * 1e6 / float64(total.calls)
	}
	if s.Errors > 0 {
		s.ErrorKinds = map[string]int64{}
		for k, v := range map[string]int64{
			"rpc": total.rpc, "mismatch": total.mismatch, "unknown_id": total.unknownID,
			"malformed": total.malformed, "io": total.io, "connect": total.connect, "unanswered": total.unanswered,
		} {
			if v > 0 {
				s.ErrorKinds[k] = v
			}
		}
	}
	return s
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
