package main

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// allScenarios in the order they run. The package comment describes each.
var allScenarios = []*scenario{
	{name: "held-cocaine", conns: 2000, length: 180 * time.Second, sample: time.Second, run: runHeldCocaine},
	{name: "http-trickle", conns: 500, length: 135 * time.Second, sample: time.Second, run: runHTTPTrickle},
	{name: "json-offload", conns: 64, length: 60 * time.Second, sample: time.Second, run: runJSONOffload},
	{name: "closed-queue", conns: 400, length: 125 * time.Second, sample: 100 * time.Millisecond, run: runClosedQueue},
	{name: "listener-starve", conns: 2000, length: 120 * time.Second, sample: time.Second, flags: starveFlags, run: runListenerStarve},
	{name: "fin-wait-orphans", conns: 200, length: 90 * time.Second, sample: time.Second, run: runFinWait},
	{name: "storm-memory", conns: 1000, length: 135 * time.Second, sample: time.Second, run: runStormMemory},
	{name: "near-threshold-json", conns: 64, length: 60 * time.Second, sample: time.Second, run: runNearThreshold},
}

// Sizes of the attacks. Frames stay under the server's 1 MiB MaxFrame and
// bodies under its 4 MiB MaxBody, so that each is a request the server
// must take, not one it may refuse from its header.
const (
	heldChannels  = 4
	heldChunk     = 1<<20 - 64 // data of each params chunk
	trickleBody   = 4 << 20    // declared Content-Length
	trickleHeld   = 16         // body bytes left for the trickle
	offloadBody   = 4<<20 - 256
	closedBody    = 2 << 20
	probeBody     = 100 << 10 // the offloaded probe call of closed-queue
	orphanBody    = 3 << 20
	orphanRcvbuf  = 4096
	stormFrameStr = 1<<20 - 64 // the str the storm's requests declare
	stormMissing  = 16         // bytes of it never sent
	nearBody      = 64<<10 - 32
	fillSize      = 4 << 20
)

// heartbeats writes the Cocaine heartbeat every interval until the
// attacker's close.
func heartbeats(x *exp, a *attacker, every time.Duration) {
	for a.sleep(x.ctx, every) {
		if _, err := a.c.Write(cocaineHeartbeat); err != nil {
			return
		}
	}
}

// holdThenClose holds the attack (see holdAfterSends), then closes every
// attacker and waits for them (wait).
func holdThenClose(x *exp, n int, hold time.Duration, what string, wait func()) error {
	ok := holdAfterSends(x, n, hold, what)
	x.att.closeAll()
	wait()
	if !ok {
		return x.ctx.Err()
	}
	return nil
}

// holdAfterSends waits until the n attackers have sent their attack (at
// most hold), then hold more, and reports the figures of the hold; false
// when interrupted.
func holdAfterSends(x *exp, n int, hold time.Duration, what string) bool {
	t0 := x.now()
	sent := x.waitSent(n, time.Now().Add(hold))
	x.progress("%d of %d connections sent %s; %d open; holding %v", sent, n, what, x.att.open.Load(), hold)
	x.figure("sent "+what, "%d of %d, by %.1f s", sent, n, x.now()-t0)
	if !x.sleep(hold) {
		return false
	}
	s, _ := x.samp.take()
	x.figure("at the end of the hold", "RSS %s, %d of %d attackers open", fmtKB(s.RSSKB), s.Open, n)
	x.figure("attackers open from the first dial", "%s", openTrace(x.samp.since(t0), t0, (x.now()-t0)/6))
	return true
}

// waitUntil sleeps until t; false when interrupted.
func (x *exp) waitUntil(t time.Time) bool { return x.sleep(time.Until(t)) }

// trace lists one figure of the samples every step seconds from t0.
func trace(samples []sample, t0, step float64, figure func(sample) int64) string {
	out, next := "", t0
	for _, s := range samples {
		if s.T+1e-9 < next {
			continue
		}
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("+%.0fs %d", s.T-t0, figure(s))
		next = s.T + step
	}
	return out
}

// openTrace lists the attackers open every step seconds from t0.
func openTrace(samples []sample, t0, step float64) string {
	return trace(samples, t0, step, func(s sample) int64 { return int64(s.Open) })
}

