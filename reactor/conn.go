package reactor

import (
	"context"
	"math"
	"net"
	"runtime/debug"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// Connection states. A connection only moves forward through them.
const (
	stateOpen     uint8 = iota // serving
	stateFlushing              // closing: output still buffered, input dropped
	stateLinger                // output sent, write side shut: waiting for the peer's FIN
	stateClosed
)

// maxRounds bounds how many times one connection is served back to back
// before it yields to the others on its loop.
const maxRounds = 4

// conn is the reactor's state of one connection, owned by its loop. Only
// Post and the closed flag may be used from other goroutines.
type conn struct {
	gc    gnet.Conn
	l     *loop
	sess  codec.Session
	value any

	state     uint8
	phase     codec.Phase
	ln        uint8 // index of the listener in srv.lns
	paused    bool  // output above the high-water mark: input waits
	watched   bool  // in l.watch
	announced bool  // ConnState was told StateOpen
	busy      bool  // the session has handed-off work pending (codec.Flow.Busy)
	refused   bool  // the session was refused for overload: input is dropped
	closed    atomic.Bool

	// carry holds input the session left unconsumed, when there is any.
	// gnet's Peek copies everything it has buffered into a fresh slice at
	// every read once its ring holds data, which makes a frame arriving in
	// small pieces cost quadratic time; appending each read to carry costs
	// one copy of each byte.
	carry *bytebufferpool.ByteBuffer

	need    int32 // bytes of input the session needs before it can progress
	outMark int32 // output buffered at the last progress check (paused, flushing)
	// held is what the connection counts in its loop's input: the
	// unconsumed input plus sessHeld (codec.Flow.Held), as of the last
	// account.
	held, sessHeld int32
	// The rate window of a frame or body in progress (PhaseHead,
	// PhaseBody): when it began, and the bytes of progress since.
	winBytes  int64
	winStart  int64
	idleSince int64 // when the connection last became idle

	// timer wheel
	deadline int64
	wtick    int64
	wlinked  bool
	wprev    *conn
	wnext    *conn
	// every open connection of the loop
	lprev, lnext *conn
}

// LocalAddr implements handlers.Conn: the address the peer reached. gnet
// reports the listener's address, a wildcard for a listener on ":8080";
// then the socket is asked (off the hot path: a syscall per call).
func (c *conn) LocalAddr() net.Addr {
	a := c.gc.LocalAddr()
	if ta, ok := a.(*net.TCPAddr); ok && (ta.IP == nil || ta.IP.IsUnspecified()) {
		if sa, err := unix.Getsockname(c.gc.Fd()); err == nil {
			switch sa := sa.(type) {
			case *unix.SockaddrInet4:
				return &net.TCPAddr{IP: net.IPv4(sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), Port: sa.Port}
			case *unix.SockaddrInet6:
				return &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
			}
		}
	}
	return a
}

// RemoteAddr implements handlers.Conn.
func (c *conn) RemoteAddr() net.Addr { return c.gc.RemoteAddr() }

// Loop implements handlers.Conn.
func (c *conn) Loop() int { return c.l.idx }

// Value implements handlers.Conn.
func (c *conn) Value() any { return c.value }

// SetValue implements handlers.Conn.
func (c *conn) SetValue(v any) { c.value = v }

// EngineContext implements handlers.Conn.
func (c *conn) EngineContext() context.Context { return c.l.srv.ctx }

// Context implements handlers.Conn. It is made on first use — only work
// handed off the loop asks for it — and kept in the loop's table, not in
// every connection; onClose cancels it.
func (c *conn) Context() context.Context {
	if cc, ok := c.l.ctxs[c]; ok {
		return cc.ctx
	}
	ctx, cancel := context.WithCancel(context.Background())
	if c.state == stateClosed {
		cancel()
		return ctx
	}
	c.l.ctxs[c] = connCtx{ctx, cancel}
	return ctx
}

// connCtx is a connection's context and its cancel function.
type connCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// Post implements codec.Conn. fn is dropped, unrun, when the connection
// closes or starts closing before fn's turn; the session's Close releases
// what fn would have.
func (c *conn) Post(fn func(f *codec.Flow)) bool {
	if c.closed.Load() {
		return false
	}
	err := c.gc.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		c.runPosted(fn)
		return nil
	}))
	return err == nil
}

