package http1

import (
	"errors"
	"log/slog"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/handlers"
)

func init() { codec.Register("http", New) }

// Codec is the HTTP/1.1 server codec. It is made once per engine by
// [New] and makes a session per connection.
type Codec struct {
	p     *Parser
	reg   *handlers.Registry
	log   *slog.Logger
	pool  codec.Pool // runs blocking handlers; nil: they are answered 503
	loops codec.PerLoop[loop]
}

// loop is the scratch space of one event loop: the request being served,
// its header fields and its response. Only one request per loop is served
// at a time, so the sessions of a loop share it, which keeps them small.
type loop struct {
	req    handlers.Request
	w      handlers.Response
	fields []handlers.Header // capacity MaxHeaders: headers, then trailers
	routes handlers.RouteCache
	hosts  hostCache

	// While the engine drains: scratch for looking ahead at the next
	// request without touching req (see session.more).
	peek       handlers.Request
	peekFields []handlers.Header
}

// New returns the HTTP/1.1 codec for env. It is registered as "http".
// env.Limits' zero fields take their defaults; env.Handlers must not be
// nil.
func New(env codec.Env) (codec.Codec, error) {
	if env.Handlers == nil {
		return nil, errors.New("http1: Env.Handlers is nil")
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	startClock()
	c := &Codec{
		p:    NewParser(env.Limits),
		reg:  env.Handlers,
		log:  log,
		pool: env.Pool,
	}
	c.loops = codec.NewPerLoop(env.Loops, c.newLoop)
	return c, nil
}

// Parser returns the parser the codec's sessions use.
func (c *Codec) Parser() *Parser { return c.p }

// NewSession returns the state of a new connection. It runs on the
// connection's event loop; the loop's scratch space is made here on the
// loop's first connection.
func (c *Codec) NewSession(conn codec.Conn) codec.Session {
	return &session{c: c, l: c.loops.Get(conn.Loop()), conn: conn}
}

func (c *Codec) newLoop() *loop {
	fields := make([]handlers.Header, 0, c.p.lim.MaxHeaders)
	return &loop{fields: fields, req: handlers.Request{Headers: fields}}
}

var (
	_ codec.Codec   = (*Codec)(nil)
	_ codec.Session = (*session)(nil)
)