func runHeldCocaine(x *exp) error {
	n, hold, every := x.n(2000), x.t(120*time.Second), x.t(20*time.Second)
	x.param("attack", "%d Cocaine connections, each: %d channels invoking ping, one params chunk of %d bytes each ([bin %d] as a str), no choke", n, heldChannels, heldChunk, heldChunk-6)
	x.param("heartbeat", "[1, 0, [], []] every %v", every)
	x.param("hold", "%v once every connection sent its chunks (waiting at most as long for that), then the client closes", hold)
	body := append(unaryParamsData(heldChunk), 0x90) // the chunk's data and headers, shared
	wait := x.attack(n, x.srv.addr["cocaine"], 0, func(a *attacker) {
		go readCocaine(a)
		var invokes []byte
		for ch := uint64(2); ch < 2+heldChannels; ch++ {
			invokes = appendCocaineInvoke(invokes, ch, "ping")
		}
		a.wrote()
		if _, err := a.c.Write(invokes); err != nil {
			return
		}
		for ch := uint64(2); ch < 2+heldChannels; ch++ {
			bufs := net.Buffers{appendCocaineChunkHead(nil, ch, heldChunk), body}
			if _, err := bufs.WriteTo(a.c); err != nil {
				return
			}
		}
		a.sent.Store(true)
		heartbeats(x, a, every)
	})
	return holdThenClose(x, n, hold, "all their chunks", wait)
}

func runHTTPTrickle(x *exp) error {
	n, hold, every := x.n(500), x.t(120*time.Second), x.t(20*time.Second)
	x.param("attack", "%d HTTP connections, each POST /echo with Content-Length %d, %d bytes sent at once, then 1 byte every %v", n, trickleBody, trickleBody-trickleHeld, every)
	x.param("hold", "%v once every connection sent its body (waiting at most as long for that), then the client closes", hold)
	head := httpPost("/echo", "application/octet-stream", trickleBody)
	wait := x.attack(n, x.srv.addr["http"], 0, func(a *attacker) {
		go readHTTP(a)
		a.wrote()
		bufs := net.Buffers{head, x.fill[:trickleBody-trickleHeld]}
		if _, err := bufs.WriteTo(a.c); err != nil {
			return
		}
		a.sent.Store(true)
		for range trickleHeld {
			if !a.sleep(x.ctx, every) {
				return
			}
			if _, err := a.c.Write(x.fill[:1]); err != nil {
				return
			}
		}
	})
	return holdThenClose(x, n, hold, "their bodies", wait)
}

func runJSONOffload(x *exp) error {
	return jsonLoop(x, x.n(64), offloadBody, x.t(60*time.Second))
}

func runNearThreshold(x *exp) error {
	return jsonLoop(x, x.n(64), nearBody, x.t(60*time.Second))
}

// jsonLoop has n connections loop POST /rpc/echo with a JSON body of size
// bytes for dur, each reading every answer; a connection that fails is
// replaced.
func jsonLoop(x *exp, n, size int, dur time.Duration) error {
	x.param("attack", "%d HTTP connections looping POST /rpc/echo, Content-Type application/json, %d-byte body [[1,1,…]]", n, size)
	x.param("duration", "%v", dur)
	body := jsonParams(size)
	head := httpPost("/rpc/echo", "application/json", size)
	end := time.Now().Add(dur)
	var (
		mu       sync.Mutex
		statuses = map[string]int{}
		lat      = newHist()
		answered atomic.Int64
	)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(end) && x.ctx.Err() == nil {
				a, err := x.dialAttacker(x.srv.addr["http"], 0)
				if err != nil {
					x.sleep(100 * time.Millisecond)
					continue
				}
				r := bufio.NewReaderSize(a.c, 16<<10)
				told := ""
				for time.Now().Before(end) {
					start := time.Now()
					a.wrote()
					bufs := net.Buffers{head, body}
					_, err := bufs.WriteTo(a.c)
					var resp httpResponse
					if err == nil {
						a.sent.Store(true)
						resp, err = readHTTPResponse(r)
					}
					if err != nil {
						a.finish(errKind(err), told)
						x.sleep(50 * time.Millisecond) // then a new connection
						break
					}
					took := time.Since(start)
					answered.Add(1)
					mu.Lock()
					statuses[strconv.Itoa(resp.status)]++
					_ = lat.RecordValue(max(took.Microseconds(), 1))
					mu.Unlock()
					if resp.status != 200 && told == "" {
						told = resp.line
					}
					if resp.close {
						a.finish("fin", told)
						break
					}
				}
			}
		})
	}
	if !x.waitUntil(end) {
		return x.ctx.Err()
	}
	x.att.closeAll() // cuts the requests still in flight
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	x.figure("attack requests answered", "%d (%.1f/s), statuses %s", answered.Load(), float64(answered.Load())/dur.Seconds(), toldText(sortedCounts(statuses), 4))
	if lat.TotalCount() > 0 {
		x.figure("attack request latency", "p50 %s, p99 %s, max %s", fmtUS(lat.ValueAtQuantile(50)), fmtUS(lat.ValueAtQuantile(99)), fmtUS(lat.Max()))
	}
	return nil
}

