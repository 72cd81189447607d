package reactor

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// loop is the state of one event loop. Everything but stats, the sweep and
// recheck flags and the quick timer's firing is touched only on that
// loop's goroutine.
type loop struct {
	srv   *Server
	idx   int
	el    gnet.EventLoop // set when gnet's loop is first seen
	flow  codec.Flow     // reused for every call into a session
	wheel *wheel
	conns *conn   // every open connection, linked through conn.lprev/lnext
	watch []*conn // connections to look at again (paused, flushing)
	spare []*conn // the other half of watch's double buffer
	// writers holds the PostWritable work of paused connections (rare:
	// kept off conn to keep every connection small).
	writers map[*conn][]func(f *codec.Flow)
	// ctxs holds the contexts of the connections that asked for one
	// (handlers.Conn.Context): few do, so they are kept off conn.
	ctxs map[*conn]connCtx
	// held is the input the loop's connections hold (conn.held summed),
	// published to stats.held for the input budget.
	held  int64
	stats loopStats

	sweepQueued atomic.Bool
	sweepFn     gnet.RunnableFunc

	// The watched connections are looked at sooner than the next sweep
	// (gnet reports no "output flushed" event): quick fires firstRecheck
	// after a connection starts to be watched, and again, twice as late
	// each time none of them moved on, up to a tick.
	quick       *time.Timer
	quickDelay  time.Duration
	quickQueued atomic.Bool
	quickFn     gnet.RunnableFunc
	rechecking  bool // in recheckWatched
}

// firstRecheck is how soon a connection that starts to wait for its
// output to drain is looked at again.
const firstRecheck = time.Millisecond

// loopStats are one loop's counters: written on the loop, read by /stats
// from any goroutine. The padding keeps two loops' counters off one cache
// line.
type loopStats struct {
	_                                           [64]byte
	open, held                                  atomic.Int64
	accepted, refused, requests, errors, panics atomic.Uint64
	overloaded, timedOut, resets                atomic.Uint64
	_                                           [64]byte
}

func (st *loopStats) snapshot(i int) handlers.LoopStats {
	return handlers.LoopStats{
		Loop:        i,
		Connections: st.open.Load(),
		Accepted:    st.accepted.Load(),
		Refused:     st.refused.Load(),
		Requests:    st.requests.Load(),
		Errors:      st.errors.Load(),
		Panics:      st.panics.Load(),
		InputHeld:   st.held.Load(),
		Overloaded:  st.overloaded.Load(),
		TimedOut:    st.timedOut.Load(),
		Resets:      st.resets.Load(),
	}
}

func newLoop(s *Server, idx int) *loop {
	l := &loop{srv: s, idx: idx, writers: make(map[*conn][]func(f *codec.Flow)), ctxs: make(map[*conn]connCtx)}
	l.wheel = newWheel(int64(s.cfg.Tick), 1024)
	l.flow.Out = make([]byte, 0, 64<<10)
	l.sweepFn = func(context.Context) error {
		l.sweepQueued.Store(false)
		l.sweep()
		return nil
	}
	l.quickFn = func(context.Context) error {
		l.quickQueued.Store(false)
		n := len(l.watch)
		l.recheckWatched()
		if len(l.watch) == 0 {
			return nil // watchConn starts again
		}
		if len(l.watch) < n {
			l.quickDelay = firstRecheck
		} else { // nobody moved on: back off
			l.quickDelay = min(2*l.quickDelay, l.srv.cfg.Tick)
		}
		l.quick.Reset(l.quickDelay)
		return nil
	}
	return l
}

// armQuick (re)starts the quick rechecks at their shortest delay, for a
// connection that starts to be watched.
func (l *loop) armQuick() {
	l.quickDelay = firstRecheck
	if l.quick == nil {
		l.quick = time.AfterFunc(l.quickDelay, l.requestQuick)
		return
	}
	l.quick.Reset(l.quickDelay)
}

