package cocaine

import (
	"errors"
	"log/slog"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
	"github.com/tokamak-io/tokamak/handlers"
)

func init() {
	codec.Register("cocaine", New)
	codec.Register("cocaine-v11", NewV11)
	codec.Register("cocaine-locator", NewLocator)
}

// Category is the error category of the errors the codec answers itself
// (an unknown event, bad params, a full pool, a limit, a panic), with the
// handlers' codes ([handlers.CodeUnknownMethod] and the others). It is 42,
// the category cocaine-framework-python and cocaine-framework-nodejs give
// the errors of a worker framework: to a client, tokamak is the framework
// of the app it called. The codes do not clash with those frameworks'
// (100 and up).
const Category = 42

// CodeDisconnected is the code, in [Category], of the error a stream's
// [handlers.Receiver] gets when the connection ends while the peer's
// direction is open (cocaine-framework-python's ESRVDISCON). It is never
// sent: there is no one left to send it to.
const CodeDisconnected = 220

// Defaults of [Options].
const (
	DefaultMaxChannels = 1024
	DefaultMaxBuffered = 4 << 20
)

// Options configure a Cocaine codec beyond [codec.Env]. The zero value is
// the v0.12 codec registered as "cocaine".
type Options struct {
	// Version is the frame layout: [V12] (the default) or [V11].
	Version Version
	// MaxChannels bounds the channels open at once on one connection. An
	// invoke past it is answered with an error on its channel
	// ([handlers.CodeBusy]); the connection goes on. Default 1024.
	MaxChannels int
	// MaxBuffered bounds the bytes one connection holds for unary calls
	// that wait for their choke: the method name and the params chunk. A
	// call past it is answered with an error on its channel
	// ([handlers.CodeBusy]); the connection goes on. Default 4 MiB. (A
	// single chunk is bounded by the frame limit, and a stream handler's
	// chunks are views that are never buffered.)
	MaxBuffered int
}

// Codec is the Cocaine server codec. It is made once per engine by [New],
// [NewV11] or [NewWithOptions] and makes a session per connection.
type Codec struct {
	ver   Version
	reg   *handlers.Registry
	pool  codec.Pool
	log   *slog.Logger
	lim   mpack.Limits
	opt   Options
	loops codec.PerLoop[loop]
}

// New returns the v0.12 codec for env, with default [Options]. It is
// registered as "cocaine". env.Handlers must not be nil; a nil env.Pool
// answers every blocking method as busy.
func New(env codec.Env) (codec.Codec, error) { return NewWithOptions(env, Options{}) }

// NewV11 returns the codec of the v0.11 frame layout, registered as
// "cocaine-v11".
func NewV11(env codec.Env) (codec.Codec, error) {
	return NewWithOptions(env, Options{Version: V11})
}

// NewWithOptions returns a Cocaine codec for env configured by o.
func NewWithOptions(env codec.Env, o Options) (*Codec, error) {
	if env.Handlers == nil {
		return nil, errors.New("cocaine: Env.Handlers is nil")
	}
	if o.Version != V12 && o.Version != V11 {
		return nil, errors.New("cocaine: unknown Version")
	}
	if o.MaxChannels <= 0 {
		o.MaxChannels = DefaultMaxChannels
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = DefaultMaxBuffered
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Codec{
		ver:  o.Version,
		reg:  env.Handlers,
		pool: env.Pool,
		log:  log,
		lim:  mpack.Limits{MaxFrame: env.Limits.WithDefaults().MaxFrame},
		opt:  o,
	}
	c.loops = codec.NewPerLoop(env.Loops, c.newLoop)
	return c, nil
}

// Version returns the frame layout the codec speaks.
func (c *Codec) Version() Version { return c.ver }

// NewSession returns the state of a new connection. It runs on the
// connection's event loop; the loop's scratch space is made here on the
// loop's first connection.
func (c *Codec) NewSession(conn codec.Conn) codec.Session {
	return &session{c: c, l: c.loops.Get(conn.Loop()), conn: conn}
}

// Bounds on what a loop keeps for reuse, so that a burst does not pin
// memory for good.
const (
	maxSpare      = 64       // spare params buffers
	maxSpareTable = 16       // spare channel tables
	maxKeptTable  = 512      // channels in a table kept for reuse (40 KiB)
	maxKeptBuffer = 64 << 10 // bytes of a params buffer kept for reuse
)

// loop is the scratch space of one event loop, shared by its sessions:
// one frame is walked and one handler called at a time.
type loop struct {
	walkers mpack.Walkers
	tx      sender // the Sender handed to stream handlers
	call    handlers.Call
	reply   handlers.Reply
	tables  [][]channel // spare channel tables
	bufs    [][]byte    // spare params buffers
}

func (l *loop) takeTable() []channel {
	if n := len(l.tables); n > 0 {
		t := l.tables[n-1]
		l.tables[n-1] = nil
		l.tables = l.tables[:n-1]
		return t
	}
	return make([]channel, 0, 8)
}

func (l *loop) giveTable(t []channel) {
	if cap(t) <= maxKeptTable && len(l.tables) < maxSpareTable {
		l.tables = append(l.tables, t[:0])
	}
}

func (l *loop) takeBuf() []byte {
	if n := len(l.bufs); n > 0 {
		b := l.bufs[n-1]
		l.bufs[n-1] = nil
		l.bufs = l.bufs[:n-1]
		return b
	}
	return make([]byte, 0, 256)
}

func (l *loop) giveBuf(b []byte) {
	if b != nil && cap(b) <= maxKeptBuffer && len(l.bufs) < maxSpare {
		l.bufs = append(l.bufs, b[:0])
	}
}

var (
	_ codec.Codec     = (*Codec)(nil)
	_ codec.Session   = (*session)(nil)
	_ handlers.Sender = (*sender)(nil)
	_ codec.Factory   = New
	_ codec.Factory   = NewV11
)

func (c *Codec) newLoop() *loop {
	l := new(loop)
	l.walkers.SetLimits(c.lim)
	return l
}
