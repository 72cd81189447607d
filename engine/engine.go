package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/automaxprocs/maxprocs"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/offload"
	"github.com/tokamak-io/tokamak/reactor"
)

// Engine is a tokamak server: event loops, the listeners bound to codecs,
// and the handler registry they dispatch to.
//
// Register handlers and listeners before Run; the registry is read-only
// once Run starts. Shutdown and Stats may be called from any goroutine.
type Engine struct {
	cfg Config
	log *slog.Logger
	reg *handlers.Registry
	srv *reactor.Server
	// pool exists from Run on; stopped when Run returns, it takes no more
	// work.
	pool   atomic.Pointer[offload.Pool]
	loops  int
	mu     sync.Mutex
	codecs map[string]codec.Codec
	addrs  []net.Addr
	lns    []codec.Listener
	ran    bool
}

var maxprocsOnce sync.Once

// New returns an engine configured by cfg.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	if cfg.OffloadQueue <= 0 {
		cfg.OffloadQueue = 1024
	}
	loops := cfg.Loops
	if loops <= 0 {
		maxprocsOnce.Do(func() { _, _ = maxprocs.Set(maxprocs.Logger(func(string, ...any) {})) })
		loops = runtime.GOMAXPROCS(0)
	}
	if cfg.OffloadWorkers <= 0 {
		cfg.OffloadWorkers = OffloadWorkersPerLoop * loops
	}
	e := &Engine{
		cfg:    cfg,
		log:    cfg.Logger,
		reg:    handlers.NewRegistry(),
		loops:  loops,
		codecs: map[string]codec.Codec{},
	}
	e.srv = reactor.New(reactor.Config{
		Loops:            loops,
		MaxConns:         cfg.MaxConns,
		HeaderTimeout:    cfg.HeaderTimeout,
		BodyTimeout:      cfg.BodyTimeout,
		MinRate:          cfg.MinRate,
		InputBudget:      cfg.InputBudget,
		DisableReclaim:   cfg.DisableReclaim,
		IdleTimeout:      cfg.IdleTimeout,
		CloseTimeout:     cfg.CloseTimeout,
		Linger:           cfg.Linger,
		HighWater:        cfg.HighWater,
		LowWater:         cfg.LowWater,
		MaxInboundPaused: cfg.MaxInboundPaused,
		MaxInboundWait:   maxInboundWait(cfg),
		ConnState:        cfg.ConnState,
		Logger:           cfg.Logger,
	})
	return e
}

// Handlers returns the registry the engine's codecs dispatch to.
func (e *Engine) Handlers() *handlers.Registry { return e.reg }

// Handle registers h for method and pattern (see [handlers.Registry.Handle]).
// It panics after Run has started.
func (e *Engine) Handle(method, pattern string, h handlers.Handler) {
	e.reg.Handle(method, pattern, h)
}

// HandleFunc registers f for method and pattern.
func (e *Engine) HandleFunc(method, pattern string, f func(*handlers.Response, *handlers.Request)) {
	e.reg.HandleFunc(method, pattern, f)
}

// HandleRPC registers m as the unary RPC method name, reachable over every
// RPC codec (see [handlers.Registry.HandleRPC]). It panics after Run has
// started.
func (e *Engine) HandleRPC(name string, m handlers.Method) { e.reg.HandleRPC(name, m) }

// HandleRPCFunc registers f as the unary RPC method name.
func (e *Engine) HandleRPCFunc(name string, f func(*handlers.Reply, *handlers.Call)) {
	e.reg.HandleRPCFunc(name, f)
}

// HandleStream registers h for the streams opened with event (see
// [handlers.Registry.HandleStream]). It panics after Run has started.
func (e *Engine) HandleStream(event string, h handlers.StreamHandler) { e.reg.HandleStream(event, h) }

// Loops returns the number of event loops.
func (e *Engine) Loops() int { return e.loops }

// Listen adds a listener given as a URL whose scheme names the codec:
// "http://:8080", "http://127.0.0.1:0". It returns the bound address; a port
// 0 is resolved to a free port here. The codec must be registered, which a
// blank import of its package does (import _
// "github.com/tokamak-io/tokamak/codec/http1").
//
// The query sets the listener's share of the connection slots
// (reactor.Listener): max_conns caps its connections (default: the
// engine's cap), reserve keeps that many slots for it alone (default, with
// several listeners, cap / (4 × listeners); 0: none). For instance
// "cocaine://:10054?max_conns=5000&reserve=100".
func (e *Engine) Listen(rawURL string) (net.Addr, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("engine: listen %q: %w", rawURL, err)
	}
	if u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("engine: listen %q: want scheme://host:port", rawURL)
	}
	share, err := listenShare(u.Query())
	if err != nil {
		return nil, fmt.Errorf("engine: listen %q: %w", rawURL, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ran {
		return nil, errors.New("engine: Listen after Run")
	}
	cd, ok := e.codecs[u.Scheme]
	if !ok {
		f, err := codec.Lookup(u.Scheme)
		if err != nil {
			return nil, fmt.Errorf("engine: listen %q: %w", rawURL, err)
		}
		cd, err = f(codec.Env{Handlers: e.reg, Limits: e.cfg.Limits, Loops: e.loops, Logger: e.log, Pool: enginePool{e}, Listeners: e.listeners})
		if err != nil {
			return nil, fmt.Errorf("engine: listen %q: %w", rawURL, err)
		}
		e.codecs[u.Scheme] = cd
	}
	addr, err := e.srv.Listen(reactor.Listener{Addr: u.Host, Codec: cd, MaxConns: share.MaxConns, Reserve: share.Reserve})
	if err != nil {
		return nil, fmt.Errorf("engine: listen %q: %w", rawURL, err)
	}
	e.addrs = append(e.addrs, addr)
	e.lns = append(e.lns, codec.Listener{Scheme: u.Scheme, Addr: addr})
	return addr, nil
}

// Addrs returns the addresses of the listeners, in the order they were
// added.
func (e *Engine) Addrs() []net.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]net.Addr(nil), e.addrs...)
}

