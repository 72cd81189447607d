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
// connection, blocking reads and writes through package net.
func runGoroutines(cfg *config, sh *shared) ([]*meter, <-chan struct{}, error) {
	ms := make([]*meter, cfg.conns)
	var wg sync.WaitGroup
	for i := range ms {
		ms[i] = newMeter()
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
	rep reply // where parse reports; a local would escape through the interface
}

// run opens connections one after another until the run stops, sending
// batches of cfg.pipeline requests and checking each response.
func (w *worker) run() {
	w.buf = make([]byte, maxResponse)
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

// serve runs batches on one connection until it must be dropped.
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
	var seq uint64 // requests sent on the connection
	r, n := 0, 0   // unread bytes are buf[r:n]
	for !sh.stopped.Load() {
		depth := cfg.pipeline
		if cfg.requests > 0 {
			left := sh.budget.Add(-int64(depth))
			if left < 0 {
				depth += int(left)
				if depth <= 0 {
					return
				}
			}
		}
		batch := pc.requests(seq, depth)
		seq += uint64(depth)
		sent := time.Now()
		c.SetDeadline(sent.Add(cfg.timeout))
		if _, err := c.Write(batch); err != nil {
			if !sh.stopped.Load() {
				m.fail(errClosed)
			}
			return
		}
		for got := 0; got < depth; {
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
			lat := time.Since(sent) // for every response this read completes
			k = 0                   // responses parsed from this read
			for r < n {
				res := &w.rep
				size, err := pc.parse(w.buf[r:n], res)
				if err == errIncomplete {
					break
				}
				if err != nil || res.seq >= seq { // garbage, or an answer to nothing sent
					m.record(lat, k)
					m.fail(errProtocol)
					return
				}
				r += size
				got++
				k++
				m.bytes += uint64(size)
				m.statuses[res.status]++
				if res.status/100 != cfg.expect {
					m.fail(errStatus)
				}
				if res.close {
					m.record(lat, k)
					if got < depth {
						m.fail(errClosed) // answered part of the batch, then closed
					}
					return
				}
			}
			m.record(lat, k)
		}
		if r < n {
			m.fail(errProtocol) // bytes past the batch's last response answer nothing
			return
		}
	}
}