// PostWritable implements codec.Conn.
func (c *conn) PostWritable(fn func(f *codec.Flow)) bool {
	if c.closed.Load() {
		return false
	}
	err := c.gc.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		c.runWritable(fn)
		return nil
	}))
	return err == nil
}

var _ codec.Conn = (*conn)(nil)

// onTraffic handles new input (or a Wake).
func (c *conn) onTraffic() gnet.Action {
	if c.state != stateOpen || c.refused {
		// Closing, or refused: nothing more is served. Discard with n <= 0
		// drops all.
		c.dropInput()
		c.account()
		return gnet.None
	}
	// What arrived since the last look is progress of the frame or body
	// in progress (control messages are taken off once the session has
	// said which they were).
	if in := c.buffered() - int(c.held-c.sessHeld); in > 0 {
		c.winBytes += int64(in)
	}
	c.idleSince = c.l.srv.now() // traffic: not idle, whatever the phase says
	act := c.serve()
	if act == gnet.None && !c.account() {
		return gnet.None // refused for overload: closing
	}
	return act
}

// serve feeds buffered input to the session until it is consumed, the
// session waits for more, or output backs up.
func (c *conn) serve() gnet.Action {
	gc, cfg := c.gc, &c.l.srv.cfg
	for round := 0; ; round++ {
		if c.phase == codec.PhaseWait {
			return c.boundPaused()
		}
		ob := gc.OutboundBuffered()
		if ob >= cfg.HighWater || (c.paused && ob > cfg.LowWater) {
			c.pause(ob)
			return c.boundPaused()
		}
		if c.paused {
			c.resume()
		}
		n := c.buffered()
		if n == 0 || n < int(c.need) {
			return gnet.None
		}
		if round == maxRounds {
			_ = gc.Wake(nil)
			return gnet.None
		}
		in, err := c.input()
		if err != nil || len(in) == 0 {
			return gnet.None
		}
		f := c.beginFlow(ob)
		consumed, ok := c.callServe(in, f)
		if !ok {
			return gnet.Close
		}
		if consumed < 0 || consumed > len(in) {
			c.l.srv.log.Error("reactor: codec session consumed more than its input; closing the connection",
				"consumed", consumed, "input", len(in))
			return gnet.Close
		}
		// Go round again only when the session stopped at f.Limit with
		// input left: then either the output went out, or we pause. Decided
		// before finish, which may replace f.Out after a large reply.
		again := consumed > 0 && consumed < len(in) && len(f.Out) >= f.Limit
		if !c.finish(f, in, consumed) || !again {
			return gnet.None
		}
	}
}

// buffered returns the unserved input: carried over plus held by gnet.
func (c *conn) buffered() int {
	n := c.gc.InboundBuffered()
	if c.carry != nil {
		n += len(c.carry.B)
	}
	return n
}

// input returns all unserved input as one slice: a view of gnet's buffer
// when nothing is carried over, else the carry buffer with gnet's new bytes
// moved to its end.
func (c *conn) input() ([]byte, error) {
	if c.carry == nil {
		return c.gc.Peek(-1)
	}
	if c.gc.InboundBuffered() > 0 {
		b, err := c.gc.Peek(-1)
		if err != nil {
			return nil, err
		}
		c.carry.B = append(c.carry.B, b...)
		_, _ = c.gc.Discard(len(b)) // len(b) > 0: Discard(0) would drop all
	}
	return c.carry.B, nil
}

// consume drops the consumed bytes of in and carries the rest over.
func (c *conn) consume(in []byte, consumed int) {
	if c.carry != nil {
		rest := copy(c.carry.B, c.carry.B[consumed:])
		c.carry.B = c.carry.B[:rest]
		if rest == 0 {
			c.dropCarry()
		}
		return
	}
	if rest := len(in) - consumed; rest > 0 {
		c.carry = bytebufferpool.Get()
		c.carry.B = append(c.carry.B[:0], in[consumed:]...)
	}
	if len(in) > 0 {
		_, _ = c.gc.Discard(len(in)) // never 0: Discard(0) drops everything
	}
}

func (c *conn) dropCarry() {
	if c.carry != nil {
		if cap(c.carry.B) <= maxPooledCarry {
			bytebufferpool.Put(c.carry)
		} // else dropped: a pool keeps what it is given until collections pass
		c.carry = nil
	}
}

