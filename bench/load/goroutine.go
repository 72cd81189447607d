package main

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

func init() { engines["goroutine"] = runGoroutines }

// runGoroutines is the portable engine: a goroutine and a meter per
// connection, blocking reads and writes through package net. It runs the
// closed loop only: a goroutine blocked in a read cannot keep a schedule,
// so -rate is refused (by main) with it.
func runGoroutines(cfg *config, sh *shared) ([]*meter, <-chan struct{}, error) {
	ms := make([]*meter, cfg.conns)
	var wg sync.WaitGroup
	for i := range ms {
		ms[i] = newMeter(false) // the open loop is the epoll engine's
		w := &worker{cfg: cfg, sh: sh, m: ms[i]}
		wg.Go(w.run)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return ms, done, nil
}

// worker is one connection's goroutine.
type worker struct {
	cfg *config
	sh  *shared
	m   *meter
	buf []byte
	win window
	rep reply // where parse reports; a local would escape through the interface
}

// run opens connections one after another until the run stops, sending
// batches of cfg.pipeline requests and checking each response.
func (w *worker) run() {
	w.buf = make([]byte, maxResponse)
	w.win = newWindow(make([]slot, windowSize(w.cfg.pipeline)))
	for !w.sh.stopped.Load() && (w.cfg.requests == 0 || w.sh.budget.Load() > 0) {
		c, err := net.DialTimeout("tcp", w.cfg.raddr.String(), w.cfg.timeout)
		if err != nil {
			if !w.sh.stopped.Load() {
				w.m.fail(errConnect)
			}
			select {
			case <-w.sh.stop:
			case <-time.After(retryPause):
			}
			continue
		}
		w.serve(c)
		c.Close()
	}
}

// serve sends requests on one connection until it must be dropped: a
// batch of -pipeline once the last is answered, or with cfg.refill as many
// as each read's answers make room for. Each write is followed by reads
// until an answer comes.
func (w *worker) serve(c net.Conn) {
	cfg, sh, m := w.cfg, w.sh, w.m
	done := make(chan struct{})
	defer close(done)
	go func() { // at the end of the run, unblock a read or write in progress
		select {
		case <-sh.stop:
			c.SetDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	pc := cfg.proto.conn()
	w.win.reset()
	base := time.Now() // the clock of the slots' send times
	var sent, answered uint64
	r, n := 0, 0 // unread bytes are buf[r:n]
	for !sh.stopped.Load() {
		inflight := int(sent - answered)
		depth := 0
		if inflight == 0 || cfg.refill {
			depth = cfg.pipeline - inflight
		}
		for k := range depth {
			if !w.win.free(sent + uint64(k)) {
				depth = k // one a window before is still in flight
				break
			}
		}
		if cfg.requests > 0 && depth > 0 {
			left := sh.budget.Add(-int64(depth))
			if left < 0 {
				depth += int(max(left, -int64(depth)))
			}
		}
		if depth > 0 {
			batch := pc.requests(sent, depth)
			now := time.Since(base)
			for k := range uint64(depth) {
				w.win.put(sent+k, int64(now), 0)
			}
			sent += uint64(depth)
			c.SetDeadline(base.Add(now + cfg.timeout))
			if _, err := c.Write(batch); err != nil {
				if !sh.stopped.Load() {
					m.fail(errClosed)
				}
				return
			}
		} else if inflight == 0 {
			return // the -n budget is spent
		}
		for got := 0; got == 0; {
			// Incomplete: make room, read more.
			if r > 0 {
				n = copy(w.buf, w.buf[r:n])
				r = 0
			}
			if n == len(w.buf) {
				m.fail(errProtocol) // a response larger than the buffer
				return
			}
			k, err := c.Read(w.buf[n:])
			n += k
			if err != nil {
				var ne net.Error
				switch {
				case sh.stopped.Load():
				case errors.As(err, &ne) && ne.Timeout():
					m.fail(errTimeout)
				case errors.Is(err, os.ErrDeadlineExceeded):
				default:
					m.fail(errClosed)
				}
				return
			}
			if sh.stopped.Load() {
				return // past the end: count nothing more
			}
			now := int64(time.Since(base)) // when every response this read completes was received
			// Answers are recorded by runs that share a write.
			var runSent int64
			run := 0
			for r < n {
				res := &w.rep
				size, err := pc.parse(w.buf[r:n], res)
				if err == errIncomplete {
					break
				}
				if err != nil { // garbage, or a wrong answer
					m.record(time.Duration(now-runSent), run)
					m.fail(errProtocol)
					return
				}
				r += size
				m.bytes += uint64(size)
				if !res.none {
					s, ok := w.win.take(res.seq)
					if !ok { // an answer to nothing in flight
						m.record(time.Duration(now-runSent), run)
						m.fail(errProtocol)
						return
					}
					answered++
					got++
					if s.sent == runSent {
						run++
					} else {
						m.record(time.Duration(now-runSent), run)
						runSent, run = s.sent, 1
					}
					m.statuses[res.status]++
					if res.status != 0 && res.status/100 != cfg.expect {
						m.fail(errStatus)
					}
					if res.rpcErr {
						m.fail(errRPC)
					}
				}
				if res.close {
					m.record(time.Duration(now-runSent), run)
					if sent > answered {
						m.fail(errClosed) // answered part of the batch, then closed
					}
					return
				}
			}
			m.record(time.Duration(now-runSent), run)
			if cfg.refill && got > 0 && sent > answered {
				c.SetDeadline(time.Now().Add(cfg.timeout)) // an answer came: time the next
			}
		}
		if !cfg.refill && sent == answered && r < n {
			m.fail(errProtocol) // bytes past the batch's last response answer nothing
			return
		}
	}
}
