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

	// HeaderTimeout bounds the time from the first byte of a request head
	// or frame to its end, unless it keeps MinRate; default 10 s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time from the start of a request body, or of
	// anything else the peer owes (the params of a call, the messages of
	// an open channel), to its end, unless it keeps MinRate; default 30 s.
	BodyTimeout time.Duration
	// MinRate is the progress, in bytes a second, that lets a head or body
	// run past its timeout: one that has not completed when its timeout
	// passes must have received at least MinRate bytes a second since its
	// first byte, and again over every timeout-long window after, or it is
	// refused as timed out (HTTP 408). Control messages, such as Cocaine
	// heartbeats, are not progress (codec.Flow.Control). Default 500, the
	// default of Apache's mod_reqtimeout: below any real link, far above a
	// client that trickles to hold memory. Negative: any progress in a
	// window will do.
	MinRate int
	// InputBudget caps the peer input held across the process: partial
	// frames and bodies, what sessions hold for calls not yet complete,
	// and the copies handed to the offload pool. Past it, a connection whose
	// partial input grows beyond its floor (a share of the budget between
	// 4 KiB and 64 KiB) is refused with its protocol's error
	// (codec.RefuseOverload: HTTP 503, an RPC error) and closed; work
	// already accepted finishes. Default: DefaultInputBudget(MemoryLimit()),
	// one eighth of the memory the process may use.
	InputBudget int64
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

	// DisableReclaim keeps the reactor from handing memory back to the
	// operating system after a storm. By default, once the input held or
	// the open connections have fallen to half their peak (by at least
	// 32 MiB or 64 connections), or once the heap holds 64 MiB more than
	// twice what was live after the last reclaim while the process
	// allocates less than 1/64 of it a second, it runs the garbage
	// collector twice — pooled buffers survive one collection — and returns
	// the freed memory (debug.FreeOSMemory), at most once every 10 s.
	DisableReclaim bool

	// ConnState, when set, is called on the connection's loop when a
	// connection opens (after its session is made) and when it closes. It
	// must not block. A panic in it is recovered and logged.
	ConnState func(c handlers.Conn, state handlers.ConnState)

	// Logger receives the reactor's log lines and gnet's; default
	// slog.Default().
	Logger *slog.Logger
}

// DefaultMinRate is the default of [Config.MinRate], in bytes a second.
const DefaultMinRate = 500

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
	if c.MinRate == 0 {
		c.MinRate = DefaultMinRate
	}
	if c.InputBudget <= 0 {
		c.InputBudget = DefaultInputBudget(MemoryLimit())
	}
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
