package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/offload"
)

// Listener binds an address to the codec that serves it.
type Listener struct {
	Addr  string      // host:port; port 0 picks a free port
	Codec codec.Codec // serves every connection accepted here

	// MaxConns caps the connections open on this listener; default, and
	// upper bound, the server's cap. A connection past it is reset as soon
	// as it is accepted.
	MaxConns int
	// Reserve is how many of the server's connection slots only this
	// listener may take, so that a flood on another listener cannot starve
	// it; default, when the server has several listeners, a quarter of the
	// cap shared among them (cap / (4 × listeners)). Negative: none. The
	// reserves together take at most half the cap.
	Reserve int
}

// Server runs the event loops. Create it with [New], start it with
// [Server.Run], stop it with [Server.Shutdown].
type Server struct {
	cfg      Config
	log      *slog.Logger
	lns      []*listener
	budget   budget
	maxConns atomic.Int64
	start    time.Time
	clock    atomic.Int64 // nanoseconds since start, refreshed every tick
	ctx      context.Context
	cancel   context.CancelFunc

	draining atomic.Bool
	stopping atomic.Bool
	drained  chan struct{} // signalled when open drops to 0 while draining

	loops   []*loop // by index; fixed size cfg.Loops
	reclaim reclaimer
	ticks   int // OnTick calls, on gnet's ticker goroutine
	// byLoop maps gnet's loops, learnt at their first connection, to ours.
	// Copied on write under mu, read without a lock at every accept.
	byLoop atomic.Pointer[map[gnet.EventLoop]*loop]

	mu       sync.Mutex
	eng      gnet.Engine
	booted   bool
	bootedAt time.Time
	ready    chan struct{}
	done     chan struct{}
	started  bool
	shutOnce sync.Once
	shutDone chan struct{}
	shutErr  error

	// open counts connections across loops. Every accept and close writes
	// it, so it sits on a cache line of its own, away from the fields every
	// request reads (clock, draining).
	_    [64]byte
	open atomic.Int64
	_    [64]byte
}

type listener struct {
	Listener
	port  int
	probe int // descriptor holding a port 0 reservation until gnet binds, or -1
	addr  net.Addr
	name  string // addr.String(), for Stats

	// Set at Run: the share of the connection slots.
	max, reserve int64
	// open and refused are written at accept and close on any loop; each
	// listener's sit on their own cache line.
	_       [64]byte
	open    atomic.Int64
	refused atomic.Uint64
	_       [64]byte
}

// New prepares a server; add listeners with [Server.Listen], then Run.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		start:    time.Now(),
		drained:  make(chan struct{}, 1),
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		shutDone: make(chan struct{}),
	}
	s.byLoop.Store(&map[gnet.EventLoop]*loop{})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.loops = make([]*loop, cfg.Loops)
	for i := range s.loops {
		s.loops[i] = newLoop(s, i)
	}
	s.budget.limit, s.budget.loops = cfg.InputBudget, s.loops
	s.reclaim.log = cfg.Logger
	return s
}

// Listen adds a listener and returns its address. A port 0 is resolved to
// a free port now, so the address is final before Run. Listen must be
// called before Run.
func (s *Server) Listen(l Listener) (net.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil, errors.New("reactor: Listen after Run")
	}
	if l.Codec == nil {
		return nil, errors.New("reactor: Listen without a codec")
	}
	if len(s.lns) == 255 {
		return nil, errors.New("reactor: too many listeners")
	}
	ln, err := reserve(l)
	if err != nil {
		return nil, err
	}
	for _, o := range s.lns {
		if o.port == ln.port && o.Codec != l.Codec {
			closeProbe(ln)
			return nil, fmt.Errorf("reactor: port %d is already bound to another codec", ln.port)
		}
	}
	s.lns = append(s.lns, ln)
	return ln.addr, nil
}

// Addrs returns the bound addresses, in the order of the listeners.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]net.Addr, len(s.lns))
	for i, l := range s.lns {
		out[i] = l.addr
	}
	return out
}

// MaxConns returns the connection cap in force (0 before Run).
func (s *Server) MaxConns() int { return int(s.maxConns.Load()) }

// Ready is closed once the listeners accept connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Context is the engine-wide context handed to handlers: it is cancelled
// when draining starts.
func (s *Server) Context() context.Context { return s.ctx }

// now returns the coarse clock: nanoseconds since start, at most one tick
// old.
func (s *Server) now() int64 { return s.clock.Load() }

func (s *Server) tickClock() int64 {
	n := int64(time.Since(s.start))
	s.clock.Store(n)
	return n
}