// maxPooledCarry is the largest carry buffer given back to the pool. The
// pool calibrates its own bound from what it sees, so a storm of large
// partial frames would teach it to keep megabyte buffers for minutes
// after the storm has passed.
const maxPooledCarry = 64 << 10

// dropInput drops all unserved input.
func (c *conn) dropInput() {
	c.dropCarry()
	_, _ = c.gc.Discard(-1) // n <= 0 drops all
}

// account brings the connection's count in its loop's held input up to
// date — its unconsumed input plus what its session holds — and reports
// false when that refused it for overload: its held input grew past its
// floor while the process is over its input budget.
func (c *conn) account() bool {
	n := int32(min(c.buffered()+int(c.sessHeld), math.MaxInt32))
	d := n - c.held
	if d == 0 {
		return true
	}
	c.held = n
	l := c.l
	l.held += int64(d)
	l.stats.held.Store(l.held)
	b := &l.srv.budget
	if d < 0 || c.state != stateOpen || c.refused || int(n) <= b.floor || !b.over() {
		return true
	}
	c.overload()
	return false
}

// overload refuses a connection whose partial input grew while the process
// is over its input budget: the session answers with its protocol's error
// and the connection closes, once the session's handed-off work is done if
// it asks so.
func (c *conn) overload() {
	c.l.stats.overloaded.Add(1)
	c.l.srv.log.Debug("reactor: input budget spent; refusing a connection's partial input",
		"remote", c.gc.RemoteAddr(), "held", c.held, "budget", c.l.srv.budget.limit)
	c.refuse(codec.RefuseOverload)
}

// refuse ends the conversation for reason r: the input is dropped, the
// session gives its last reply, and the connection closes — after a
// timeout at once, after an overload when the session says so.
func (c *conn) refuse(r codec.Refusal) {
	c.refused = true
	f := c.beginFlow(c.gc.OutboundBuffered())
	in := c.inputStart()
	if !c.guarded(func() { c.sess.Refuse(r, c.phase, in, f) }) {
		f.Out, f.Close = f.Out[:0], true
	}
	// What the connection held is free before its last reply leaves.
	c.dropInput()
	c.sessHeld = int32(min(max(f.Held, 0), math.MaxInt32))
	c.account()
	// Only a session that waits for work it handed off may stay open (it
	// closes when the work is answered); input is dropped meanwhile.
	if r == codec.RefuseTimeout || !f.Busy && f.Phase != codec.PhaseWait {
		f.Close = true
	}
	c.finish(f, nil, 0)
}

// inputStart returns the first bytes of the unconsumed input, at most
// codec.RefuseInput: what a session refusing a partial frame needs to name
// it (a msgid, say). A view: gnet copies only when those few bytes wrap
// around its ring, where the whole input would have cost a copy of up to
// megabytes on each refusal, while the process is short of memory.
func (c *conn) inputStart() []byte {
	if c.carry != nil {
		return c.carry.B[:min(len(c.carry.B), codec.RefuseInput)]
	}
	n := min(c.gc.InboundBuffered(), codec.RefuseInput)
	if n == 0 {
		return nil
	}
	b, err := c.gc.Peek(n)
	if err != nil {
		return nil
	}
	return b
}

// boundPaused closes a paused or waiting connection whose input keeps
// growing.
func (c *conn) boundPaused() gnet.Action {
	limit := c.l.srv.cfg.MaxInboundPaused
	if c.phase == codec.PhaseWait {
		limit = c.l.srv.cfg.MaxInboundWait
	}
	if n := c.buffered(); n > limit {
		c.l.srv.log.Warn("reactor: closing a connection that keeps sending while its output is not read",
			"remote", c.gc.RemoteAddr(), "inbound", n, "outbound", c.gc.OutboundBuffered())
		c.l.stats.errors.Add(1)
		c.reset()
		return gnet.Close
	}
	return gnet.None
}

// pause stops serving until the output drains; a write-progress timer
// replaces the phase's.
func (c *conn) pause(ob int) {
	if !c.paused {
		c.paused = true
		c.outMark = int32(min(ob, math.MaxInt32))
		c.l.wheel.schedule(c, c.l.srv.now()+int64(c.l.srv.cfg.CloseTimeout))
	}
	c.l.watchConn(c)
}

