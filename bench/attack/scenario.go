package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// scenario is one attack. Its run function drives the attackers; the
// harness around it starts the server, the bystanders and the sampler,
// closes every attacker left when run returns, and summarizes.
type scenario struct {
	name   string
	conns  int           // attacking connections at full scale
	length time.Duration // its own length at full time (an upper bound where it stops early)
	sample time.Duration // sampling interval
	flags  func(x *exp) []string
	run    func(x *exp) error
}

// Durations around every scenario, at full time.
const (
	warmup      = 2 * time.Second // bystanders alone before the attack; the baseline is taken after it
	afterWindow = 5 * time.Second // sampling after the attackers were closed; "end" is its last sample
	startStop   = 2 * time.Second // starting and stopping a server (estimate only)
)

// exp is one scenario being run.
type exp struct {
	h     *harness
	ctx   context.Context
	o     *options
	sc    *scenario
	srv   *server
	d     *dialer
	att   *attackers
	by    *bystanders
	samp  *sampler
	res   *Result
	clk   int64
	log   io.Writer
	start time.Time
	base  int // index of the baseline sample

	fill    []byte        // shared read-only payload of 'x' for bodies and strings
	dialSem chan struct{} // dials in flight
}

// n scales a full-scale connection count; at least 1.
func (x *exp) n(full int) int { return max(1, int(math.Round(float64(full)*x.o.scale))) }

// t scales a full-time duration.
func (x *exp) t(full time.Duration) time.Duration {
	return time.Duration(float64(full) * x.o.timeScale)
}

// now is the time on the scenario's timeline, in seconds.
func (x *exp) now() float64 { return time.Since(x.start).Seconds() }

// sleep waits d or until the run is interrupted; false then.
func (x *exp) sleep(d time.Duration) bool {
	if d <= 0 {
		return x.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.ctx.Done():
		return false
	}
}

func (x *exp) param(name, format string, a ...any) {
	x.res.Params = append(x.res.Params, kv{name, fmt.Sprintf(format, a...)})
}

func (x *exp) figure(name, format string, a ...any) {
	x.res.Figures = append(x.res.Figures, kv{name, fmt.Sprintf(format, a...)})
}

func (x *exp) note(format string, a ...any) {
	x.res.Notes = append(x.res.Notes, fmt.Sprintf(format, a...))
}

func (x *exp) progress(format string, a ...any) {
	fmt.Fprintf(x.log, "[%s %6.1fs] %s\n", x.sc.name, x.now(), fmt.Sprintf(format, a...))
}

// dialConcurrency bounds connection attempts in flight.
const dialConcurrency = 128

// dialAttacker opens one attacking connection to addr, with at most
// dialConcurrency dials in flight. rcvbuf > 0 sets SO_RCVBUF.
func (x *exp) dialAttacker(addr string, rcvbuf int) (*attacker, error) {
	select {
	case x.dialSem <- struct{}{}:
	case <-x.ctx.Done():
		return nil, x.ctx.Err()
	}
	x.att.dials.Add(1)
	c, err := x.d.dial(x.ctx, addr, 5*time.Second, rcvbuf)
	<-x.dialSem
	if err != nil {
		x.att.dialFailed(err)
		return nil, err
	}
	a := x.att.add(c)
	if x.att.ending.Load() { // closeAll ran during the dial
		a.closeByClient()
	}
	return a, nil
}

// attack opens n connections to addr and runs fn on each in its own
// goroutine; fn returns when it is done with its connection, which stays
// open until the server or closeAll closes it. attack returns at once;
// wait waits for every fn.
func (x *exp) attack(n int, addr string, rcvbuf int, fn func(a *attacker)) (wait func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if a, err := x.dialAttacker(addr, rcvbuf); err == nil {
				fn(a)
			}
		})
	}
	return wg.Wait
}

// waitSent waits until each of the n attackers expected has written its
// attack, ended, or failed to dial, or until deadline, and returns how
// many sent all.
func (x *exp) waitSent(n int, deadline time.Time) int {
	for {
		x.att.mu.Lock()
		list := x.att.list
		failed := 0
		for _, k := range x.att.dialErrs {
			failed += k
		}
		x.att.mu.Unlock()
		sent, settled := 0, failed
		for _, a := range list {
			switch {
			case a.sent.Load():
				sent++
				settled++
			case a.isDone():
				settled++
			}
		}
		if settled >= n || !time.Now().Before(deadline) || x.ctx.Err() != nil {
			return sent
		}
		x.sleep(100 * time.Millisecond)
	}
}