// probe makes one request on a fresh connection and returns its latency
// and outcome (the status code, or how it failed).
func probe(x *exp, req net.Buffers, timeout time.Duration) (time.Duration, string) {
	start := time.Now()
	c, err := x.d.dial(x.ctx, x.srv.addr["http"], timeout, 0)
	if err != nil {
		return time.Since(start), "connect: " + errKind(err)
	}
	defer c.Close()
	c.SetDeadline(start.Add(timeout))
	if _, err := req.WriteTo(c); err != nil {
		return time.Since(start), errKind(err)
	}
	resp, err := readHTTPResponse(bufio.NewReaderSize(c, 4096))
	if err != nil {
		return time.Since(start), errKind(err)
	}
	return time.Since(start), strconv.Itoa(resp.status)
}

func runClosedQueue(x *exp) error {
	n, window := x.n(400), x.t(120*time.Second)
	x.param("attack", "%d HTTP connections, each POST /rpc/echo with a %d-byte JSON body, closed right after the last byte", n, closedBody)
	x.param("then", "the server's threads sampled every 100 ms (schedstat: running or waiting for a CPU) until they are busy under 20%% of the time for 1 s (at most %v); probes at once: GET /plaintext, POST /rpc/echo [\"hi\"], POST /rpc/echo with %d bytes of JSON (offloaded)", window, probeBody)
	body := jsonParams(closedBody)
	head := httpPost("/rpc/echo", "application/json", closedBody)
	var lastClose atomic.Int64 // ns on the timeline
	wait := x.attack(n, x.srv.addr["http"], 0, func(a *attacker) {
		a.wrote()
		bufs := net.Buffers{head, body}
		if _, err := bufs.WriteTo(a.c); err != nil {
			a.finish(errKind(err), "")
			return
		}
		a.sent.Store(true)
		a.closeByClient()
		t := int64(x.att.since())
		for {
			cur := lastClose.Load()
			if t <= cur || lastClose.CompareAndSwap(cur, t) {
				break
			}
		}
	})
	wait()
	t0 := time.Duration(lastClose.Load()).Seconds()
	x.progress("the last of %d clients closed at %.1f s", n, t0)
	x.figure("last client closed", "at %.2f s (%d of %d sent their whole request)", t0, x.waitSent(n, time.Now()), n)

	probeTimeout := max(window, 10*time.Second)
	probes := []struct {
		name string
		req  net.Buffers
	}{
		{"GET /plaintext", net.Buffers{[]byte(plaintextRequest)}},
		{"POST /rpc/echo [\"hi\"]", net.Buffers{httpPost("/rpc/echo", "application/json", 6), []byte(`["hi"]`)}},
		{fmt.Sprintf("POST /rpc/echo %d B JSON", probeBody), net.Buffers{httpPost("/rpc/echo", "application/json", probeBody), jsonParams(probeBody)}},
	}
	results := make([]string, len(probes))
	var pw sync.WaitGroup
	for i, p := range probes {
		pw.Go(func() {
			took, what := probe(x, p.req, probeTimeout)
			results[i] = fmt.Sprintf("%s → %s in %s", p.name, what, fmtUS(took.Microseconds()))
		})
	}
	deadline := time.Now().Add(window)
	var busy float64
	settled := false
	for time.Now().Before(deadline) {
		if busy, settled = busyAfter(x.samp.since(t0-0.2), t0, 0.2, 1); settled {
			break
		}
		if !x.sleep(200 * time.Millisecond) {
			break
		}
	}
	pw.Wait()
	if settled {
		x.figure("server busy after the last client left", "%.1f s", busy)
	} else {
		x.figure("server busy after the last client left", "still busy after %v (the window)", window)
	}
	x.figure("server CPU used after the last client left", "%.1f s", cpuSecondsAfter(x.samp.since(t0-0.2), t0, x.clk))
	for _, r := range results {
		x.figure("probe right after", "%s", r)
	}
	return nil
}

