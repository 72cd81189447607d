package msgpackrpc

import (
	"errors"
	"log/slog"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

func init() { codec.Register("msgpackrpc", New) }

// Codec is the MessagePack-RPC server codec. It is made once per engine by
// [New] and makes a session per connection.
type Codec struct {
	reg   *handlers.Registry
	pool  codec.Pool
	log   *slog.Logger
	lim   mpack.Limits
	loops []*loop // by event loop; each slot is touched by its loop only
}

// maxSpareWalkers bounds the Walkers a loop keeps for partly received
// frames: past it they go to the garbage collector, so a burst of slow
// clients does not pin 400 bytes each for good.
const maxSpareWalkers = 64

// loop is the scratch space of one event loop. One frame per loop is walked
// and one call served at a time, so the sessions of a loop share it.
type loop struct {
	w     mpack.Walker // walks every frame that is not partly received
	call  handlers.Call
	reply handlers.Reply
	spare []*mpack.Walker // free Walkers for sessions with a partial frame
}

// New returns the MessagePack-RPC codec for env. It is registered as
// "msgpackrpc". env.Limits.MaxFrame bounds a frame (default 1 MiB);
// env.Handlers must not be nil; a nil env.Pool answers every blocking
// method "busy".
func New(env codec.Env) (codec.Codec, error) {
	if env.Handlers == nil {
		return nil, errors.New("msgpackrpc: Env.Handlers is nil")
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Codec{
		reg:   env.Handlers,
		pool:  env.Pool,
		log:   log,
		lim:   mpack.Limits{MaxFrame: env.Limits.WithDefaults().MaxFrame},
		loops: make([]*loop, max(env.Loops, 1)),
	}, nil
}

// NewSession returns the state of a new connection. It runs on the
// connection's event loop; the loop's scratch space is made here on the
// loop's first connection.
func (c *Codec) NewSession(conn codec.Conn) codec.Session {
	i := conn.Loop()
	var l *loop
	if 0 <= i && i < len(c.loops) {
		if l = c.loops[i]; l == nil {
			l = newLoop(c.lim)
			c.loops[i] = l
		}
	} else {
		// A loop index the engine did not announce: serve correctly from
		// private scratch space rather than share one across goroutines.
		l = newLoop(c.lim)
	}
	return &session{c: c, l: l, conn: conn}
}

func newLoop(lim mpack.Limits) *loop {
	return &loop{w: mpack.Walker{Limits: lim}}
}

// take returns a Walker for a session whose frame is partly received, with
// the state of the shared one, which is reset for the next frame.
func (l *loop) take() *mpack.Walker {
	var w *mpack.Walker
	if n := len(l.spare); n > 0 {
		w = l.spare[n-1]
		l.spare[n-1] = nil
		l.spare = l.spare[:n-1]
	} else {
		w = new(mpack.Walker)
	}
	*w = l.w
	l.w.Reset()
	return w
}

// give takes back a Walker from a session.
func (l *loop) give(w *mpack.Walker) {
	if len(l.spare) < maxSpareWalkers {
		w.Reset()
		l.spare = append(l.spare, w)
	}
}

var (
	_ codec.Codec   = (*Codec)(nil)
	_ codec.Session = (*session)(nil)
)