// requestQuick asks the loop to look at its watched connections; called
// from the timer's goroutine.
func (l *loop) requestQuick() { l.request(&l.quickQueued, l.quickFn) }

func (l *loop) attach(el gnet.EventLoop) {
	l.el = el
	l.wheel.start(l.srv.now())
	// A sweep or recheck queued on a previous gnet loop that exited never
	// ran.
	l.sweepQueued.Store(false)
	l.quickQueued.Store(false)
}

// lost forgets gnet's loop after gnet stopped; its connections are gone
// (gnet closed them, and OnClose unlinked them). Called with s.mu held,
// while no loop runs.
func (l *loop) lost() {
	l.el = nil
	clear(l.watch)
	l.watch = l.watch[:0]
	clear(l.writers)
	for _, cc := range l.ctxs {
		cc.cancel()
	}
	clear(l.ctxs)
}

// post runs fn on the loop; it is a no-op for a loop that never had a
// connection (it has nothing to do).
func (l *loop) post(fn func()) {
	l.srv.mu.Lock()
	el := l.el
	l.srv.mu.Unlock()
	if el == nil {
		return
	}
	_ = el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		fn()
		return nil
	}))
}

// requestSweep asks for one sweep; called from the ticker goroutine.
func (l *loop) requestSweep() { l.request(&l.sweepQueued, l.sweepFn) }

// request queues fn on the loop unless queued says it is queued already;
// fn clears queued when it runs. Called off the loop.
func (l *loop) request(queued *atomic.Bool, fn gnet.RunnableFunc) {
	l.srv.mu.Lock()
	el := l.el
	l.srv.mu.Unlock()
	if el == nil || queued.Swap(true) {
		return
	}
	if el.Execute(context.Background(), fn) != nil {
		queued.Store(false)
	}
}

// sweep runs once per tick on the loop: it fires due timers, resumes
// connections whose output drained, closes connections whose output is
// flushed, and, while draining, closes the idle ones.
func (l *loop) sweep() {
	now := l.srv.now()
	l.wheel.advance(now, l.expire)
	l.recheckWatched()
	if l.srv.draining.Load() {
		l.drainSweep()
	}
}

func (l *loop) expire(c *conn) { c.expire() }

// drainSweep closes the connections that are idle: silent for at least a
// full tick (a keep-alive client between reading a response and sending
// its next request is not idle), nothing buffered either way and nothing
// waiting in the socket. The others finish their request; the Draining flag
// makes their next response the last.
func (l *loop) drainSweep() {
	quietSince := l.srv.now() - 2*int64(l.srv.cfg.Tick) // the clock is one tick coarse
	for c := l.conns; c != nil; {
		next := c.lnext
		if c.state == stateOpen && c.phase == codec.PhaseIdle && !c.busy && c.idleSince <= quietSince && c.quiet() {
			c.startClose()
		}
		c = next
	}
}

// recheckWatched looks at every watched connection again: it resumes
// those whose output drained and finishes the closes that flushed.
func (l *loop) recheckWatched() {
	l.rechecking = true // the quick rechecks run on: do not restart them
	defer func() { l.rechecking = false }()
	watch := l.watch
	l.watch = l.spare[:0] // recheck may watch c again
	for _, c := range watch {
		c.watched = false
		c.recheck()
	}
	clear(watch)
	l.spare = watch[:0]
}

func (l *loop) watchConn(c *conn) {
	if !c.watched {
		c.watched = true
		l.watch = append(l.watch, c)
		if !l.rechecking {
			l.armQuick()
		}
	}
}

func (l *loop) link(c *conn) {
	c.lnext = l.conns
	if l.conns != nil {
		l.conns.lprev = c
	}
	l.conns = c
}

func (l *loop) unlink(c *conn) {
	if c.lprev != nil {
		c.lprev.lnext = c.lnext
	} else if l.conns == c {
		l.conns = c.lnext
	}
	if c.lnext != nil {
		c.lnext.lprev = c.lprev
	}
	c.lprev, c.lnext = nil, nil
}
