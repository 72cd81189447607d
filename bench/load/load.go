package main

import (
	"errors"
	"net"
	"os"
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
	errProtocol        // bytes that are not an HTTP/1.1 response
	errClosed          // the server closed a connection with requests outstanding
	numErrKinds
)

// newHist records latencies in microseconds, from 1 µs to 60 s, with three
// significant digits.
func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// worker is one connection's loop and what it measured. Only its own
// goroutine writes it, but the progress line reads the live histogram
// under mu.
type worker struct {
	cfg *config

	hist   *hdrhistogram.Histogram // every latency of the run
	mu     sync.Mutex
	second *hdrhistogram.Histogram // latencies since the last progress line

	requests, bytes uint64
	errs            [numErrKinds]uint64
	statuses        map[int]uint64
}

// shared is what the workers count together, read by the progress line.
type shared struct {
	requests atomic.Uint64
	errors   atomic.Uint64
	budget   atomic.Int64 // requests left to send with -n; unused otherwise
}

func (w *worker) fail(sh *shared, kind int) {
	w.errs[kind]++
	sh.errors.Add(1)
}

// run opens connections one after another until stop, sending batches of
// cfg.pipeline requests and checking each response.
func (w *worker) run(sh *shared, stop <-chan struct{}) {
	w.hist, w.second = newHist(), newHist()
	w.statuses = map[int]uint64{}
	buf := make([]byte, 64<<10)
	sent := make([]time.Time, w.cfg.pipeline)
	for !stopped(stop) && (w.cfg.requests == 0 || sh.budget.Load() > 0) {
		c, err := net.DialTimeout("tcp", w.cfg.addr, w.cfg.timeout)
		if err != nil {
			w.fail(sh, errConnect)
			select {
			case <-stop:
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		w.serve(c, sh, stop, buf, sent)
		c.Close()
	}
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// serve runs batches on one connection until it must be dropped.
func (w *worker) serve(c net.Conn, sh *shared, stop <-chan struct{}, buf []byte, sent []time.Time) {
	cfg := w.cfg
	done := make(chan struct{})
	defer close(done)
	go func() { // at the end of the run, unblock a read or write in progress
		select {
		case <-stop:
			c.SetDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	r, n := 0, 0 // unread bytes are buf[r:n]
	for !stopped(stop) {
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
		batch := cfg.batch[:depth*len(cfg.request)]
		now := time.Now()
		for i := range depth {
			sent[i] = now
		}
		c.SetDeadline(now.Add(cfg.timeout))
		if _, err := c.Write(batch); err != nil {
			if !stopped(stop) {
				w.fail(sh, errClosed)
			}
			return
		}
		for got := 0; got < depth; {
			var res response
			m, err := parseResponse(buf[r:n], cfg.head, &res)
			switch {
			case err == nil:
				lat := time.Since(sent[got])
				us := max(lat.Microseconds(), 1)
				w.hist.RecordValue(us)
				w.mu.Lock()
				w.second.RecordValue(us)
				w.mu.Unlock()
				w.requests++
				w.bytes += uint64(m)
				w.statuses[res.status]++
				sh.requests.Add(1)
				if res.status/100 != cfg.expect {
					w.fail(sh, errStatus)
				}
				r += m
				got++
				if res.close && got < depth {
					w.fail(sh, errClosed) // answered part of the batch, then closed
					return
				}
				if res.close {
					return
				}
				continue
			case err == errMalformed:
				w.fail(sh, errProtocol)
				return
			}
			// Incomplete: make room, read more.
			if r > 0 {
				n = copy(buf, buf[r:n])
				r = 0
			}
			if n == len(buf) {
				w.fail(sh, errProtocol) // a response larger than the buffer
				return
			}
			k, err := c.Read(buf[n:])
			n += k
			if err != nil {
				var ne net.Error
				switch {
				case errors.As(err, &ne) && ne.Timeout():
					if !stopped(stop) {
						w.fail(sh, errTimeout)
					}
				case errors.Is(err, os.ErrDeadlineExceeded):
				default:
					if !stopped(stop) {
						w.fail(sh, errClosed)
					}
				}
				return
			}
		}
	}
}
