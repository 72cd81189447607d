package engine

import (
	"log/slog"
	"time"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

// Config configures an [Engine]. Its zero value works: every zero field
// takes the default written beside it.
type Config struct {
	// Loops is the number of event loops (reactors); default GOMAXPROCS,
	// itself taken from the cgroup CPU quota when there is one.
	Loops int
	// MaxConns caps open connections; default and upper bound: the
	// descriptor limit (raised to its hard limit at start) less a reserve.
	// Connections past the cap are reset as soon as they are accepted. Each
	// listener has a share of it (see [Engine.Listen]: max_conns and
	// reserve), so that a flood on one protocol cannot take every slot.
	MaxConns int

	// HeaderTimeout bounds the time from a request's (or msgpack frame's)
	// first byte to the end of its head, unless it keeps MinRate
	// (slow-header clients get 408); default 10 s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time from the start of a request body, or of
	// the params of a call, or a channel's silence, to its end, unless it
	// keeps MinRate; default 30 s.
	BodyTimeout time.Duration
	// MinRate, in bytes a second, lets a head or body that keeps it run
	// past its timeout: by the timeout, and over every timeout-long window
	// after, it must have received MinRate bytes a second, else 408 (or
	// the RPC error). Heartbeats are not progress. Default 500 (Apache's
	// mod_reqtimeout); negative: any progress in a window will do.
	MinRate int
	// InputBudget caps the peer input held across the process (partial
	// frames and bodies, the params of calls not yet complete, the copies
	// handed to the offload pool). Past it, a connection whose partial input
	// grows is refused with its protocol's error — HTTP 503 with
	// Retry-After, an RPC "busy" error — and closed, and blocking calls are
	// answered busy. Default: one eighth of the memory the process may use
	// (GOMEMLIMIT, the cgroup's limit or physical memory, the smallest; see
	// reactor.MemoryLimit).
	InputBudget int64
	// IdleTimeout bounds the silence of a keep-alive connection between
	// requests; default 60 s.
	IdleTimeout time.Duration
	// CloseTimeout bounds the time a closing connection may take to send its
	// last output; default 10 s.
	CloseTimeout time.Duration
	// Linger is how long a closed connection's socket waits for the peer to
	// close after its output was sent; default 2 s.
	Linger time.Duration
	// ShutdownTimeout bounds the graceful shutdown Run performs when its
	// context ends; default 30 s.
	ShutdownTimeout time.Duration

	// HighWater and LowWater are the backpressure marks of a connection's
	// output buffer: above HighWater its input is not served until the
	// output drains below LowWater; defaults 256 KiB and 64 KiB.
	HighWater, LowWater int
	// MaxInboundPaused closes a connection whose unserved input grows past it
	// while its output is backed up; default 1 MiB.
	MaxInboundPaused int

	// Limits bound requests: request line 8 KiB, header section 64 KiB,
	// 100 header fields, body 4 MiB, msgpack frame 1 MiB (defaults).
	Limits codec.Limits

	// OffloadWorkers is the number of goroutines that run blocking handlers
	// (handlers.Blocking, handlers.BlockingMethod); default 4 per event
	// loop — enough to keep the cores busy with handlers that block on
	// I/O, few enough that CPU-heavy ones cannot crowd out the loops.
	// OffloadQueue is how many blocking calls may wait for a worker;
	// default 1024. Past both, or past the input budget (the copies a call
	// holds count against it), a blocking call is answered at once with
	// HTTP 503 or the RPC error "busy" (handlers.CodeBusy). A call whose
	// client left while it waited is dropped unrun, and a running one sees
	// its connection's context (handlers.Conn.Context) cancelled.
	OffloadWorkers, OffloadQueue int

	// DisableReclaim keeps the engine from handing memory back to the
	// operating system after a storm: by default, once the input held or
	// the connections fall to half their peak, or a large heap stops
	// growing, it collects twice and frees the pages, at most once every
	// 10 s (see reactor.Config.DisableReclaim).
	DisableReclaim bool

	// ConnState, when set, is called on a connection's event loop when it
	// opens and when it closes; it must not block. The Conn it gets is the
	// one handlers see (addresses, loop, per-connection value).
	ConnState func(c handlers.Conn, state handlers.ConnState)

	// Logger receives the engine's log lines; default slog.Default().
	Logger *slog.Logger
}
