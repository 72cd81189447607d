// Package offload is the engine's bounded pool for blocking handlers: a
// fixed number of worker goroutines fed by a bounded queue, whose work
// counts its bytes against the engine's input budget. Submitting to a full
// pool, or past the budget, fails at once instead of queueing without
// bound, so a codec can answer "busy" (HTTP 503, an RPC error) and keep its
// loop running. Work whose connection has closed is dropped before it
// runs.
package offload

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Budget is the byte budget the pool's work counts against (the engine's
// input budget). Its methods may be called from any goroutine.
type Budget interface {
	// Reserve takes n bytes and reports true, or reports false, taking
	// nothing, when the budget cannot take them.
	Reserve(n int) bool
	// Release gives back n bytes that Reserve took.
	Release(n int)
}

// Pool runs functions on its workers. Go may be called from any goroutine.
type Pool struct {
	work   chan item
	done   chan struct{}
	once   sync.Once
	log    *slog.Logger
	budget Budget

	dropped atomic.Uint64 // work whose connection closed before it ran
}

// item is one piece of work and what it holds.
type item struct {
	ctx  context.Context
	size int
	fn   func()
}

// New starts a pool of workers goroutines (at least 1) whose queue holds up
// to queue functions waiting for a worker (at least 0). Work counts its
// size against budget while it is queued or running (nil: no budget).
// Panics that escape a function are recovered and logged to log
// (slog.Default() when nil).
func New(workers, queue int, budget Budget, log *slog.Logger) *Pool {
	if log == nil {
		log = slog.Default()
	}
	p := &Pool{
		work:   make(chan item, max(queue, 0)),
		done:   make(chan struct{}),
		log:    log,
		budget: budget,
	}
	workers = max(workers, 1)
	for range workers {
		go p.worker()
	}
	return p
}

// Go hands fn to an idle worker or queues it, and reports true; it reports
// false at once, running nothing, when every worker is busy and the queue
// is full, when the budget cannot take size bytes, or once the pool is
// closed. size is held against the budget until fn returns. When ctx is
// done before a worker takes fn, fn is dropped unrun (ctx nil: never).
func (p *Pool) Go(ctx context.Context, size int, fn func()) bool {
	select {
	case <-p.done:
		return false
	default:
	}
	size = max(size, 0)
	if p.budget != nil && size > 0 && !p.budget.Reserve(size) {
		return false
	}
	select {
	case p.work <- item{ctx, size, fn}:
		return true
	default:
		p.release(size)
		return false
	}
}

// Dropped returns how many functions were dropped unrun because their
// context was done before a worker took them.
func (p *Pool) Dropped() uint64 { return p.dropped.Load() }

// Stop makes Go fail from now on; the workers run what is queued and exit
// in the background. It does not wait for them: a blocking handler that
// never returns must not keep the engine's Run from returning.
func (p *Pool) Stop() { p.once.Do(func() { close(p.done) }) }

func (p *Pool) worker() {
	for {
		select {
		case it := <-p.work:
			p.run(it)
		case <-p.done:
			for { // run what was queued before Stop
				select {
				case it := <-p.work:
					p.run(it)
				default:
					return
				}
			}
		}
	}
}

func (p *Pool) run(it item) {
	defer p.release(it.size)
	if it.ctx != nil && it.ctx.Err() != nil {
		// The client left while the work waited: nobody would read its
		// answer, and running it would only take a worker from the others.
		p.dropped.Add(1)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("offload: panic in offloaded work", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	it.fn()
}

func (p *Pool) release(size int) {
	if p.budget != nil && size > 0 {
		p.budget.Release(size)
	}
}