// resume ends a pause. The input that waited had no chance to progress,
// so its phase's timer starts afresh.
func (c *conn) resume() {
	c.paused = false
	c.setPhase(c.phase, true)
	c.releaseWriters()
}

// progress re-arms the write-progress timer when the peer read some output
// since the last look, and reports whether output is still buffered.
func (c *conn) progress() bool {
	ob := c.gc.OutboundBuffered()
	if ob < int(c.outMark) {
		c.outMark = int32(ob)
		c.l.wheel.schedule(c, c.l.srv.now()+int64(c.l.srv.cfg.CloseTimeout))
	}
	return ob > 0
}

func (c *conn) beginFlow(ob int) *codec.Flow {
	f := &c.l.flow
	f.Out = f.Out[:0]
	f.Limit = max(c.l.srv.cfg.HighWater-ob, 1)
	f.Draining = c.l.srv.draining.Load()
	f.Close, f.Need, f.Phase, f.Busy = false, 0, c.phase, c.busy
	f.Held, f.Control = int(c.sessHeld), 0
	f.Requests, f.Errors, f.Panics = 0, 0, 0
	return f
}

// callServe runs the session; a panic in it (a codec bug, since handler
// panics are the codec's to recover) drops this connection only.
func (c *conn) callServe(in []byte, f *codec.Flow) (n int, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.sessionPanic(p)
			ok = false
		}
	}()
	return c.sess.Serve(in, f), true
}

func (c *conn) sessionPanic(p any) {
	c.l.stats.panics.Add(1)
	c.l.srv.log.Error("reactor: codec session panicked; closing its connection",
		"remote", c.gc.RemoteAddr(), "panic", p, "stack", string(debug.Stack()))
}

// finish writes the output of a call over in, of which the session
// consumed the first bytes, and applies what the session asked for. It
// reports whether the connection is still open for serving.
func (c *conn) finish(f *codec.Flow, in []byte, consumed int) bool {
	st := &c.l.stats
	if f.Requests > 0 {
		st.requests.Add(uint64(f.Requests))
	}
	if f.Errors > 0 {
		st.errors.Add(uint64(f.Errors))
	}
	if f.Panics > 0 {
		st.panics.Add(uint64(f.Panics))
	}
	if len(f.Out) > 0 {
		_, _ = c.gc.Write(f.Out) // on error gnet closes the connection
		if cap(f.Out) > 1<<20 {
			f.Out = make([]byte, 0, 64<<10) // do not keep a huge reply's buffer
		}
		if c.state == stateClosed {
			return false
		}
	}
	c.sessHeld = int32(min(max(f.Held, 0), math.MaxInt32))
	if f.Close {
		c.startClose() // drops the input, consumed or not
		return false
	}
	c.consume(in, consumed)
	c.need = int32(min(max(f.Need, 0), math.MaxInt32))
	if c.busy && !f.Busy {
		c.idleSince = c.l.srv.now() // idle from now, not from before the work
	}
	// Work was just handed off: see whether its client is still there
	// (not again at each read while the work runs).
	handedOff := (f.Busy || f.Phase == codec.PhaseWait) && !c.busy && c.phase != codec.PhaseWait
	c.busy = f.Busy
	if handedOff && len(c.l.ctxs) > 0 {
		c.watchWork()
	}
	if f.Control > 0 {
		c.winBytes = max(c.winBytes-int64(f.Control), 0) // not progress
	}
	// A frame or request completed: consumed input that was not control,
	// with nothing left held for a call in progress.
	c.setPhase(f.Phase, consumed > f.Control && f.Held == 0)
	return true
}

// setPhase records the session's phase and arms the matching deadline.
// fresh says a frame or request completed since the last call, so a
// PhaseHead or PhaseBody now is a new one, whose deadline starts afresh.
func (c *conn) setPhase(p codec.Phase, fresh bool) {
	s := c.l.srv
	now := s.now()
	var d int64
	switch p {
	case codec.PhaseIdle:
		if c.phase != codec.PhaseIdle {
			c.idleSince = now
		}
		if !c.busy { // a busy connection waits for its handed-off work
			d = now + int64(s.cfg.IdleTimeout)
		}
	case codec.PhaseHead, codec.PhaseBody:
		if c.phase != p || fresh {
			// What of the new frame or body is here already counts.
			c.winStart, c.winBytes = now, int64(c.buffered())
		}
		d = c.winStart + c.phaseTimeout(p)
	case codec.PhaseWait:
		d = 0
	default: // a codec bug: treat as idle rather than run without a timer
		p = codec.PhaseIdle
		d = now + int64(s.cfg.IdleTimeout)
	}
	c.phase = p
	if c.paused {
		return // the write-progress timer of pause stays armed
	}
	c.l.wheel.schedule(c, d)
}