// Run serves until Shutdown completes. It blocks.
//
// gnet stops all its loops when accepting fails (EMFILE, say) and then
// returns as if asked to; Run notices that nobody asked, logs it and starts
// the loops again, so a descriptor shortage never ends the process.
func (s *Server) Run() error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("reactor: Run called twice")
	}
	if len(s.lns) == 0 {
		s.mu.Unlock()
		return errors.New("reactor: no listener")
	}
	s.started = true
	s.mu.Unlock()
	limit, err := raiseFileLimit()
	if err != nil {
		s.log.Warn("reactor: cannot raise the descriptor limit", "err", err)
	}
	s.maxConns.Store(connCap(limit, s.cfg.Loops, len(s.lns), s.cfg.MaxConns))
	s.shareSlots()
	s.budget.floor = budgetFloor(s.budget.limit, s.maxConns.Load())
	defer close(s.done)
	defer s.closeProbes()

	addrs := make([]string, len(s.lns))
	for i, l := range s.lns {
		addrs[i] = "tcp://" + net.JoinHostPort(hostOf(l.Addr), strconv.Itoa(l.port))
	}
	opts := []gnet.Option{
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithReusePort(true),
		gnet.WithTicker(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{s.log}),
	}
	backoff := 50 * time.Millisecond
	everBooted := false
	for {
		s.tickClock()
		err := gnet.Rotate(&handler{s}, addrs, opts...)
		s.mu.Lock()
		booted, up := s.booted, time.Since(s.bootedAt)
		s.booted = false
		for _, l := range s.loops {
			l.lost()
		}
		s.byLoop.Store(&map[gnet.EventLoop]*loop{})
		s.mu.Unlock()
		if s.stopping.Load() {
			return nil
		}
		if !everBooted && !booted && err != nil {
			return fmt.Errorf("reactor: %w", err) // the first start failed: bad address, port taken
		}
		if booted {
			everBooted = true
			if up > 10*time.Second {
				backoff = 50 * time.Millisecond // a one-off: restart at once
			}
			s.log.Error("reactor: event loops stopped unexpectedly (accept failure?); starting them again",
				"err", err, "up", up, "in", backoff)
		} else {
			s.log.Error("reactor: cannot start the event loops again; retrying", "err", err, "in", backoff)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// Shutdown drains the server: it stops accepting (new connections are
// closed at once), lets every request already received finish, closes idle
// keep-alive connections, ends busy ones after their next response, waits
// for output to be sent, then stops the loops. When ctx ends first, the
// connections still open are dropped. It returns ctx's error in that case.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutOnce.Do(func() {
		s.shutErr = s.shutdown(ctx)
		close(s.shutDone)
	})
	select {
	case <-s.shutDone:
		return s.shutErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.cancel()
	for _, l := range s.loops {
		l.post(l.drainSweep)
	}
	var err error
	for s.open.Load() > 0 && err == nil {
		select {
		case <-s.drained:
		case <-time.After(s.cfg.Tick):
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.stopping.Store(true)
	s.mu.Lock()
	eng, booted, started := s.eng, s.booted, s.started
	s.mu.Unlock()
	if !started {
		return err
	}
	if booted {
		// Engine.Stop signals the loops at once, then polls every 500 ms
		// for them to finish; Run returning is the better signal.
		go func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if e := eng.Stop(stopCtx); e != nil && !errors.Is(e, context.DeadlineExceeded) {
				s.log.Debug("reactor: stopping event loops", "err", e)
			}
		}()
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.log.Error("reactor: event loops did not stop")
	}
	return err
}

// Stats returns a snapshot of the per-loop and per-listener counters and
// of the input budget.
func (s *Server) Stats() handlers.Stats {
	st := handlers.Stats{
		Draining:    s.draining.Load(),
		Loops:       make([]handlers.LoopStats, len(s.loops)),
		InputBudget: s.budget.limit,
		OffloadHeld: s.budget.extra.Load(),
	}
	for i, l := range s.loops {
		st.Loops[i] = l.stats.snapshot(i)
	}
	s.mu.Lock()
	lns := s.lns
	s.mu.Unlock()
	st.Listeners = make([]handlers.ListenerStats, len(lns))
	for i, ln := range lns {
		st.Listeners[i] = handlers.ListenerStats{Addr: ln.name, Connections: ln.open.Load(), Refused: ln.refused.Load()}
	}
	return st
}

// Budget returns the server's input budget (Config.InputBudget), for the
// copies of input handed to the offload pool to count against.
func (s *Server) Budget() offload.Budget { return &s.budget }

// InputBudget returns the input budget in force, in bytes.
func (s *Server) InputBudget() int64 { return s.budget.limit }

func (s *Server) closeProbes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.lns {
		closeProbe(ln)
	}
}

// loopFor returns our state for gnet's loop el, taking the next free index
// the first time el is seen. Lock-free but for that first time.
func (s *Server) loopFor(el gnet.EventLoop) *loop {
	if l, ok := (*s.byLoop.Load())[el]; ok {
		return l
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.byLoop.Load()
	if l, ok := old[el]; ok {
		return l
	}
	l := s.loops[len(s.loops)-1] // more gnet loops than ours cannot happen; share rather than fail
	for _, cand := range s.loops {
		if cand.el == nil {
			cand.attach(el)
			l = cand
			break
		}
	}
	m := make(map[gnet.EventLoop]*loop, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[el] = l
	s.byLoop.Store(&m)
	return l
}