// runScenario runs sc against a fresh server and returns its result; an
// error is recorded in the result, not returned, so that the run goes on.
func (h *harness) runScenario(ctx context.Context, sc *scenario) *Result {
	res := &Result{Scenario: sc.name, Scale: h.o.scale, TimeScale: h.o.timeScale, Started: time.Now().UTC()}
	x := &exp{h: h, ctx: ctx, o: h.o, sc: sc, d: h.d, res: res, clk: h.clk, log: h.log, fill: h.fill,
		dialSem: make(chan struct{}, dialConcurrency)}
	var extra []string
	if sc.flags != nil {
		extra = sc.flags(x)
	}
	argv := serverArgv(h.bin, h.serverCPU, extra, h.userArgs)
	res.ServerArgv = argv
	srv, err := startServer(ctx, argv, filepath.Join(h.tmp, sc.name+".log"), h.serverCPU >= 0)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	x.srv = srv
	x.start = time.Now()
	x.progress("server pid %d: http %s, cocaine %s, msgpackrpc %s", srv.Pid(), srv.addr["http"], srv.addr["cocaine"], srv.addr["msgpackrpc"])
	x.att = newAttackers(x.start)
	x.by = startBystanders(h.d, h.o.byEvery, h.o.byHTTP, srv.addr["http"], srv.addr["msgpackrpc"])
	x.samp = startSampler(srv.Pid(), x.start, sc.sample, x.att, x.by)
	if x.sleep(max(x.t(warmup), time.Second)) {
		_, x.base = x.samp.take()
		if err := sc.run(x); err != nil {
			res.Error = err.Error()
		}
	}
	x.att.closeAll()
	x.sleep(max(x.t(afterWindow), time.Second))
	res.Timeline = x.samp.stop()
	x.by.stop()
	res.Seconds = time.Since(x.start).Seconds()
	if srv.Exited() {
		x.note("the server exited during the scenario (%v); log: %s", srv.Wait(), srv.LogTail())
	} else if srv.Stop(stopTimeout) {
		x.note("the server did not stop within %v of SIGTERM and was killed", stopTimeout)
	}
	if b, err := os.ReadFile(srv.LogPath()); err == nil {
		if lv := logLevels(b); len(lv) > 0 {
			x.note("the server logged %s (its log is removed at the end)", toldText(sortedCounts(lv), 3))
		}
	}
	if ctx.Err() != nil && res.Error == "" {
		res.Error = "interrupted"
	}
	res.Mem = summarizeTimeline(res.Timeline, x.base, h.pageKB, h.clk)
	if w := res.Mem.ServerWaitS; w > 0.05*res.Seconds {
		x.note("other processes kept the server from its CPU for %.1f s (%.0f%% of the scenario): its latencies and CPU figures are disturbed", w, 100*w/res.Seconds)
	}
	if w := res.Mem.ClientWaitS; w > 0.05*res.Seconds {
		x.note("this tool's threads waited %.1f s for a CPU (%.0f%% of the scenario): the bystanders' latencies include that", w, 100*w/res.Seconds)
	}
	res.Attack = summarizeCloses(x.att.records())
	res.Attack.Dials = x.att.dials.Load()
	if len(x.att.dialErrs) > 0 {
		res.Attack.DialErrors = x.att.dialErrs
	}
	res.HTTP, res.RPC = summarize(x.by.http), summarize(x.by.rpc)
	if res.Conns == 0 {
		res.Conns = x.n(sc.conns)
	}
	return res
}

// logLevels counts the server's log lines at WARN and ERROR.
func logLevels(log []byte) map[string]int {
	n := map[string]int{}
	for line := range strings.SplitSeq(string(log), "\n") {
		for _, lv := range []string{"WARN", "ERROR"} {
			if strings.Contains(line, " level="+lv+" ") {
				n[lv+" lines"]++
			}
		}
	}
	return n
}

// selectScenarios picks scenarios by the comma-separated names of -only
// ("" or "all": every one), in the order of the list.
func selectScenarios(all []*scenario, only string) ([]*scenario, error) {
	if only == "" || only == "all" {
		return all, nil
	}
	want := map[string]bool{}
	for name := range strings.SplitSeq(only, ",") {
		if name = strings.TrimSpace(name); name != "" {
			want[name] = true
		}
	}
	var out []*scenario
	for _, sc := range all {
		if want[sc.name] {
			out = append(out, sc)
			delete(want, sc.name)
		}
	}
	if len(want) > 0 {
		var names []string
		for _, sc := range all {
			names = append(names, sc.name)
		}
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		return nil, fmt.Errorf("unknown scenario(s) %s; known: %s", strings.Join(unknown, ","), strings.Join(names, ","))
	}
	return out, nil
}

// estimate is about how long a run of scs takes at time scale ts
// (scenarios that stop early take less; held-cocaine's sends are allowed
// 60 s), the build excluded.
func estimate(scs []*scenario, ts float64) time.Duration {
	var d time.Duration
	f := func(x time.Duration) time.Duration { return time.Duration(float64(x) * ts) }
	for _, sc := range scs {
		d += max(f(warmup), time.Second) + f(sc.length) + max(f(afterWindow), time.Second) + startStop
	}
	return d
}
