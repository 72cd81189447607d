// Package offload is the engine's bounded pool for blocking handlers: a
// fixed number of worker goroutines fed by a bounded queue. Submitting to a
// full pool fails at once instead of queueing without bound, so a codec can
// answer "busy" (HTTP 503, an RPC error) and keep its loop running.
package offload

import (
	"log/slog"
	"runtime/debug"
	"sync"
)

// Pool runs functions on its workers. Go may be called from any goroutine.
type Pool struct {
	work chan func()
	done chan struct{}
	once sync.Once
	log  *slog.Logger
}

// New starts a pool of workers goroutines (at least 1) whose queue holds up
// to queue functions waiting for a worker (at least 0). Panics that escape
// a function are recovered and logged to log (slog.Default() when nil).
func New(workers, queue int, log *slog.Logger) *Pool {
	if log == nil {
		log = slog.Default()
	}
	p := &Pool{
		work: make(chan func(), max(queue, 0)),
		done: make(chan struct{}),
		log:  log,
	}
	workers = max(workers, 1)
	for range workers {
		go p.worker()
	}
	return p
}

// Go hands fn to an idle worker or queues it, and reports true; it reports
// false at once when every worker is busy and the queue is full, or once
// the pool is closed.
func (p *Pool) Go(fn func()) bool {
	select {
	case <-p.done:
		return false
	default:
	}
	select {
	case p.work <- fn:
		return true
	default:
		return false
	}
}

// Stop makes Go fail from now on; the workers run what is queued and exit
// in the background. It does not wait for them: a blocking handler that
// never returns must not keep the engine's Run from returning.
func (p *Pool) Stop() { p.once.Do(func() { close(p.done) }) }

func (p *Pool) worker() {
	for {
		select {
		case fn := <-p.work:
			p.run(fn)
		case <-p.done:
			for { // run what was queued before Stop
				select {
				case fn := <-p.work:
					p.run(fn)
				default:
					return
				}
			}
		}
	}
}

func (p *Pool) run(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("offload: panic in offloaded work", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	fn()
}