// phaseTimeout is the timeout, and the rate window, of a frame or body in
// progress.
func (c *conn) phaseTimeout(p codec.Phase) int64 {
	if p == codec.PhaseHead {
		return int64(c.l.srv.cfg.HeaderTimeout)
	}
	return int64(c.l.srv.cfg.BodyTimeout)
}

// keptRate reports whether the frame or body in progress received at
// least the minimum rate over the window that just ended, and if so
// starts the next window.
func (c *conn) keptRate(now int64) bool {
	cfg := &c.l.srv.cfg
	if c.winBytes <= 0 {
		return false
	}
	if cfg.MinRate > 0 {
		// bytes ≥ rate × elapsed, in float: the product overflows int64
		// for a year-long window at a high rate.
		if float64(c.winBytes) < float64(cfg.MinRate)*float64(now-c.winStart)/1e9 {
			return false
		}
	}
	c.winStart, c.winBytes = now, 0
	c.l.wheel.schedule(c, now+c.phaseTimeout(c.phase))
	return true
}

// runPosted runs work handed back by Post, on the loop.
func (c *conn) runPosted(fn func(f *codec.Flow)) {
	if c.state != stateOpen {
		return
	}
	f := c.beginFlow(c.gc.OutboundBuffered())
	if !c.guarded(func() { fn(f) }) {
		c.abort()
		return
	}
	if !c.finish(f, nil, 0) {
		c.account()
		return
	}
	if !c.refused && c.buffered() > 0 && c.serve() == gnet.Close {
		c.abort()
		return
	}
	c.account()
}

// runWritable runs fn now if the output is below the high-water mark and
// the connection is not paused, else keeps it for when the output drains
// (see recheck).
func (c *conn) runWritable(fn func(f *codec.Flow)) {
	if c.state != stateOpen {
		return
	}
	if ob := c.gc.OutboundBuffered(); c.paused || ob >= c.l.srv.cfg.HighWater {
		c.l.writers[c] = append(c.l.writers[c], fn)
		c.pause(ob)
		return
	}
	c.runPosted(fn)
}

// guarded runs fn, off the hot path, and reports false if it panicked; the
// panic is logged and counted like a session's.
func (c *conn) guarded(fn func()) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.sessionPanic(p)
			ok = false
		}
	}()
	fn()
	return true
}

// expire handles a deadline that passed.
func (c *conn) expire() {
	if (c.paused || c.state == stateFlushing) && c.gc.OutboundBuffered() < int(c.outMark) {
		// The peer read since the last look (which came before the
		// deadline, not at it): the write-progress timer starts again.
		c.progress()
		return
	}
	switch {
	case c.state != stateOpen:
		c.drop() // it could not flush, or the peer never closed
	case c.paused:
		c.l.srv.log.Debug("reactor: dropping a connection whose peer stopped reading", "remote", c.gc.RemoteAddr())
		c.drop()
	case (c.phase == codec.PhaseHead || c.phase == codec.PhaseBody) && c.keptRate(c.l.srv.now()):
		// Not complete, but coming at the minimum rate: the next window.
	default:
		c.l.stats.timedOut.Add(1)
		c.refuse(codec.RefuseTimeout)
	}
}

// startClose begins a graceful close: drop the input, send the output,
// shut the write side, wait for the peer's FIN.
func (c *conn) startClose() {
	if c.state != stateOpen {
		return
	}
	c.state = stateFlushing
	c.paused = false
	c.dropInput() // nothing after the last reply is served
	c.outMark = int32(min(c.gc.OutboundBuffered(), math.MaxInt32))
	c.l.wheel.schedule(c, c.l.srv.now()+int64(c.l.srv.cfg.CloseTimeout))
	c.recheck()
}