// starveFlags gives the server a small connection cap.
func starveFlags(x *exp) []string {
	return []string{"-max-conns", strconv.Itoa(starveCap(x))}
}

func starveCap(x *exp) int { return max(20, x.n(2000)) }

// starvePiece returns the k-th 5-byte write of a starving connection: in
// "partial" mode the pieces of one invoke frame that never ends (its event
// is a str declaring 1 MiB − 64 bytes), in "heartbeat" mode a heartbeat.
func starvePiece(mode string, k int) []byte {
	if mode == "heartbeat" {
		return cocaineHeartbeat
	}
	stream := appendStrHeader([]byte{0x94, 0x02, 0x00, 0x91}, 1<<20-64)
	for len(stream) < 5*(k+1) {
		stream = append(stream, 'x')
	}
	return stream[5*k : 5*k+5]
}

func runListenerStarve(x *exp) error {
	limit := starveCap(x)
	target := limit + max(50, limit/20)
	dur, every := x.t(120*time.Second), x.t(45*time.Second)
	tries := max(10, x.n(1000))
	mode := x.o.starveFrame
	x.res.Conns = target
	x.att.refuseWindow = time.Second
	x.param("server", "-max-conns %d (the bystanders hold %d of it)", limit, x.o.byHTTP+1)
	x.param("attack", "%d Cocaine connection slots, each writing 5 bytes (%s) at once and every %v; a slot the server refuses at open (fails the connect or closes within 1 s) gives up, one it drops later dials again (refused again: retries every second)", target, mode, every)
	x.param("probe", "%d new HTTP connections spread over the rest of the %v, each GET /plaintext with 2 s allowed", tries, dur)
	end := time.Now().Add(dur)
	var opened sync.WaitGroup
	var redials atomic.Int64
	var wg sync.WaitGroup
	opened.Add(target)
	for range target {
		wg.Go(func() {
			first, held := true, false
			for x.ctx.Err() == nil && time.Now().Before(end) && !x.att.ending.Load() {
				if !first {
					redials.Add(1)
				}
				a, err := x.dialAttacker(x.srv.addr["cocaine"], 0)
				if first {
					opened.Done()
					first = false
				}
				if err != nil { // refused during the connect (a reset, say)
					if !held {
						return
					}
					x.sleep(time.Second)
					continue
				}
				go readCocaine(a)
				a.wrote()
				if _, err := a.c.Write(starvePiece(mode, 0)); err == nil {
					a.sent.Store(true)
					for k := 1; time.Until(end) > every; k++ {
						if !a.sleep(x.ctx, every) {
							break
						}
						if _, err := a.c.Write(starvePiece(mode, k)); err != nil {
							break
						}
					}
				}
				select {
				case <-a.done:
				case <-time.After(time.Until(end)):
					return // the end: closeAll closes it
				}
				if !a.closedByServer() {
					return
				}
				if a.closed-a.dialed < x.att.refuseWindow { // refused at open
					if !held {
						return // the server is full: this slot has its answer
					}
					x.sleep(time.Second)
					continue
				}
				held = true // dropped after a while: take the slot again
			}
		})
	}
	opened.Wait()
	x.sleep(time.Second)
	held := x.att.open.Load()
	x.progress("the attack holds %d connections (cap %d)", held, limit)
	x.figure("attack after the fill", "%d connections held of %d dialed (cap %d)", held, target, limit)

	// The probes, evenly spread over what is left.
	start := time.Now()
	span := max(time.Until(end)-bystanderTimeout, time.Second)
	var (
		mu       sync.Mutex
		outcomes = map[string]int{}
		lat      = newHist()
		pw       sync.WaitGroup
	)
	req := net.Buffers{[]byte(plaintextRequest)}
	for i := range tries {
		if !x.waitUntil(start.Add(span * time.Duration(i) / time.Duration(tries))) {
			break
		}
		pw.Go(func() {
			took, what := probe(x, append(net.Buffers(nil), req...), bystanderTimeout)
			mu.Lock()
			outcomes[what]++
			if what == "200" {
				_ = lat.RecordValue(max(took.Microseconds(), 1))
			}
			mu.Unlock()
		})
	}
	pw.Wait()
	x.waitUntil(end)
	s, _ := x.samp.take()
	x.figure("attack at the end", "%d connections open, %d re-dials", s.Open, redials.Load())
	x.att.closeAll()
	wg.Wait()
	ok := outcomes["200"]
	x.figure("HTTP probes", "%d of %d answered 200 (%s)", ok, tries, toldText(sortedCounts(outcomes), 5))
	if lat.TotalCount() > 0 {
		x.figure("HTTP probe latency", "p50 %s, p99 %s, max %s", fmtUS(lat.ValueAtQuantile(50)), fmtUS(lat.ValueAtQuantile(99)), fmtUS(lat.Max()))
	}
	x.res.Bound = &bound{
		Target: "HTTP still served while Cocaine connections fill the cap (≥ 99% of new HTTP connections answered)",
		Pass:   float64(ok) >= 0.99*float64(tries),
		Detail: fmt.Sprintf("%d/%d answered", ok, tries),
	}
	return nil
}

