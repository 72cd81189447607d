package reactor

import (
	"log/slog"
	"time"

	"github.com/tokamak-io/tokamak/handlers"
)

// Config tunes a [Server]. The zero value works: every zero field takes the
// default written beside it.
type Config struct {
	// Loops is the number of event loops; default 1. The engine sets it from
	// GOMAXPROCS.
	Loops int
	// MaxConns caps open connections across all loops; default, and upper
	// bound, the RLIMIT_NOFILE soft limit (raised to the hard limit at start)
	// less a reserve for listeners, pollers and the process's own files. A
	// connection accepted at the cap is closed at once.
	MaxConns int

	// HeaderTimeout bounds the time from the first byte of a request head to
	// its end; default 10 s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the silence between two reads of a request body;
	// default 30 s.
	BodyTimeout time.Duration
	// IdleTimeout bounds the silence of a keep-alive connection between
	// requests; default 60 s.
	IdleTimeout time.Duration
	// CloseTimeout bounds the time a closing connection may take to send the
	// output it still has buffered; default 10 s. Past it the connection is
	// dropped.
	CloseTimeout time.Duration
	// Linger is how long a connection waits, after its output is sent and its
	// write side shut down, for the peer to close, discarding what it still
	// sends; default 2 s.
	Linger time.Duration
	// Tick is the granularity of the timers; default 100 ms.
	Tick time.Duration

	// HighWater: once a connection has this many bytes of output buffered,
	// its input is not served until the output drains below LowWater;
	// defaults 256 KiB and 64 KiB.
	HighWater, LowWater int
	// MaxInboundPaused: a connection whose input grows past this while it is
	// paused by HighWater is closed; default 1 MiB.
	MaxInboundPaused int
	// MaxInboundWait: a connection whose input grows past this while its
	// session waits for handed-off work (codec.PhaseWait: an HTTP request
	// on the offload pool, with more pipelined behind it) is closed; default
	// MaxInboundPaused. The engine sets it so that one whole request of the
	// largest size its limits allow can wait.
	MaxInboundWait int

	// ConnState, when set, is called on the connection's loop when a
	// connection opens (after its session is made) and when it closes. It
	// must not block. A panic in it is recovered and logged.
	ConnState func(c handlers.Conn, state handlers.ConnState)

	// Logger receives the reactor's log lines and gnet's; default
	// slog.Default().
	Logger *slog.Logger
}

// maxTimeout bounds every timeout.
const maxTimeout = 365 * 24 * time.Hour

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
		// A "never" such as math.MaxInt64 would overflow the clock
		// arithmetic and fire at once; a year is never enough.
		*d = min(*d, maxTimeout)
	}
	if c.Loops <= 0 {
		c.Loops = 1
	}
	def(&c.HeaderTimeout, 10*time.Second)
	def(&c.BodyTimeout, 30*time.Second)
	def(&c.IdleTimeout, 60*time.Second)
	def(&c.CloseTimeout, 10*time.Second)
	def(&c.Linger, 2*time.Second)
	def(&c.Tick, 100*time.Millisecond)
	if c.HighWater <= 0 {
		c.HighWater = 256 << 10
	}
	if c.LowWater <= 0 || c.LowWater > c.HighWater {
		c.LowWater = c.HighWater / 4
	}
	if c.MaxInboundPaused <= 0 {
		c.MaxInboundPaused = 1 << 20
	}
	if c.MaxInboundWait <= 0 {
		c.MaxInboundWait = c.MaxInboundPaused
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
