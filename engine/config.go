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
	// Connections past the cap are closed as soon as they are accepted.
	MaxConns int

	// HeaderTimeout bounds the time from a request's first byte to the end
	// of its head (slow-header clients get 408); default 10 s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the silence while a request body arrives; default
	// 30 s.
	BodyTimeout time.Duration
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
	// (handlers.Blocking, handlers.BlockingMethod); default 64.
	// OffloadQueue is how many blocking calls may wait for a worker; default
	// 1024. Past both, a blocking call is answered at once with HTTP 503 or
	// the RPC error "busy" (handlers.CodeBusy).
	OffloadWorkers, OffloadQueue int

	// ConnState, when set, is called on a connection's event loop when it
	// opens and when it closes; it must not block. The Conn it gets is the
	// one handlers see (addresses, loop, per-connection value).
	ConnState func(c handlers.Conn, state handlers.ConnState)

	// Logger receives the engine's log lines; default slog.Default().
	Logger *slog.Logger
}