func runFinWait(x *exp) error {
	n, hold := x.n(200), x.t(90*time.Second)
	x.param("attack", "%d HTTP connections with SO_RCVBUF %d, each POST /echo with a %d-byte body and a pipelined GET /plaintext, never reading", n, orphanRcvbuf, orphanBody)
	x.param("hold", "%v from the first dial, watching each socket's TCP state every second; then the client closes (resetting what is left)", hold)
	head := httpPost("/echo", "application/octet-stream", orphanBody)
	t0 := x.now()
	end := time.Now().Add(hold)
	wait := x.attack(n, x.srv.addr["http"], orphanRcvbuf, func(a *attacker) {
		a.wrote()
		bufs := net.Buffers{head, x.fill[:orphanBody], []byte(plaintextRequest)}
		if _, err := bufs.WriteTo(a.c); err != nil {
			a.finish(errKind(err), "")
			return
		}
		a.sent.Store(true)
	})
	// The client never reads, so the server's close shows only in the
	// socket's state: reset (RST) or fin (FIN, after all the data).
	for time.Now().Before(end) {
		if !x.sleep(min(time.Second, time.Until(end))) {
			break
		}
		x.att.mu.Lock()
		list := x.att.list
		x.att.mu.Unlock()
		for _, a := range list {
			if a.isDone() {
				continue
			}
			if st := tcpState(a.c); st != unix.BPF_TCP_ESTABLISHED && st != -1 {
				a.finish(tcpStateName(st), "")
			}
		}
	}
	s, _ := x.samp.take()
	m := summarizeTimeline(x.samp.since(0), x.base, x.pageKB(), x.clk)
	x.figure("at the end of the hold", "TCP mem %s, orphans %d, server descriptors %d, %d attackers still established", fmtKB(s.TCP.MemPages*x.pageKB()), s.TCP.Orphan, s.FDs, s.Open)
	x.figure("server descriptors", "baseline %d, peak %d at %.0f s, back to baseline + %d at %s", m.BaselineFDs, m.PeakFDs,
		peakFDsAt(x.samp.since(t0)), n/10, fdsBackAt(x.samp.since(t0), m.BaselineFDs+n/10))
	x.figure("orphans over the hold", "%s", orphanTrace(x.samp.since(t0), t0, x.t(10*time.Second).Seconds()))
	x.att.closeAll()
	wait()
	return nil
}

