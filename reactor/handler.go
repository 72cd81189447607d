package reactor

import (
	"runtime/debug"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// handler receives gnet's callbacks. OnOpen, OnTraffic and OnClose run on
// the connection's loop; OnBoot and OnTick on goroutines of their own.
type handler struct {
	s *Server
}

var _ gnet.EventHandler = (*handler)(nil)

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	s := h.s
	s.mu.Lock()
	if s.stopping.Load() { // Shutdown came before the loops started
		s.mu.Unlock()
		return gnet.Shutdown
	}
	s.eng, s.booted, s.bootedAt = eng, true, time.Now()
	s.mu.Unlock()
	// gnet's first listeners are bound: the port reservations can go.
	s.closeProbes()
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
	return gnet.None
}

func (h *handler) OnShutdown(gnet.Engine) {}

func (h *handler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := h.s
	l := s.loopFor(gc.EventLoop())
	if s.draining.Load() {
		l.stats.refused.Add(1)
		return nil, gnet.Close
	}
	ln, idx := s.listenerFor(gc.LocalAddr())
	if !s.admit(ln) {
		// At the cap, or at this listener's share: refused at once, with a
		// reset, so that the client knows without waiting and no socket
		// lingers on our side.
		l.stats.refused.Add(1)
		ln.refused.Add(1)
		_ = gc.SetLinger(0)
		return nil, gnet.Close
	}
	l.stats.open.Add(1)
	l.stats.accepted.Add(1)
	c := &conn{gc: gc, l: l, ln: idx}
	gc.SetContext(c)
	l.link(c)
	if !c.newSession(ln.Codec) {
		c.sess = nopSession{}
		return nil, gnet.Close
	}
	c.setPhase(codec.PhaseIdle, false)
	c.announced = true
	c.notify(handlers.StateOpen)
	return nil, gnet.None
}

// notify tells the ConnState observer, if any.
func (c *conn) notify(st handlers.ConnState) {
	fn := c.l.srv.cfg.ConnState
	if fn == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			c.l.srv.log.Error("reactor: ConnState observer panicked", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn(c, st)
}

func (c *conn) newSession(cd codec.Codec) bool {
	return c.guarded(func() { c.sess = cd.NewSession(c) }) && c.sess != nil
}

func (h *handler) OnClose(gc gnet.Conn, _ error) gnet.Action {
	if c, ok := gc.Context().(*conn); ok {
		c.onClose()
	}
	return gnet.None
}

func (h *handler) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	return c.onTraffic()
}

func (h *handler) OnTick() (time.Duration, gnet.Action) {
	s := h.s
	s.tickClock()
	for _, l := range s.loops {
		l.requestSweep()
	}
	if s.ticks++; !s.cfg.DisableReclaim && s.ticks%10 == 0 {
		s.reclaim.check(s.budget.held(), s.open.Load(), s.reclaim.readHeap(), time.Now())
	}
	return s.cfg.Tick, gnet.None
}

// nopSession stands in when a codec failed to make a session.
type nopSession struct{}

func (nopSession) Serve([]byte, *codec.Flow) int                          { return 0 }
func (nopSession) Refuse(codec.Refusal, codec.Phase, []byte, *codec.Flow) {}
func (nopSession) Close()                                                 {}