// recheck looks at a watched connection again (from a sweep, or right away).
func (c *conn) recheck() {
	cfg := &c.l.srv.cfg
	switch c.state {
	case stateOpen:
		if !c.paused {
			return
		}
		if c.gc.OutboundBuffered() <= cfg.LowWater {
			c.resume()
			_ = c.gc.Wake(nil)
			return
		}
		c.progress() // the peer reads: keep it
		c.l.watchConn(c)
	case stateFlushing:
		if c.progress() {
			c.l.watchConn(c)
			return
		}
		c.state = stateLinger
		if err := unix.Shutdown(c.gc.Fd(), unix.SHUT_WR); err != nil {
			c.abort()
			return
		}
		c.l.wheel.schedule(c, c.l.srv.now()+int64(cfg.Linger))
	}
}

// releaseWriters queues again, in order, the PostWritable work that waited
// for the output to drain. Every resume releases it, whether a sweep or
// new input resumed the connection; it runs after the current callback
// (work that adds enough output to pause the connection again waits anew).
func (c *conn) releaseWriters() {
	ws, ok := c.l.writers[c]
	if !ok {
		return
	}
	delete(c.l.writers, c)
	for _, fn := range ws {
		err := c.gc.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			c.runWritable(fn)
			return nil
		}))
		if err != nil {
			return // the loop is stopping: the connection closes with it
		}
	}
}

// watchWork cancels the connection's context at once when the peer has
// already gone while work was handed off for it. A client that sends a
// large request and leaves is otherwise noticed only when the loop reads
// its FIN, a round of reads over every other connection later: by then a
// worker has taken the request, and runs it for nobody. One peek when a
// connection starts waiting for handed-off work, only for connections
// whose work watches a context (handlers.Conn.Context).
func (c *conn) watchWork() {
	cc, ok := c.l.ctxs[c]
	if !ok || cc.ctx.Err() != nil {
		return
	}
	var b [1]byte
	n, _, err := unix.Recvfrom(c.gc.Fd(), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if n == 0 && err == nil || err != nil && err != unix.EAGAIN && err != unix.EINTR {
		// EOF or a reset: gnet closes the connection at its next read
		// anyway, whatever is still to be answered.
		cc.cancel()
	}
}

// quiet reports whether nothing is buffered either way, nor waiting in the
// socket.
func (c *conn) quiet() bool {
	if c.buffered() > 0 || c.gc.OutboundBuffered() > 0 {
		return false
	}
	var b [1]byte
	n, _, err := unix.Recvfrom(c.gc.Fd(), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return !(err == nil && n > 0)
}

// drop closes the connection now with a reset (SO_LINGER {1, 0}): the
// kernel discards the output it still holds instead of keeping it, outside
// our memory and our connection cap, in an orphaned socket that a peer
// with a closed window could hold for minutes. For the connections
// dropped for abuse: a peer that stopped reading, one that could not
// flush, or would not close. Loop only, outside of a gnet callback.
func (c *conn) drop() {
	c.reset()
	c.abort()
}

// reset makes the coming close of the connection a reset (see drop); a
// callback then returns gnet.Close.
func (c *conn) reset() {
	if c.state != stateClosed {
		c.l.stats.resets.Add(1)
		_ = c.gc.SetLinger(0)
	}
}

// abort closes the connection now, whatever is buffered. Loop only, outside
// of a gnet callback that could return an action instead.
func (c *conn) abort() {
	if c.state == stateClosed {
		return
	}
	_ = c.gc.EventLoop().Close(c.gc)
}

// onClose releases the connection; gnet has closed it.
func (c *conn) onClose() {
	if c.state == stateClosed {
		return
	}
	c.state = stateClosed
	c.closed.Store(true)
	l, s := c.l, c.l.srv
	l.wheel.remove(c)
	l.unlink(c)
	c.dropCarry()
	delete(l.writers, c) // dropped unrun: the session's Close releases their work
	if cc, ok := l.ctxs[c]; ok {
		cc.cancel() // work off the loop learns that the client left
		delete(l.ctxs, c)
	}
	c.guarded(c.sess.Close)
	if c.announced {
		c.notify(handlers.StateClosed)
	}
	if c.held != 0 {
		l.held -= int64(c.held)
		l.stats.held.Store(l.held)
		c.held = 0
	}
	l.stats.open.Add(-1)
	if s.leave(s.lns[c.ln]) == 0 && s.draining.Load() {
		select {
		case s.drained <- struct{}{}:
		default:
		}
	}
}