// Ready is closed once the engine accepts connections.
func (e *Engine) Ready() <-chan struct{} { return e.srv.Ready() }

// Run serves until ctx ends or Shutdown is called, and returns when the
// engine has stopped. When ctx ends, Run shuts down gracefully within
// Config.ShutdownTimeout. It returns an error when the listeners cannot be
// bound, or when the graceful shutdown ran out of time.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.ran {
		e.mu.Unlock()
		return errors.New("engine: Run called twice")
	}
	e.ran = true
	e.mu.Unlock()
	e.reg.Freeze()
	pool := offload.New(e.cfg.OffloadWorkers, e.cfg.OffloadQueue, e.srv.Budget(), e.log)
	e.pool.Store(pool)
	defer pool.Stop() // handlers still running finish in the background

	errc := make(chan error, 1)
	go func() { errc <- e.srv.Run() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownTimeout)
	defer cancel()
	err := e.srv.Shutdown(sctx)
	if rerr := <-errc; err == nil {
		err = rerr
	}
	return err
}

// Shutdown stops the engine gracefully: it stops accepting, lets requests
// already received finish (each gets its response), closes idle keep-alive
// connections, ends the others with `Connection: close` on their next
// response, waits for output to be sent, then stops the event loops. When
// ctx ends first, the connections still open are dropped and ctx's error is
// returned. Run returns once Shutdown is done; calling Shutdown again waits
// for the first call and returns its result.
//
// Shutdown waits for the event loops, so it must not be called from a
// handler (which runs on one): start it on its own goroutine there.
func (e *Engine) Shutdown(ctx context.Context) error {
	return e.srv.Shutdown(ctx)
}

// Stats returns a snapshot of the per-loop and per-listener counters, the
// input budget and the offload pool's part of it.
func (e *Engine) Stats() handlers.Stats {
	st := e.srv.Stats()
	if p := e.pool.Load(); p != nil {
		st.OffloadDropped = p.Dropped()
	}
	return st
}

// InputBudget returns the input budget in force, in bytes.
func (e *Engine) InputBudget() int64 { return e.srv.InputBudget() }

// OffloadWorkersPerLoop is the default number of offload workers per event
// loop (Config.OffloadWorkers).
const OffloadWorkersPerLoop = 4

// MaxConns returns the connection cap in force once Run has started.
func (e *Engine) MaxConns() int { return e.srv.MaxConns() }

// enginePool is the codecs' view of the offload pool, which exists only
// while Run runs.
type enginePool struct{ e *Engine }

func (p enginePool) Go(ctx context.Context, size int, fn func()) bool {
	pool := p.e.pool.Load()
	return pool != nil && pool.Go(ctx, size, fn)
}

// maxInboundWait lets one whole request of the largest size the limits
// allow wait behind a request on the offload pool.
func maxInboundWait(cfg Config) int {
	l := cfg.Limits
	whole := int64(l.MaxRequestLine) + int64(l.MaxHeaderBytes) + l.MaxBody
	return int(min(max(whole, int64(cfg.MaxInboundPaused)), 1<<30))
}

// listeners implements codec.Env.Listeners.
func (e *Engine) listeners() []codec.Listener {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]codec.Listener(nil), e.lns...)
}

// listenShare reads a listener's share of the connection slots from the
// query of its URL.
func listenShare(q url.Values) (reactor.Listener, error) {
	var l reactor.Listener
	for k, vs := range q {
		if len(vs) != 1 {
			return l, fmt.Errorf("%s given %d times", k, len(vs))
		}
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 0 {
			return l, fmt.Errorf("%s=%q: want a number of connections", k, vs[0])
		}
		switch k {
		case "max_conns":
			l.MaxConns = n
		case "reserve":
			l.Reserve = n
			if n == 0 {
				l.Reserve = -1 // none, as asked; 0 would mean the default
			}
		default:
			return l, fmt.Errorf("unknown option %q (want max_conns, reserve)", k)
		}
	}
	return l, nil
}
