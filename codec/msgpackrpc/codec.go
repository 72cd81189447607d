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
	loops codec.PerLoop[loop]
}

// loop is the scratch space of one event loop. One frame per loop is walked
// and one call served at a time, so the sessions of a loop share it.
type loop struct {
	walkers mpack.Walkers // shared, and lent to sessions with a partial frame
	call    handlers.Call
	reply   handlers.Reply
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
	c := &Codec{
		reg:  env.Handlers,
		pool: env.Pool,
		log:  log,
		lim:  mpack.Limits{MaxFrame: env.Limits.WithDefaults().MaxFrame},
	}
	c.loops = codec.NewPerLoop(env.Loops, func() *loop { return newLoop(c.lim) })
	return c, nil
}

// NewSession returns the state of a new connection. It runs on the
// connection's event loop; the loop's scratch space is made here on the
// loop's first connection.
func (c *Codec) NewSession(conn codec.Conn) codec.Session {
	return &session{c: c, l: c.loops.Get(conn.Loop()), conn: conn}
}

func newLoop(lim mpack.Limits) *loop {
	l := new(loop)
	l.walkers.SetLimits(lim)
	return l
}

var (
	_ codec.Codec   = (*Codec)(nil)
	_ codec.Session = (*session)(nil)
)