// peakFDsAt returns the time of the first sample with the most descriptors.
func peakFDsAt(samples []sample) float64 {
	best, at := -1, 0.0
	for _, s := range samples {
		if s.FDs > best {
			best, at = s.FDs, s.T
		}
	}
	return at
}

// fdsBackAt returns when, after the peak, the server's descriptors first
// fell to level or below, as text.
func fdsBackAt(samples []sample, level int) string {
	peak := peakFDsAt(samples)
	for _, s := range samples {
		if s.T > peak && s.FDs >= 0 && s.FDs <= level {
			return fmt.Sprintf("%.0f s", s.T)
		}
	}
	return "never in the hold"
}

// orphanTrace lists the orphans every step seconds from t0.
func orphanTrace(samples []sample, t0, step float64) string {
	return trace(samples, t0, step, func(s sample) int64 { return int64(s.TCP.Orphan) })
}

func runStormMemory(x *exp) error {
	n, hold, window, target := x.n(1000), x.t(10*time.Second), x.t(120*time.Second), x.t(60*time.Second)
	x.param("attack", "%d MessagePack-RPC connections, each the request [0, 1, \"echo\", [str of %d bytes]] less its last %d bytes", n, stormFrameStr, stormMissing)
	x.param("then", "hold %v after the sends, close all, sample RSS every second for up to %v", hold, window)
	base := x.samp.since(0)[x.base].RSSKB
	limit := 2*base + 32<<10
	head := appendRPCStrRequestHead(nil, 1, "echo", stormFrameStr)
	wait := x.attack(n, x.srv.addr["msgpackrpc"], 0, func(a *attacker) {
		go readRPC(a)
		a.wrote()
		bufs := net.Buffers{head, x.fill[:stormFrameStr-stormMissing]}
		if _, err := bufs.WriteTo(a.c); err == nil {
			a.sent.Store(true)
		}
	})
	wait()
	sent := x.waitSent(n, time.Now().Add(window))
	x.progress("%d of %d sent their partial frames", sent, n)
	if !x.sleep(hold) {
		return x.ctx.Err()
	}
	s, _ := x.samp.take()
	x.figure("before the close", "RSS %s, %d of %d attackers open (%d sent their frame)", fmtKB(s.RSSKB), s.Open, n, sent)
	x.att.closeAll()
	tc := x.now()
	deadline := time.Now().Add(window)
	var rec float64
	ok := false
	for time.Now().Before(deadline) {
		if !x.sleep(time.Second) {
			break
		}
		if rec, ok = recoveryTime(x.samp.since(tc), tc, limit); ok && x.now()-tc >= rec+3 {
			break
		}
	}
	after := x.samp.since(tc)
	x.figure("RSS after the close", "%s", rssTrace(after, tc, []float64{1, 10, 30, 60, 120}, x.o.timeScale))
	peak := x.samp.since(0)
	peakKB := summarizeTimeline(peak, x.base, x.pageKB(), x.clk).PeakRSSKB
	detail := fmt.Sprintf("baseline %s, bound %s, peak %s; ", fmtKB(base), fmtKB(limit), fmtKB(peakKB))
	if ok {
		detail += fmt.Sprintf("back under the bound %.0f s after the close", rec)
	} else {
		detail += fmt.Sprintf("not back within %v", window)
	}
	if peakKB <= limit {
		detail += " (the peak never passed the bound: too small a scale to test it)"
	}
	x.res.Bound = &bound{
		Target: fmt.Sprintf("RSS ≤ 2 × baseline + 32 MiB within %v of the close", target),
		Pass:   ok && rec <= target.Seconds(),
		Detail: detail,
	}
	return nil
}

// rssTrace lists the RSS at the given seconds after tc (scaled by ts).
func rssTrace(samples []sample, tc float64, at []float64, ts float64) string {
	out := ""
	for _, t := range at {
		for _, s := range samples {
			if s.T >= tc+t*ts {
				if out != "" {
					out += ", "
				}
				out += fmt.Sprintf("+%.0fs %s", s.T-tc, fmtKB(s.RSSKB))
				break
			}
		}
	}
	if out == "" {
		return "no samples"
	}
	return out
}
