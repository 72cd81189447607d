package reactor

import (
	"net"
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
	if s.open.Add(1) > s.maxConns.Load() {
		s.open.Add(-1)
		l.stats.refused.Add(1)
		return nil, gnet.Close
	}
	l.stats.open.Add(1)
	l.stats.accepted.Add(1)
	c := &conn{gc: gc, l: l}
	gc.SetContext(c)
	l.link(c)
	cd := s.codecFor(gc.LocalAddr())
	if !c.newSession(cd) {
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
	return s.cfg.Tick, gnet.None
}

// codecFor finds the codec of the listener a connection came in on. gnet
// reports the listener's own address as the local address.
func (s *Server) codecFor(a net.Addr) codec.Codec {
	port := 0
	if ta, ok := a.(*net.TCPAddr); ok {
		port = ta.Port
	}
	for i := range s.lns {
		if s.lns[i].port == port {
			return s.lns[i].Codec
		}
	}
	return s.lns[0].Codec
}

// nopSession stands in when a codec failed to make a session.
type nopSession struct{}

func (nopSession) Serve([]byte, *codec.Flow) int    { return 0 }
func (nopSession) Timeout(codec.Phase, *codec.Flow) {}
func (nopSession) Close()                           {}
